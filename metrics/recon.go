package metrics

import (
	"errors"
	"fmt"
	"math"

	"github.com/omniar/omniar/audio"
)

// Reconstruction scores: PSNR and SSIM for images and frames, codebook
// usage for tokenizers, SI-SNR and log-mel distance for audio.

// PSNR is 10·log10(peak²/MSE) in dB between a and b (same length); +Inf
// when they are equal.
func PSNR(a, b []float64, peak float64) (float64, error) {
	if len(a) != len(b) || len(a) == 0 {
		return 0, fmt.Errorf("psnr: %d and %d values, want the same non-zero count", len(a), len(b))
	}
	if !(peak > 0) {
		return 0, fmt.Errorf("psnr: peak %g is not positive", peak)
	}
	var se float64
	for i, v := range a {
		se += (v - b[i]) * (v - b[i])
	}
	if math.IsNaN(se) {
		return 0, errors.New("psnr: values are not finite")
	}
	if se == 0 {
		return math.Inf(1), nil
	}
	return 10 * math.Log10(peak*peak/(se/float64(len(a)))), nil
}

// SSIMWindow is the Gaussian window of SSIM: 11 taps, σ = 1.5 (Wang et al.
// 2004, skimage with gaussian_weights=True, pytorch-msssim).
const (
	SSIMWindow = 11
	SSIMSigma  = 1.5
)

// ssimTaps is the normalised 1-D Gaussian window.
func ssimTaps() []float64 {
	g := make([]float64, SSIMWindow)
	var s float64
	for i := range g {
		x := float64(i - SSIMWindow/2)
		g[i] = math.Exp(-x * x / (2 * SSIMSigma * SSIMSigma))
		s += g[i]
	}
	for i := range g {
		g[i] /= s
	}
	return g
}

// SSIM is the mean structural similarity of two grey images a and b
// ([h, w] row-major, values in [0, dataRange]) with an 11×11 Gaussian
// window (σ = 1.5), K1 = 0.01, K2 = 0.03 and population (co)variances over
// 'valid' windows only, as pytorch-msssim and as skimage's
// structural_similarity(gaussian_weights=True, use_sample_covariance=False),
// which crops the same border. Both sides must be at least 11 pixels.
func SSIM(a, b []float64, w, h int, dataRange float64) (float64, error) {
	switch {
	case w < SSIMWindow || h < SSIMWindow:
		return 0, fmt.Errorf("ssim: image %d×%d is smaller than the %d-pixel window", w, h, SSIMWindow)
	case len(a) != w*h || len(b) != w*h:
		return 0, fmt.Errorf("ssim: images have %d and %d pixels, want %d×%d", len(a), len(b), w, h)
	case !(dataRange > 0):
		return 0, fmt.Errorf("ssim: data range %g is not positive", dataRange)
	}
	c1, c2 := (0.01*dataRange)*(0.01*dataRange), (0.03*dataRange)*(0.03*dataRange)
	ab, aa, bb := make([]float64, w*h), make([]float64, w*h), make([]float64, w*h)
	for i := range a {
		aa[i], bb[i], ab[i] = a[i]*a[i], b[i]*b[i], a[i]*b[i]
	}
	g := ssimTaps()
	ux, uy := blurValid(a, w, h, g), blurValid(b, w, h, g)
	sxx, syy, sxy := blurValid(aa, w, h, g), blurValid(bb, w, h, g), blurValid(ab, w, h, g)
	var sum float64
	for i, mx := range ux {
		my := uy[i]
		vx, vy, vxy := sxx[i]-mx*mx, syy[i]-my*my, sxy[i]-mx*my
		sum += (2*mx*my + c1) * (2*vxy + c2) / ((mx*mx + my*my + c1) * (vx + vy + c2))
	}
	s := sum / float64(len(ux))
	if math.IsNaN(s) {
		return 0, errors.New("ssim: values are not finite")
	}
	return s, nil
}

// blurValid correlates x [h, w] with the separable window g⊗g, keeping
// only full windows: → [h−k+1, w−k+1].
func blurValid(x []float64, w, h int, g []float64) []float64 {
	k := len(g)
	ow, oh := w-k+1, h-k+1
	rowsF := make([]float64, h*ow) // [h, ow]
	for y := 0; y < h; y++ {
		for x0 := 0; x0 < ow; x0++ {
			var s float64
			for t, c := range g {
				s += c * x[y*w+x0+t]
			}
			rowsF[y*ow+x0] = s
		}
	}
	out := make([]float64, oh*ow)
	for y0 := 0; y0 < oh; y0++ {
		for x0 := 0; x0 < ow; x0++ {
			var s float64
			for t, c := range g {
				s += c * rowsF[(y0+t)*ow+x0]
			}
			out[y0*ow+x0] = s
		}
	}
	return out
}

// U8 converts grey pixels to float64.
func U8(p []uint8) []float64 {
	out := make([]float64, len(p))
	for i, v := range p {
		out[i] = float64(v)
	}
	return out
}

// FrameScores are the mean per-frame PSNR (dB) and SSIM of a reconstructed
// video against its reference.
type FrameScores struct {
	PSNR, SSIM float64
	Frames     int
	Identical  int // frames with infinite PSNR, left out of the PSNR mean
}

// CompareFrames scores rec against ref, frame by frame (grey uint8 frames
// [h, w]; the same number of frames of the same size), peak 255.
func CompareFrames(ref, rec [][]uint8, w, h int) (FrameScores, error) {
	if len(ref) != len(rec) || len(ref) == 0 {
		return FrameScores{}, fmt.Errorf("compare frames: %d reference and %d reconstructed frames", len(ref), len(rec))
	}
	var fs FrameScores
	var psnrSum float64
	for i := range ref {
		a, b := U8(ref[i]), U8(rec[i])
		p, err := PSNR(a, b, 255)
		if err != nil {
			return fs, fmt.Errorf("frame %d: %w", i, err)
		}
		s, err := SSIM(a, b, w, h, 255)
		if err != nil {
			return fs, fmt.Errorf("frame %d: %w", i, err)
		}
		if math.IsInf(p, 1) {
			fs.Identical++
		} else {
			psnrSum += p
		}
		fs.SSIM += s
	}
	fs.Frames = len(ref)
	fs.SSIM /= float64(fs.Frames)
	fs.PSNR = math.Inf(1)
	if n := fs.Frames - fs.Identical; n > 0 {
		fs.PSNR = psnrSum / float64(n)
	}
	return fs, nil
}

// CodebookUsage describes how a tokenizer uses its codebook.
type CodebookUsage struct {
	Size       int     `json:"size"`       // codes in the codebook
	Used       int     `json:"used"`       // distinct codes seen
	Share      float64 `json:"share"`      // Used / Size
	Entropy    float64 `json:"entropy"`    // of the code histogram, nats
	Perplexity float64 `json:"perplexity"` // exp(Entropy): the effective number of codes
	Tokens     int     `json:"tokens"`
}

// Codebook measures the usage of a codebook of size codes by the tokens
// codes (each in [0, size)).
func Codebook(codes []int, size int) (CodebookUsage, error) {
	if size <= 0 || len(codes) == 0 {
		return CodebookUsage{}, fmt.Errorf("codebook usage: %d tokens of a %d-code book", len(codes), size)
	}
	hist := make([]int, size)
	for i, c := range codes {
		if c < 0 || c >= size {
			return CodebookUsage{}, fmt.Errorf("codebook usage: token %d is code %d, outside [0, %d)", i, c, size)
		}
		hist[c]++
	}
	u := CodebookUsage{Size: size, Tokens: len(codes)}
	n := float64(len(codes))
	for _, h := range hist {
		if h == 0 {
			continue
		}
		u.Used++
		p := float64(h) / n
		u.Entropy -= p * math.Log(p)
	}
	u.Share = float64(u.Used) / float64(size)
	u.Perplexity = math.Exp(u.Entropy)
	return u, nil
}

// SISNR is the scale-invariant signal-to-noise ratio of est against ref in
// dB (both made zero-mean; ref projected on est's target): +Inf for a
// perfect scaled copy.
func SISNR(est, ref []float32) (float64, error) {
	if len(est) != len(ref) || len(est) < 2 {
		return 0, fmt.Errorf("si-snr: %d and %d samples, want the same count ≥ 2", len(est), len(ref))
	}
	e, r := zeroMean(est), zeroMean(ref)
	var dot, rr float64
	for i := range r {
		dot += e[i] * r[i]
		rr += r[i] * r[i]
	}
	if rr == 0 {
		return 0, errors.New("si-snr: the reference is silent")
	}
	var ss, nn float64
	for i := range r {
		s := dot / rr * r[i]
		ss += s * s
		nn += (e[i] - s) * (e[i] - s)
	}
	if nn == 0 {
		return math.Inf(1), nil
	}
	v := 10 * math.Log10(ss/nn)
	if math.IsNaN(v) {
		return 0, errors.New("si-snr: samples are not finite")
	}
	return v, nil
}

func zeroMean(x []float32) []float64 {
	var m float64
	for _, v := range x {
		m += float64(v)
	}
	m /= float64(len(x))
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v) - m
	}
	return out
}

// LogMelFloor is the power floor of LogMelDistance: well below speech,
// far above the numerical floor, so silent frames do not dominate.
const LogMelFloor = 1e-5

// LogMelDistance is the mean absolute difference of the natural-log mel
// spectrograms (audio.MelSpectrogram with cfg, Floor LogMelFloor unless
// cfg sets one) of est and ref, over the frames both have. The clips must
// have the same sample rate; their lengths may differ slightly (codec
// padding), and frames is how many were compared.
func LogMelDistance(est, ref *audio.Clip, cfg audio.MelConfig) (dist float64, frames int, err error) {
	if est == nil || ref == nil || len(est.Samples) == 0 || len(ref.Samples) == 0 {
		return 0, 0, errors.New("log-mel distance: empty clip")
	}
	if est.Rate != ref.Rate || est.Rate <= 0 {
		return 0, 0, fmt.Errorf("log-mel distance: sample rates %d and %d differ", est.Rate, ref.Rate)
	}
	if !(cfg.Floor > 0) {
		cfg.Floor = LogMelFloor
	}
	a, b := audio.MelSpectrogram(est, cfg), audio.MelSpectrogram(ref, cfg)
	frames = min(len(a), len(b))
	var sum float64
	var n int
	for t := 0; t < frames; t++ {
		for j, v := range a[t] {
			sum += math.Abs(float64(v) - float64(b[t][j]))
			n++
		}
	}
	if n == 0 {
		return 0, 0, errors.New("log-mel distance: no frames")
	}
	return sum / float64(n), frames, nil
}

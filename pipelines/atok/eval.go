package atok

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"gonum.org/v1/gonum/dsp/fourier"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/omniar/omniar/audio"
	"github.com/omniar/omniar/audio/codec"
	"github.com/omniar/omniar/datasets/speech"
	"github.com/omniar/omniar/internal/atomicfile"
	"github.com/omniar/omniar/metrics"
	"github.com/omniar/omniar/tokenizers/textcorpus"
)

// DepthScore is the reconstruction quality with the first Depths depths.
type DepthScore struct {
	Depths     int     `json:"depths"`
	BitrateBPS float64 `json:"bitrate_bps"`
	SISNR      float64 `json:"si_snr_db"`        // mean over clips
	LogMel     float64 `json:"log_mel_distance"` // mean |Δ ln mel| over clips
}

// SetReport scores one set of clips.
type SetReport struct {
	Name    string       `json:"name"`
	Clips   int          `json:"clips"`
	Seconds float64      `json:"seconds"`
	Depths  []DepthScore `json:"per_depths"`
	// Unquantized decodes the encoder's latent as it is (Depths 0): what
	// the encoder and decoder lose without the quantizer's error.
	Unquantized DepthScore `json:"unquantized"`
	// Bands compare the power of the full-depth resynthesis with the
	// original's, band by band, over all clips of the set.
	Bands []BandGain `json:"band_gain_full_depth"`
	// Louder counts the clips whose full-depth resynthesis has 6 dB or
	// more power than the original: a decoder burst, not a coding error.
	Louder int `json:"clips_louder_6db"`
}

// BandGain is 10·log10 of the resynthesis' power over the original's in
// [LoHz, HiHz).
type BandGain struct {
	LoHz   float64 `json:"lo_hz"`
	HiHz   float64 `json:"hi_hz"`
	GainDB float64 `json:"gain_db"`
}

// gainBands are the edges of BandGain's bands: voicing, first formant,
// second formant, third formant and fricatives.
var gainBands = []float64{0, 300, 1000, 2000, 4000, 8000}

// bandPower accumulates the power spectrum of clips (Hann frames of
// bandFFT samples, half overlapping) into gainBands' bands.
type bandPower struct {
	fft   *fourier.FFT
	win   []float64
	frame []float64
	coef  []complex128
}

const bandFFT = 512

func newBandPower() *bandPower {
	w := make([]float64, bandFFT)
	for i := range w {
		w[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/bandFFT)
	}
	return &bandPower{fft: fourier.NewFFT(bandFFT), win: w, frame: make([]float64, bandFFT), coef: make([]complex128, bandFFT/2+1)}
}

// add adds the power of x in each band to acc (len(gainBands)−1 values).
func (b *bandPower) add(acc []float64, x []float32, rate int) {
	for s := 0; s+bandFFT <= len(x); s += bandFFT / 2 {
		for i := range b.frame {
			b.frame[i] = float64(x[s+i]) * b.win[i]
		}
		b.fft.Coefficients(b.coef, b.frame)
		for k, c := range b.coef {
			f := float64(k) * float64(rate) / bandFFT
			for j := range acc {
				if f >= gainBands[j] && f < gainBands[j+1] {
					acc[j] += real(c)*real(c) + imag(c)*imag(c)
				}
			}
		}
	}
}

// The rumble set: held-out clips with what a handled microphone adds below
// the voice (Mic), at a fixed frequency and level.
const (
	rumbleClips = 100
	rumbleHz    = 30.0
	rumbleDB    = -20.0
)

// heldOut is the espeak WAV utterances of a speech split.
func heldOut(data, split string) ([]speech.Item, error) {
	items, err := speech.Load(data, split)
	if err != nil {
		return nil, err
	}
	var out []speech.Item
	for _, it := range items {
		if it.Kind == speech.KindWAV && it.Labels["source"] != "alsa" {
			out = append(out, it)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("speech %s split in %s: no espeak WAV clips", split, data)
	}
	return out, nil
}

// rumbleName names the rumble set's voices.
func rumbleName(split string) string {
	if split == "" || split == "test" {
		return "held-out"
	}
	return split
}

// addRumble adds the rumble set's rumble to clip number n.
func addRumble(x []float32, n int) {
	rng := rand.New(rand.NewPCG(7, uint64(n)))
	Rumble(rng, x, rumbleHz, math.Sqrt(power(x))*math.Pow(10, rumbleDB/20.0))
}

// power is the mean square of x.
func power(x []float32) float64 {
	var p float64
	for _, v := range x {
		p += float64(v) * float64(v)
	}
	return p / float64(max(len(x), 1))
}

// CodeUsage describes one depth's codes over the held-out clips.
type CodeUsage struct {
	Depth      int     `json:"depth"`
	Used       int     `json:"codes_used"`
	Perplexity float64 `json:"perplexity"`
	EntropyNat float64 `json:"entropy_nats"`
}

// Intelligibility is the spoken-digit proxy: a classifier trained on real
// training audio, tested on held-out voices, original and resynthesised.
type Intelligibility struct {
	Classifier string    `json:"classifier"`
	Split      string    `json:"split"` // of the held-out digits
	TrainClips int       `json:"train_clips"`
	TestClips  int       `json:"test_clips"`
	Original   float64   `json:"accuracy_original"`
	Resynth    float64   `json:"accuracy_resynthesised"`
	Kept       float64   `json:"kept"` // Resynth / Original; the goal is ≥ 0.9
	Depths     int       `json:"depths"`
	ResynthBy  []float64 `json:"accuracy_by_depths"` // with 1…D depths
	// Channels score the held-out originals after benign changes that
	// leave speech fully intelligible to a listener: context for how much
	// of a drop the proxy itself makes of a mere change of channel.
	Channels []ChannelScore `json:"benign_channels"`
}

// ChannelScore is the proxy's accuracy on originals sent through a channel.
type ChannelScore struct {
	Channel  string  `json:"channel"`
	Accuracy float64 `json:"accuracy"`
	Kept     float64 `json:"kept"`
}

// Report is the evaluation of a codec.
type Report struct {
	Ckpt            string           `json:"ckpt"`
	CodebookID      string           `json:"codebook_id"`
	FrameRate       float64          `json:"frames_per_s"`
	Depths          int              `json:"depths"`
	Codes           int              `json:"codes"`
	Sets            []SetReport      `json:"sets"`
	Usage           []CodeUsage      `json:"code_usage_test"`
	RTF             float64          `json:"encode_decode_rtf"`     // audio seconds per wall second of encode+decode, all depths
	RTFCPU          float64          `json:"encode_decode_rtf_cpu"` // audio seconds per CPU second (fair on a shared machine)
	RTFThreads      int              `json:"rtf_go_threads"`
	Intelligibility *Intelligibility `json:"intelligibility,omitempty"`
	Examples        []string         `json:"examples"`
}

// EvalOptions choose what Eval measures.
type EvalOptions struct {
	Data   string
	Ckpt   string
	Clips  int    // held-out espeak clips (0: all)
	Out    string // directory for listen-able WAVs and spectrogram PNGs ("" for none)
	Digits bool   // run the intelligibility proxy
	// DigitSplit is the speech split whose digits the proxy scores
	// ("test"; "val" to choose between codecs without looking at test).
	DigitSplit string
	// RumbleSplit is the speech split whose voices the rumble set takes
	// ("test"; "val" to choose between codecs without looking at test).
	RumbleSplit string
	Progress    func(string)
}

// Eval measures the codec on the held-out voices of the speech test split
// and on the real ALSA recordings: SI-SNR and log-mel distance with 1…D
// depths, bitrate, code usage, the encode+decode real-time factor and,
// with opt.Digits, the spoken-digit intelligibility proxy.
func Eval(ctx context.Context, opt EvalOptions) (*Report, error) {
	cdc, err := codec.Load(opt.Ckpt)
	if err != nil {
		return nil, err
	}
	defer cdc.Close()
	items, err := speech.Load(opt.Data, "test")
	if err != nil {
		return nil, err
	}
	var held, alsa []speech.Item
	for _, it := range items {
		switch {
		case it.Kind != speech.KindWAV:
		case it.Labels["source"] == "alsa":
			alsa = append(alsa, it)
		default:
			held = append(held, it)
		}
	}
	held = spread(held, opt.Clips)
	rumbled := spread(held, rumbleClips)
	if opt.RumbleSplit != "" && opt.RumbleSplit != "test" {
		if rumbled, err = heldOut(opt.Data, opt.RumbleSplit); err != nil {
			return nil, err
		}
		rumbled = spread(rumbled, rumbleClips)
	}
	cfg := cdc.Cfg
	r := &Report{Ckpt: opt.Ckpt, CodebookID: cdc.CodebookID(), FrameRate: float64(cfg.Rate) / float64(cfg.Hop()),
		Depths: cfg.Depths, Codes: cfg.Codes, RTFThreads: runtime.GOMAXPROCS(0)}
	counts := make([][]float64, cfg.Depths)
	for d := range counts {
		counts[d] = make([]float64, cfg.Codes)
	}
	var audioSec, took, cpu float64
	bp := newBandPower()
	for _, set := range []struct {
		name   string
		items  []speech.Item
		rumble bool
	}{
		{"held-out espeak-ng voices (speech test split)", held, false},
		{"real ALSA recordings (/usr/share/sounds/alsa)", alsa, false},
		{fmt.Sprintf("%s voices with rumble (%d clips; %g Hz low-passed noise %g dB under the clip)", rumbleName(opt.RumbleSplit), len(rumbled), rumbleHz, rumbleDB), rumbled, true},
	} {
		sr := SetReport{Name: set.name, Depths: make([]DepthScore, cfg.Depths)}
		n := 0
		orig, full := make([]float64, len(gainBands)-1), make([]float64, len(gainBands)-1)
		for _, it := range set.items {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			clip, err := it.Audio()
			if err != nil {
				return nil, err
			}
			if set.rumble {
				addRumble(clip.Samples, n)
			}
			t0, c0 := time.Now(), textcorpus.CPUTime()
			codes, z, err := cdc.EncodeLatent(clip.Samples)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", it.Path, err)
			}
			recs := make([][]float32, cfg.Depths)
			for d := cfg.Depths; d >= 1; d-- {
				if recs[d-1], err = cdc.Decode(codes, d); err != nil {
					return nil, fmt.Errorf("%s: %w", it.Path, err)
				}
				if d == cfg.Depths {
					took += time.Since(t0).Seconds()
					cpu += (textcorpus.CPUTime() - c0).Seconds()
					audioSec += clip.Duration().Seconds()
				}
				recs[d-1] = recs[d-1][:len(clip.Samples)]
			}
			unq, err := cdc.DecodeLatent(z, len(codes))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", it.Path, err)
			}
			skip := false
			scores := make([][2]float64, cfg.Depths+1) // the last: unquantized
			for d, y := range append(recs, unq[:len(clip.Samples)]) {
				s, err := metrics.SISNR(y, clip.Samples)
				if err != nil { // a silent reference (the noise file is not silent; guard anyway)
					skip = true
					break
				}
				lm, _, err := metrics.LogMelDistance(&audio.Clip{Rate: clip.Rate, Samples: y}, clip, audio.DefaultMelConfig())
				if err != nil {
					return nil, fmt.Errorf("%s: %w", it.Path, err)
				}
				scores[d] = [2]float64{s, lm}
			}
			if skip {
				continue
			}
			for d := range sr.Depths {
				sr.Depths[d].SISNR += scores[d][0]
				sr.Depths[d].LogMel += scores[d][1]
			}
			sr.Unquantized.SISNR += scores[cfg.Depths][0]
			sr.Unquantized.LogMel += scores[cfg.Depths][1]
			bp.add(orig, clip.Samples, clip.Rate)
			bp.add(full, recs[cfg.Depths-1], clip.Rate)
			if power(recs[cfg.Depths-1]) >= power(clip.Samples)*math.Pow(10, 0.6) {
				sr.Louder++
			}
			if !set.rumble && set.items[0].Labels["source"] != "alsa" {
				for _, fr := range codes {
					for d, k := range fr {
						counts[d][k]++
					}
				}
			}
			if opt.Out != "" && !set.rumble && (n == 0 || (n == 1 && set.items[0].Labels["source"] == "alsa")) {
				names, err := writeExample(opt.Out, it, clip, recs)
				if err != nil {
					return nil, err
				}
				r.Examples = append(r.Examples, names...)
			}
			n++
			sr.Seconds += clip.Duration().Seconds()
		}
		sr.Clips = n
		for d := range sr.Depths {
			sr.Depths[d].Depths = d + 1
			sr.Depths[d].BitrateBPS = cfg.Bitrate(d + 1)
			sr.Depths[d].SISNR /= float64(max(n, 1))
			sr.Depths[d].LogMel /= float64(max(n, 1))
		}
		sr.Unquantized.SISNR /= float64(max(n, 1))
		sr.Unquantized.LogMel /= float64(max(n, 1))
		for j := range orig {
			sr.Bands = append(sr.Bands, BandGain{LoHz: gainBands[j], HiHz: gainBands[j+1], GainDB: 10 * math.Log10(math.Max(full[j], 1e-30)/math.Max(orig[j], 1e-30))})
		}
		r.Sets = append(r.Sets, sr)
		if opt.Progress != nil {
			opt.Progress(fmt.Sprintf("%s: %d clips", set.name, n))
		}
	}
	r.RTF = audioSec / math.Max(took, 1e-9)
	if cpu > 0 {
		r.RTFCPU = audioSec / cpu
	}
	for d, c := range counts {
		r.Usage = append(r.Usage, usage(d+1, c))
	}
	if opt.Digits {
		split := opt.DigitSplit
		if split == "" {
			split = "test"
		}
		if r.Intelligibility, err = intelligibility(ctx, opt.Data, split, cdc, opt.Progress); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// spread picks n items evenly over the list (all if n ≤ 0 or n ≥ len).
func spread(items []speech.Item, n int) []speech.Item {
	if n <= 0 || n >= len(items) {
		return items
	}
	out := make([]speech.Item, n)
	for i := range out {
		out[i] = items[i*len(items)/n]
	}
	return out
}

func usage(depth int, count []float64) CodeUsage {
	var total float64
	for _, c := range count {
		total += c
	}
	u := CodeUsage{Depth: depth}
	for _, c := range count {
		if c > 0 {
			u.Used++
			p := c / total
			u.EntropyNat -= p * math.Log(p)
		}
	}
	u.Perplexity = math.Exp(u.EntropyNat)
	return u
}

// writeExample writes the original, the full-depth and the one-depth
// resynthesis as WAVs and their log-mel spectrograms as one PNG.
func writeExample(dir string, it speech.Item, clip *audio.Clip, recs [][]float32) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(filepath.Base(it.Path), filepath.Ext(it.Path))
	if v := it.Labels["voice"]; v != "" && v != "alsa" {
		base = strings.NewReplacer("+", "_", "/", "_").Replace(v) + "_" + base
	}
	d := len(recs)
	versions := []struct {
		suffix, title string
		wave          []float32
	}{
		{"original", "original", clip.Samples},
		{fmt.Sprintf("depths%d", d), fmt.Sprintf("codec, %d depths", d), recs[d-1]},
		{"depths1", "codec, 1 depth", recs[0]},
	}
	var names []string
	mels := make([][][]float32, len(versions))
	titles := make([]string, len(versions))
	for i, v := range versions {
		w := make([]float32, len(v.wave))
		for j, s := range v.wave {
			w[j] = max(-1, min(1, s))
		}
		c := &audio.Clip{Rate: clip.Rate, Samples: w}
		name := filepath.Join(dir, base+"_"+v.suffix+".wav")
		if err := audio.WriteFile(name, c); err != nil {
			return nil, err
		}
		names = append(names, name)
		mels[i], titles[i] = audio.MelSpectrogram(c, audio.DefaultMelConfig()), fmt.Sprintf("“%s” — %s", it.Labels["text"], v.title)
	}
	png := filepath.Join(dir, base+"_spectrograms.png")
	if err := plotMels(png, mels, titles); err != nil {
		return nil, err
	}
	return append(names, png), nil
}

// melGrid adapts a [frames][mels] spectrogram to plotter.GridXYZ.
type melGrid [][]float32

func (g melGrid) Dims() (c, r int)   { return len(g), len(g[0]) }
func (g melGrid) Z(c, r int) float64 { return float64(g[c][r]) }
func (g melGrid) X(c int) float64    { return float64(c) * 0.01 }
func (g melGrid) Y(r int) float64    { return float64(r) }

// plotMels stacks spectrograms vertically on one colour scale.
func plotMels(path string, mels [][][]float32, titles []string) error {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, m := range mels {
		if len(m) == 0 {
			return fmt.Errorf("plot %s: empty spectrogram", path)
		}
		for _, fr := range m {
			for _, v := range fr {
				lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
			}
		}
	}
	lo = math.Max(lo, hi-12) // 12 nats ≈ 52 dB of range
	const w, h = 6 * vg.Inch, 2.2 * vg.Inch
	img := vgimg.New(w, h*vg.Length(len(mels)))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: len(mels), Cols: 1}
	for i, m := range mels {
		p := plot.New()
		p.Title.Text = titles[i]
		p.X.Label.Text = "seconds"
		p.Y.Label.Text = "mel bin"
		pal := moreland.SmoothBlueRed().Palette(64)
		hm := plotter.NewHeatMap(melGrid(m), pal)
		hm.Min, hm.Max = lo, hi
		hm.Underflow = pal.Colors()[0]
		p.Add(hm)
		p.Draw(tiles.At(dc, 0, i))
	}
	err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
		return err
	})
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return nil
}

package audio

import (
	"math"

	"gonum.org/v1/gonum/dsp/fourier"
)

// MelConfig configures MelSpectrogram. Zero or negative fields take the
// defaults (the Whisper/torchaudio-style 25 ms window, 10 ms hop, 80 bands
// at 16 kHz).
type MelConfig struct {
	FFTSize int     // samples per frame, = window length (default 400)
	Hop     int     // samples between frame starts (default 160)
	Mels    int     // mel bands (default 80)
	FMin    float64 // lowest filter edge in Hz (default 0)
	FMax    float64 // highest filter edge in Hz (default and maximum: Nyquist)
	Floor   float64 // power floor before the log (default 1e-10)
}

// DefaultMelConfig is the configuration zero fields fall back to.
func DefaultMelConfig() MelConfig {
	return MelConfig{FFTSize: 400, Hop: 160, Mels: 80, Floor: 1e-10}
}

// resolve fills in defaults and clamps the band to [0, Nyquist].
func (cfg MelConfig) resolve(rate int) MelConfig {
	d := DefaultMelConfig()
	if cfg.FFTSize <= 0 {
		cfg.FFTSize = d.FFTSize
	}
	if cfg.Hop <= 0 {
		cfg.Hop = d.Hop
	}
	if cfg.Mels <= 0 {
		cfg.Mels = d.Mels
	}
	if !(cfg.Floor > 0) {
		cfg.Floor = d.Floor
	}
	nyquist := float64(rate) / 2
	if !(cfg.FMax > 0) || cfg.FMax > nyquist {
		cfg.FMax = nyquist
	}
	if !(cfg.FMin > 0) || cfg.FMin >= cfg.FMax {
		cfg.FMin = 0
	}
	return cfg
}

// MelSpectrogram returns the log-mel spectrogram of c, one row of cfg.Mels
// values per frame (time-major, 1 + len/Hop frames). It matches
// torch.stft(center=True, pad_mode="reflect") with a periodic Hann window
// of FFTSize samples, power |X|², triangular filters on the HTK mel scale
// without area normalisation (torchaudio's melscale_fbanks(norm=None,
// mel_scale="htk")), and ln(max(mel, Floor)). An empty clip gives nil.
func MelSpectrogram(c *Clip, cfg MelConfig) [][]float32 {
	if c == nil || len(c.Samples) == 0 || c.Rate <= 0 {
		return nil
	}
	cfg = cfg.resolve(c.Rate)
	n := cfg.FFTSize
	bank := melFilters(c.Rate, n, cfg)
	win := hann(n)
	fft := fourier.NewFFT(n)
	frame := make([]float64, n)
	coef := make([]complex128, n/2+1)
	power := make([]float64, n/2+1)
	out := make([][]float32, 1+len(c.Samples)/cfg.Hop)
	for t := range out {
		for i := range frame {
			frame[i] = float64(c.Samples[reflect(t*cfg.Hop+i-n/2, len(c.Samples))]) * win[i]
		}
		fft.Coefficients(coef, frame)
		for k, z := range coef {
			power[k] = real(z)*real(z) + imag(z)*imag(z)
		}
		out[t] = bank.apply(power, cfg.Floor)
	}
	return out
}

// reflect maps an index outside [0, n) back inside by mirroring at the
// ends without repeating the edge sample (numpy/torch "reflect").
func reflect(i, n int) int {
	if n == 1 {
		return 0
	}
	period := 2 * (n - 1)
	i %= period
	if i < 0 {
		i += period
	}
	if i >= n {
		i = period - i
	}
	return i
}

// hann is the periodic Hann window of n samples.
func hann(n int) []float64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n))
	}
	return w
}

// melBank holds each band's non-zero weights over the FFT bins.
type melBank []struct {
	first   int
	weights []float64
}

// apply returns ln(max(Σ weight·power, floor)) for every band.
func (b melBank) apply(power []float64, floor float64) []float32 {
	out := make([]float32, len(b))
	for m, band := range b {
		var s float64
		for j, w := range band.weights {
			s += w * power[band.first+j]
		}
		out[m] = float32(math.Log(max(s, floor)))
	}
	return out
}

// MelMatrix is the filterbank of MelSpectrogram for an n-point FFT at
// rate with mels bands, as a dense row-major [n/2+1, mels] matrix: a row of
// power spectra times it gives the mel energies. The codec's training loss
// uses it so it weighs spectra as the log-mel metrics do.
func MelMatrix(rate, n, mels int) []float32 {
	cfg := MelConfig{FFTSize: n, Mels: mels}.resolve(rate)
	out := make([]float32, (n/2+1)*cfg.Mels)
	for m, band := range melFilters(rate, n, cfg) {
		for j, w := range band.weights {
			out[(band.first+j)*cfg.Mels+m] = float32(w)
		}
	}
	return out
}

// melFilters builds cfg.Mels triangular filters over the n/2+1 bins of an
// n-point FFT at rate, with centres equally spaced on the HTK mel scale.
func melFilters(rate, n int, cfg MelConfig) melBank {
	lo, hi := hzToMel(cfg.FMin), hzToMel(cfg.FMax)
	edges := make([]float64, cfg.Mels+2)
	for i := range edges {
		edges[i] = melToHz(lo + (hi-lo)*float64(i)/float64(cfg.Mels+1))
	}
	bins := n/2 + 1
	bank := make(melBank, cfg.Mels)
	for m := range bank {
		l, c, r := edges[m], edges[m+1], edges[m+2]
		bank[m].first = -1
		for k := 0; k < bins; k++ {
			f := float64(k) * float64(rate) / float64(n)
			w := max(0, min((f-l)/(c-l), (r-f)/(r-c)))
			if w > 0 && bank[m].first < 0 {
				bank[m].first = k
			}
			if bank[m].first >= 0 {
				bank[m].weights = append(bank[m].weights, w)
			}
		}
		w := bank[m].weights
		for len(w) > 0 && w[len(w)-1] == 0 {
			w = w[:len(w)-1]
		}
		bank[m].first, bank[m].weights = max(bank[m].first, 0), w
	}
	return bank
}

func hzToMel(f float64) float64 { return 2595 * math.Log10(1+f/700) }

func melToHz(m float64) float64 { return 700 * (math.Pow(10, m/2595) - 1) }

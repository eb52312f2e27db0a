package atok

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/dsp/fourier"
)

// TestRumble: the added noise has the asked RMS and lives below a few
// times its corner frequency.
func TestRumble(t *testing.T) {
	for _, hz := range []float64{15, 30, 60} {
		x := make([]float32, 16000)
		Rumble(rand.New(rand.NewPCG(1, 2)), x, hz, 0.01)
		if r := math.Sqrt(power(x)); math.Abs(r-0.01) > 1e-4 {
			t.Errorf("%g Hz: RMS %.5f, want 0.01", hz, r)
		}
		f := make([]float64, len(x))
		for i, v := range x {
			f[i] = float64(v)
		}
		var lo, all float64
		for k, c := range fourier.NewFFT(len(f)).Coefficients(nil, f) {
			p := real(c)*real(c) + imag(c)*imag(c)
			all += p
			if float64(k) < 4*hz { // bin k is k Hz for one second at 16 kHz
				lo += p
			}
		}
		if lo/all < 0.9 {
			t.Errorf("%g Hz: %.2f of the power below %g Hz, want ≥ 0.9", hz, lo/all, 4*hz)
		}
	}
}

// TestMic: microphone conditions add noise under the voice, never over it.
func TestMic(t *testing.T) {
	x := make([]float32, 8000)
	for i := range x {
		x[i] = float32(0.1 * math.Sin(2*math.Pi*200*float64(i)/16000))
	}
	clean := power(x)
	y := append([]float32(nil), x...)
	Mic(rand.New(rand.NewPCG(3, 4)), y)
	d := make([]float32, len(x))
	for i := range d {
		d[i] = y[i] - x[i]
	}
	if snr := 10 * math.Log10(clean/power(d)); snr < 9 || snr > 36 {
		t.Errorf("voice %.1f dB over the added noise, want 10–35 dB", snr)
	}
	Mic(rand.New(rand.NewPCG(3, 4)), nil) // no samples: no panic
}

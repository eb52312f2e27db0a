package audio

import (
	"math"
	"testing"
)

func TestSpeed(t *testing.T) {
	tone := &Clip{Rate: ModelRate, Samples: make([]float32, ModelRate)} // 1 s of 440 Hz
	for i := range tone.Samples {
		tone.Samples[i] = float32(0.5 * math.Sin(2*math.Pi*440*float64(i)/ModelRate))
	}
	crossings := func(c *Clip) float64 { // upward zero crossings a second
		n := 0
		for i := 1; i < len(c.Samples); i++ {
			if c.Samples[i-1] < 0 && c.Samples[i] >= 0 {
				n++
			}
		}
		return float64(n) * float64(c.Rate) / float64(len(c.Samples))
	}
	for _, f := range []float64{0.85, 1, 1.15} {
		got := Speed(tone, f)
		if got.Rate != ModelRate {
			t.Errorf("factor %g: rate %d, want %d", f, got.Rate, ModelRate)
		}
		if want := float64(len(tone.Samples)) / f; math.Abs(float64(len(got.Samples))-want) > 2 {
			t.Errorf("factor %g: %d samples, want about %.0f", f, len(got.Samples), want)
		}
		if hz := crossings(got); math.Abs(hz-440*f) > 3 {
			t.Errorf("factor %g: tone at %.1f Hz, want %.1f", f, hz, 440*f)
		}
	}
	for _, f := range []float64{0, 0.4, 2.5, math.NaN()} {
		if got := Speed(tone, f); len(got.Samples) != 0 {
			t.Errorf("factor %g: %d samples, want none", f, len(got.Samples))
		}
	}
	if got := Speed(nil, 1.1); len(got.Samples) != 0 {
		t.Error("nil clip: samples")
	}
}

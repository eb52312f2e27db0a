package audio

import (
	"math"
	"testing"
)

// tone is amp·sin(2πft) for seconds at rate.
func tone(rate int, freq, amp, seconds float64) *Clip {
	c := &Clip{Rate: rate, Samples: make([]float32, int(seconds*float64(rate)))}
	for i := range c.Samples {
		c.Samples[i] = float32(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return c
}

// fitTone least-squares fits a·sin + b·cos at freq to the middle 80% of c
// (away from the edges, where the filter sees zeros) and returns the
// amplitude and the RMS of what the fit leaves.
func fitTone(c *Clip, freq float64) (amp, resid float64) {
	lo, hi := len(c.Samples)/10, len(c.Samples)*9/10
	var ss, sc, cc, ys, yc float64
	for i := lo; i < hi; i++ {
		w := 2 * math.Pi * freq * float64(i) / float64(c.Rate)
		s, co, y := math.Sin(w), math.Cos(w), float64(c.Samples[i])
		ss, sc, cc, ys, yc = ss+s*s, sc+s*co, cc+co*co, ys+y*s, yc+y*co
	}
	det := ss*cc - sc*sc
	a, b := (ys*cc-yc*sc)/det, (yc*ss-ys*sc)/det
	var r float64
	for i := lo; i < hi; i++ {
		w := 2 * math.Pi * freq * float64(i) / float64(c.Rate)
		d := float64(c.Samples[i]) - a*math.Sin(w) - b*math.Cos(w)
		r += d * d
	}
	return math.Hypot(a, b), math.Sqrt(r / float64(hi-lo))
}

// middleRMS is the RMS of the middle 80% of c.
func middleRMS(c *Clip) float64 {
	return rms(c.Samples[len(c.Samples)/10 : len(c.Samples)*9/10])
}

func db(x float64) float64 { return 20 * math.Log10(x) }

func TestResampleKeepsTones(t *testing.T) {
	const amp = 0.5
	for _, tc := range []struct {
		in, out int
		freq    float64
	}{
		{48000, 16000, 1000},
		{48000, 16000, 6000}, // top of the pass band
		{44100, 16000, 1000},
		{22050, 16000, 3000},
		{11025, 16000, 1000},
		{8000, 16000, 1000},
		{16000, 48000, 5000},
		{16000, 16000, 1000},
	} {
		in := tone(tc.in, tc.freq, amp, 0.5)
		out := Resample(in, tc.out)
		if want := (len(in.Samples)*tc.out + tc.in - 1) / tc.in; out.Rate != tc.out || len(out.Samples) != want {
			t.Fatalf("%d→%d: got %d Hz × %d, want %d Hz × %d", tc.in, tc.out, out.Rate, len(out.Samples), tc.out, want)
		}
		a, r := fitTone(out, tc.freq)
		gain, snr := db(a/amp), db(a/math.Sqrt2/r)
		t.Logf("%5d→%5d Hz, %4.0f Hz tone: gain %+.4f dB, SNR %.1f dB", tc.in, tc.out, tc.freq, gain, snr)
		if math.Abs(gain) > 0.01 || snr < 80 {
			t.Errorf("%d→%d Hz, %.0f Hz tone: gain %+.4f dB (want ±0.01), SNR %.1f dB (want ≥ 80)", tc.in, tc.out, tc.freq, gain, snr)
		}
	}
}

func TestResampleRejectsAboveNewNyquist(t *testing.T) {
	const amp = 0.5
	for _, tc := range []struct {
		in, out int
		freq    float64
		minDB   float64 // required attenuation
	}{
		{48000, 16000, 7900, 80},  // just below the new Nyquist
		{48000, 16000, 8100, 80},  // would alias to 7.9 kHz
		{48000, 16000, 12000, 80}, // would alias to 4 kHz
		{44100, 16000, 9000, 80},
		{22050, 16000, 10000, 80},
	} {
		out := Resample(tone(tc.in, tc.freq, amp, 0.5), tc.out)
		att := -db(middleRMS(out) / (amp / math.Sqrt2))
		t.Logf("%5d→%5d Hz, %5.0f Hz tone: attenuated %.1f dB", tc.in, tc.out, tc.freq, att)
		if att < tc.minDB {
			t.Errorf("%d→%d Hz, %.0f Hz tone: attenuated only %.1f dB, want ≥ %.0f", tc.in, tc.out, tc.freq, att, tc.minDB)
		}
	}
}

func TestResampleEdgeCases(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   *Clip
		rate int
		want int
	}{
		{"nil", nil, 16000, 0},
		{"empty", &Clip{Rate: 48000}, 16000, 0},
		{"zero rate", &Clip{Rate: 0, Samples: []float32{1}}, 16000, 0},
		{"one sample", &Clip{Rate: 48000, Samples: []float32{1}}, 16000, 1},
		{"odd ratio", &Clip{Rate: 44101, Samples: make([]float32, 441)}, 16000, 160},
	} {
		out := Resample(tc.in, tc.rate)
		if out.Rate != tc.rate || len(out.Samples) != tc.want {
			t.Errorf("%s: got %d Hz × %d, want %d Hz × %d", tc.name, out.Rate, len(out.Samples), tc.rate, tc.want)
		}
	}
	// A full-scale square wave overshoots when band-limited; output stays in [-1, 1].
	sq := &Clip{Rate: 48000, Samples: make([]float32, 4800)}
	for i := range sq.Samples {
		sq.Samples[i] = float32(1 - 2*((i/40)%2))
	}
	for _, v := range ToMono16k(sq).Samples {
		if v > 1 || v < -1 {
			t.Fatalf("sample %v outside [-1, 1]", v)
		}
	}
}

func BenchmarkToMono16k(b *testing.B) {
	for _, rate := range []int{48000, 44100, 22050} {
		c := tone(rate, 440, 0.5, 1)
		b.Run(itoa(rate), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				ToMono16k(c)
			}
		})
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

package atok

import (
	"math"
	"math/rand/v2"

	"github.com/omniar/omniar/audio"
)

// Mic adds what a real microphone records beside the voice and the
// synthetic training voices never carry: low-frequency rumble (handling,
// breath pops, room; white noise low-passed at 15–60 Hz, 35 to 10 dB under
// the clip's power) and a white noise floor 80 to 55 dB under full scale.
// A codec trained without it turned the rumble under the real ALSA
// recordings into bursts 30–50 dB louder than the input.
func Mic(rng *rand.Rand, x []float32) {
	if len(x) == 0 {
		return
	}
	p := power(x)
	if p < 1e-8 { // a silent crop: rumble at about −50 dBFS
		p = 1e-5
	}
	Rumble(rng, x, 15+45*rng.Float64(), math.Sqrt(p)*math.Pow(10, (-35+25*rng.Float64())/20))
	floor := math.Pow(10, (-80+25*rng.Float64())/20)
	for i := range x {
		x[i] += float32(floor * rng.NormFloat64())
	}
}

// Rumble adds white noise low-passed twice by a one-pole filter at hz
// (12 dB per octave), scaled to an RMS of rms over x.
func Rumble(rng *rand.Rand, x []float32, hz, rms float64) {
	a := 1 - math.Exp(-2*math.Pi*hz/audio.ModelRate)
	var l1, l2, sum float64
	buf := make([]float64, len(x))
	for i := range x {
		l1 += a * (rng.NormFloat64() - l1)
		l2 += a * (l1 - l2)
		buf[i] = l2
		sum += l2 * l2
	}
	g := rms / math.Sqrt(sum/float64(len(x))+1e-30)
	for i, v := range buf {
		x[i] += float32(g * v)
	}
}

package audio

import (
	"math"
	"slices"
)

// The resampler is a polyphase windowed-sinc filter. For rates in and out
// with g = gcd(in, out), output sample n sits at input position
// n·(in/g)/(out/g); its fractional part selects one of out/g phases, whose
// taps are a Kaiser-windowed sinc low-pass with its cutoff at rolloff × the
// lower of the two Nyquist frequencies. With 48 zero crossings each side
// and β = 8.6 (≈ 86 dB stop-band) the transition band is ≈ 11% of the
// cutoff wide: for 48 kHz → 16 kHz the pass band is flat to ≈ 6.9 kHz and
// everything above ≈ 7.8 kHz is attenuated by more than 80 dB, so nothing
// aliases below the new Nyquist.
const (
	rolloff       = 0.92
	zeroCrossings = 48
	kaiserBeta    = 8.6
	maxTableTaps  = 1 << 20 // phases × taps kept in a table; beyond, taps are computed per sample
)

// ToMono16k returns c at the model's 16 kHz. Clips are mono already (the
// decoders downmix by averaging the channels), so this is Resample(c, 16000).
func ToMono16k(c *Clip) *Clip {
	return Resample(c, ModelRate)
}

// Resample returns a band-limited resampling of c at rate (a copy when the
// rates are equal). The output has ceil(len·rate/c.Rate) samples, clamped
// to [-1, 1]; a nil clip, or a rate of either side outside [MinRate,
// MaxRate], gives an empty clip.
func Resample(c *Clip, rate int) *Clip {
	switch {
	case c == nil || checkRate(c.Rate) != nil || checkRate(rate) != nil:
		return &Clip{Rate: max(rate, 0)}
	case c.Rate == rate:
		return &Clip{Rate: rate, Samples: slices.Clone(c.Samples)}
	}
	p := newPolyphase(c.Rate, rate)
	return &Clip{Rate: rate, Samples: p.apply(c.Samples)}
}

// polyphase is the filter for one pair of rates.
type polyphase struct {
	up, down int       // out/g and in/g
	half     int       // taps on each side of the output position
	cutoff   float64   // cutoff as a fraction of the input Nyquist
	table    []float64 // up phases × 2·half taps, or nil
}

func newPolyphase(in, out int) *polyphase {
	g := gcd(in, out)
	p := &polyphase{up: out / g, down: in / g}
	p.cutoff = rolloff * float64(min(in, out)) / float64(in)
	p.half = int(math.Ceil(zeroCrossings / p.cutoff))
	if n := p.up * 2 * p.half; n <= maxTableTaps {
		p.table = make([]float64, n)
		for ph := 0; ph < p.up; ph++ {
			p.computeTaps(ph, p.table[ph*2*p.half:(ph+1)*2*p.half])
		}
	}
	return p
}

// computeTaps fills h with the taps of a phase: h[j] weighs input sample
// base−half+1+j for an output at base + phase/up.
func (p *polyphase) computeTaps(phase int, h []float64) {
	frac := float64(phase) / float64(p.up)
	var sum float64
	for j := range h {
		tau := frac + float64(p.half-1-j)
		h[j] = p.cutoff * sinc(p.cutoff*tau) * kaiser(tau/float64(p.half))
		sum += h[j]
	}
	for j := range h { // unit gain at DC for every phase
		h[j] /= sum
	}
}

// taps returns the taps of a phase, from the table or computed into buf.
func (p *polyphase) taps(phase int, buf []float64) []float64 {
	if p.table != nil {
		n := 2 * p.half
		return p.table[phase*n : (phase+1)*n]
	}
	p.computeTaps(phase, buf)
	return buf
}

// apply filters x (zero outside) at every output position.
func (p *polyphase) apply(x []float32) []float32 {
	n := (int64(len(x))*int64(p.up) + int64(p.down) - 1) / int64(p.down)
	out := make([]float32, n)
	buf := make([]float64, 2*p.half)
	for i := range out {
		pos := int64(i) * int64(p.down)
		base, phase := int(pos/int64(p.up)), int(pos%int64(p.up))
		h := p.taps(phase, buf)
		start := base - p.half + 1
		lo, hi := max(0, -start), min(len(h), len(x)-start)
		var acc float64
		for j := lo; j < hi; j++ {
			acc += h[j] * float64(x[start+j])
		}
		out[i] = clamp(acc)
	}
	return out
}

// sinc is sin(πx)/(πx).
func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// kaiser is the Kaiser window on [-1, 1] (0 outside).
func kaiser(u float64) float64 {
	if u <= -1 || u >= 1 {
		return 0
	}
	return besselI0(kaiserBeta*math.Sqrt(1-u*u)) / besselI0(kaiserBeta)
}

// besselI0 is the modified Bessel function of the first kind, order 0.
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 200; k++ {
		f := x / (2 * float64(k))
		term *= f * f
		sum += term
		if term < 1e-17*sum {
			break
		}
	}
	return sum
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

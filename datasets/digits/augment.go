package digits

import (
	"math"
	"math/rand/v2"
)

// Augment returns a glyph (Glyph×Glyph) under a random small rotation
// (±10°), scale (0.9–1.1) and contrast (0.75–1), or the glyph itself one
// time in five. The train split has 400 instances of each digit; every
// network that reads digits (the metric classifiers, the unified model's
// image questions) sees them through Augment so that it learns the digit,
// not the instance.
func Augment(g []uint8, rng *rand.Rand) []uint8 {
	if rng.Float64() < 0.2 {
		return g
	}
	a := (rng.Float64()*2 - 1) * 10 * math.Pi / 180
	sc := 0.9 + 0.2*rng.Float64()
	gain := 0.75 + 0.25*rng.Float64()
	cos, sin := math.Cos(a)/sc, math.Sin(a)/sc
	const c = (Glyph - 1) / 2.0
	out := make([]uint8, len(g))
	for y := 0; y < Glyph; y++ {
		for x := 0; x < Glyph; x++ {
			dx, dy := float64(x)-c, float64(y)-c
			v := bilinear(g, c+cos*dx+sin*dy, c-sin*dx+cos*dy)
			out[y*Glyph+x] = uint8(math.Round(v * gain))
		}
	}
	return out
}

// bilinear samples a glyph at (x, y), 0 outside.
func bilinear(g []uint8, x, y float64) float64 {
	x0, y0 := int(math.Floor(x)), int(math.Floor(y))
	fx, fy := x-float64(x0), y-float64(y0)
	at := func(xi, yi int) float64 {
		if xi < 0 || yi < 0 || xi >= Glyph || yi >= Glyph {
			return 0
		}
		return float64(g[yi*Glyph+xi])
	}
	return (1-fy)*((1-fx)*at(x0, y0)+fx*at(x0+1, y0)) + fy*((1-fx)*at(x0, y0+1)+fx*at(x0+1, y0+1))
}

// Simard et al.'s elastic distortion for 28-px digits (Elastic).
const (
	SimardSigma = 4.0
	SimardAlpha = 34.0
)

// Elastic returns a glyph under a random elastic distortion (Simard,
// Steinkraus and Platt 2003, "Best practices for convolutional neural
// networks applied to visual document analysis"): a displacement drawn
// uniformly from [−1, 1] per pixel and axis, smoothed by a Gaussian of
// sigma px and scaled by alpha, resampled bilinearly. Their σ = 4, α = 34
// moves a pixel by ≈1.4 px RMS per axis, bending strokes the way other
// writers do, which rotation and scale cannot. The field is drawn on a
// grid padded by 3σ and smoothed without padding, so the glyph's border
// moves as much as its centre.
func Elastic(g []uint8, rng *rand.Rand, sigma, alpha float64) []uint8 {
	if sigma <= 0 || alpha == 0 {
		return g
	}
	r := int(math.Ceil(3 * sigma))
	k := make([]float64, 2*r+1)
	var sum float64
	for i := range k {
		d := float64(i - r)
		k[i] = math.Exp(-d * d / (2 * sigma * sigma))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	dx, dy := smoothField(rng, r, k), smoothField(rng, r, k)
	out := make([]uint8, len(g))
	for y := 0; y < Glyph; y++ {
		for x := 0; x < Glyph; x++ {
			i := y*Glyph + x
			v := bilinear(g, float64(x)+alpha*dx[i], float64(y)+alpha*dy[i])
			out[i] = uint8(math.Round(math.Min(v, 255)))
		}
	}
	return out
}

// smoothField draws a U(−1, 1) field on a (Glyph+2r)² grid and smooths it
// with the separable kernel k (2r+1 taps), keeping the Glyph² valid part.
func smoothField(rng *rand.Rand, r int, k []float64) []float64 {
	n := Glyph + 2*r
	raw := make([]float64, n*n)
	for i := range raw {
		raw[i] = 2*rng.Float64() - 1
	}
	rows := make([]float64, n*Glyph) // smoothed along x: n rows × Glyph
	for y := 0; y < n; y++ {
		for x := 0; x < Glyph; x++ {
			var s float64
			for t, w := range k {
				s += w * raw[y*n+x+t]
			}
			rows[y*Glyph+x] = s
		}
	}
	out := make([]float64, Glyph*Glyph)
	for y := 0; y < Glyph; y++ {
		for x := 0; x < Glyph; x++ {
			var s float64
			for t, w := range k {
				s += w * rows[(y+t)*Glyph+x]
			}
			out[y*Glyph+x] = s
		}
	}
	return out
}

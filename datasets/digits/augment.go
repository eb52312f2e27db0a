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

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
	return affine(g, rng, nil, nil)
}

// Warp is Augment's rotation, scale and contrast, always applied, with
// an elastic distortion after it (Simard et al., 2003): each pixel reads
// the glyph displaced by a field of uniform noise smoothed by a Gaussian
// of σ = 4 px and scaled by α = 24 (about 1 px rms on a 28-px glyph),
// so strokes bend and thicken locally as another writer's would, which
// rotation and scale never do. No library at hand does this on a glyph,
// and it is twenty lines.
func Warp(g []uint8, rng *rand.Rand) []uint8 {
	return affine(g, rng, elasticField(rng), elasticField(rng))
}

// affine draws a rotation (±10°), scale (0.9–1.1) and contrast (0.75–1)
// and samples g under them, each pixel displaced by (fx, fy) if not nil.
func affine(g []uint8, rng *rand.Rand, fx, fy []float64) []uint8 {
	a := (rng.Float64()*2 - 1) * 10 * math.Pi / 180
	sc := 0.9 + 0.2*rng.Float64()
	gain := 0.75 + 0.25*rng.Float64()
	cos, sin := math.Cos(a)/sc, math.Sin(a)/sc
	const c = (Glyph - 1) / 2.0
	out := make([]uint8, len(g))
	for y := 0; y < Glyph; y++ {
		for x := 0; x < Glyph; x++ {
			dx, dy := float64(x)-c, float64(y)-c
			sx, sy := c+cos*dx+sin*dy, c-sin*dx+cos*dy
			if fx != nil {
				sx, sy = sx+fx[y*Glyph+x], sy+fy[y*Glyph+x]
			}
			out[y*Glyph+x] = uint8(math.Round(bilinear(g, sx, sy) * gain))
		}
	}
	return out
}

// Elastic distortion parameters of Warp. Simard et al. used α = 34 on
// MNIST; at 34 some of these glyphs turned into other digits.
const (
	elasticSigma = 4.0
	elasticAlpha = 24.0
)

// elasticField is one axis of Warp's displacement field [Glyph²]: uniform
// noise in [−1, 1], smoothed by a separable Gaussian (zero outside the
// glyph), times elasticAlpha.
func elasticField(rng *rand.Rand) []float64 {
	const r = int(3 * elasticSigma)
	var k [2*r + 1]float64
	for i := range k {
		d := float64(i - r)
		k[i] = math.Exp(-d * d / (2 * elasticSigma * elasticSigma))
	}
	var sum float64
	for _, v := range k {
		sum += v
	}
	f := make([]float64, Glyph*Glyph)
	for i := range f {
		f[i] = rng.Float64()*2 - 1
	}
	tmp := make([]float64, len(f))
	for pass := range 2 { // rows, then columns
		for y := 0; y < Glyph; y++ {
			for x := 0; x < Glyph; x++ {
				var v float64
				for i, w := range k {
					xi, yi := x, y
					if pass == 0 {
						xi += i - r
					} else {
						yi += i - r
					}
					if xi >= 0 && yi >= 0 && xi < Glyph && yi < Glyph {
						v += w * f[yi*Glyph+xi]
					}
				}
				tmp[y*Glyph+x] = v / sum
			}
		}
		f, tmp = tmp, f
	}
	for i := range f {
		f[i] *= elasticAlpha
	}
	return f
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

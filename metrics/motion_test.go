package metrics

import (
	"math"
	"testing"
)

// movingClip renders 17 frames 64×64 of two glyphs (a filled s×s square
// and a hollow one, so that their ink differs) starting at top-left p0,
// moving with velocities v; a velocity flips on an axis when the glyph
// would leave the canvas, as in Moving-digits.
func movingClip(p0, v [2][2]float64) Clip {
	const n, side = 17, 10
	c := Clip{W: 64, H: 64, Digits: 2}
	p := p0
	for t := 0; t < n; t++ {
		f := make([]uint8, 64*64)
		for k := range p {
			x0, y0 := int(math.Round(p[k][0])), int(math.Round(p[k][1]))
			for y := y0; y < y0+side; y++ {
				for x := x0; x < x0+side; x++ {
					edge := x == x0 || y == y0 || x == x0+side-1 || y == y0+side-1
					if k == 0 || edge || (x-x0)%3 == 0 {
						f[y*64+x] = max(f[y*64+x], uint8(200+40*k))
					}
				}
			}
		}
		c.Frames = append(c.Frames, f)
		for k := range p {
			for a := 0; a < 2; a++ {
				p[k][a] += v[k][a]
				if p[k][a] < 0 || p[k][a] > 64-side {
					v[k][a] = -v[k][a]
					p[k][a] += 2 * v[k][a]
				}
			}
		}
	}
	return c
}

func TestTwoMotions(t *testing.T) {
	r := math.Sqrt2 / 2
	for _, c := range []struct {
		name   string
		p0, v  [2][2]float64
		da, db string // the two directions, in either order
	}{
		{"crossing right and down", [2][2]float64{{2, 28}, {26, 2}}, [2][2]float64{{3, 0}, {0, 2.5}}, "right", "down"},
		{"overlapping all along", [2][2]float64{{20, 20}, {24, 24}}, [2][2]float64{{-2 * r, -2 * r}, {2.2, 0}}, "up-left", "right"},
		{"same direction, two speeds", [2][2]float64{{50, 5}, {52, 30}}, [2][2]float64{{-2, 0}, {-3.6, 0}}, "left", "left"},
		{"one motion for both", [2][2]float64{{5, 40}, {18, 44}}, [2][2]float64{{2 * r, -2 * r}, {2 * r, -2 * r}}, "up-right", "up-right"},
		{"bounce after the first half", [2][2]float64{{30, 10}, {10, 40}}, [2][2]float64{{3.5, 0}, {0, -3}}, "right", "up"},
	} {
		a, b, ok := twoMotions(movingClip(c.p0, c.v))
		if !ok {
			t.Fatalf("%s: no motion", c.name)
		}
		got := [2]string{DirectionOf(a), DirectionOf(b)}
		if got != [2]string{c.da, c.db} && got != [2]string{c.db, c.da} {
			t.Errorf("%s: motions %v %v (%v), want %s and %s", c.name, a, b, got, c.da, c.db)
		}
	}
	if _, _, ok := twoMotions(Clip{Frames: make([][]uint8, 3), W: 64, H: 64}); ok {
		t.Error("3 frames gave a motion")
	}
}

func TestGiveMotions(t *testing.T) {
	right, down := [2]float64{3, 0}, [2]float64{0, 3}
	for _, c := range []struct {
		name   string
		tracks [2][2]float64 // the readings' track velocities
		want   [2]string
	}{
		{"in order", [2][2]float64{{2.5, 0.4}, {0.3, 2}}, [2]string{"right", "down"}},
		{"swapped", [2][2]float64{{-0.2, 3.1}, {2, -1}}, [2]string{"down", "right"}},
		{"one track lost", [2][2]float64{{0.4, -7}, {2.8, 0.1}}, [2]string{"down", "right"}},
	} {
		rs := []Reading{{Velocity: c.tracks[0]}, {Velocity: c.tracks[1]}}
		giveMotions(rs, right, down)
		if got := [2]string{rs[0].Dir, rs[1].Dir}; got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

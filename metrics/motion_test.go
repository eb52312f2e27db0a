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

func TestMotionCrops(t *testing.T) {
	// the filled square goes right, the hollow one down through it; the
	// crop cut by each motion is centred on its own square in every
	// straight frame, also where the two overlap
	p0 := [2][2]float64{{14, 27}, {27, 12}}
	v := [2][2]float64{{3, 0}, {0, 2.5}}
	c := movingClip(p0, v)
	a, b, ok := twoMotions(c)
	if !ok || DirectionOf(a) != "right" || DirectionOf(b) != "down" {
		t.Fatalf("motions %v %v", a, b)
	}
	crops := motionCrops(c, [2][2]float64{a, b})
	if len(crops) != 9 {
		t.Fatalf("%d straight frames, want 9", len(crops))
	}
	for f, cs := range crops {
		for k, crop := range cs {
			// the crop's ink is the square's: 100 pixels filled, or the
			// hollow square's 10·4−4 edge and 2·8 inner column pixels
			n := 0
			for _, x := range crop {
				if x > 0 {
					n++
				}
			}
			want := []int{100, 52}[k]
			if n < want-4 || n > want+4 {
				t.Errorf("frame %d, motion %d: crop has %d ink pixels, want %d", f, k, n, want)
			}
		}
	}
}

func TestReadTwoByMotion(t *testing.T) {
	lp := func(d int) [10]float64 { // a confident reading of d
		var p [10]float64
		for i := range p {
			p[i] = -6
		}
		p[d] = -0.01
		return p
	}
	// an overlapping clip (no clean frame) whose 2-means tracks read 4
	// moving left and 9 moving down, while the crops cut by motion read 9
	// for the first motion (left) and 4 for the second (down)
	const T = 6
	ink := &clipInk{k: 2, clip: Clip{W: 64, H: 64, Digits: 2}, moves: true,
		motions: [2][2]float64{{-2, 0}, {0, 3}}}
	for f := 0; f < T; f++ {
		ink.blobs = append(ink.blobs, []Blob{{X: 40 - 2*float64(f), Y: 30}, {X: 30, Y: 20 + 3*float64(f)}})
		ink.crops = append(ink.crops, [][]float32{make([]float32, CropSize*CropSize), make([]float32, CropSize*CropSize)})
		ink.clean = append(ink.clean, false)
		ink.logp = append(ink.logp, [][10]float64{lp(4), lp(9)})
		ink.pair = append(ink.pair, pairOdds(4, 9))
		ink.mlogp = append(ink.mlogp, [2][10]float64{lp(9), lp(4)})
	}
	rs := ink.readTwo()
	if rs[0].Digit != 9 || rs[0].Dir != "left" || rs[1].Digit != 4 || rs[1].Dir != "down" {
		t.Errorf("read %d %q, %d %q; want 9 left, 4 down", rs[0].Digit, rs[0].Dir, rs[1].Digit, rs[1].Dir)
	}
	// without the motions' crops, the tracks decide which digit moves how
	ink.mlogp = nil
	rs = ink.readTwo()
	if rs[0].Digit != 4 || rs[0].Dir != "left" || rs[1].Digit != 9 || rs[1].Dir != "down" {
		t.Errorf("by tracks: read %d %q, %d %q; want 4 left, 9 down", rs[0].Digit, rs[0].Dir, rs[1].Digit, rs[1].Dir)
	}
}

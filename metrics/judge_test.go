package metrics

import (
	"math"
	"testing"

	"github.com/omniar/omniar/datasets/digits"
)

func TestDirectionOf(t *testing.T) {
	for _, d := range digits.Directions {
		for _, speed := range []float64{0.5, 1.5, 4} {
			n := math.Hypot(d.DX, d.DY)
			if got := DirectionOf([2]float64{d.DX / n * speed, d.DY / n * speed}); got != d.Name {
				t.Errorf("%s at %g px/frame: got %q", d.Name, speed, got)
			}
		}
	}
	cases := []struct {
		v    [2]float64
		want string
	}{
		{[2]float64{0.1, 0.1}, ""},
		{[2]float64{2, 0.5}, "right"},     // 14° off: still right
		{[2]float64{2, -1.2}, "up-right"}, // 31° up
		{[2]float64{-0.2, 3}, "down"},
	}
	for _, c := range cases {
		if got := DirectionOf(c.v); got != c.want {
			t.Errorf("DirectionOf(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}

func line(n int, x0, vx float64, bounceAt int) [][2]float64 {
	tr := make([][2]float64, n)
	x := x0
	for t := range tr {
		tr[t] = [2]float64{x, 10}
		if t == bounceAt {
			vx = -vx
		}
		x += vx
	}
	return tr
}

func times(n int) []float64 {
	ts := make([]float64, n)
	for i := range ts {
		ts[i] = float64(i)
	}
	return ts
}

func TestFirstBounce(t *testing.T) {
	cases := []struct {
		name string
		tr   [][2]float64
		want int
	}{
		{"straight", line(17, 0, 2, -1), 16},
		{"bounce at 10", line(17, 0, 2, 10), 10},
		{"bounce at 15", line(17, 0, 2, 15), 15},
		{"still", line(17, 5, 0, -1), 16},
	}
	for _, c := range cases {
		if got := firstBounce(times(len(c.tr)), c.tr); got != c.want {
			t.Errorf("%s: firstBounce = %d, want %d", c.name, got, c.want)
		}
	}
	tr := line(17, 0, 2, 8)
	tr[3][0] += 1.5 // a noisy centre does not end the run
	if got := firstBounce(times(17), tr); got != 8 {
		t.Errorf("noisy: %d, want 8", got)
	}
	if v := straightVelocity(times(17), line(17, 0, -3, 9)); math.Abs(v[0]+3) > 1e-9 || v[1] != 0 {
		t.Errorf("velocity %v, want (-3, 0)", v)
	}
	// with gaps (frames left out), steps are measured per frame
	gappy := line(17, 0, 2, 12)
	ts := []float64{0, 1, 4, 5, 9, 12, 13, 16}
	var ps [][2]float64
	for _, t := range ts {
		ps = append(ps, gappy[int(t)])
	}
	if got := firstBounce(ts, ps); got != 5 {
		t.Errorf("gaps: %d, want 5 (frame 12)", got)
	}
}

func TestScore(t *testing.T) {
	rs := []Reading{{Digit: 3, Dir: "left"}, {Digit: 7, Dir: "up"}}
	cases := []struct {
		ts   []Target
		want Verdict
	}{
		{[]Target{{7, "up"}, {3, "left"}}, Verdict{true, true, true}},
		{[]Target{{3, "up"}, {7, "left"}}, Verdict{true, true, false}},
		{[]Target{{3, "left"}, {8, "up"}}, Verdict{false, true, false}},
		{[]Target{{3, "down"}, {7, "up"}}, Verdict{true, false, false}},
	}
	for _, c := range cases {
		got, err := Score(rs, c.ts)
		if err != nil || got != c.want {
			t.Errorf("Score(%v) = %+v, %v; want %+v", c.ts, got, err, c.want)
		}
	}
	if _, err := Score(rs[:1], cases[0].ts); err == nil {
		t.Error("count mismatch accepted")
	}
}

// square draws a filled s×s square with top-left (x, y) into a 64×64 frame.
func square(f []uint8, x, y, s int) {
	for j := y; j < y+s; j++ {
		for i := x; i < x+s; i++ {
			f[j*64+i] = 255
		}
	}
}

func TestLocateCrops(t *testing.T) {
	f := make([]uint8, 64*64)
	square(f, 4, 6, 5)
	x, bs := LocateCrops(nil, f, 64, 64, 1, nil)
	if len(x) != CropSize*CropSize || bs[0].X != 6 || bs[0].Y != 8 {
		t.Fatalf("one blob: %d values, %+v", len(x), bs)
	}
	// the crop is centred: the square's centre pixel is at crop (13 or 14)
	if x[14*CropSize+14] != 1 || x[0] != 0 {
		t.Errorf("crop not centred on the blob")
	}
	square(f, 50, 40, 5)
	x, bs = LocateCrops(nil, f, 64, 64, 2, nil)
	if len(x) != 2*CropSize*CropSize {
		t.Fatalf("%d values", len(x))
	}
	got := map[[2]float64]bool{{bs[0].X, bs[0].Y}: true, {bs[1].X, bs[1].Y}: true}
	if !got[[2]float64{6, 8}] || !got[[2]float64{52, 42}] {
		t.Errorf("two blobs: %+v", bs)
	}
	// seeded by the previous centres, cluster i keeps following blob i
	_, again := LocateCrops(nil, f, 64, 64, 2, []Blob{{X: 50, Y: 40}, {X: 5, Y: 5}})
	if again[0].X != 52 || again[1].X != 6 {
		t.Errorf("seeded clusters swapped: %+v", again)
	}
	// an empty frame gives a centred blob with no mass, not a panic
	if _, bs := LocateCrops(nil, make([]uint8, 64*64), 64, 64, 2, nil); bs[0].Mass != 0 {
		t.Errorf("empty frame: %+v", bs)
	}
}

func TestClipCheck(t *testing.T) {
	frame := make([]uint8, 64*64)
	cases := []Clip{
		{Frames: [][]uint8{frame, frame}, W: 64, H: 64, Digits: 3},
		{Frames: [][]uint8{frame}, W: 64, H: 64, Digits: 1},
		{Frames: [][]uint8{frame, frame}, W: 20, H: 20, Digits: 1},
		{Frames: [][]uint8{frame, frame[1:]}, W: 64, H: 64, Digits: 1},
	}
	for i, c := range cases {
		if c.check() == nil {
			t.Errorf("case %d accepted", i)
		}
	}
}

func TestLocateBadFrames(t *testing.T) {
	for _, c := range []struct {
		frame []uint8
		w, h  int
	}{{make([]uint8, 10), 64, 64}, {nil, 0, 0}, {make([]uint8, 64*64), -1, 64}} {
		for k := 1; k <= 2; k++ {
			x, bs := LocateCrops(nil, c.frame, c.w, c.h, k, nil)
			if len(x) != k*CropSize*CropSize || len(bs) != k {
				t.Errorf("%d px %d×%d, k %d: %d values, %d blobs", len(c.frame), c.w, c.h, k, len(x), len(bs))
			}
		}
	}
	if p := PredictVideo(make([]float32, 5)); p.Digits != nil {
		t.Errorf("short logits: %+v", p)
	}
}

func TestReadOverlapping(t *testing.T) {
	track := func(a, b int) [][10]float64 { // log-probabilities reading a then b
		var pa, pb [10]float64
		for d := range pa {
			pa[d], pb[d] = -5, -5
		}
		pa[a], pb[b] = -0.1, -0.1
		return [][10]float64{pa, pb}
	}
	for _, c := range []struct {
		name   string
		pair   [][10]float64
		tracks [][][10]float64
		l1, l2 int
	}{
		{"labels and order", [][10]float64{pairOdds(3, 8), pairOdds(3, 8), pairOdds(8)}, [][][10]float64{track(8, 3), track(8, 3)}, 8, 3},
		{"two of a kind", [][10]float64{pairOdds(7), pairOdds(7), pairOdds(7, 1)}, [][][10]float64{track(7, 7), track(7, 7)}, 7, 7},
		{"pair reader outvotes a misread track", [][10]float64{pairOdds(2, 5), pairOdds(2, 5), pairOdds(2, 5)}, [][][10]float64{track(2, 6), track(2, 5)}, 2, 5},
	} {
		ink := &clipInk{k: 2, pair: c.pair, logp: c.tracks}
		l1, l2, votes := ink.readOverlapping([]int{0, 1})
		if l1 != c.l1 || l2 != c.l2 {
			t.Errorf("%s: read %d, %d; want %d, %d", c.name, l1, l2, c.l1, c.l2)
		}
		if votes[c.l1] != len(c.pair) {
			t.Errorf("%s: votes %v", c.name, votes)
		}
	}
}

// pairOdds are pair-reader log-odds that say the digits present are there.
func pairOdds(present ...int) [10]float64 {
	var o [10]float64
	for d := range o {
		o[d] = -4
	}
	for _, d := range present {
		o[d] = 3
	}
	return o
}

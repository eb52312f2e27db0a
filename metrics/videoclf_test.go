package metrics

import (
	"slices"
	"testing"

	"github.com/omniar/omniar/datasets/digits"
)

func TestVideoTargetsAndPrediction(t *testing.T) {
	cases := []struct {
		name   string
		movers []digits.Mover
		digits []int
		dirs   []string
	}{
		{"one", []digits.Mover{{Label: 7, Dir: "left"}}, []int{7}, []string{"left"}},
		{"two", []digits.Mover{{Label: 3, Dir: "down"}, {Label: 1, Dir: "up-right"}}, []int{1, 3}, []string{"up-right", "down"}},
		{"same digit", []digits.Mover{{Label: 4, Dir: "up"}, {Label: 4, Dir: "up"}}, []int{4}, []string{"up"}},
	}
	for _, c := range cases {
		clip := digits.Clip{Movers: c.movers}
		tg, err := VideoTargets(nil, clip)
		if err != nil {
			t.Fatal(err)
		}
		// logits that say exactly the targets decode to the truth
		logits := make([]float32, 2*len(tg))
		for i, v := range tg {
			logits[2*i+v] = 1
		}
		p, truth := PredictVideo(logits), TruthVideo(clip)
		if !slices.Equal(p.Digits, c.digits) || !slices.Equal(p.Dirs, c.dirs) || !slices.Equal(truth.Digits, c.digits) || !slices.Equal(truth.Dirs, c.dirs) {
			t.Errorf("%s: predicted %+v, truth %+v", c.name, p, truth)
		}
	}
	if _, err := VideoTargets(nil, digits.Clip{Movers: []digits.Mover{{Label: 3, Dir: "sideways"}}}); err == nil {
		t.Error("unknown direction accepted")
	}
	// nothing present: the most likely label is taken
	logits := make([]float32, 36)
	logits[2*4] = -1
	logits[2*(10+5)] = -1
	if p := PredictVideo(logits); !slices.Equal(p.Digits, []int{4}) || !slices.Equal(p.Dirs, []string{"down-left"}) {
		t.Errorf("fallback: %+v", p)
	}
}

func TestVideoInput(t *testing.T) {
	frames := make([][]uint8, VideoFrames+2)
	for i := range frames {
		frames[i] = make([]uint8, VideoSize*VideoSize)
		frames[i][0] = 255
	}
	x, err := VideoInput(nil, frames)
	if err != nil || len(x) != VideoFrames*VideoSize*VideoSize || x[0] != 1 || x[1] != 0 {
		t.Fatalf("%d values, %v", len(x), err)
	}
	if _, err := VideoInput(nil, frames[:5]); err == nil {
		t.Error("5 frames accepted")
	}
	frames[3] = frames[3][:10]
	if _, err := VideoInput(nil, frames); err == nil {
		t.Error("short frame accepted")
	}
}

func TestVideoCellTargets(t *testing.T) {
	if got := VideoMapShape(VideoNetConfig()); got != [3]int{5, 4, 4} {
		t.Fatalf("map shape %v", got)
	}
	pos := make([][2]float64, VideoFrames)
	for f := range pos {
		pos[f] = [2]float64{float64(f) * 2, 0} // centre x 14 + 2f, y 14
	}
	c := digits.Clip{Movers: []digits.Mover{{Label: 7, Pos: pos}}}
	tg := VideoCellTargets(nil, c, 5, 4, 4)
	if len(tg) != 80 {
		t.Fatalf("%d targets", len(tg))
	}
	// frame 0: centre (14, 14) → cell (0, 0); frame 16: (46, 14) → cell (0, 2)
	cell := func(k, y, x int) int { return tg[(k*4+y)*4+x] }
	if cell(0, 0, 0) != 7 || cell(0, 1, 1) != -100 || cell(0, 3, 3) != Background || cell(4, 0, 2) != 7 || cell(4, 0, 0) != Background {
		t.Errorf("targets %v", tg)
	}
	// two different digits centred in one cell: ignored
	c.Movers = append(c.Movers, digits.Mover{Label: 2, Pos: pos})
	if tg := VideoCellTargets(nil, c, 5, 4, 4); tg[0] != -100 {
		t.Errorf("conflict: %d", tg[0])
	}
}

package eval

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"

	"github.com/omniar/omniar/datasets/digits"
	"github.com/omniar/omniar/metrics"
)

// PairAccuracy is the held-out accuracy of the judge's pair reader: the
// digit set of a frame with two touching test-split digits read exactly.
type PairAccuracy struct {
	Split    string  `json:"split"`
	Pairs    int     `json:"pairs"`
	Accuracy float64 `json:"accuracy"`
}

// pairReach is the largest offset (px) between the two glyphs of a
// training pair: beyond it they rarely touch.
const pairReach = 22

// TrainPairs trains the judge's pair reader on pairs of augmented digits
// of the digits train and val splits, measures it on pairs of test-split
// digits and writes the weights.
func TrainPairs(ctx context.Context, opt TrainOptions, w io.Writer) (PairAccuracy, error) {
	opt, err := opt.withDefaults(4000, 64, 3e-3)
	if err != nil {
		return PairAccuracy{}, fmt.Errorf("train pair reader: %w", err)
	}
	s, err := digits.Load(opt.Data)
	if err != nil {
		return PairAccuracy{}, err
	}
	gen := &cropGen{s: s, glyphs: s.Glyphs(), ids: append(s.IDs("train"), s.IDs("val")...)}
	next := func(k int64, x []float32, tg []int) error {
		rng := rand.New(rand.NewPCG(opt.Seed, uint64(k)))
		size := metrics.PairSize * metrics.PairSize
		for i := 0; i < opt.Batch; i++ {
			crop, present := gen.pair(rng, true)
			copy(x[i*size:(i+1)*size], crop)
			for d := range present {
				tg[i*10+d] = b2i(present[d])
			}
		}
		return nil
	}
	run, res, err := trainFrozen(ctx, metrics.PairNetConfig(), opt, next, 64)
	if err != nil {
		return PairAccuracy{}, fmt.Errorf("train pair reader: %w", err)
	}
	defer run.Close()
	acc, err := pairAccuracy(s, "test", run, 2000)
	if err != nil {
		return acc, err
	}
	meta := map[string]string{"accuracy": mustJSON(acc), "trained_on": "pairs of digits train+val (opencv-doc digits.png)", "steps": fmt.Sprint(res.Steps)}
	if err := run.Net.Save(opt.Out, meta); err != nil {
		return acc, err
	}
	fmt.Fprintf(w, "pair reader %s: %d params, %d steps; %d pairs of digits %s split: %.2f%% read exactly; wrote %s\n",
		metrics.PairNetConfig().Name, run.Net.NumParams(), res.Steps, acc.Pairs, acc.Split, 100*acc.Accuracy, opt.Out)
	return acc, nil
}

// pairAccuracy reads n pairs of a digits split (fixed seed, no
// augmentation) and counts exact digit sets.
func pairAccuracy(s *digits.Set, split string, run *metrics.Runner, n int) (PairAccuracy, error) {
	gen := &cropGen{s: s, glyphs: s.Glyphs(), ids: s.IDs(split)}
	rng := rand.New(rand.NewPCG(7, 7))
	var x []float32
	truth := make([][10]bool, n)
	for i := range truth {
		var crop []float32
		crop, truth[i] = gen.pair(rng, false)
		x = append(x, crop...)
	}
	out, err := run.Run(x)
	if err != nil {
		return PairAccuracy{}, err
	}
	ok := 0
	for i, l := range out.Logits {
		good := true
		for d := range truth[i] {
			good = good && (l[2*d+1] > l[2*d]) == truth[i][d]
		}
		ok += b2i(good)
	}
	return PairAccuracy{Split: split, Pairs: n, Accuracy: ratio(ok, n)}, nil
}

// pair returns the pair reader's window of a frame with two digits whose
// glyph boxes are offset by at most pairReach px (clamped to the canvas, as
// bouncing digits are), and which digits are present.
func (g *cropGen) pair(rng *rand.Rand, aug bool) ([]float32, [10]bool) {
	const hi = digits.Canvas - digits.Glyph
	canvas := make([]uint8, digits.Canvas*digits.Canvas)
	var present [10]bool
	x0, y0 := rng.IntN(hi+1), rng.IntN(hi+1)
	a, r := 2*math.Pi*rng.Float64(), pairReach*math.Sqrt(rng.Float64())
	x1 := min(max(x0+int(math.Round(r*math.Cos(a))), 0), hi)
	y1 := min(max(y0+int(math.Round(r*math.Sin(a))), 0), hi)
	for _, at := range [][2]int{{x0, y0}, {x1, y1}} {
		id := g.ids[rng.IntN(len(g.ids))]
		glyph := g.glyphs[id]
		if aug {
			glyph = digits.Augment(glyph, rng)
		}
		paste(canvas, glyph, at[0], at[1])
		present[g.s.Digits[id].Label] = true
	}
	return metrics.PairCrop(nil, canvas, digits.Canvas, digits.Canvas), present
}

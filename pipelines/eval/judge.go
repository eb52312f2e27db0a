package eval

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"time"

	"github.com/omniar/omniar/datasets/digits"
	"github.com/omniar/omniar/metrics"
	"github.com/omniar/omniar/nn"
)

// DigitAccuracy is the held-out accuracy of the judge's digit classifier.
type DigitAccuracy struct {
	Split    string  `json:"split"`
	Digits   int     `json:"digits"`
	Accuracy float64 `json:"accuracy"` // lone digit, centred on its ink's centre of mass
}

// TrainJudge trains the digit classifier of the attribute judge on the
// digits train and val splits (the Moving-digits test clips are drawn from
// the test split only), on the very crops the judge reads (frames of one or
// two augmented digits at random places, found by metrics.LocateCrops),
// measures it on the digits test split and writes the weights.
func TrainJudge(ctx context.Context, opt TrainOptions, w io.Writer) (DigitAccuracy, error) {
	opt, err := opt.withDefaults(5000, 64, 3e-3)
	if err != nil {
		return DigitAccuracy{}, fmt.Errorf("train judge: %w", err)
	}
	s, err := digits.Load(opt.Data)
	if err != nil {
		return DigitAccuracy{}, err
	}
	gen := &cropGen{s: s, glyphs: s.Glyphs(), ids: append(s.IDs("train"), s.IDs("val")...)}
	next := func(k int64, x []float32, tg []int) error {
		rng := rand.New(rand.NewPCG(opt.Seed, uint64(k)))
		size := metrics.CropSize * metrics.CropSize
		for i := range tg {
			var crop []float32
			crop, tg[i] = gen.sample(rng)
			copy(x[i*size:(i+1)*size], crop)
		}
		return nil
	}
	run, res, err := trainFrozen(ctx, metrics.DigitNetConfig(), opt, next, 64)
	if err != nil {
		return DigitAccuracy{}, fmt.Errorf("train judge: %w", err)
	}
	defer run.Close()
	acc, err := digitAccuracy(s, "test", run)
	if err != nil {
		return acc, err
	}
	meta := map[string]string{"accuracy": mustJSON(acc), "trained_on": "digits train+val (opencv-doc digits.png)", "steps": fmt.Sprint(res.Steps)}
	if err := run.Net.Save(opt.Out, meta); err != nil {
		return acc, err
	}
	fmt.Fprintf(w, "digit classifier %s: %d params, %d steps; digits %s split: %.2f%% of %d; wrote %s\n",
		metrics.DigitNetConfig().Name, run.Net.NumParams(), res.Steps, acc.Split, 100*acc.Accuracy, acc.Digits, opt.Out)
	return acc, nil
}

// DigitAccuracyOf measures a digit classifier on a digits split.
func DigitAccuracyOf(dataDir, split string, wts *metrics.Weights) (DigitAccuracy, error) {
	s, err := digits.Load(dataDir)
	if err != nil {
		return DigitAccuracy{}, err
	}
	n, err := wts.Build(64)
	if err != nil {
		return DigitAccuracy{}, err
	}
	run := metrics.NewRunner(n)
	defer run.Close()
	return digitAccuracy(s, split, run)
}

// digitAccuracy classifies every digit of a split, alone on a canvas.
func digitAccuracy(s *digits.Set, split string, run *metrics.Runner) (DigitAccuracy, error) {
	ids := s.IDs(split)
	out, err := run.Run(digitCrops(s, ids))
	if err != nil {
		return DigitAccuracy{}, err
	}
	ok := 0
	for i, l := range out.Logits {
		if nn.Argmax(l) == s.Digits[ids[i]].Label {
			ok++
		}
	}
	return DigitAccuracy{Split: split, Digits: len(ids), Accuracy: ratio(ok, len(ids))}, nil
}

// digitCrops are the digit classifier's inputs for digits alone on a
// canvas, cropped around their ink as the judge crops a lone digit.
func digitCrops(s *digits.Set, ids []int) []float32 {
	glyphs := s.Glyphs()
	var x []float32
	canvas := make([]uint8, digits.Canvas*digits.Canvas)
	for _, id := range ids {
		clear(canvas)
		paste(canvas, glyphs[id], 18, 18)
		x = metrics.CentreCrop(x, canvas, digits.Canvas, digits.Canvas)
	}
	return x
}

// paste draws a Glyph×Glyph image into a canvas at (x0, y0) with max.
func paste(canvas, g []uint8, x0, y0 int) {
	for y := 0; y < digits.Glyph; y++ {
		for x := 0; x < digits.Glyph; x++ {
			cx, cy := x0+x, y0+y
			if cx < 0 || cy < 0 || cx >= digits.Canvas || cy >= digits.Canvas {
				continue
			}
			i := cy*digits.Canvas + cx
			canvas[i] = max(canvas[i], g[y*digits.Glyph+x])
		}
	}
}

// cropGen draws training crops the way the judge sees digits.
type cropGen struct {
	s      *digits.Set
	glyphs [][]uint8
	ids    []int
}

// sample returns one crop [28, 28] and its label: half the time of one
// digit on a canvas, half the time of one of two (at least 10 px apart).
func (g *cropGen) sample(rng *rand.Rand) ([]float32, int) {
	const hi = digits.Canvas - digits.Glyph
	canvas := make([]uint8, digits.Canvas*digits.Canvas)
	k := 1 + rng.IntN(2)
	var labels []int
	var coms [][2]float64
	for len(labels) < k {
		id := g.ids[rng.IntN(len(g.ids))]
		glyph := digits.Augment(g.glyphs[id], rng)
		x0, y0 := rng.IntN(hi+1), rng.IntN(hi+1)
		cx, cy := glyphCOM(glyph)
		com := [2]float64{float64(x0) + cx, float64(y0) + cy}
		if len(coms) == 1 && math.Hypot(com[0]-coms[0][0], com[1]-coms[0][1]) < 10 {
			continue
		}
		paste(canvas, glyph, x0, y0)
		labels, coms = append(labels, g.s.Digits[id].Label), append(coms, com)
	}
	x, blobs := metrics.LocateCrops(nil, canvas, digits.Canvas, digits.Canvas, k, nil)
	j := rng.IntN(k)
	size := metrics.CropSize * metrics.CropSize
	x = x[j*size : (j+1)*size]
	best := 0
	for i, c := range coms {
		if math.Hypot(c[0]-blobs[j].X, c[1]-blobs[j].Y) < math.Hypot(coms[best][0]-blobs[j].X, coms[best][1]-blobs[j].Y) {
			best = i
		}
	}
	return x, labels[best]
}

// glyphCOM is the centre of mass of a glyph's ink.
func glyphCOM(g []uint8) (float64, float64) {
	var sx, sy, m float64
	for i, v := range g {
		if v > metrics.InkThreshold {
			sx += float64(v) * float64(i%digits.Glyph)
			sy += float64(v) * float64(i/digits.Glyph)
			m += float64(v)
		}
	}
	if m == 0 {
		return digits.Glyph / 2, digits.Glyph / 2
	}
	return sx / m, sy / m
}

// JudgeReport is the agreement of the judge with the ground truth of real clips.
type JudgeReport struct {
	Split       string  `json:"split"`
	Clips       int     `json:"clips"`
	Match       float64 `json:"match"` // digit and direction, all clips
	Digit       float64 `json:"digit"`
	Direction   float64 `json:"direction"`
	OneClips    int     `json:"one_clips"`
	OneMatch    float64 `json:"one_match"`
	OneDigit    float64 `json:"one_digit"`
	OneDir      float64 `json:"one_direction"`
	TwoClips    int     `json:"two_clips"`
	TwoMatch    float64 `json:"two_match"`
	TwoDigit    float64 `json:"two_digit"`
	TwoDir      float64 `json:"two_direction"`
	ClipsPerSec float64 `json:"clips_per_s"`
	Weights     string  `json:"weights_sha256"`
}

// JudgeSplit runs the judge over real Moving-digits clips of a split
// (limit > 0 takes the first limit) against their metadata.
func JudgeSplit(dataDir, split string, limit int, wts metrics.JudgeWeights) (JudgeReport, error) {
	m, err := digits.LoadMoving(dataDir, split)
	if err != nil {
		return JudgeReport{}, err
	}
	j, err := metrics.NewJudge(wts)
	if err != nil {
		return JudgeReport{}, err
	}
	defer j.Close()
	n := len(m.Clips)
	if limit > 0 {
		n = min(n, limit)
	}
	rep := JudgeReport{Split: split, Clips: n, Weights: wts.SHA256()}
	var c [2][3]int // [one/two][match, digit, direction]
	t0 := time.Now()
	const chunk = 32
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		var clips []metrics.Clip
		for i := lo; i < hi; i++ {
			clips = append(clips, metrics.Clip{Frames: metrics.SplitFrames(m.Store.Clip(i), digits.Canvas, digits.Canvas),
				W: digits.Canvas, H: digits.Canvas, Digits: len(m.Clips[i].Movers)})
		}
		rs, err := j.Read(clips)
		if err != nil {
			return rep, err
		}
		for i, r := range rs {
			v, err := metrics.Score(r, metrics.Targets(m.Clips[lo+i]))
			if err != nil {
				return rep, err
			}
			k := len(r) - 1
			c[k][0] += b2i(v.Match)
			c[k][1] += b2i(v.Digit)
			c[k][2] += b2i(v.Direction)
			if k == 0 {
				rep.OneClips++
			} else {
				rep.TwoClips++
			}
			if !v.Match {
				slog.Debug("judge: miss", "clip", lo+i, "truth", metrics.Targets(m.Clips[lo+i]), "read", r)
			}
		}
	}
	rep.ClipsPerSec = float64(n) / time.Since(t0).Seconds()
	rep.Match, rep.Digit, rep.Direction = ratio(c[0][0]+c[1][0], n), ratio(c[0][1]+c[1][1], n), ratio(c[0][2]+c[1][2], n)
	rep.OneMatch, rep.OneDigit, rep.OneDir = ratio(c[0][0], rep.OneClips), ratio(c[0][1], rep.OneClips), ratio(c[0][2], rep.OneClips)
	rep.TwoMatch, rep.TwoDigit, rep.TwoDir = ratio(c[1][0], rep.TwoClips), ratio(c[1][1], rep.TwoClips), ratio(c[1][2], rep.TwoClips)
	return rep, nil
}

// PrintJudge writes a report as a table.
func PrintJudge(w io.Writer, r JudgeReport) {
	fmt.Fprintf(w, "attribute judge on %d real %s clips (weights sha256 %.12s…), %.1f clips/s\n", r.Clips, r.Split, r.Weights, r.ClipsPerSec)
	fmt.Fprintf(w, "  %-12s %6s %8s %8s %10s\n", "clips", "n", "match", "digit", "direction")
	row := func(name string, n int, m, d, r float64) {
		fmt.Fprintf(w, "  %-12s %6d %7.2f%% %7.2f%% %9.2f%%\n", name, n, 100*m, 100*d, 100*r)
	}
	row("one digit", r.OneClips, r.OneMatch, r.OneDigit, r.OneDir)
	row("two digits", r.TwoClips, r.TwoMatch, r.TwoDigit, r.TwoDir)
	row("all", r.Clips, r.Match, r.Digit, r.Direction)
}

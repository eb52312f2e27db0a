package vtok

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/omniar/omniar/datasets/digits"
	"github.com/omniar/omniar/metrics"
	"github.com/omniar/omniar/video"
)

// CeilingScores are the attribute judge's verdicts on a tokenizer's
// reconstructions of Moving-digits test clips, against each clip's
// metadata: the ceiling of every generator that draws through the
// tokenizer (`omniar eval videoar` reports the same figure on the same
// clips beside its generated ones), measured without a generator, so that
// a tokenizer can be chosen by what its codes keep for generation.
type CeilingScores struct {
	Clips     int     `json:"clips"`
	Judge     string  `json:"judge_sha256"`
	Match     float64 `json:"match"` // digits and directions right, under one pairing
	Digit     float64 `json:"digit"`
	Direction float64 `json:"direction"`
	MatchOne  float64 `json:"match_one_digit"` // one-digit clips
	MatchTwo  float64 `json:"match_two_digit"` // two-digit clips
}

// evalCeiling reconstructs the first n test clips of mv with ae and has the
// judge (digit classifier and pair reader) read them.
func evalCeiling(ctx context.Context, ae *video.Autoencoder, mv *digits.Moving, n int, w metrics.JudgeWeights) (*CeilingScores, error) {
	j, err := metrics.NewJudge(w)
	if err != nil {
		return nil, err
	}
	defer j.Close()
	n = min(n, mv.Store.Len())
	var match, digit, dir, count [2]int
	for i := 0; i < n; i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c := mv.Clips[i]
		res, err := ae.Run(mv.Store.Clip(i))
		if err != nil {
			return nil, err
		}
		rs, err := j.Read([]metrics.Clip{{Frames: metrics.SplitFrames(res.Full, digits.Canvas, digits.Canvas), W: digits.Canvas, H: digits.Canvas, Digits: len(c.Movers)}})
		if err != nil {
			return nil, fmt.Errorf("ceiling: clip %d: %w", i, err)
		}
		v, err := metrics.Score(rs[0], metrics.Targets(c))
		if err != nil {
			return nil, fmt.Errorf("ceiling: clip %d: %w", i, err)
		}
		k := len(c.Movers) - 1
		count[k]++
		match[k] += b2i(v.Match)
		digit[k] += b2i(v.Digit)
		dir[k] += b2i(v.Direction)
		if (i+1)%200 == 0 {
			slog.Info("tokenizer eval: ceiling", "clips", i+1, "of", n)
		}
	}
	share := func(a [2]int) float64 { return float64(a[0]+a[1]) / float64(max(n, 1)) }
	one := func(a, b int) float64 { return float64(a) / float64(max(b, 1)) }
	return &CeilingScores{Clips: n, Judge: w.SHA256(), Match: share(match), Digit: share(digit), Direction: share(dir),
		MatchOne: one(match[0], count[0]), MatchTwo: one(match[1], count[1])}, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

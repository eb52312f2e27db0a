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
	var t metrics.Tally
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
		ts := metrics.Targets(c)
		v, err := metrics.Score(rs[0], ts)
		if err != nil {
			return nil, fmt.Errorf("ceiling: clip %d: %w", i, err)
		}
		t.Add(v, rs[0], ts)
		if (i+1)%200 == 0 {
			slog.Info("tokenizer eval: ceiling", "clips", i+1, "of", n)
		}
	}
	f := t.Fidelity()
	return &CeilingScores{Clips: n, Judge: w.SHA256(), Match: f.Match, Digit: f.Digit, Direction: f.Direction,
		MatchOne: f.OneMatch, MatchTwo: f.TwoMatch}, nil
}

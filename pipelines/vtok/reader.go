package vtok

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/omniar/omniar/datasets/digits"
	"github.com/omniar/omniar/metrics"
	"github.com/omniar/omniar/pipelines/eval"
	"github.com/omniar/omniar/video"
)

// ReaderScores say how much digit identity a network can read from the
// tokens: a digit net of the judge's architecture trained on round trips
// (encode to tokens, decode) of the train digits and Views augmented views
// of each, then tested on round trips of the digit check's test digits.
// The frozen judge, trained on clean digits, reads reconstructions worse
// than a reader that has seen them. This one is a lower bound on the
// digit identity that survives in the tokens, so on what a model reading
// them (the unified model's digit images) could reach — not a promise
// that it does; the bound grows with the reader's data (2 views: 95.3 %,
// 8 views: 97.0 % of 300 test digits).
type ReaderScores struct {
	Views    int     `json:"views"`        // augmented views per train digit, beside the digit itself
	Train    int     `json:"train_images"` // round trips trained on
	Steps    int     `json:"steps"`
	Accuracy float64 `json:"accuracy"` // on the test digits' round trips
}

// ReaderOptions size the reader's training.
type ReaderOptions struct {
	Steps int // 0: no reader
	Views int
}

// readerInput pastes a glyph in a black frame, round-trips it through the
// tokens (encoded as the unified model's token files are made) and returns
// the reader's input: the glyph's region cropped back and centred on its ink.
func readerInput(dst []float32, rt *video.RoundTrip, glyph []uint8, size int) ([]float32, error) {
	frame := make([]uint8, size*size)
	pasteDigit(frame, glyph, size)
	_, rec, err := rt.Run(frame)
	if err != nil {
		return dst, err
	}
	return metrics.CentreCrop(dst, cropDigit(rec, size), digits.Glyph, digits.Glyph), nil
}

// trainReader round-trips the train digits (and opt.Views augmented views
// of each), trains the reader on them and reads the round trips of the
// test digits ids.
func trainReader(ctx context.Context, s *digits.Set, ids []int, cfg video.Config, w video.Weights, opt ReaderOptions) (*ReaderScores, error) {
	rt, err := video.NewRoundTrip(cfg, 1, w)
	if err != nil {
		return nil, err
	}
	defer rt.Close()
	glyphs := s.Glyphs()
	rng := rand.New(rand.NewPCG(1, 2))
	train := s.IDs("train")
	rs := &ReaderScores{Views: opt.Views, Train: len(train) * (1 + opt.Views), Steps: opt.Steps}
	var x []float32
	var labels []int
	t0 := time.Now()
	for k, id := range train {
		for v := range 1 + opt.Views {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			g := glyphs[id]
			if v > 0 {
				g = digits.Augment(g, rng)
			}
			if x, err = readerInput(x, rt, g, cfg.Size); err != nil {
				return nil, fmt.Errorf("reader: train digit %d: %w", id, err)
			}
			labels = append(labels, s.Digits[id].Label)
		}
		if k%500 == 499 {
			done := float64(k+1) / float64(len(train))
			slog.Info("reader: round trips", "digits", k+1, "of", len(train), "per_s", float64(len(labels))/time.Since(t0).Seconds(),
				"eta", time.Duration(float64(time.Since(t0))*(1-done)/done).Round(time.Second))
		}
	}
	if len(labels) == 0 {
		return nil, fmt.Errorf("reader: the digits set has no train split")
	}
	run, err := eval.TrainOnPool(ctx, metrics.DigitNetConfig(), x, labels, eval.TrainOptions{Steps: opt.Steps, Batch: 64, LR: 3e-3, Warmup: 100, Seed: 3})
	if err != nil {
		return nil, fmt.Errorf("reader: %w", err)
	}
	defer run.Close()
	var xt []float32
	for _, id := range ids {
		if xt, err = readerInput(xt, rt, glyphs[id], cfg.Size); err != nil {
			return nil, fmt.Errorf("reader: test digit %d: %w", id, err)
		}
	}
	if rs.Accuracy, err = accuracy(run, xt, s, ids); err != nil {
		return nil, err
	}
	return rs, nil
}

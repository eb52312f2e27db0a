package vtok

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/omniar/omniar/datasets/digits"
	"github.com/omniar/omniar/video"
)

// fakeDigits is a digits set of random glyphs with 20 train and 10 test
// instances (the rest in no split).
func fakeDigits() (*digits.Set, []int) {
	rng := rand.New(rand.NewPCG(8, 9))
	s := &digits.Set{Pixels: make([]uint8, digits.Count*digits.Size*digits.Size), Digits: make([]digits.Digit, digits.Count)}
	for i := range s.Pixels {
		if rng.IntN(4) == 0 {
			s.Pixels[i] = 255
		}
	}
	var test []int
	for id := range s.Digits {
		d := digits.Digit{ID: id, Label: id % 10, Split: "none"}
		switch {
		case id < 20:
			d.Split = "train"
		case id < 30:
			d.Split, test = "test", append(test, id)
		}
		s.Digits[id] = d
	}
	return s, test
}

// TestTrainReader runs the reader end to end on a random tokenizer large
// enough for a glyph: every train digit and its views are round-tripped and
// the test digits read; a cancelled context stops it with an error.
func TestTrainReader(t *testing.T) {
	cfg := video.Tiny()
	cfg.Size, cfg.Quant.Scales = 32, []int{1, 2, 4, 8}
	tr, err := video.NewTrainer(cfg, video.TrainConfig{Batch: 1, Frames: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	s, test := fakeDigits()
	rs, err := trainReader(context.Background(), s, test, cfg, tr.Weights(), ReaderOptions{Steps: 3, Views: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rs.Train != 40 || rs.Views != 1 || rs.Steps != 3 || rs.Accuracy < 0 || rs.Accuracy > 1 {
		t.Errorf("reader scores %+v, want 40 round trips of 20 digits with 1 view each, an accuracy in [0, 1]", rs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := trainReader(ctx, s, test, cfg, tr.Weights(), ReaderOptions{Steps: 3, Views: 1}); err == nil {
		t.Error("cancelled: no error")
	}
}

package eval

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/omniar/omniar/metrics"
	"github.com/omniar/omniar/nn"
)

// TestTrainOptionsBad: out-of-range training options are refused with a
// message naming the option, before any data is read.
func TestTrainOptionsBad(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  TrainOptions
		want string
	}{
		{"no output", TrainOptions{}, "no output"},
		{"negative steps", TrainOptions{Out: "w", Steps: -1}, "steps -1"},
		{"negative warm-up", TrainOptions{Out: "w", Warmup: -5}, "warm-up -5"},
		{"two-digit share above 1", TrainOptions{Out: "w", TwoShare: 1.5}, "share 1.5"},
		{"negative two-digit share", TrainOptions{Out: "w", TwoShare: -0.1}, "share -0.1"},
	} {
		_, err := tc.opt.withDefaults(10, 4, 1e-3)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	o, err := TrainOptions{Out: "w", TwoShare: 0.6}.withDefaults(100, 4, 1e-3)
	if err != nil || o.Warmup != 5 || o.Ckpt != "w.train" {
		t.Errorf("defaults: %+v, %v", o, err)
	}
}

// TestTrainOnPool trains the digit net on a pool two classes apart (ink on
// the left or on the right half) and checks that it learnt them, and that
// bad pools are refused.
func TestTrainOnPool(t *testing.T) {
	cfg := metrics.DigitNetConfig()
	size := cfg.SampleSize()
	rng := rand.New(rand.NewPCG(4, 5))
	pool := func(n int) ([]float32, []int) {
		x, labels := make([]float32, n*size), make([]int, n)
		for i := range labels {
			labels[i] = i % 2
			for p := range size {
				v := 0.2 * rng.Float32()
				if (p%metrics.CropSize < metrics.CropSize/2) == (labels[i] == 0) {
					v += 0.6
				}
				x[i*size+p] = v
			}
		}
		return x, labels
	}
	x, labels := pool(64)
	run, err := TrainOnPool(context.Background(), cfg, x, labels, TrainOptions{Steps: 30, Batch: 8, LR: 3e-3, Warmup: 3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	xt, lt := pool(20)
	out, err := run.Run(xt)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range out.Logits {
		if nn.Argmax(l) != lt[i] {
			t.Fatalf("held-out sample %d (class %d) read as %d", i, lt[i], nn.Argmax(l))
		}
	}
	for _, c := range []struct {
		name   string
		cfg    metrics.NetConfig
		x      []float32
		labels []int
	}{
		{"short pool", cfg, x[:size], labels},
		{"no samples", cfg, nil, nil},
		{"multi-label net", metrics.VideoNetConfig(), x, labels},
	} {
		if _, err := TrainOnPool(context.Background(), c.cfg, c.x, c.labels, TrainOptions{Steps: 1, Batch: 1, LR: 1e-3}); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

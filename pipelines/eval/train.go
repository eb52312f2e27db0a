// Package eval runs the evaluation jobs of OmniAR: training and measuring
// the frozen metric networks (the digit classifier of the attribute judge,
// the video classifier of FVD-style scores), scoring real clips with the
// judge, FVD-style / KVD between two sets of clips with bootstrap
// intervals, and the sanity curve of the metric under corruptions.
// `omniar eval …` calls into it.
package eval

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/omniar/omniar/metrics"
	"github.com/omniar/omniar/nn/ckpt"
	"github.com/omniar/omniar/nn/optim"
	"github.com/omniar/omniar/nn/train"
)

// TrainOptions control the training of a metric network.
type TrainOptions struct {
	Data      string  // prepared data directory
	Out       string  // weights file to write (safetensors)
	Ckpt      string  // training checkpoint ("" = Out + ".train")
	Steps     int     // optimizer steps
	Batch     int     // samples per step
	LR        float64 // peak learning rate
	Warmup    int     // warm-up steps
	CkptEvery int     // steps between checkpoints
	Resume    bool    // continue from Ckpt if it exists
	StopAt    int     // end after this step, keeping Steps' schedule (0: at Steps)
	Seed      uint64
	// Init, if set, starts from the weights of another net's file or
	// checkpoint: every tensor of the same name and size (the others,
	// e.g. a hidden layer after a new pooling, keep their initialisation).
	Init string
	// Pool, if set, replaces the video classifier's pooling (the first
	// stage of v5, the classifier shipped before v6, averaged;
	// metrics.NetConfig.Pool).
	Pool string
	// Noise > 0 adds Gaussian pixel noise of σ drawn from U(0, Noise) grey
	// levels to half of the training clips (video classifier), so that
	// its features change smoothly, not wildly, with noise.
	Noise float64
	// TwoShare > 0 draws this share of the video classifier's training
	// clips from two-digit clips (the generator's own share is 0.4):
	// overlapping digits are its misses.
	TwoShare float64
}

func (o TrainOptions) withDefaults(steps, batch int, lr float64) (TrainOptions, error) {
	if o.Steps == 0 {
		o.Steps = steps
	}
	if o.Batch == 0 {
		o.Batch = batch
	}
	if o.LR == 0 {
		o.LR = lr
	}
	if o.Warmup == 0 {
		o.Warmup = max(o.Steps/20, 1)
	}
	if o.CkptEvery == 0 {
		o.CkptEvery = 100
	}
	if o.Ckpt == "" && o.Out != "" {
		o.Ckpt = o.Out + ".train"
	}
	switch {
	case o.Out == "":
		return o, errors.New("no output weights file")
	case o.Steps < 0 || o.Batch < 0 || o.LR < 0 || o.StopAt < 0 || o.Warmup < 0:
		return o, fmt.Errorf("steps %d, batch %d, lr %g, warm-up %d and stop-at %d must be positive", o.Steps, o.Batch, o.LR, o.Warmup, o.StopAt)
	case o.TwoShare < 0 || o.TwoShare > 1:
		return o, fmt.Errorf("two-digit share %g is not in [0, 1]", o.TwoShare)
	}
	return o, nil
}

// sampler fills one training batch: x [Batch·SampleSize] and targets
// (Trainer.NumTargets: the main ones, then the auxiliary ones).
type sampler func(batch int64, x []float32, targets []int) error

// netTask adapts a metrics.Trainer and a sampler to train.Task.
type netTask struct {
	tr   *metrics.Trainer
	next sampler
	x    []float32
	tg   []int
}

func newNetTask(tr *metrics.Trainer, next sampler) *netTask {
	c := tr.Net.Cfg
	return &netTask{tr: tr, next: next, x: make([]float32, tr.Net.Batch*c.SampleSize()), tg: make([]int, tr.NumTargets())}
}

func (t *netTask) Params() []optim.Param { return t.tr.OptimParams() }

func (t *netTask) Run(_ context.Context, batch int64) (float64, error) {
	if err := t.next(batch, t.x, t.tg); err != nil {
		return 0, err
	}
	return t.tr.Step(t.x, t.tg)
}

// trainNet trains cfg with the sampler and returns the trained trainer
// (whose Net holds the weights) and the training result.
func trainNet(ctx context.Context, cfg metrics.NetConfig, opt TrainOptions, next sampler) (*metrics.Trainer, train.Result, error) {
	tr, err := metrics.NewTrainer(cfg, opt.Batch, opt.Seed)
	if err != nil {
		return nil, train.Result{}, err
	}
	if err := os.MkdirAll(filepath.Dir(opt.Out), 0o755); err != nil {
		return nil, train.Result{}, fmt.Errorf("weights directory: %w", err)
	}
	if opt.Init != "" {
		if err := initFrom(tr, opt.Init); err != nil {
			tr.Close()
			return nil, train.Result{}, err
		}
	}
	slog.Info("eval: training", "net", cfg.Name, "params", tr.Net.NumParams(), "steps", opt.Steps, "batch", opt.Batch, "ckpt", opt.Ckpt)
	t0 := time.Now()
	res, err := train.Run(ctx, train.Config{
		Steps:          opt.Steps,
		StopAt:         opt.StopAt,
		ClipNorm:       1,
		Schedule:       optim.WarmupCosine{Peak: opt.LR, Min: opt.LR / 20, Warmup: opt.Warmup, Total: opt.Steps},
		AdamW:          optim.AdamWConfig{Beta1: 0.9, Beta2: 0.99, Eps: 1e-8, WeightDecay: 1e-4},
		CkptPath:       opt.Ckpt,
		CkptEvery:      opt.CkptEvery,
		TokensPerBatch: opt.Batch,
		ModelConfig:    mustJSON(cfg),
	}, newNetTask(tr, next), opt.Resume)
	if err != nil {
		tr.Close()
		return nil, res, err
	}
	slog.Info("eval: trained", "net", cfg.Name, "steps", res.Steps, "seconds", time.Since(t0).Seconds())
	return tr, res, nil
}

// initFrom copies into tr's params every tensor of path with the same name
// and size (training checkpoints store tensors flattened).
func initFrom(tr *metrics.Trainer, path string) error {
	f, err := ckpt.Load(path)
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	var took, kept []string
	for _, p := range tr.Net.Params() {
		if s, ok := f.Shape(p.Name()); !ok || size(s) != len(p.Data()) {
			kept = append(kept, p.Name())
			continue
		}
		if err := f.Into(p.Name(), p.Data()); err != nil {
			return fmt.Errorf("init from %s: %w", path, err)
		}
		took = append(took, p.Name())
	}
	if len(took) == 0 {
		return fmt.Errorf("init from %s: no tensor of the same name and size", path)
	}
	slog.Info("eval: initialised", "from", path, "tensors", len(took), "kept_own", kept)
	return nil
}

func size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// trainFrozen trains cfg and returns its weights, rounded as they will be
// saved, in a forward-only runner of batch samples.
func trainFrozen(ctx context.Context, cfg metrics.NetConfig, opt TrainOptions, next sampler, batch int) (*metrics.Runner, train.Result, error) {
	tr, res, err := trainNet(ctx, cfg, opt, next)
	if err != nil {
		return nil, res, err
	}
	defer tr.Close()
	if res.Stopped {
		return nil, res, fmt.Errorf("stopped at step %d; rerun with --resume", res.Steps)
	}
	run, err := frozen(tr, batch)
	return run, res, err
}

// frozen copies a trainer's weights, rounded as they will be saved, into a
// forward-only runner of batch.
func frozen(tr *metrics.Trainer, batch int) (*metrics.Runner, error) {
	n, err := metrics.NewNet(tr.Net.Cfg, batch, 0)
	if err != nil {
		return nil, err
	}
	if err := n.CopyFrom(tr.Net); err != nil {
		return nil, err
	}
	n.Round()
	return metrics.NewRunner(n), nil
}

// Asset finds a shipped file given by its path in the repository
// ("assets/metrics/video.safetensors"): as given (relative to the working
// directory), under $OMNIAR_ROOT, or next to the executable's directory
// (bin/omniar → ../assets/…). Unfound, it returns rel unchanged so the
// error names the expected path.
func Asset(rel string) string {
	if filepath.IsAbs(rel) {
		return rel
	}
	cands := []string{rel}
	if root := os.Getenv("OMNIAR_ROOT"); root != "" {
		cands = append(cands, filepath.Join(root, rel))
	}
	if exe, err := os.Executable(); err == nil {
		d := filepath.Dir(exe)
		cands = append(cands, filepath.Join(d, "..", rel), filepath.Join(d, rel))
	}
	for _, c := range cands {
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	return rel
}

// TrainOnPool trains a classifier of cfg (one class a sample: not Binary,
// no Aux head) on a fixed pool of samples (x holds them one after another,
// labels their classes) with batches drawn at random, without checkpoints
// (minutes of work: a measurement, not an asset), and returns the frozen
// net as a runner of 64 samples. opt gives Steps, Batch, LR, Warmup, Seed.
func TrainOnPool(ctx context.Context, cfg metrics.NetConfig, x []float32, labels []int, opt TrainOptions) (*metrics.Runner, error) {
	size := cfg.SampleSize()
	switch {
	case cfg.Binary || cfg.Aux > 0:
		return nil, fmt.Errorf("train on pool: %s is not a one-class-a-sample classifier", cfg.Name)
	case len(labels) == 0 || len(x) != len(labels)*size:
		return nil, fmt.Errorf("train on pool: %d values for %d samples of %d", len(x), len(labels), size)
	case opt.Steps < 1 || opt.Batch < 1 || opt.LR <= 0:
		return nil, fmt.Errorf("train on pool: %d steps, batch %d, lr %g", opt.Steps, opt.Batch, opt.LR)
	}
	opt.Out, opt.Ckpt, opt.Resume = "", "", false
	next := func(k int64, xb []float32, tg []int) error {
		rng := rand.New(rand.NewPCG(opt.Seed, uint64(k)))
		for i := range opt.Batch {
			j := rng.IntN(len(labels))
			copy(xb[i*size:(i+1)*size], x[j*size:(j+1)*size])
			tg[i] = labels[j]
		}
		return nil
	}
	run, _, err := trainFrozen(ctx, cfg, opt, next, 64)
	return run, err
}

// Package lmtrain trains the dense reference LM (nn/lm) on the bytes of a
// text file: the smallest end-to-end training job, which exercises the
// whole foundation (graph, custom ops, AdamW, schedule, checkpoints, exact
// resume, progress, Ctrl-C) on real data. `omniar train lm` runs it.
package lmtrain

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/omniar/omniar/nn/lm"
	"github.com/omniar/omniar/nn/optim"
	"github.com/omniar/omniar/nn/train"
)

// Options describe one run.
type Options struct {
	Data      string // text file; its bytes are the tokens
	Ckpt      string // training checkpoint (written atomically, read by Resume)
	Size      string // "tiny" or "reference"
	Steps     int
	Accum     int
	LR        float64
	Warmup    int
	CkptEvery int
	Resume    bool
	Seed      uint64
}

// Sizes maps a size name to its model configuration over a byte vocabulary.
func Sizes(name string) (lm.Config, error) {
	var c lm.Config
	switch name {
	case "tiny":
		c = lm.Tiny()
	case "reference":
		c = lm.Reference()
	default:
		return c, fmt.Errorf("unknown model size %q (want tiny or reference)", name)
	}
	c.Vocab = 256
	return c, nil
}

// Task feeds windows of a byte corpus to the model; window offsets are a
// pure function of the micro-batch number, so a resumed run sees exactly
// the data an uninterrupted one would.
type Task struct {
	Model *lm.Model
	data  []byte
	seed  uint64
	ids   []int
	tgt   []int
}

// NewTask builds the model for cfg over data.
func NewTask(cfg lm.Config, data []byte, seed uint64) (*Task, error) {
	if len(data) < cfg.Seq+1 {
		return nil, fmt.Errorf("corpus has %d bytes, need at least %d (one sequence)", len(data), cfg.Seq+1)
	}
	m, err := lm.New(cfg)
	if err != nil {
		return nil, err
	}
	n := cfg.Batch * cfg.Seq
	return &Task{Model: m, data: data, seed: seed, ids: make([]int, n), tgt: make([]int, n)}, nil
}

// Params are the model's trainable tensors.
func (t *Task) Params() []optim.Param { return t.Model.OptimParams() }

// slowDown, when set (by the kill test), runs before every micro-batch.
var slowDown func()

// Run computes loss and gradients of micro-batch number batch.
func (t *Task) Run(_ context.Context, batch int64) (float64, error) {
	if slowDown != nil {
		slowDown()
	}
	c := t.Model.Cfg
	rng := rand.New(rand.NewPCG(t.seed, uint64(batch)))
	for b := 0; b < c.Batch; b++ {
		off := rng.IntN(len(t.data) - c.Seq)
		for i := 0; i < c.Seq; i++ {
			t.ids[b*c.Seq+i] = int(t.data[off+i])
			t.tgt[b*c.Seq+i] = int(t.data[off+i+1])
		}
	}
	return t.Model.Step(t.ids, t.tgt)
}

// Close releases the model.
func (t *Task) Close() error { return t.Model.Close() }

// Run trains as opt says.
func Run(ctx context.Context, opt Options) (train.Result, error) {
	cfg, err := Sizes(opt.Size)
	if err != nil {
		return train.Result{}, err
	}
	cfg.Seed = opt.Seed
	data, err := os.ReadFile(opt.Data)
	if err != nil {
		return train.Result{}, fmt.Errorf("read corpus: %w", err)
	}
	task, err := NewTask(cfg, data, opt.Seed)
	if err != nil {
		return train.Result{}, fmt.Errorf("corpus %s: %w", opt.Data, err)
	}
	defer task.Close()
	if opt.Steps <= 0 {
		return train.Result{}, errors.New("steps must be positive")
	}
	return train.Run(ctx, train.Config{
		Steps:          opt.Steps,
		Accum:          opt.Accum,
		ClipNorm:       1,
		Schedule:       optim.WarmupCosine{Peak: opt.LR, Min: opt.LR / 10, Warmup: opt.Warmup, Total: opt.Steps},
		CkptPath:       opt.Ckpt,
		CkptEvery:      opt.CkptEvery,
		TokensPerBatch: cfg.Batch * cfg.Seq,
		ModelConfig:    task.Model.ConfigJSON(),
	}, task, opt.Resume)
}

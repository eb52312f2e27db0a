// Package train is the generic training loop of OmniAR.
//
// A model package describes one training job as a Task: its trainable
// parameters and a function that computes the loss and gradients of one
// micro-batch. Run does the rest: gradient accumulation, global-norm
// clipping, the AdamW step with a learning-rate schedule, progress (a bar on
// a terminal, log lines otherwise), periodic checkpoints, exact resume and a
// clean stop on Ctrl-C.
//
// Resumed runs are bit-identical to uninterrupted ones: a checkpoint holds
// everything that affects the future (params, AdamW moments, step count,
// losses so far and the task's own state), and micro-batch numbers are a
// pure function of the step, so the data position needs no extra state.
package train

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/omniar/omniar/nn/optim"
)

// Task is one training job as seen by the loop.
type Task interface {
	// Params returns the trainable tensors. Names must be unique.
	Params() []optim.Param
	// Run computes the loss and leaves fresh gradients in each Param's
	// Grad() for micro-batch number batch, returning the loss. batch is a
	// global counter (step*Accum + micro-batch): the task must derive its
	// data deterministically from it, e.g. a data order seeded by it.
	Run(ctx context.Context, batch int64) (loss float64, err error)
}

// Freezer is implemented by a Task that keeps some of its tensors fixed
// (e.g. a fine-tune of part of a model): they are saved in the checkpoint
// beside the params, so it holds the whole model, and restored on resume,
// but never reach the optimizer.
type Freezer interface {
	Frozen() []optim.Param
}

// Stateful is implemented by a Task with RNG or other state that must
// survive a resume; the state is stored in the checkpoint.
type Stateful interface {
	MarshalState() ([]byte, error)
	UnmarshalState([]byte) error
}

// Config controls a training run.
type Config struct {
	Steps    int               // optimizer steps in total (including resumed ones)
	StopAt   int               // end the run after this step, keeping Steps' schedule (0: at Steps)
	Accum    int               // micro-batches per step; 0 means 1
	ClipNorm float64           // global gradient-norm clip; <= 0 disables
	Schedule optim.Schedule    // learning rate per step; required
	AdamW    optim.AdamWConfig // the zero value means optim.DefaultAdamW()

	CkptPath  string // training checkpoint; "" disables checkpoints
	CkptEvery int    // steps between checkpoints; 0 = only at the end (and on stop)

	LogEvery       int // steps between log lines when stderr is not a terminal; 0 means 10
	TokensPerBatch int // tokens in one micro-batch, for the tokens/s figure

	ModelConfig string // JSON, stored as checkpoint metadata "config"
}

// Result is what a run did.
type Result struct {
	Losses  []float64 // one per optimizer step since step 0, mean over micro-batches
	Steps   int       // optimizer steps completed, including resumed ones
	Stopped bool      // the context was cancelled before Steps were done
}

// withDefaults fills zero values and checks the rest.
func (c Config) withDefaults() (Config, error) {
	if c.Accum == 0 {
		c.Accum = 1
	}
	if c.LogEvery <= 0 {
		c.LogEvery = 10
	}
	if c.AdamW == (optim.AdamWConfig{}) {
		c.AdamW = optim.DefaultAdamW()
	}
	switch {
	case c.Steps < 0:
		return c, fmt.Errorf("train: Steps %d is negative", c.Steps)
	case c.Accum < 0:
		return c, fmt.Errorf("train: Accum %d is negative", c.Accum)
	case c.CkptEvery < 0:
		return c, fmt.Errorf("train: CkptEvery %d is negative", c.CkptEvery)
	case c.TokensPerBatch < 0:
		return c, fmt.Errorf("train: TokensPerBatch %d is negative", c.TokensPerBatch)
	case c.Schedule == nil:
		return c, fmt.Errorf("train: no learning-rate Schedule")
	}
	if err := c.AdamW.Validate(); err != nil {
		return c, fmt.Errorf("train: %w", err)
	}
	return c, nil
}

// checkParams rejects tasks whose params cannot be checkpointed unambiguously.
func checkParams(params []optim.Param) error {
	if len(params) == 0 {
		return fmt.Errorf("train: task has no params")
	}
	seen := make(map[string]bool, len(params))
	for i, p := range params {
		name := p.Name()
		switch {
		case name == "":
			return fmt.Errorf("train: param %d has no name", i)
		case seen[name]:
			return fmt.Errorf("train: duplicate param name %q", name)
		case strings.HasPrefix(name, optimPrefix):
			return fmt.Errorf("train: param name %q uses the reserved prefix %q", name, optimPrefix)
		}
		seen[name] = true
	}
	return nil
}

// WillResume says whether Run with this checkpoint path and resume flag
// continues a run (the file exists) rather than starting fresh, so a task
// can start from other weights (a previous stage's) only when it starts
// fresh: `--resume --init` is then the same command on every rerun.
func WillResume(ckptPath string, resume bool) bool {
	if !resume || ckptPath == "" {
		return false
	}
	_, err := os.Stat(ckptPath)
	return err == nil
}

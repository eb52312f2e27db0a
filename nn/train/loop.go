package train

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"

	"github.com/omniar/omniar/nn/optim"
)

// Run trains task for cfg.Steps optimizer steps and returns the losses.
//
// With resume set and an existing cfg.CkptPath it continues from that
// checkpoint; with no file there it starts fresh. When ctx is cancelled the
// loop finishes the current step (the task gets a context that is not
// cancelled with ctx), saves a checkpoint and returns Stopped with a nil
// error.
func Run(ctx context.Context, cfg Config, task Task, resume bool) (Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Result{}, err
	}
	if resume && cfg.CkptPath == "" {
		return Result{}, fmt.Errorf("train: resume requested but no CkptPath")
	}
	t, err := newTrainer(cfg, task)
	if err != nil {
		return Result{}, err
	}
	if resume {
		if err := t.resume(); err != nil {
			return Result{}, err
		}
	}
	return t.loop(ctx)
}

// trainer is the state of one run.
type trainer struct {
	cfg       Config
	task      Task
	params    []optim.Param
	frozen    []optim.Param // saved and restored, not trained (Freezer)
	opt       *optim.AdamW
	acc       [][]float32 // gradient accumulation buffers, aligned with params
	step      int         // optimizer steps done
	losses    []float64
	lastSaved int // step of the last checkpoint written or loaded; -1 if none
}

func newTrainer(cfg Config, task Task) (*trainer, error) {
	if task == nil {
		return nil, fmt.Errorf("train: nil Task")
	}
	params := task.Params()
	var frozen []optim.Param
	if f, ok := task.(Freezer); ok {
		frozen = f.Frozen()
	}
	if err := checkParams(params); err != nil {
		return nil, err
	}
	if err := checkParams(append(slices.Clone(params), frozen...)); err != nil {
		return nil, err
	}
	t := &trainer{cfg: cfg, task: task, params: params, frozen: frozen, opt: optim.NewAdamW(cfg.AdamW, params), lastSaved: -1}
	for _, p := range params {
		t.acc = append(t.acc, make([]float32, len(p.Data())))
	}
	return t, nil
}

// loop runs the remaining steps, checkpointing as configured.
func (t *trainer) loop(ctx context.Context) (Result, error) {
	end := t.cfg.Steps
	if t.cfg.StopAt > 0 && t.cfg.StopAt < end {
		end = t.cfg.StopAt
	}
	if t.step >= end {
		slog.Info("train: nothing to do", "step", t.step, "steps", end)
		return t.result(false), nil
	}
	rep := newReporter(t.cfg, t.step)
	defer rep.finish()
	taskCtx := context.WithoutCancel(ctx)
	for t.step < end {
		if ctx.Err() != nil {
			return t.stop(ctx)
		}
		st, err := t.runStep(taskCtx)
		if err != nil {
			return t.result(false), err
		}
		rep.update(st)
		if t.cfg.CkptEvery > 0 && t.step%t.cfg.CkptEvery == 0 {
			if err := t.save(); err != nil {
				return t.result(false), err
			}
		}
	}
	if err := t.save(); err != nil {
		return t.result(false), err
	}
	return t.result(false), nil
}

// stop saves a checkpoint after a cancellation and reports it.
func (t *trainer) stop(ctx context.Context) (Result, error) {
	slog.Warn("train: stopping", "step", t.step, "cause", context.Cause(ctx))
	if t.cfg.CkptPath == "" {
		slog.Warn("train: no checkpoint path; progress not saved")
		return t.result(true), nil
	}
	if err := t.save(); err != nil {
		return t.result(true), err
	}
	slog.Info("train: checkpoint saved; resume to continue", "path", t.cfg.CkptPath, "step", t.step)
	return t.result(true), nil
}

func (t *trainer) result(stopped bool) Result {
	return Result{Losses: append([]float64(nil), t.losses...), Steps: t.step, Stopped: stopped}
}

// stepStats describes one finished optimizer step.
type stepStats struct {
	step     int // steps done, after this one
	loss, lr float64
	gradNorm float64 // before clipping
}

// runStep accumulates Accum micro-batches, clips and applies AdamW.
func (t *trainer) runStep(ctx context.Context) (stepStats, error) {
	for _, a := range t.acc {
		clear(a)
	}
	var sum float64
	for a := range t.cfg.Accum {
		batch := int64(t.step)*int64(t.cfg.Accum) + int64(a)
		loss, err := t.task.Run(ctx, batch)
		if err != nil {
			return stepStats{}, fmt.Errorf("train: step %d, batch %d: %w", t.step, batch, err)
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return stepStats{}, fmt.Errorf("train: step %d, batch %d: loss is %v", t.step, batch, loss)
		}
		if err := t.accumulate(); err != nil {
			return stepStats{}, fmt.Errorf("train: step %d, batch %d: %w", t.step, batch, err)
		}
		sum += loss
	}
	if t.cfg.Accum > 1 {
		n := float32(t.cfg.Accum)
		for _, g := range t.acc {
			for j := range g {
				g[j] /= n
			}
		}
	}
	norm := optim.ClipGlobalNorm(t.acc, t.cfg.ClipNorm)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return stepStats{}, fmt.Errorf("train: step %d: gradient norm is %v", t.step, norm)
	}
	if err := t.opt.Check(t.acc); err != nil {
		return stepStats{}, fmt.Errorf("train: step %d: %w", t.step, err)
	}
	lr := t.cfg.Schedule.LR(t.step)
	t.opt.Step(lr, t.acc)
	st := stepStats{step: t.step + 1, loss: sum / float64(t.cfg.Accum), lr: lr, gradNorm: norm}
	t.losses = append(t.losses, st.loss)
	t.step++
	return st, nil
}

// accumulate adds each param's current gradient into the buffers.
func (t *trainer) accumulate() error {
	for i, p := range t.params {
		g := p.Grad()
		if len(g) != len(t.acc[i]) {
			return fmt.Errorf("gradient of %q has %d values, param has %d", p.Name(), len(g), len(t.acc[i]))
		}
		acc := t.acc[i]
		for j, x := range g {
			acc[j] += x
		}
	}
	return nil
}

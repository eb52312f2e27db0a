// Package vtok trains the video tokenizer (package video) on Moving-digits
// and real clips, with the generic training loop (checkpoints, exact
// resume, progress, Ctrl-C): `omniar train tokenizer`.
package vtok

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"

	"github.com/omniar/omniar/datasets"
	"github.com/omniar/omniar/datasets/clips"
	"github.com/omniar/omniar/datasets/digits"
	"github.com/omniar/omniar/metrics"
	"github.com/omniar/omniar/nn"
	"github.com/omniar/omniar/nn/optim"
	"github.com/omniar/omniar/nn/train"
	"github.com/omniar/omniar/video"
)

// Options describe a run.
type Options struct {
	Data      string // prepared data directory
	Ckpt      string
	Frames    int // 17 for video, 1 for the image stage
	Batch     int
	Steps     int
	StopAt    int // end after this step, keeping the schedule of Steps
	LR        float64
	Warmup    int
	CkptEvery int
	RealShare float64 // share of real clips in a batch (the rest Moving-digits)
	Resume    bool
	Init      string // start from this tokenizer checkpoint's weights (not with Resume)
	NoQuant   bool   // the continuous autoencoder (ablation: the quantizer's cost)
	InkWeight float64
	// FirstWeight is video.TrainConfig.FirstWeight.
	FirstWeight float64
	// DecoderOnly is video.TrainConfig.DecoderOnly (with Init: the codes stay those of Init).
	DecoderOnly bool
	// Percept is a metrics network's weights file (e.g. a digit
	// classifier's) whose convolutions give the perceptual loss on the
	// Moving-digits clips of a batch, PerceptWeight its weight
	// (video.TrainConfig.Percept).
	Percept       string
	PerceptWeight float64
	SeedCodes     bool // video.TrainConfig.SeedCodes
	Seed          uint64
}

// source is a set of 17-frame 64×64 clips.
type source struct {
	n    int
	clip func(i int) []uint8
}

// Task feeds the trainer clips (or single frames of them) chosen by a
// generator seeded from the batch number.
type Task struct {
	*video.Trainer
	moving, real source
	opt          Options
	buf          []uint8
}

// NewTask loads the training splits and builds the trainer.
func NewTask(cfg video.Config, opt Options) (*Task, error) {
	mv, err := digits.LoadMoving(opt.Data, "train")
	if err != nil {
		return nil, err
	}
	rc, err := clips.Open(filepath.Join(opt.Data, filepath.FromSlash(clips.FileName("train", cfg.Size))))
	if err != nil {
		return nil, err
	}
	tc := video.TrainConfig{Batch: opt.Batch, Frames: opt.Frames, PartialWeight: 0.5, NoQuant: opt.NoQuant, InkWeight: opt.InkWeight, FirstWeight: opt.FirstWeight, DecoderOnly: opt.DecoderOnly, PerceptWeight: opt.PerceptWeight, SeedCodes: opt.SeedCodes, Seed: opt.Seed}
	if opt.Percept != "" {
		if tc.Percept, err = perceptConvs(opt.Percept, cfg.Channels); err != nil {
			return nil, err
		}
	}
	tr, err := video.NewTrainer(cfg, tc)
	if err != nil {
		return nil, err
	}
	if opt.Init != "" && !train.WillResume(opt.Ckpt, opt.Resume) {
		icfg, w, err := video.LoadCheckpoint(opt.Init)
		if err != nil {
			return nil, err
		}
		if err := tr.InitFrom(icfg, w); err != nil {
			return nil, fmt.Errorf("--init %s: %w", opt.Init, err)
		}
	}
	return &Task{Trainer: tr, opt: opt,
		moving: source{n: mv.Store.Len(), clip: mv.Store.Clip},
		real:   source{n: rc.Len(), clip: rc.Clip},
		buf:    make([]uint8, opt.Batch*opt.Frames*cfg.Size*cfg.Size)}, nil
}

// Run trains on micro-batch number batch.
func (t *Task) Run(_ context.Context, batch int64) (float64, error) {
	rng := rand.New(rand.NewPCG(t.opt.Seed, uint64(batch)))
	per := t.opt.Frames * t.Cfg.Size * t.Cfg.Size
	const clipFrames = 17
	digits := make([]bool, t.opt.Batch) // the perceptual net reads digits, not real scenes
	for i := 0; i < t.opt.Batch; i++ {
		src := t.moving
		if digits[i] = rng.Float64() >= t.opt.RealShare; !digits[i] {
			src = t.real
		}
		c := src.clip(rng.IntN(src.n))
		start := 0
		if t.opt.Frames < clipFrames { // a frame (or a shorter clip) at a random time
			start = rng.IntN(clipFrames - t.opt.Frames + 1)
		}
		copy(t.buf[i*per:(i+1)*per], c[start*t.Cfg.Size*t.Cfg.Size:])
	}
	loss, err := t.StepSamples(t.buf, digits)
	if err == nil && batch%25 == 0 {
		args := []any{"batch", batch, "loss", loss, "psnr_db", t.Metrics.PSNR, "codes_restarted", t.Metrics.Restarted}
		if t.opt.Percept != "" {
			args = append(args, "percept", t.Metrics.Percept)
		}
		slog.Info("tokenizer", args...)
	}
	return loss, err
}

// perceptConvs are the convolutions of the metrics network in path, for
// a perceptual loss on frames of the given channel count. They must read
// each frame alone (kernel and stride 1 in time): the loss compares frames.
func perceptConvs(path string, channels int) ([]video.PerceptConv, error) {
	w, err := metrics.LoadWeights(path)
	if err != nil {
		return nil, fmt.Errorf("perceptual net: %w", err)
	}
	if w.Cfg.Input[0] != channels {
		return nil, fmt.Errorf("perceptual net %s: %d input channels, frames have %d", path, w.Cfg.Input[0], channels)
	}
	n, err := w.Build(1)
	if err != nil {
		return nil, fmt.Errorf("perceptual net: %w", err)
	}
	data := map[string][]float32{}
	for _, p := range n.Params() {
		data[p.Name()] = p.Data()
	}
	in := channels
	out := make([]video.PerceptConv, len(w.Cfg.Convs))
	for i, l := range w.Cfg.Convs {
		if l.Kernel[0] != 1 || l.Stride[0] != 1 || l.Padding[0] != 0 {
			return nil, fmt.Errorf("perceptual net %s: conv %d mixes frames (kernel %v, stride %v), want each frame alone", path, i, l.Kernel, l.Stride)
		}
		out[i] = video.PerceptConv{
			Cfg: nn.Conv3dConfig{In: in, Out: l.Out, Kernel: l.Kernel, Stride: l.Stride, Padding: l.Padding, Bias: true},
			W:   data[fmt.Sprintf("conv%d.weight", i)],
			B:   data[fmt.Sprintf("conv%d.bias", i)],
		}
		in = l.Out
	}
	return out, nil
}

// Run trains as opt says and returns the loop's result.
func Run(ctx context.Context, cfg video.Config, opt Options) (train.Result, error) {
	if _, err := datasets.LoadManifest(opt.Data); err != nil {
		return train.Result{}, err
	}
	task, err := NewTask(cfg, opt)
	if err != nil {
		return train.Result{}, fmt.Errorf("tokenizer training: %w", err)
	}
	defer task.Close()
	return train.Run(ctx, train.Config{
		Steps:          opt.Steps,
		StopAt:         opt.StopAt,
		ClipNorm:       1,
		Schedule:       optim.WarmupCosine{Peak: opt.LR, Min: opt.LR / 10, Warmup: opt.Warmup, Total: opt.Steps},
		AdamW:          optim.AdamWConfig{Beta1: 0.9, Beta2: 0.99, Eps: 1e-8, WeightDecay: 0.01},
		CkptPath:       opt.Ckpt,
		CkptEvery:      opt.CkptEvery,
		TokensPerBatch: opt.Batch * opt.Frames,
		ModelConfig:    cfg.JSON(),
	}, task, opt.Resume)
}

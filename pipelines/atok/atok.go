// Package atok trains the audio codec (package audio/codec) on the train
// split of the speech data set with the generic training loop
// (checkpoints, exact resume, progress, Ctrl-C) — `omniar tokenizer train
// --modality audio` — and evaluates it (eval.go).
package atok

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"

	"github.com/omniar/omniar/audio/codec"
	"github.com/omniar/omniar/datasets"
	"github.com/omniar/omniar/datasets/speech"
	"github.com/omniar/omniar/nn/optim"
	"github.com/omniar/omniar/nn/train"
)

// Options describe a run.
type Options struct {
	Data      string // prepared data directory
	Ckpt      string // training checkpoint
	Batch     int    // clips a step
	Seconds   float64
	Steps     int
	LR        float64
	Warmup    int
	CkptEvery int
	Resume    bool
	Seed      uint64
	Init      string  // start from this codec's weights (codec.Trainer.InitFrom; not when resuming)
	Mic       float64 // probability a clip gets microphone conditions (Mic)
}

// Defaults is the shipped codec's recipe: batch 8 of 0.5 s clips (200
// latent rows a step, so the codebook statistics' reservoir never samples
// and a resumed run is exact), AdamW 2e-3 with a cosine decay.
func Defaults() Options {
	return Options{Batch: 8, Seconds: 0.5, Steps: 5000, LR: 2e-3, Warmup: 200, CkptEvery: 250, Seed: 1}
}

// Task feeds the trainer random crops of training utterances, chosen by a
// generator seeded from the batch number.
type Task struct {
	*codec.Trainer
	clips [][]float32
	opt   Options
	buf   []float32
}

// LoadClips reads every WAV utterance of a split of the speech data set.
func LoadClips(data, split string) ([][]float32, error) {
	items, err := speech.Load(data, split)
	if err != nil {
		return nil, err
	}
	var out [][]float32
	for i := range items {
		if items[i].Kind != speech.KindWAV {
			continue
		}
		c, err := items[i].Audio()
		if err != nil {
			return nil, err
		}
		out = append(out, c.Samples)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("speech %s split in %s: no WAV clips (run `omniar data prepare`)", split, data)
	}
	return out, nil
}

// NewTask loads the training split and builds the trainer.
func NewTask(cfg codec.Config, opt Options) (*Task, error) {
	clips, err := LoadClips(opt.Data, "train")
	if err != nil {
		return nil, err
	}
	hop := cfg.Hop()
	samples := max(hop, int(opt.Seconds*float64(cfg.Rate))/hop*hop)
	tr, err := codec.NewTrainer(cfg, codec.TrainConfig{Batch: opt.Batch, Samples: samples, Seed: opt.Seed})
	if err != nil {
		return nil, err
	}
	if opt.Init != "" && !train.WillResume(opt.Ckpt, opt.Resume) {
		n, err := tr.InitFrom(opt.Init)
		if err != nil {
			tr.Close()
			return nil, fmt.Errorf("--init: %w", err)
		}
		slog.Info("audio codec: initialised", "from", opt.Init, "tensors", n)
	}
	return &Task{Trainer: tr, clips: clips, opt: opt, buf: make([]float32, opt.Batch*samples)}, nil
}

// Run trains on micro-batch number batch: each clip is a random crop of a
// random utterance (placed at a random offset in silence if shorter) at a
// random gain in [0.3, 1], so the codec does not learn a single level, and
// with probability opt.Mic microphone conditions (Mic).
func (t *Task) Run(_ context.Context, batch int64) (float64, error) {
	rng := rand.New(rand.NewPCG(t.opt.Seed, uint64(batch)))
	s := t.TC.Samples
	clear(t.buf)
	for i := 0; i < t.opt.Batch; i++ {
		c := t.clips[rng.IntN(len(t.clips))]
		dst := t.buf[i*s : (i+1)*s]
		gain := float32(0.3 + 0.7*rng.Float64())
		var src []float32
		if len(c) >= s {
			src = c[rng.IntN(len(c)-s+1):][:s]
		} else {
			dst = dst[rng.IntN(s-len(c)+1):]
			src = c
		}
		for j, v := range src {
			dst[j] = gain * v
		}
		if rng.Float64() < t.opt.Mic {
			Mic(rng, t.buf[i*s:(i+1)*s])
		}
	}
	loss, err := t.Step(t.buf)
	if err == nil && batch%50 == 0 {
		slog.Info("audio codec", "batch", batch, "loss", loss, "snr_db", t.Metrics.SNR, "depths", t.Metrics.Depths, "codes_restarted", t.Metrics.Restarted)
	}
	return loss, err
}

// Run trains as opt says and returns the loop's result.
func Run(ctx context.Context, cfg codec.Config, opt Options) (train.Result, error) {
	if _, err := datasets.LoadManifest(opt.Data); err != nil {
		return train.Result{}, err
	}
	task, err := NewTask(cfg, opt)
	if err != nil {
		return train.Result{}, fmt.Errorf("audio codec training: %w", err)
	}
	defer task.Close()
	return train.Run(ctx, train.Config{
		Steps:          opt.Steps,
		ClipNorm:       1,
		Schedule:       optim.WarmupCosine{Peak: opt.LR, Min: opt.LR / 10, Warmup: opt.Warmup, Total: opt.Steps},
		AdamW:          optim.AdamWConfig{Beta1: 0.9, Beta2: 0.99, Eps: 1e-8, WeightDecay: 0.01},
		CkptPath:       opt.Ckpt,
		CkptEvery:      opt.CkptEvery,
		TokensPerBatch: opt.Batch * task.TC.Samples / cfg.Hop(),
		ModelConfig:    cfg.JSON(),
	}, task, opt.Resume)
}

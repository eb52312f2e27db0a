package vgen

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"

	"github.com/omniar/omniar/datasets/digits"
	"github.com/omniar/omniar/nn/optim"
	"github.com/omniar/omniar/nn/train"
	"github.com/omniar/omniar/tokenizers"
	"github.com/omniar/omniar/tokenizers/bpe"
	"github.com/omniar/omniar/video"
	"github.com/omniar/omniar/videoar"
)

// TrainOptions describe one curriculum stage.
type TrainOptions struct {
	Tokens    string // token file (Tokenize)
	Data      string // prepared data directory: the clips' metadata, for TwoShare
	Tokenizer string // the video tokenizer that made it
	Text      string // text tokenizer (tokenizer.json)
	Ckpt      string // this stage's training checkpoint
	Init      string // start from this generator checkpoint (the previous stage)
	Frames    int    // latent frames trained: 1 = images, up to the config's
	Batch     int
	Steps     int
	StopAt    int // end after this step, keeping the schedule of Steps
	LR        float64
	Warmup    int
	CkptEvery int
	MaxFlip   float64
	ScaleFlip float64 // self-correction (videoar.Builder.SelfCorrect)
	FrameMask float64
	CondDrop  float64
	// TwoShare is the share of each batch drawn from the two-digit clips
	// (0: clips drawn uniformly, about 40 % two-digit).
	TwoShare float64
	Rope1D   bool // the ablation without multi-scale temporal RoPE
	Raster   bool // the baseline: next-token prediction in raster order
	// Past is how many earlier latent frames each position sees around its
	// cell (videoar.Config.Past; 0 or 1: the previous one). A
	// stage seeing more than its --init grows from it (videoar.GrowPast).
	Past   int
	Resume bool
	Seed   uint64
}

// task feeds the trainer batches of tokenized clips with one of their captions.
type task struct {
	*videoar.Trainer
	toks *Tokens
	text *bpe.Tokenizer
	opt  TrainOptions
	two  []int // items of two-digit clips (TwoShare)
}

func (t *task) Run(_ context.Context, batch int64) (float64, error) {
	rng := rand.New(rand.NewPCG(t.opt.Seed, uint64(batch)))
	exs := make([]videoar.Example, t.opt.Batch)
	for i := range exs {
		k := rng.IntN(t.toks.Store.Len())
		if len(t.two) > 0 && rng.Float64() < t.opt.TwoShare {
			k = t.two[rng.IntN(len(t.two))]
		}
		caps := t.toks.Index.Captions[k]
		ids, err := t.text.EncodeString(caps[rng.IntN(len(caps))])
		if err != nil {
			return 0, err
		}
		exs[i] = videoar.Example{Prompt: ids, Codes: t.toks.Codes(k, t.opt.Frames)}
	}
	loss, err := t.Step(exs, rng)
	if err == nil && batch%50 == 0 {
		slog.Info("videoar", "batch", batch, "frames", t.opt.Frames, "ce_nats", loss)
	}
	return loss, err
}

// Train runs a stage and returns the loop's result.
func Train(ctx context.Context, opt TrainOptions) (train.Result, error) {
	if opt.TwoShare < 0 || opt.TwoShare > 1 {
		return train.Result{}, fmt.Errorf("--two-share %g: want a share in [0, 1]", opt.TwoShare)
	}
	toks, err := OpenTokens(opt.Tokens)
	if err != nil {
		return train.Result{}, err
	}
	tcfg, tw, err := video.LoadCheckpoint(opt.Tokenizer)
	if err != nil {
		return train.Result{}, err
	}
	if id := tw.ID(); id != toks.Index.Tokenizer {
		return train.Result{}, fmt.Errorf("%s was made by tokenizer %s, not %s (%s)", opt.Tokens, toks.Index.Tokenizer, id, opt.Tokenizer)
	}
	dec, err := tw.QuantDecoder(tcfg)
	if err != nil {
		return train.Result{}, err
	}
	text, err := tokenizers.LoadText(opt.Text)
	if err != nil {
		return train.Result{}, err
	}
	cfg := videoar.Small(tcfg.Quant, text.VocabSize())
	if opt.Rope1D {
		cfg = cfg.Rope1D()
	}
	if opt.Raster {
		cfg = cfg.RasterOrder()
	}
	cfg = cfg.WithPast(opt.Past)
	if opt.Frames < 1 || opt.Frames > min(cfg.Frames, toks.Store.Shape().T) {
		return train.Result{}, fmt.Errorf("--frames %d: want 1 … %d", opt.Frames, min(cfg.Frames, toks.Store.Shape().T))
	}
	tr, err := videoar.NewTrainer(cfg, videoar.TrainConfig{Batch: opt.Batch, Frames: opt.Frames, MaxFlip: opt.MaxFlip, ScaleFlip: opt.ScaleFlip,
		FrameMask: opt.FrameMask, CondDrop: opt.CondDrop, Seed: opt.Seed}, dec)
	if err != nil {
		return train.Result{}, err
	}
	defer tr.Close()
	if opt.Init != "" && !train.WillResume(opt.Ckpt, opt.Resume) {
		icfg, w, err := videoar.LoadWeights(opt.Init)
		if err != nil {
			return train.Result{}, err
		}
		if icfg.PastFrames() < cfg.PastFrames() {
			if w, err = videoar.GrowPast(icfg, cfg, w); err != nil {
				return train.Result{}, fmt.Errorf("--init %s: %w", opt.Init, err)
			}
			icfg = cfg
		}
		if icfg.JSON() != cfg.JSON() {
			return train.Result{}, fmt.Errorf("--init %s: generator config differs from this stage's", opt.Init)
		}
		if err := tr.Init(w); err != nil {
			return train.Result{}, fmt.Errorf("--init %s: %w", opt.Init, err)
		}
	}
	l, err := videoar.NewLayout(cfg.Prompt, opt.Frames, cfg.Quant.Scales)
	if err != nil {
		return train.Result{}, err
	}
	tk := &task{Trainer: tr, toks: toks, text: text, opt: opt}
	if opt.TwoShare > 0 {
		if tk.two, err = twoDigitItems(opt.Data, toks); err != nil {
			return train.Result{}, err
		}
	}
	return train.Run(ctx, train.Config{
		Steps:          opt.Steps,
		StopAt:         opt.StopAt,
		ClipNorm:       1,
		Schedule:       optim.WarmupCosine{Peak: opt.LR, Min: opt.LR / 10, Warmup: opt.Warmup, Total: opt.Steps},
		AdamW:          optim.AdamWConfig{Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.05},
		CkptPath:       opt.Ckpt,
		CkptEvery:      opt.CkptEvery,
		TokensPerBatch: opt.Batch * l.Len(),
		ModelConfig:    cfg.JSON(),
	}, tk, opt.Resume)
}

// twoDigitItems lists the token file's items whose clip shows two digits.
func twoDigitItems(data string, toks *Tokens) ([]int, error) {
	mv, err := digits.LoadMoving(data, toks.Index.Split)
	if err != nil {
		return nil, fmt.Errorf("two-digit clips: %w", err)
	}
	two, err := twoDigit(mv.Clips, toks.Index.Clips)
	if err != nil {
		return nil, fmt.Errorf("two-digit clips of %s: %w", toks.Index.Split, err)
	}
	slog.Info("videoar", "two_digit_clips", len(two), "of", len(toks.Index.Clips))
	return two, nil
}

// twoDigit returns the positions in items (clip indices) of two-digit clips.
func twoDigit(clips []digits.Clip, items []int) ([]int, error) {
	var two []int
	for i, c := range items {
		if c < 0 || c >= len(clips) {
			return nil, fmt.Errorf("token item %d is clip %d of %d", i, c, len(clips))
		}
		if len(clips[c].Movers) == 2 {
			two = append(two, i)
		}
	}
	if len(two) == 0 {
		return nil, fmt.Errorf("none among the %d tokenized clips", len(items))
	}
	return two, nil
}

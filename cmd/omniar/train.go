package main

import (
	"fmt"
	"log/slog"
	"os"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/omniar/omniar/nn/train"
	"github.com/omniar/omniar/pipelines/lmtrain"
	"github.com/omniar/omniar/pipelines/vtok"
	"github.com/omniar/omniar/video"
)

func newTrainCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train models",
	}
	cmd.AddCommand(newTrainLMCmd(), newTrainTokenizerCmd(), newTrainVideoARCmd(), newTrainUnifiedCmd())
	return cmd
}

func newTrainLMCmd() *cobra.Command {
	opt := lmtrain.Options{}
	cmd := &cobra.Command{
		Use:   "lm --data FILE --ckpt FILE",
		Short: "Train the dense reference LM on the bytes of a text file",
		Long: `lm trains the dense decoder of nn/lm on the bytes of a text file, with AdamW,
warm-up + cosine schedule, gradient clipping and accumulation. Checkpoints
(safetensors, with optimizer state) are written atomically every --ckpt-every
steps and on Ctrl-C; --resume continues a killed run exactly.`,
		Example: `  omniar train lm --data /usr/share/common-licenses/GPL-3 --ckpt lm.safetensors --steps 300
  omniar train lm --data /usr/share/common-licenses/GPL-3 --ckpt lm.safetensors --steps 300 --resume`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opt.Data == "" || opt.Ckpt == "" {
				return usageErrorf("--data and --ckpt are required")
			}
			oneGoThread()
			res, err := lmtrain.Run(cmd.Context(), opt)
			if err != nil {
				return err
			}
			if n := len(res.Losses); n > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "step %d: loss %.4f; checkpoint %s\n", res.Steps, res.Losses[n-1], opt.Ckpt)
			}
			if res.Stopped {
				fmt.Fprintf(cmd.OutOrStdout(), "stopped; rerun with --resume to continue\n")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opt.Data, "data", "", "text file to train on (bytes are tokens)")
	f.StringVar(&opt.Ckpt, "ckpt", "", "training checkpoint to write (and read with --resume)")
	f.StringVar(&opt.Size, "size", "tiny", "model size: tiny or reference")
	f.IntVar(&opt.Steps, "steps", 200, "optimizer steps")
	f.IntVar(&opt.Accum, "accum", 1, "micro-batches per step (gradient accumulation)")
	f.Float64Var(&opt.LR, "lr", 3e-3, "peak learning rate")
	f.IntVar(&opt.Warmup, "warmup", 20, "warm-up steps")
	f.IntVar(&opt.CkptEvery, "ckpt-every", 50, "steps between checkpoints")
	f.BoolVar(&opt.Resume, "resume", false, "continue from --ckpt if it exists")
	f.Uint64Var(&opt.Seed, "seed", 1, "seed of the initialisation and the data order")
	return cmd
}

// oneGoThread sets GOMAXPROCS=1 unless the user set it: graph training is
// fastest with one Go thread and every core to OpenBLAS (bench measured
// 0.48 vs 0.59 s per reference step on 2 cores).
func oneGoThread() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
		slog.Debug("GOMAXPROCS=1 for graph training; set GOMAXPROCS to override")
	}
}

// finishStage reports a training stage's last loss and, when the stage
// completed and export is set, writes the shipped weights with save.
func finishStage(cmd *cobra.Command, res train.Result, ckpt, export string, save func() error) error {
	if n := len(res.Losses); n > 0 {
		fmt.Fprintf(cmd.OutOrStdout(), "step %d: loss %.4f; checkpoint %s\n", res.Steps, res.Losses[n-1], ckpt)
	}
	if export == "" || res.Stopped {
		return nil
	}
	if err := save(); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "weights %s\n", export)
	return nil
}

func newTrainTokenizerCmd() *cobra.Command {
	opt := vtok.Options{}
	var modality, export string
	var frames int
	cfg := video.Small()
	cmd := &cobra.Command{
		Use:   "tokenizer --modality image|video --ckpt FILE",
		Short: "Train the video tokenizer (an image is a one-frame video) on Moving-digits and real clips",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case modality == "image":
				opt.Frames = 1
			case modality == "video" && frames == 0:
				opt.Frames = 17
			case modality == "video" && (frames < 5 || frames > 17 || (frames-1)%4 != 0):
				return usageErrorf("--frames %d: want 5, 9, 13 or 17 (1 + 4k)", frames)
			case modality == "video":
				opt.Frames = frames
			default:
				return usageErrorf("--modality %q: want image or video", modality)
			}
			if opt.Ckpt == "" {
				return usageErrorf("--ckpt is required")
			}
			if opt.DecoderOnly && (opt.Init == "" || opt.NoQuant) {
				return usageErrorf("--decoder-only needs --init (the tokenizer whose codes to keep) and no --no-quant")
			}
			oneGoThread()
			res, err := vtok.Run(cmd.Context(), cfg, opt)
			if err != nil {
				return err
			}
			return finishStage(cmd, res, opt.Ckpt, export, func() error {
				cfg, w, err := video.LoadCheckpoint(opt.Ckpt)
				if err != nil {
					return err
				}
				return video.SaveWeights(export, cfg, w)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&modality, "modality", "video", "image (one frame) or video (17 frames)")
	f.IntVar(&cfg.TimeKernel, "time-kernel", cfg.TimeKernel, "spatial side of the temporal convs' kernel (odd; 1: they mix channels only)")
	f.Float32Var(&cfg.Quant.ZeroBias, "zero-bias", cfg.Quant.ZeroBias, "dead zone around the zero code (squared L2 at the finest scale, scaled by area at coarser ones): near-empty cells share code 0")
	f.IntSliceVar(&cfg.Quant.Scales, "scales", cfg.Quant.Scales, "the quantizer's scale schedule: sides of the token maps, coarse to fine, ending at the latent side; a repeated side is a second pass there (1,2,3,4,6,8,8: 194 tokens a frame instead of 130, finer codes)")
	f.IntVar(&cfg.TimeMix, "time-mix", cfg.TimeMix, "causal blocks over latent time, each side (0: each group of frames is drawn from its latent frame alone)")
	f.IntVar(&frames, "frames", 0, "video: frames per training clip (1 + 4k; default 17); the tokenizer is causal and convolutional in time, so shorter clips train the same weights faster")
	f.StringVar(&opt.Data, "data", defaultCache("data"), "prepared data directory (make data)")
	f.StringVar(&opt.Ckpt, "ckpt", "", "training checkpoint")
	f.StringVar(&export, "export", "", "when training completes, write the weights as shipped (no optimizer state) here")
	f.IntVar(&opt.Batch, "batch", 4, "clips per step")
	f.IntVar(&opt.Steps, "steps", 2000, "optimizer steps")
	f.IntVar(&opt.StopAt, "stop-at", 0, "end after this step, keeping the learning-rate schedule of --steps (0: at --steps)")
	f.Float64Var(&opt.LR, "lr", 1e-3, "peak learning rate")
	f.IntVar(&opt.Warmup, "warmup", 50, "warm-up steps")
	f.IntVar(&opt.CkptEvery, "ckpt-every", 50, "steps between checkpoints")
	f.Float64Var(&opt.RealShare, "real-share", 0.25, "share of real clips in a batch")
	f.BoolVar(&opt.Resume, "resume", false, "continue from --ckpt")
	f.Float64Var(&opt.InkWeight, "ink-weight", 0, "weigh the error of pixels with ink 1 + this much (thin strokes are a few percent of a frame)")
	f.Float64Var(&opt.FirstWeight, "first-weight", 0, "video: weigh the error of frame 0 (the image path) 1 + this much")
	f.BoolVar(&opt.DecoderOnly, "decoder-only", false, "train only the decoder of --init's tokenizer: its codes, and every model trained on them, stay valid")
	f.StringVar(&opt.Percept, "percept", "", "perceptual loss: a metrics network (e.g. a digit classifier from eval train-judge) whose convolutions' feature maps of each reconstructed frame are pulled to the original's")
	f.Float64Var(&opt.PerceptWeight, "percept-weight", 1, "weight of the perceptual loss (with --percept)")
	f.BoolVar(&opt.SeedCodes, "seed-codes", false, "from scratch: the first step sets the codes to residual vectors of its batch (random initial codes leave the decoder a constant latent until dead-code restarts)")
	f.BoolVar(&opt.NoQuant, "no-quant", false, "ablation: train the continuous autoencoder (no quantizer), the tokenizer's ceiling")
	f.StringVar(&opt.Init, "init", "", "start from this tokenizer checkpoint's weights (e.g. the image stage's for the video stage)")
	f.Uint64Var(&opt.Seed, "seed", 1, "seed")
	return cmd
}

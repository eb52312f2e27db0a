package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/omniar/omniar/metrics"
	"github.com/omniar/omniar/pipelines/eval"
	"github.com/omniar/omniar/pipelines/vgen"
	"github.com/omniar/omniar/video/vio"
	"github.com/omniar/omniar/videoar"
)

// Shipped assets, relative to the assets directory (assetDir).
const (
	assetGenerator = "videoar.safetensors"
	assetVideoTok  = "video_tokenizer.safetensors"
	assetText      = "tokenizer.json"
)

// assetDir is where the shipped checkpoints are: $OMNIAR_HOME, else
// ./assets, else the assets directory next to the binary's bin/.
func assetDir() string {
	if h := os.Getenv("OMNIAR_HOME"); h != "" {
		return h
	}
	if _, err := os.Stat("assets"); err == nil {
		return "assets"
	}
	if exe, err := os.Executable(); err == nil {
		d := filepath.Join(filepath.Dir(filepath.Dir(exe)), "assets")
		if _, err := os.Stat(d); err == nil {
			return d
		}
	}
	return "assets"
}

func assetPath(name string) string { return filepath.Join(assetDir(), name) }

// checkAsset gives a clear message for a missing default file.
func checkAsset(path, what string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("%s %s: %w (set OMNIAR_HOME to the assets directory, or pass the flag)", what, path, err)
	}
	return nil
}

type genFlags struct {
	ckpt, tokenizer, text string
	opt                   videoar.Options
}

func (g *genFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	d := videoar.DefaultOptions()
	f.StringVar(&g.ckpt, "ckpt", "", "generator checkpoint (default: "+assetGenerator+" in the assets directory)")
	f.StringVar(&g.tokenizer, "tokenizer", "", "video tokenizer (default: "+assetVideoTok+" in the assets directory)")
	f.StringVar(&g.text, "text", "", "text tokenizer (default: "+assetText+" in the assets directory)")
	f.Float64Var(&g.opt.CFG, "cfg", d.CFG, "classifier-free guidance scale (1 = prompt only)")
	f.Float64Var(&g.opt.Sampling.Temperature, "temperature", d.Sampling.Temperature, "sampling temperature (0 = greedy)")
	f.IntVar(&g.opt.Sampling.TopK, "top-k", d.Sampling.TopK, "sample among the k most likely codes (0 = all)")
	f.Float64Var(&g.opt.Sampling.TopP, "top-p", d.Sampling.TopP, "nucleus sampling mass (0 or 1 = all)")
	f.Uint64Var(&g.opt.Seed, "seed", d.Seed, "sampling seed")
}

func (g *genFlags) load() (*vgen.Pipeline, error) {
	for _, a := range []struct {
		p    *string
		name string
		what string
	}{{&g.ckpt, assetGenerator, "generator"}, {&g.tokenizer, assetVideoTok, "video tokenizer"}, {&g.text, assetText, "text tokenizer"}} {
		if *a.p == "" {
			*a.p = assetPath(a.name)
		}
		if err := checkAsset(*a.p, a.what); err != nil {
			return nil, err
		}
	}
	return vgen.Load(g.ckpt, g.tokenizer, g.text)
}

func newGenerateCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "generate", Short: "Generate media from a prompt"}
	cmd.AddCommand(newGenerateVideoCmd(false), newGenerateVideoCmd(true))
	return cmd
}

// outputExt checks the output file's extension before any work is done.
func outputExt(out string, image bool) error {
	ext := strings.ToLower(filepath.Ext(out))
	ok := ext == ".gif" || ext == ".png" || (!image && (ext == ".avi" || ext == ".mp4"))
	if !ok {
		want := ".gif, .avi, .mp4 or .png"
		if image {
			want = ".png or .gif"
		}
		return usageErrorf("--out %s: unknown extension %q (want %s)", out, ext, want)
	}
	if st, err := os.Stat(filepath.Dir(out)); err != nil || !st.IsDir() {
		return fmt.Errorf("--out %s: directory %s does not exist", out, filepath.Dir(out))
	}
	return nil
}

// firstFrame reads the first frame of an image or video file at the model's size.
func firstFrame(path string, size int) ([]uint8, error) {
	v, err := vio.Read(path, vio.ReadOptions{MaxFrames: 1, Geometry: vio.Geometry{Width: size, Height: size, Square: true}})
	if err != nil {
		return nil, err
	}
	return v.Frames[0], nil
}

func newGenerateVideoCmd(image bool) *cobra.Command {
	var g genFlags
	var prompt, out, init string
	var frames int
	use, short := "video --prompt TEXT --out FILE", "Generate a clip (17 frames of 64×64) from a prompt with VideoAR"
	if image {
		use, short = "image --prompt TEXT --out FILE", "Generate an image (a one-frame video) from a prompt with VideoAR"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long: `generate samples next frame × next scale with the shipped VideoAR model
(prompt tokens and prompt-conditioned norms, classifier-free guidance,
KV cache) and decodes the tokens with the video tokenizer; a raster-order
baseline checkpoint (omniar train videoar --raster) samples one token per
decoder pass instead. The output format follows the extension: .gif, .avi,
.mp4, or .png (the first frame).
--init continues a clip from the first frame of an image or video file.`,
		Example: `  omniar generate video --prompt "a 7 moves to the left" --out seven.gif
  omniar generate video --prompt "the digits 2 and 5 bounce around" --out two.gif --seed 3
  omniar generate video --prompt "a 3 moves up" --init first.png --out cont.gif
  omniar generate image --prompt "a handwritten 4" --out four.png`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageErrorf("--out is required")
			}
			if image {
				frames = 1
			}
			if err := outputExt(out, image); err != nil {
				return err
			}
			p, err := g.load()
			if err != nil {
				return err
			}
			defer p.Close()
			lf, err := p.LatentFrames(frames)
			if err != nil {
				return usageErrorf("--frames: %v", err)
			}
			var first []uint8
			if init != "" {
				if first, err = firstFrame(init, p.Video.Size); err != nil {
					return fmt.Errorf("--init: %w", err)
				}
			}
			t0 := time.Now()
			clip, err := p.Generate(cmd.Context(), prompt, frames, first, g.opt, func(done, total int) {
				if per := total / lf; done%per == 0 { // decoder passes per latent frame
					slog.Info("generate", "latent_frame", done/per, "of", lf)
				}
			})
			if errors.Is(err, vgen.ErrPrompt) {
				return usageErrorf("--prompt: %v", err)
			}
			if err != nil {
				return err
			}
			s := p.Video.Size
			v := &vio.Video{W: s, H: s, FPS: 8}
			for f := range len(clip) / (s * s) {
				v.Frames = append(v.Frames, clip[f*s*s:(f+1)*s*s])
			}
			if strings.EqualFold(filepath.Ext(out), ".png") {
				v.Frames = v.Frames[:1]
			}
			if err := vio.Write(out, v); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %d frames of %d×%d for %q in %.1f s\n", out, len(v.Frames), s, s, prompt, time.Since(t0).Seconds())
			return nil
		},
	}
	g.register(cmd)
	f := cmd.Flags()
	f.StringVar(&prompt, "prompt", "", "what to show, e.g. \"a 3 moves up\"")
	f.StringVar(&out, "out", "", "output file (.gif, .png; video also .avi, .mp4)")
	if !image {
		f.IntVar(&frames, "frames", 17, "clip length: 1, 5, 9, 13 or 17 frames")
		f.StringVar(&init, "init", "", "continue from the first frame of this image or video file")
	}
	return cmd
}

func newTrainVideoARCmd() *cobra.Command {
	opt := vgen.TrainOptions{}
	var data, export string
	var clips int
	cmd := &cobra.Command{
		Use:   "videoar --tokenizer FILE --tokens FILE --ckpt FILE",
		Short: "Train a VideoAR curriculum stage on tokenized Moving-digits clips",
		Long: `videoar trains one curriculum stage of the generator: --frames 1 trains
images (the first latent frame of each clip), --frames 5 full 17-frame
clips; --init starts a stage from the previous stage's checkpoint. If the
token file is missing, the first --clips training clips are tokenized with
--tokenizer first. Checkpoints are written every --ckpt-every steps and on
Ctrl-C; --resume continues a stage exactly. --raster trains the raster-order
baseline instead (plain next-token prediction over the same codes); its
checkpoints generate and evaluate with the same commands.`,
		Example: `  omniar train videoar --tokenizer assets/video_tokenizer.safetensors --tokens runs/tokens.u8 \
    --ckpt runs/videoar_img.safetensors --frames 1 --steps 600
  omniar train videoar --tokenizer assets/video_tokenizer.safetensors --tokens runs/tokens.u8 \
    --ckpt runs/videoar_vid.safetensors --init runs/videoar_img.safetensors --frames 5 --steps 800`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opt.Tokenizer == "" || opt.Tokens == "" || opt.Ckpt == "" {
				return usageErrorf("--tokenizer, --tokens and --ckpt are required")
			}
			if opt.Text == "" {
				opt.Text = assetPath(assetText)
			}
			oneGoThread()
			if _, err := os.Stat(opt.Tokens); errors.Is(err, os.ErrNotExist) {
				slog.Info("tokenizing training clips", "clips", clips, "out", opt.Tokens)
				if err := vgen.Tokenize(cmd.Context(), data, "train", opt.Tokenizer, opt.Tokens, clips); err != nil {
					return err
				}
			}
			opt.Data = data
			res, err := vgen.Train(cmd.Context(), opt)
			if err != nil {
				return err
			}
			return finishStage(cmd, res, opt.Ckpt, export, func() error {
				cfg, w, err := videoar.LoadWeights(opt.Ckpt)
				if err != nil {
					return err
				}
				return videoar.SaveWeights(export, cfg, w)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", defaultCache("data"), "prepared data directory (make data)")
	f.IntVar(&clips, "clips", 8000, "training clips to tokenize when --tokens does not exist")
	f.StringVar(&opt.Tokenizer, "tokenizer", "", "video tokenizer checkpoint")
	f.StringVar(&opt.Tokens, "tokens", "", "token file (written from --tokenizer if missing)")
	f.StringVar(&opt.Text, "text", "", "text tokenizer (default: the shipped one)")
	f.StringVar(&opt.Ckpt, "ckpt", "", "training checkpoint of this stage")
	f.StringVar(&export, "export", "", "when the stage completes, write the weights as shipped (half precision, no optimizer state) here")
	f.StringVar(&opt.Init, "init", "", "start from this generator checkpoint (the previous stage)")
	f.IntVar(&opt.Frames, "frames", 5, "latent frames trained: 1 = images (stage 1), 5 = 17-frame clips")
	f.IntVar(&opt.Batch, "batch", 8, "clips per step")
	f.IntVar(&opt.Steps, "steps", 1000, "optimizer steps")
	f.IntVar(&opt.StopAt, "stop-at", 0, "end after this step, keeping the learning-rate schedule of --steps (0: at --steps)")
	f.Float64Var(&opt.LR, "lr", 1e-3, "peak learning rate")
	f.IntVar(&opt.Warmup, "warmup", 50, "warm-up steps")
	f.IntVar(&opt.CkptEvery, "ckpt-every", 25, "steps between checkpoints")
	f.BoolVar(&opt.Rope1D, "rope-1d", false, "ablation: plain 1-D RoPE over the sequence instead of multi-scale temporal RoPE")
	f.BoolVar(&opt.Raster, "raster", false, "baseline: plain next-token prediction over the same codes in raster order (causal mask, no local copy path)")
	f.Float64Var(&opt.MaxFlip, "max-flip", 0.2, "error correction: code flip rate of the last frame's inputs")
	f.Float64Var(&opt.ScaleFlip, "scale-flip", 0, "self-correction: flip rate of each frame's codes before its last scale; the later scales' codes are re-quantized to repair the flips (0: off)")
	f.Float64Var(&opt.FrameMask, "frame-mask", 0.1, "probability that an earlier frame is hidden from later frames")
	f.Float64Var(&opt.CondDrop, "cond-drop", 0.1, "probability of dropping the prompt (for classifier-free guidance)")
	f.IntVar(&opt.Past, "past", 1, "earlier latent frames each position sees around its cell: 1 the previous one, 2 also the one before it (its motion); from an --init that sees fewer, the new inputs start at zero weight")
	f.Float64Var(&opt.TwoShare, "two-share", 0, "share of each batch drawn from two-digit clips (0: uniform over the clips)")
	f.BoolVar(&opt.Resume, "resume", false, "continue from --ckpt")
	f.Uint64Var(&opt.Seed, "seed", 1, "seed")
	return cmd
}

func newEvalVideoARCmd() *cobra.Command {
	var g genFlags
	var eo vgen.EvalOptions
	var out, judge, pairs string
	cmd := &cobra.Command{
		Use:     "videoar",
		Short:   "Prompt fidelity of generated clips (attribute judge) beside the tokenizer's ceiling",
		Example: `  omniar eval videoar --n 100 --out docs/eval/videoar.json --pictures docs/eval/videoar`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if eo.N < 1 {
				return usageErrorf("--n %d: want at least one prompt", eo.N)
			}
			if eo.Resume && eo.Save == "" {
				return usageErrorf("--resume reads the clips of --save: give --save")
			}
			p, err := g.load()
			if err != nil {
				return err
			}
			defer p.Close()
			w, err := metrics.LoadJudgeWeights(eval.Asset(judge), eval.Asset(pairs))
			if err != nil {
				return err
			}
			oneGoThread()
			eo.Tokenizer, eo.Gen, eo.Judge = g.tokenizer, g.opt, w
			rep, err := vgen.Eval(cmd.Context(), p, eo)
			if err != nil {
				return err
			}
			rep.Command = commandLine()
			rep.Print(cmd.OutOrStdout())
			if out == "" {
				return nil
			}
			return writeReport(out, rep)
		},
	}
	g.register(cmd)
	f := cmd.Flags()
	f.StringVar(&eo.Data, "data", defaultCache("data"), "prepared data directory")
	f.StringVar(&eo.Split, "split", "test", "Moving-digits split whose captions are the prompts")
	f.IntVar(&eo.N, "n", 100, "prompts")
	f.BoolVar(&eo.Continue, "continue", false, "continue each real clip from its first frame instead of generating it")
	f.BoolVar(&eo.NLL, "nll", false, "also print the teacher-forced cross-entropy of the real clips' codes per latent frame and scale")
	f.StringVar(&judge, "judge", eval.DefaultDigitWeights, "digit classifier of the attribute judge")
	f.StringVar(&pairs, "pairs", eval.DefaultPairWeights, "pair reader of the attribute judge")
	f.StringVar(&out, "out", "", "JSON report")
	f.StringVar(&eo.Pictures, "pictures", "", "directory for a GIF grid of generated clips and their prompts")
	f.StringVar(&eo.Save, "save", "", "directory for every generated clip as a GIF (the --fake set of omniar eval fvd); a new run replaces the clips of an earlier evaluation there")
	f.BoolVar(&eo.Resume, "resume", false, "read clips already in --save back instead of generating them (go on with a stopped evaluation)")
	f.IntVar(&eo.From, "from", 0, "skip the prompts before this one (share an evaluation between processes writing one --save directory; then --resume writes the whole report)")
	f.StringVar(&eo.Verdicts, "verdicts", "", "file for one JSON line per prompt: the judge's readings of the generated clip and of the reconstruction, and the verdict")
	f.StringVar(&eo.CeilingCache, "ceiling-cache", defaultCache("ceiling"), "directory keeping the ceiling's readings between runs (\"\" = recompute every time)")
	return cmd
}

package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/omniar/omniar/metrics"
	"github.com/omniar/omniar/pipelines/eval"
)

func newEvalCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Score generated media and train the frozen metric networks",
	}
	cmd.AddCommand(newEvalTokenizerCmd(), newEvalCodecCmd(), newEvalTrainVideoCmd(), newEvalTrainJudgeCmd(), newEvalTrainPairsCmd(), newEvalJudgeCmd(), newEvalFVDCmd(), newEvalSanityCmd(), newEvalVideoCmd(), newEvalVideoARCmd(), newEvalUnifiedCmd(), newEvalMoECmd())
	return cmd
}

// trainFlags registers the flags every metric-network training shares.
func trainFlags(cmd *cobra.Command, opt *eval.TrainOptions, out string) {
	f := cmd.Flags()
	f.StringVar(&opt.Data, "data", defaultCache("data"), "prepared data directory (omniar data prepare)")
	f.StringVar(&opt.Out, "out", out, "weights file to write")
	f.StringVar(&opt.Ckpt, "ckpt", "", "training checkpoint (default: --out + .train)")
	f.IntVar(&opt.Steps, "steps", 0, "optimizer steps (0: the recipe's)")
	f.IntVar(&opt.Batch, "batch", 0, "batch size (0: the recipe's)")
	f.Float64Var(&opt.LR, "lr", 0, "peak learning rate (0: the recipe's)")
	f.IntVar(&opt.Warmup, "warmup", 0, "warm-up steps (0: a twentieth of --steps)")
	f.IntVar(&opt.CkptEvery, "ckpt-every", 100, "steps between checkpoints")
	f.BoolVar(&opt.Resume, "resume", false, "continue from --ckpt if it exists")
	f.IntVar(&opt.StopAt, "stop-at", 0, "end after this step, keeping the schedule of --steps (0: at --steps)")
	f.Uint64Var(&opt.Seed, "seed", 1, "seed of the initialisation and the data order")
}

func newEvalTrainVideoCmd() *cobra.Command {
	opt := eval.TrainOptions{}
	cmd := &cobra.Command{
		Use:   "train-video",
		Short: "Train the video classifier of FVD-style features on Moving-digits",
		Long: `train-video trains the small 3-D conv video classifier (digits present and
directions, multi-label) on fresh Moving-digits clips of the train split's
digit instances (augmented), measures it on the test split and writes the
frozen weights with the accuracy in their metadata.
Its penultimate layer is the feature vector of ` + "`omniar eval fvd --features omniar`" + `.`,
		Example: `  omniar eval train-video --out assets/metrics/video.safetensors`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			oneGoThread()
			_, err := eval.TrainVideo(cmd.Context(), opt, cmd.OutOrStdout())
			return err
		},
	}
	trainFlags(cmd, &opt, "assets/metrics/video.safetensors")
	cmd.Flags().Float64Var(&opt.Noise, "noise", 0, "add Gaussian noise of σ up to this many grey levels to half the clips")
	cmd.Flags().Float64Var(&opt.TwoShare, "two-share", 0, "share of two-digit training clips (0: the generator's 0.4)")
	cmd.Flags().StringVar(&opt.Pool, "pool", "", "pooling of the last conv map: max-space (default), mean")
	cmd.Flags().StringVar(&opt.Init, "init", "", "start from the weights of another video classifier (file or training checkpoint): every tensor of the same name and size")
	return cmd
}

func newEvalTrainJudgeCmd() *cobra.Command {
	opt := eval.TrainOptions{}
	cmd := &cobra.Command{
		Use:   "train-judge",
		Short: "Train the digit classifier of the attribute judge",
		Long: `train-judge trains the judge's digit classifier (a small CNN on 28×28 crops)
on the digits train split, on the crops the judge itself cuts from frames of
one or two augmented digits, measures it on the digits test split and writes
the frozen weights with the accuracy in their metadata.`,
		Example: `  omniar eval train-judge --out assets/metrics/digits.safetensors`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			oneGoThread()
			_, err := eval.TrainJudge(cmd.Context(), opt, cmd.OutOrStdout())
			return err
		},
	}
	trainFlags(cmd, &opt, "assets/metrics/digits.safetensors")
	return cmd
}

func newEvalTrainPairsCmd() *cobra.Command {
	opt := eval.TrainOptions{}
	cmd := &cobra.Command{
		Use:   "train-pairs",
		Short: "Train the pair reader of the attribute judge",
		Long: `train-pairs trains the judge's pair reader (a multi-label CNN on the 48×48
window around two touching digits) on pairs of augmented digits of the digits
train split, measures it on pairs of test-split digits and writes the frozen
weights with the accuracy in their metadata.`,
		Example: `  omniar eval train-pairs --out assets/metrics/pairs.safetensors`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			oneGoThread()
			_, err := eval.TrainPairs(cmd.Context(), opt, cmd.OutOrStdout())
			return err
		},
	}
	trainFlags(cmd, &opt, eval.DefaultPairWeights)
	return cmd
}

func newEvalJudgeCmd() *cobra.Command {
	var dir, split, weights, pairs string
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "judge",
		Short: "Measure the attribute judge against the metadata of real Moving-digits clips",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 0 {
				return usageErrorf("--n %d: want 0 (all clips) or more", limit)
			}
			w, err := metrics.LoadJudgeWeights(eval.Asset(weights), eval.Asset(pairs))
			if err != nil {
				return err
			}
			rep, err := eval.JudgeSplit(dir, split, limit, w)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(rep)
			}
			eval.PrintJudge(cmd.OutOrStdout(), rep)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "data", defaultCache("data"), "prepared data directory")
	f.StringVar(&split, "split", "test", "Moving-digits split")
	f.StringVar(&weights, "weights", eval.DefaultDigitWeights, "digit classifier weights")
	f.StringVar(&pairs, "pairs", eval.DefaultPairWeights, "pair reader weights")
	f.IntVar(&limit, "n", 0, "judge only the first n clips (0: all)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newEvalFVDCmd() *cobra.Command {
	opt := eval.FVDOptions{}
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "fvd --real DIR|SPLIT --fake DIR|SPLIT",
		Short: "Fréchet video distance (FVD-style) and KVD between two sets of clips",
		Long: `fvd extracts features of two sets of clips and prints the Fréchet distance
between Gaussians fitted to them and the kernel distance KVD (unbiased
polynomial-kernel MMD², reliable at small sample counts), with 95% bootstrap
intervals. A set is a directory of clips (GIF; MP4/AVI/… when built with
OpenCV; or subdirectories of PNG frames) or a Moving-digits split name
(train, val, test). Every report names the feature network, the SHA-256 of
its weights, the sample counts, the resolution and the frame count: numbers
computed with different ones are not comparable.

--features omniar is the project's own video classifier (FVD-style);
--features i3d is the Inflated Inception-V1 of FVD, with Kinetics-400 weights
converted by tools/i3d_convert.py (clips are resized to 224×224, scaled to
[-1, 1], first 16 frames unless --frames says more).

--versus compares two generators on the same prompts: the i-th clip of each
set (in file-name order) must come from the same prompt. It prints the second
set's distances and their difference from the first's with a paired
bootstrap (each replicate resamples the real clips once and the prompts once
for both sets), which tells two models apart when their separate intervals
overlap.`,
		Example: `  omniar eval fvd --real test --fake out/gifs --bootstrap 100
  omniar eval fvd --real test --fake val --n 500 --json
  omniar eval fvd --real test --fake runs/clips_a --versus runs/clips_b --bootstrap 200`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opt.Real == "" || opt.Fake == "" {
				return usageErrorf("--real and --fake are required")
			}
			if opt.N < 0 || opt.Bootstrap < 0 || opt.Frames < 0 {
				return usageErrorf("--n, --bootstrap and --frames must not be negative")
			}
			rep, err := eval.FVD(opt)
			if err != nil {
				return err
			}
			if asJSON {
				rep.Command = commandLine()
				return json.NewEncoder(cmd.OutOrStdout()).Encode(rep)
			}
			eval.PrintFVD(cmd.OutOrStdout(), rep)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opt.Real, "real", "", "real clips: a directory or a Moving-digits split")
	f.StringVar(&opt.Fake, "fake", "", "generated clips: a directory or a Moving-digits split")
	f.StringVar(&opt.Versus, "versus", "", "a second set of generated clips, made from the same prompts as --fake in the same file order: also prints its distance minus --fake's, with paired bootstrap intervals")
	f.StringVar(&opt.Data, "data", defaultCache("data"), "prepared data directory (for split names)")
	f.StringVar(&opt.Features, "features", "omniar", "feature network: omniar (own video classifier) or i3d")
	f.StringVar(&opt.Weights, "weights", "", "feature network weights (default for omniar: "+eval.DefaultVideoWeights+"; i3d: required)")
	f.StringVar(&opt.Layer, "layer", "logits", "I3D features: logits (400-d, as FVD) or pool (1024-d)")
	f.IntVar(&opt.N, "n", 0, "at most n clips of each set (0: all)")
	f.IntVar(&opt.Frames, "frames", 0, "frames per clip (0: what the network reads)")
	f.IntVar(&opt.Bootstrap, "bootstrap", 0, "bootstrap replicates for 95% intervals (0: none)")
	f.Uint64Var(&opt.Seed, "seed", 1, "bootstrap seed")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newEvalSanityCmd() *cobra.Command {
	opt := eval.SanityOptions{}
	cmd := &cobra.Command{
		Use:   "sanity",
		Short: "Sanity curve of FVD-style: real halves, then rising corruptions",
		Long: `sanity splits the real clips of a Moving-digits split into two disjoint halves
and prints FVD-style and KVD (95% bootstrap intervals) between the first half
and the second, clean and then corrupted: Gaussian noise of rising σ, frames
shuffled, first frame frozen. A sound metric is small for the clean halves
and grows with each corruption. Writes sanity.png and sanity.json to --out.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rep, err := eval.Sanity(opt, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "monotone along every corruption: %v\n", rep.Monotone)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opt.Data, "data", defaultCache("data"), "prepared data directory")
	f.StringVar(&opt.Split, "split", "test", "Moving-digits split")
	f.StringVar(&opt.Weights, "weights", eval.DefaultVideoWeights, "video classifier weights")
	f.IntVar(&opt.Bootstrap, "bootstrap", 50, "bootstrap replicates")
	f.StringVar(&opt.Out, "out", "docs/eval", "directory for sanity.png and sanity.json (\"\" = none)")
	f.Uint64Var(&opt.Seed, "seed", 1, "seed of the corruptions and the bootstrap")
	return cmd
}

func newEvalVideoCmd() *cobra.Command {
	var dir, split, weights, reader, out string
	var views int
	cmd := &cobra.Command{
		Use:     "video",
		Short:   "Measure the video classifier (digits and directions) on a Moving-digits split",
		Example: `  omniar eval video --out docs/eval/video_classifier.json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, err := metrics.LoadWeights(eval.Asset(weights))
			if err != nil {
				return err
			}
			var rw *metrics.Weights
			if reader != "" {
				if rw, err = metrics.LoadWeights(eval.Asset(reader)); err != nil {
					return err
				}
			}
			acc, err := eval.VideoAccuracyOf(dir, split, w, views, rw)
			if err != nil {
				return err
			}
			eval.PrintVideoAccuracy(cmd.OutOrStdout(), w.Cfg.Name, acc)
			if out == "" {
				return nil
			}
			rep := struct {
				eval.VideoAccuracy
				Weights string `json:"weights_sha256"`
				Command string `json:"command"`
			}{acc, w.SHA256, commandLine()}
			return writeReport(out, rep)
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "JSON report")
	f.StringVar(&dir, "data", defaultCache("data"), "prepared data directory")
	f.StringVar(&split, "split", "test", "Moving-digits split")
	f.StringVar(&weights, "weights", eval.DefaultVideoWeights, "video classifier weights (or a training checkpoint)")
	f.StringVar(&reader, "reader", eval.DefaultDigitWeights, "digit classifier of the glyph oracle: the score of reading each clip's glyphs alone (\"\" = skip)")
	f.IntVar(&views, "views", 1, "read digits from the mean logits of this many views (1–5: the clip, then shifted 2 px right, left, down, up)")
	return cmd
}

package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/omniar/omniar/pipelines/eval"
	"github.com/omniar/omniar/pipelines/vtok"
)

func newEvalTokenizerCmd() *cobra.Command {
	var opt vtok.EvalOptions
	var out, modality string
	var zeroBias float64
	cmd := &cobra.Command{
		Use:   "tokenizer --ckpt FILE [--judge FILE] [--pictures DIR] [--out FILE.json]",
		Short: "Reconstruction, per-scale PSNR, coarse-scale layout, digit check, codebook usage and token entropy of a video tokenizer on the test splits",
		Long: `tokenizer reconstructs test clips of Moving-digits and of the held-out real
video with a tokenizer and prints a table: PSNR/SSIM (all scales and after
each added scale), foreground PSNR, the layout check (centre of mass of the
digit in the decode up to the 4×4 scale within 3 px of the original's),
codebook usage, entropy per scale, background codes and token counts.

With --judge (the attribute judge's digit classifier) it also reconstructs
the held-out test digits, each alone in a black frame, and compares the
classifier's accuracy on originals and reconstructions. With --reader-steps
it then trains a net of the same architecture on round trips (encode to
tokens, decode) of the train digits and --reader-views augmented views of
each, and reads the test digits' round trips with it: a measure of the
digit identity the tokens carry (about 14 minutes for 8 views and 6,000
steps on 2 cores). With --ceiling N (and --judge) the attribute judge reads
the reconstructions of the first N Moving-digits test clips against their
metadata: the ceiling of any generator drawing through these codes, the
figure omniar eval videoar reports beside its generated clips (1,000 clips:
about 7 CPU-minutes). With --pictures it
writes PNG grids (originals above reconstructions; for clips a third row
decoded from the scales up to 4×4) and a plot of PSNR vs scales decoded.`,
		Example: `  omniar eval tokenizer --ckpt assets/video_tokenizer.safetensors \
    --judge assets/metrics/digits.safetensors --pictures docs/img --out docs/eval/tokenizer.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch modality {
			case "image":
				opt.Frames = 1
			case "video":
				opt.Frames = 17
			default:
				return usageErrorf("--modality %q: want image or video", modality)
			}
			if opt.Ckpt == "" {
				return usageErrorf("--ckpt is required")
			}
			if opt.Clips < 1 || opt.Digits < 0 || opt.Reader.Steps < 0 || opt.Reader.Views < 0 {
				return usageErrorf("--clips must be positive and --digits, --reader-steps, --reader-views ≥ 0")
			}
			if opt.Ceiling < 0 || opt.Ceiling > 0 && (opt.Judge == "" || modality != "video") {
				return usageErrorf("--ceiling %d: want ≥ 0, and a count needs --judge and --modality video", opt.Ceiling)
			}
			opt.Pairs = eval.Asset(opt.Pairs)
			if opt.Reader.Steps > 0 && opt.Judge == "" {
				return usageErrorf("--reader-steps belongs to the digit check: give --judge too")
			}
			if cmd.Flags().Changed("zero-bias") {
				if zeroBias < 0 {
					return usageErrorf("--zero-bias %g: want ≥ 0", zeroBias)
				}
				opt.ZeroBias = &zeroBias
			}
			r, err := vtok.Eval(cmd.Context(), opt)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), r)
			if out == "" {
				return nil
			}
			r.Command = commandLine()
			return writeReport(out, r)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opt.Data, "data", defaultCache("data"), "prepared data directory")
	f.StringVar(&opt.Ckpt, "ckpt", "", "tokenizer checkpoint or weights file")
	f.StringVar(&modality, "modality", "video", "image (first frames) or video (17-frame clips)")
	f.IntVar(&opt.Clips, "clips", 200, "test clips per set")
	f.StringVar(&opt.Judge, "judge", "", "digit classifier weights (e.g. assets/metrics/digits.safetensors); empty skips the digit check")
	f.IntVar(&opt.Digits, "digits", 0, "test digits for the digit check (0: the whole test split)")
	f.IntVar(&opt.Reader.Steps, "reader-steps", 0, "train a digit net on the tokens' round trips for this many steps (0: none)")
	f.IntVar(&opt.Reader.Views, "reader-views", 2, "augmented views of each train digit for the reader, beside the digit itself")
	f.IntVar(&opt.Ceiling, "ceiling", 0, "have the attribute judge (--judge and --pairs) read the reconstructions of this many Moving-digits test clips: the ceiling of a generator drawing through this tokenizer (0: none)")
	f.StringVar(&opt.Pairs, "pairs", eval.DefaultPairWeights, "the attribute judge's pair reader (with --ceiling)")
	f.StringVar(&opt.Pictures, "pictures", "", "directory for PNG grids and the PSNR-vs-scales plot (e.g. docs/img)")
	f.StringVar(&out, "out", "", "JSON report (e.g. docs/eval/tokenizer.json)")
	f.Float64Var(&zeroBias, "zero-bias", 0, "dead zone around the zero code (squared L2) in place of the checkpoint's")
	return cmd
}

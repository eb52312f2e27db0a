package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/omniar/omniar/pipelines/atok"
)

func newEvalCodecCmd() *cobra.Command {
	opt := atok.EvalOptions{}
	var jsonOut string
	cmd := &cobra.Command{
		Use:   "codec [--ckpt FILE]",
		Short: "SI-SNR, log-mel distance per depth, bitrate, speed and intelligibility of the audio codec",
		Long: `codec measures the audio codec on the held-out voices of the speech test
split and on the real ALSA recordings: SI-SNR and log-mel distance with the
first 1…D depths, the bitrate of each, code usage per depth, and the
encode+decode real-time factor on this machine. With --digits (the default)
it also trains a spoken-digit classifier on real training audio and reports
its held-out accuracy on original and codec-resynthesised digits. Listen-able
WAVs and spectrogram PNGs go to --examples.`,
		Example: `  omniar eval codec --json docs/eval/codec.json --examples docs/eval/codec`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			if opt.Clips < 0 {
				return usageErrorf("--clips %d: want 0 (all) or more", opt.Clips)
			}
			if opt.Ckpt == "" {
				opt.Ckpt = shippedCodec()
			}
			opt.Progress = func(s string) { fmt.Fprintln(cmd.ErrOrStderr(), s) }
			r, err := atok.Eval(cmd.Context(), opt)
			if err != nil {
				return err
			}
			printCodecReport(w, r)
			if jsonOut == "" {
				return nil
			}
			return writeReport(jsonOut, r)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opt.Data, "data", defaultCache("data"), "prepared data directory")
	f.StringVar(&opt.Ckpt, "ckpt", "", "codec checkpoint, weights or training checkpoint (default: the shipped codec in the assets directory)")
	f.IntVar(&opt.Clips, "clips", 0, "held-out espeak-ng clips to score (0: all)")
	f.BoolVar(&opt.Digits, "digits", true, "run the spoken-digit intelligibility proxy")
	f.StringVar(&opt.RumbleSplit, "rumble-split", "test", "speech split whose voices the rumble set takes (val: to choose between codecs without test)")
	f.StringVar(&opt.DigitSplit, "digit-split", "test", "speech split whose digits the proxy scores (val: to choose between codecs without test)")
	f.StringVar(&opt.Out, "examples", "", "directory for example WAVs and spectrograms")
	f.StringVar(&jsonOut, "json", "", "JSON report to write (e.g. docs/eval/codec.json)")
	return cmd
}

func printCodecReport(w io.Writer, r *atok.Report) {
	fmt.Fprintf(w, "codec %s (codebook %s): %.0f frames/s, %d depths × %d codes\n", r.Ckpt, r.CodebookID, r.FrameRate, r.Depths, r.Codes)
	for _, s := range r.Sets {
		fmt.Fprintf(w, "%s: %d clips, %.1f s\n  depths  bit/s   SI-SNR dB  log-mel dist\n", s.Name, s.Clips, s.Seconds)
		for _, d := range s.Depths {
			fmt.Fprintf(w, "  %6d  %5.0f  %9.2f  %12.3f\n", d.Depths, d.BitrateBPS, d.SISNR, d.LogMel)
		}
		fmt.Fprintf(w, "  unquantized    %9.2f  %12.3f\n  power at %d depths vs original:", s.Unquantized.SISNR, s.Unquantized.LogMel, r.Depths)
		for _, b := range s.Bands {
			fmt.Fprintf(w, " %.0f–%.0f Hz %+.1f dB;", b.LoHz, b.HiHz, b.GainDB)
		}
		fmt.Fprintf(w, "\n  clips resynthesised 6 dB or more louder than the original: %d of %d\n", s.Louder, s.Clips)
	}
	for _, u := range r.Usage {
		fmt.Fprintf(w, "depth %d: %d codes used, perplexity %.1f, entropy %.2f nats\n", u.Depth, u.Used, u.Perplexity, u.EntropyNat)
	}
	fmt.Fprintf(w, "encode+decode: %.0f× real time by the wall clock, %.0f× per CPU second (%d Go threads; the wall figure depends on other load)\n", r.RTF, r.RTFCPU, r.RTFThreads)
	if it := r.Intelligibility; it != nil {
		fmt.Fprintf(w, "spoken digits (%s; %d train, %d held-out): %.1f%% original, %.1f%% resynthesised with %d depths → %.1f%% kept (goal ≥ 90%%)\n",
			it.Classifier, it.TrainClips, it.TestClips, 100*it.Original, 100*it.Resynth, it.Depths, 100*it.Kept)
		fmt.Fprint(w, "  accuracy by depths:")
		for _, a := range it.ResynthBy {
			fmt.Fprintf(w, " %.1f%%", 100*a)
		}
		fmt.Fprintln(w)
		for _, c := range it.Channels {
			fmt.Fprintf(w, "  originals through %s: %.1f%% (%.1f%% kept)\n", c.Channel, 100*c.Accuracy, 100*c.Kept)
		}
	}
	for _, e := range r.Examples {
		fmt.Fprintln(w, "wrote", e)
	}
}

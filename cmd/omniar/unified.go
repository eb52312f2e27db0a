package main

import (
	"fmt"
	"sort"

	"github.com/spf13/cobra"

	"github.com/omniar/omniar/pipelines/mm"
)

// Shipped unified model, relative to the assets directory.
const (
	assetUnified    = "unified.safetensors"
	assetAudioCodec = "audio_codec.safetensors"
)

func newTrainUnifiedCmd() *cobra.Command {
	var path, out string
	var resume, dense bool
	cmd := &cobra.Command{
		Use:   "unified --config FILE.json [--resume]",
		Short: "Train the unified multimodal model on a mixture of tasks",
		Long: `unified trains the unified MoE decoder (package omni) on a mixture of the
project's data: fortunes language modelling, questions about digit images,
Moving-digits clips, spoken digits and words and fortune categories, and image
generation from captions. The JSON config names the size, the data and
tokenizers, the curriculum stages (steps, learning rate, samples of each task
per step), elastic training and the dense baseline. Every source is tokenized
once into token files. Per-task loss curves are written to OUT/curves.png and
.json; the weights of the last completed stage to OUT/unified.safetensors.`,
		Example: `  omniar train unified --config configs/tiny.json
  omniar train unified --config configs/small.json --resume`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if path == "" {
				return usageErrorf("--config is required")
			}
			cfg, err := mm.ReadTrainConfig(path)
			if err != nil {
				return usageErrorf("%v", err)
			}
			if out != "" {
				cfg.Out = out
			}
			if dense {
				cfg.Dense = true
			}
			if cfg.Text == "" {
				cfg.Text = assetPath(assetText)
			}
			oneGoThread()
			res, err := mm.Train(cmd.Context(), cfg, resume)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if res.Stopped {
				fmt.Fprintf(w, "stopped after %d steps; rerun with --resume to continue\n", res.Steps)
				return nil
			}
			tasks := make([]string, 0, len(res.Last))
			for t := range res.Last {
				tasks = append(tasks, t)
			}
			sort.Strings(tasks)
			for _, t := range tasks {
				fmt.Fprintf(w, "%-10s train cross-entropy %.4f (mean of the last 20 full-model steps)\n", t, res.Last[t])
			}
			fmt.Fprintf(w, "weights %s; curves %s/curves.png\n", res.Weights, cfg.Out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&path, "config", "", "training config (JSON; see configs/small.json)")
	f.StringVar(&out, "out", "", "run directory (overrides the config's out)")
	f.BoolVar(&resume, "resume", false, "skip completed stages and continue the interrupted one")
	f.BoolVar(&dense, "dense", false, "train the dense baseline (dense FFN of equal active parameters)")
	return cmd
}

package main

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/omniar/omniar/pipelines/bench"
)

func newBenchCmd() *cobra.Command {
	var opt bench.Options
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure matmul GFLOP/s, training, tokenizer and unified-model throughput against PyTorch in the same run",
		Long: `bench times float32 matmuls (through a gorgonia graph, raw OpenBLAS sgemm
and torch.mm) and a training step of the reference decoder (d_model 256,
4 heads, 4 layers, SwiGLU 1024, seq 256, batch 8) against the same network in
PyTorch (tools/peer_train.py), and the video tokenizer's encode+decode of a
17-frame 64×64 clip and of one 64×64 image (pixels → tokens → pixels, the
shipped weights or a random video.Small) against the same network in PyTorch
(tools/peer_tokenizer.py), and the unified MoE decoder at the shipped
model's size (omni.Small's trunk, vocabulary 6400, untied head): a training
step and a forward pass of 8×256 tokens and greedy decoding of 256 tokens at
batch 1 through the KV cache, against the same network in PyTorch
(tools/peer_unified.py), each side at its best thread settings, and prints
the ratios. Results go to --out as JSON; with --only, the other parts of the
report already there are kept.`,
		Example: `  omniar bench
  omniar bench --only tokenizer --threads 1
  omniar bench --only unified`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, p := range opt.Only {
				if !slices.Contains(bench.Parts, p) {
					return usageErrorf("--only %q: want one of %s", p, strings.Join(bench.Parts, ", "))
				}
			}
			_, err := bench.Run(cmd.Context(), opt, cmd.OutOrStdout())
			return err
		},
	}
	f := cmd.Flags()
	f.IntSliceVar(&opt.Threads, "threads", []int{1, 2}, "thread counts to compare")
	f.IntVar(&opt.TrainSteps, "steps", 5, "timed training steps per side")
	f.IntVar(&opt.TokenizerReps, "tokenizer-reps", 10, "timed clip encode+decodes per side (images: 10×)")
	f.StringVar(&opt.Tokenizer, "tokenizer", assetPath(assetVideoTok), "video tokenizer weights (missing: a random video.Small)")
	f.StringSliceVar(&opt.Only, "only", nil, "run only these parts: "+strings.Join(bench.Parts, ", "))
	f.StringVar(&opt.Python, "python", "/usr/bin/python3", "Python interpreter with torch")
	f.StringVar(&opt.Peer, "peer", "tools/peer_train.py", "PyTorch peer script")
	f.StringVar(&opt.Out, "out", "docs/bench/engine.json", "JSON report (empty: none)")
	f.BoolVar(&opt.SkipTorch, "no-torch", false, "measure the Go side only")
	return cmd
}

package main

import (
	"github.com/spf13/cobra"

	"github.com/omniar/omniar/pipelines/bench"
)

func newBenchCmd() *cobra.Command {
	var opt bench.Options
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure matmul GFLOP/s and training throughput against PyTorch in the same run",
		Long: `bench times float32 matmuls (through a gorgonia graph, raw OpenBLAS sgemm
and torch.mm) and a training step of the reference decoder (d_model 256,
4 heads, 4 layers, SwiGLU 1024, seq 256, batch 8) against the same network in
PyTorch (tools/peer_train.py), each side at its best thread settings, and
prints the ratio. Results go to --out as JSON.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := bench.Run(cmd.Context(), opt, cmd.OutOrStdout())
			return err
		},
	}
	f := cmd.Flags()
	f.IntSliceVar(&opt.Threads, "threads", []int{1, 2}, "thread counts to compare")
	f.IntVar(&opt.TrainSteps, "steps", 5, "timed training steps per side")
	f.StringVar(&opt.Python, "python", "/usr/bin/python3", "Python interpreter with torch")
	f.StringVar(&opt.Peer, "peer", "tools/peer_train.py", "PyTorch peer script")
	f.StringVar(&opt.Out, "out", "docs/bench/engine.json", "JSON report (empty: none)")
	f.BoolVar(&opt.SkipTorch, "no-torch", false, "measure the Go side only")
	return cmd
}

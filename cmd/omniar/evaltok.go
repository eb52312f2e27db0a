package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/omniar/omniar/internal/atomicfile"
	"github.com/omniar/omniar/pipelines/vtok"
)

func newEvalTokenizerCmd() *cobra.Command {
	var data, ckpt, out, modality string
	var n int
	cmd := &cobra.Command{
		Use:   "tokenizer --ckpt FILE",
		Short: "Reconstruction, per-scale PSNR, codebook usage and token entropy of a video tokenizer on the test splits",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			frames := 17
			if modality == "image" {
				frames = 1
			} else if modality != "video" {
				return usageErrorf("--modality %q: want image or video", modality)
			}
			if ckpt == "" {
				return usageErrorf("--ckpt is required")
			}
			r, err := vtok.Eval(cmd.Context(), data, ckpt, frames, n)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), r)
			if out == "" {
				return nil
			}
			b, _ := json.MarshalIndent(r, "", "  ")
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return err
			}
			return atomicfile.WriteBytes(out, append(b, '\n'))
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", defaultCache("data"), "prepared data directory")
	f.StringVar(&ckpt, "ckpt", "", "tokenizer checkpoint")
	f.StringVar(&modality, "modality", "video", "image (first frames) or video (17-frame clips)")
	f.IntVar(&n, "clips", 200, "test clips per set")
	f.StringVar(&out, "out", "", "JSON report (e.g. docs/eval/tokenizer.json)")
	return cmd
}

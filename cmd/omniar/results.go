package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/omniar/omniar/pipelines/results"
)

func newResultsCmd() *cobra.Command {
	var docs, out, readme string
	cmd := &cobra.Command{
		Use:   "results [--docs DIR] [--out FILE]",
		Short: "Regenerate docs/RESULTS.md from the JSON reports of the eval and bench commands",
		Long: `results reads the JSON reports under --docs (bench/engine.json,
eval/*.json) and writes the results page: throughput vs PyTorch, tokenizer
reconstruction, audio codec, metrics, VideoAR prompt fidelity and the
unified decoder, every number beside the command that produced it and the
pictures beside the reports linked. A missing report is shown as "not
measured yet" with the command that would measure it. The output depends
only on the reports, so rerunning it on the same files gives the same page.`,
		Example: `  omniar results --docs docs --out docs/RESULTS.md --readme README.md`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := results.Write(docs, out); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "wrote", out)
			if readme == "" {
				return nil
			}
			if err := results.WriteReadme(docs, readme); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "wrote the results block of", readme)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&docs, "docs", "docs", "directory holding bench/ and eval/")
	f.StringVar(&out, "out", "docs/RESULTS.md", "page to write")
	f.StringVar(&readme, "readme", "", "also rewrite the headline block between the results markers of this README")
	return cmd
}

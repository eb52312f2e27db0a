package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/omniar/omniar/datasets"
	"github.com/omniar/omniar/pipelines/data"
)

// defaultCache is $XDG_CACHE_HOME/omniar (or ~/.cache/omniar), where `make
// data` puts the data sets and the unpacked source packages.
func defaultCache(sub string) string {
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = "."
		}
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "omniar", sub)
}

func newDataCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "data",
		Short: "Prepare, verify and describe the data sets",
	}
	dir := defaultCache("data")
	cmd.PersistentFlags().StringVar(&dir, "dir", dir, "data directory")
	cmd.AddCommand(newDataPrepareCmd(&dir), newDataVerifyCmd(&dir), newDataReportCmd(&dir))
	return cmd
}

func newDataPrepareCmd(dir *string) *cobra.Command {
	var src string
	opt := data.Options{}
	cmd := &cobra.Command{
		Use:   "prepare",
		Short: "Build every data set from the Debian packages (idempotent)",
		Long: `prepare builds the digits, Moving-digits clips, real video clips, spoken words,
quotations and understanding pairs into --dir and writes a manifest (path,
SHA-256, split, labels). A directory that already verifies is left as it is.
The sources come from ` + "`make data-deps`" + ` (Debian packages opencv-doc, fortunes,
espeak-ng, alsa-utils, lame).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opt.Dir = *dir
			opt.Src = datasets.DefaultSources(src)
			m, err := data.Prepare(cmd.Context(), opt)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d files in %s\n", len(m.Entries), opt.Dir)
			return nil
		},
	}
	cmd.Flags().StringVar(&src, "src", defaultCache("src"), "where opencv-doc is unpacked (make data-deps)")
	cmd.Flags().BoolVar(&opt.Force, "force", false, "rebuild even if the directory verifies")
	return cmd
}

func newDataVerifyCmd(dir *string) *cobra.Command {
	return &cobra.Command{
		Use:   "verify",
		Short: "Check every data file against the manifest",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := data.Verify(*dir)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %d files in %s match the manifest\n", len(m.Entries), *dir)
			return nil
		},
	}
}

func newDataReportCmd(dir *string) *cobra.Command {
	out := "docs"
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Write docs/DATA.md: counts per split and pictures drawn from the data",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := data.Report(*dir, out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", filepath.Join(out, "DATA.md"))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", out, "docs directory")
	return cmd
}

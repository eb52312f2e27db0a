package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/omniar/omniar/internal/blas"
	"github.com/spf13/cobra"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the OmniAR version, Go version, BLAS and platform",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(),
				"omniar %s\ngo:       %s\nblas:     %s\nplatform: %s/%s\n",
				moduleVersion(), runtime.Version(), blas.Name, runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}

// moduleVersion is the main module's version from the build info, or "devel"
// for builds from a work tree.
func moduleVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		if v := info.Main.Version; v != "" && v != "(devel)" {
			return v
		}
	}
	return "devel"
}

// Command omniar is the OmniAR command-line interface: `omniar <verb> [flags]`.
//
// Exit codes: 0 on success, 1 when the work fails, 2 on usage errors (unknown
// command or flag, bad arguments). Errors are printed once to stderr as
// "omniar: <message>"; usage errors add a hint to run --help.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/omniar/omniar/internal/blas"
)

func main() {
	blas.Install()
	// Ctrl-C or SIGTERM cancels the command's context so long jobs can stop
	// cleanly and save; a second signal kills the process.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the command line args and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if args == nil {
		args = []string{} // nil would make cobra read os.Args
	}
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "omniar: %v\n", err)
		if isUsageError(err) {
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
	}
	return exitCode(err)
}

// exitCode maps the error a command returned to the process exit code.
func exitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case isUsageError(err):
		return 2
	default:
		return 1
	}
}

// usageError marks an error as the caller's mistake (exit code 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usageErrorf returns a usage error; verbs use it for bad flag values or
// arguments that cobra's validators cannot check.
func usageErrorf(format string, a ...any) error {
	return &usageError{fmt.Errorf(format, a...)}
}

func isUsageError(err error) bool {
	var u *usageError
	return errors.As(err, &u)
}

package main

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
)

// newRootCmd builds the command tree. To add a verb, write newXxxCmd in its own
// file and list it in AddCommand below; positional-argument validators (Args)
// and flag errors are turned into usage errors (exit code 2) automatically.
//
// It also makes slog's default logger write text lines to the root's stderr at
// the --log-level level.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "omniar",
		Short: "Unified multimodal autoregressive generation: text, images, video and audio",
		Long: `omniar tokenizes text, images, video and audio, trains one sparse
mixture-of-experts decoder on all of them, generates and understands media,
and scores generated video.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// cobra sets this default only on its own unknown-command path.
		SuggestionsMinimumDistance: 2,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &usageError{err}
	})

	level := new(slog.LevelVar)
	root.PersistentFlags().Var(levelFlag{level}, "log-level", "log level: debug, info, warn or error")
	slog.SetDefault(slog.New(slog.NewTextHandler(
		writerFunc(func(p []byte) (int, error) { return root.ErrOrStderr().Write(p) }),
		&slog.HandlerOptions{Level: level})))

	root.AddCommand(
		newVersionCmd(),
		newBenchCmd(),
		newTrainCmd(),
		newDataCmd(),
		newTokenizerCmd(),
		newEvalCmd(),
		newGenerateCmd(),
		newResultsCmd(),
		newUnderstandCmd(),
		newInspectCmd(),
	)

	root.InitDefaultCompletionCmd()
	enforceConventions(root)
	return root
}

// enforceConventions walks the command tree: bad positional arguments become
// usage errors, and a command with subcommands rejects unknown ones (instead
// of cobra's default of printing help and exiting 0).
func enforceConventions(c *cobra.Command) {
	if c.Args == nil && c.HasSubCommands() {
		c.Args = noSubcommand
	}
	if c.Args != nil {
		validate := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			err := validate(cmd, args)
			if err != nil && !isUsageError(err) {
				err = &usageError{err}
			}
			return err
		}
	}
	if c.HasSubCommands() && !c.Runnable() {
		c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	}
	for _, sub := range c.Commands() {
		enforceConventions(sub)
	}
}

// noSubcommand rejects arguments to a command that only has subcommands.
func noSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return usageErrorf("%s", msg)
}

// levelFlag is the --log-level flag value.
type levelFlag struct{ v *slog.LevelVar }

func (f levelFlag) String() string {
	if f.v == nil {
		return "info"
	}
	return strings.ToLower(f.v.Level().String())
}
func (f levelFlag) Set(s string) error { return f.v.UnmarshalText([]byte(s)) }
func (f levelFlag) Type() string       { return "level" }

type writerFunc func(p []byte) (int, error)

func (w writerFunc) Write(p []byte) (int, error) { return w(p) }

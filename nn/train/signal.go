package train

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// SignalContext returns a context that is cancelled on SIGINT (Ctrl-C) or
// SIGTERM, for Run's clean stop. After the first signal the default
// handling is restored, so a second Ctrl-C kills the process at once. Call
// cancel when done to release the signal handler.
func SignalContext(parent context.Context) (ctx context.Context, cancel context.CancelFunc) {
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
		if cause := context.Cause(ctx); cause != context.Canceled && parent.Err() == nil {
			slog.Warn("train: stop requested; finishing the current step and saving (signal again to abort)", "cause", cause)
		}
	}()
	return ctx, stop
}

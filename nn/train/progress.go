package train

import (
	"fmt"
	"log/slog"
	"math"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// reporter shows training progress.
type reporter interface {
	update(st stepStats)
	finish()
}

// newReporter returns a progress bar when stderr is a terminal and a
// periodic logger otherwise. start is the step the run begins at.
func newReporter(cfg Config, start int) reporter {
	m := meter{cfg: cfg, start: start, t0: time.Now()}
	if term.IsTerminal(int(os.Stderr.Fd())) {
		return newBarReporter(m)
	}
	return &logReporter{meter: m}
}

// meter turns step counts and wall time into rates for this process's part
// of the run.
type meter struct {
	cfg   Config
	start int
	t0    time.Time
}

// rates returns steps/s, tokens/s and the estimated time to finish.
func (m meter) rates(step int) (stepsPerSec, tokensPerSec float64, eta time.Duration) {
	el := time.Since(m.t0).Seconds()
	done := step - m.start
	if el <= 0 || done <= 0 {
		return 0, 0, 0
	}
	stepsPerSec = float64(done) / el
	tokensPerSec = stepsPerSec * float64(m.cfg.Accum*m.cfg.TokensPerBatch)
	eta = time.Duration(float64(m.cfg.Steps-step) / stepsPerSec * float64(time.Second))
	return stepsPerSec, tokensPerSec, eta
}

// logReporter writes an slog line every LogEvery steps and at the last step.
type logReporter struct{ meter }

func (r *logReporter) update(st stepStats) {
	if st.step%r.cfg.LogEvery != 0 && st.step != r.cfg.Steps {
		return
	}
	sps, tps, eta := r.rates(st.step)
	slog.Info("train", "step", st.step, "of", r.cfg.Steps, "loss", st.loss, "lr", st.lr,
		"grad_norm", st.gradNorm, "steps_per_s", round3(sps), "tokens_per_s", round3(tps),
		"eta", eta.Round(time.Second))
}

func (r *logReporter) finish() {}

// prefix names the resumed step, since the bar counts this run's steps.
func (m meter) prefix() string {
	if m.start == 0 {
		return ""
	}
	return fmt.Sprintf("(resumed at %d) ", m.start)
}

// barReporter draws a progress bar on stderr with ETA, steps/s, loss,
// learning rate, gradient norm and tokens/s; it counts this process's steps.
type barReporter struct {
	meter
	bar *progressbar.ProgressBar
}

func newBarReporter(m meter) *barReporter {
	bar := progressbar.NewOptions(m.cfg.Steps-m.start,
		progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionSetDescription(m.prefix()),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("step"),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionShowDescriptionAtLineEnd(),
		progressbar.OptionSetWidth(30),
	)
	return &barReporter{meter: m, bar: bar}
}

func (r *barReporter) update(st stepStats) {
	_, tps, _ := r.rates(st.step)
	// Add first: Describe renders, and a render right after it would be
	// throttled away, leaving the count one step behind.
	_ = r.bar.Add(1) // rendering errors only affect the display
	r.bar.Describe(fmt.Sprintf("%sloss %.4f lr %.2e |g| %.3g %s tok/s",
		r.prefix(), st.loss, st.lr, st.gradNorm, humanRate(tps)))
}

func (r *barReporter) finish() {
	if !r.bar.IsFinished() {
		_ = r.bar.Exit() // stopped early: keep the bar as it is
	}
	fmt.Fprintln(os.Stderr)
}

func humanRate(x float64) string {
	switch {
	case x >= 1e6:
		return fmt.Sprintf("%.1fM", x/1e6)
	case x >= 1e3:
		return fmt.Sprintf("%.1fk", x/1e3)
	}
	return fmt.Sprintf("%.0f", x)
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

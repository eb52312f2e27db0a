package speech

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/omniar/omniar/audio"
	"github.com/omniar/omniar/datasets"
)

// synthesise runs espeak-ng for every utterance on a pool of workers,
// converts each clip to 16 kHz mono and writes it; entries come back in
// job order. The first failure stops the pool and is returned.
func synthesise(ctx context.Context, dir, espeak string, jobs []utterance, workers int) ([]datasets.Entry, error) {
	scratch, cleanup, err := tempDir()
	if err != nil {
		return nil, err
	}
	defer cleanup()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	out := make([]datasets.Entry, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	var done atomic.Int64
	for w := range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tmp := filepath.Join(scratch, "w"+strconv.Itoa(w)+".wav")
			for i := range next {
				e, err := speak(ctx, dir, espeak, tmp, jobs[i])
				if err != nil {
					cancel(err)
					continue
				}
				out[i] = e
				if n := done.Add(1); n%1000 == 0 {
					slog.Info("speech: synthesised", "clips", n, "of", len(jobs))
				}
			}
		}()
	}
	feed(ctx, next, len(jobs))
	wg.Wait()
	switch err := context.Cause(ctx); {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return nil, fmt.Errorf("speech: synthesis stopped: %w", err)
	case err != nil:
		return nil, err
	}
	return out, nil
}

// feed sends 0…n-1 on next until done or ctx ends, then closes next.
func feed(ctx context.Context, next chan<- int, n int) {
	defer close(next)
	for i := 0; i < n; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
			return
		}
	}
}

// speak makes one utterance: espeak-ng to tmp, then 16 kHz mono to dir.
func speak(ctx context.Context, dir, espeak, tmp string, u utterance) (datasets.Entry, error) {
	args := []string{"-v", u.voice.arg(), "-s", strconv.Itoa(u.speed), "-p", strconv.Itoa(u.pitch), "-w", tmp, u.text}
	if out, err := exec.CommandContext(ctx, espeak, args...).CombinedOutput(); err != nil {
		return datasets.Entry{}, fmt.Errorf("speech: %s %s: %w: %s", espeak, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return convert(dir, tmp, u.rel, u.split, KindWAV, u.labels())
}

// headroom scales every clip by −1 dB before resampling: espeak-ng's
// loudest variants peak at full scale, and band-limiting a full-scale
// signal overshoots, which would otherwise be clipped.
const headroom = 0.891

// convert decodes src, resamples it to 16 kHz mono and writes it to dir/rel.
func convert(dir, src, rel, split, kind string, labels map[string]string) (datasets.Entry, error) {
	c, err := audio.ReadFile(src)
	if err != nil {
		return datasets.Entry{}, fmt.Errorf("speech: %s: %w", rel, err)
	}
	for i := range c.Samples {
		c.Samples[i] *= headroom
	}
	data, err := audio.EncodeWAV(audio.ToMono16k(c))
	if err != nil {
		return datasets.Entry{}, fmt.Errorf("speech: %s: %w", rel, err)
	}
	return datasets.WriteFile(dir, rel, data, split, kind, labels)
}

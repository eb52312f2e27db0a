package nn

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// OpStats, when non-nil, accumulates wall time per kernel name: the
// per-op profile of `omniar bench` (pprof attributes BLAS time to cgo).
var OpStats *Stats

// Stats is wall time and call count per op name.
type Stats struct {
	// Detail keeps each op's full description (its shapes) instead of
	// pooling ops of one kind.
	Detail bool
	mu     sync.Mutex
	time   map[string]time.Duration
	calls  map[string]int
}

// NewStats makes an empty table.
func NewStats() *Stats { return &Stats{time: map[string]time.Duration{}, calls: map[string]int{}} }

func (s *Stats) add(name string, d time.Duration) {
	if i := strings.IndexByte(name, '{'); i >= 0 && !s.Detail {
		name = name[:i]
	}
	s.mu.Lock()
	s.time[name] += d
	s.calls[name]++
	s.mu.Unlock()
}

// Table lists ops by total time, each with its share.
func (s *Stats) Table(per int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.time))
	var total time.Duration
	for n, d := range s.time {
		names = append(names, n)
		total += d
	}
	sort.Slice(names, func(i, j int) bool { return s.time[names[i]] > s.time[names[j]] })
	var b strings.Builder
	fmt.Fprintf(&b, "%-20s %12s %6s %8s\n", "op", "ms/step", "share", "calls")
	for _, n := range names {
		d := s.time[n]
		fmt.Fprintf(&b, "%-20s %12.1f %5.1f%% %8d\n", n, float64(d.Microseconds())/1e3/float64(per), 100*float64(d)/float64(total), s.calls[n]/per)
	}
	fmt.Fprintf(&b, "%-20s %12.1f\n", "total custom ops", float64(total.Microseconds())/1e3/float64(per))
	return b.String()
}

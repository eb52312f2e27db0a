//go:build unix

package textcorpus

import (
	"syscall"
	"time"
)

// CPUTime is the CPU time (user + system) the process has used; on a busy
// machine it measures the work, where wall-clock time also counts waiting.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

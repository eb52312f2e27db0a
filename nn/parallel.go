package nn

import (
	"runtime"
	"sync"
)

// parallelFor runs fn over [0, n) split into one contiguous chunk per
// GOMAXPROCS worker. Elementwise kernels use it: OpenBLAS threads sleep
// between matmuls, so the cores are free for Go while these run.
// Small n (< grain) runs inline.
func parallelFor(n, grain int, fn func(lo, hi int)) {
	w := runtime.GOMAXPROCS(0)
	if w > n/max(grain, 1) {
		w = n / max(grain, 1)
	}
	if w <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + w - 1) / w
	for lo := chunk; lo < n; lo += chunk {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
		}(lo, min(lo+chunk, n))
	}
	fn(0, min(chunk, n))
	wg.Wait()
}

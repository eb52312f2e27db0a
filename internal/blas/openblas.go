//go:build cgo && !purego

package blas

/*
#cgo LDFLAGS: -lopenblas
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
*/
import "C"

import "gonum.org/v1/netlib/blas/netlib"

// Name says which BLAS Install installs.
const Name = "openblas"

// Install installs OpenBLAS.
func Install() { install(netlib.Implementation{}) }

// SetThreads sets the number of OpenBLAS threads (n ≤ 0 leaves it as is).
func SetThreads(n int) {
	if n > 0 {
		C.openblas_set_num_threads(C.int(n))
	}
}

// Threads reports the number of OpenBLAS threads.
func Threads() int { return int(C.openblas_get_num_threads()) }

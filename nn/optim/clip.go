package optim

import "math"

// GlobalNorm returns the L2 norm of all gradients together, summed in
// float64.
func GlobalNorm(grads [][]float32) float64 {
	var sum float64
	for _, g := range grads {
		for _, x := range g {
			sum += float64(x) * float64(x)
		}
	}
	return math.Sqrt(sum)
}

// ClipGlobalNorm scales all gradients in place by maxNorm/norm when their
// global L2 norm exceeds maxNorm, and returns the norm before clipping.
// maxNorm <= 0 disables clipping. A non-finite norm is returned as it is and
// the gradients are left untouched, so the caller can detect it.
func ClipGlobalNorm(grads [][]float32, maxNorm float64) (norm float64) {
	norm = GlobalNorm(grads)
	if maxNorm <= 0 || !(norm > maxNorm) || math.IsInf(norm, 0) {
		return norm
	}
	s := float32(maxNorm / norm)
	for _, g := range grads {
		scale(g, s)
	}
	return norm
}

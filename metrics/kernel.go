package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// KernelDistance is the unbiased estimate of the squared maximum mean
// discrepancy between x [N, D] and y [M, D] with the polynomial kernel
// k(a, b) = (aᵀb/D + 1)³ of KID (Bińkowski et al. 2018) and KVD:
//
//	Σ_{i≠j} k(xᵢ,xⱼ)/(N(N−1)) + Σ_{i≠j} k(yᵢ,yⱼ)/(M(M−1)) − 2 Σ k(xᵢ,yⱼ)/(NM)
//
// It is unbiased at any sample count (so it can be negative); N, M ≥ 2.
func KernelDistance(x, y mat.Matrix) (float64, error) {
	_, dx, err := checkFeatures(x, MinSamples)
	if err != nil {
		return 0, fmt.Errorf("kernel distance: first set: %w", err)
	}
	_, dy, err := checkFeatures(y, MinSamples)
	if err != nil {
		return 0, fmt.Errorf("kernel distance: second set: %w", err)
	}
	if dx != dy {
		return 0, fmt.Errorf("kernel distance: feature dimensions differ (%d vs %d)", dx, dy)
	}
	return mmd2(x, y, dx), nil
}

// mmd2 is the unbiased MMD² of checked sets.
func mmd2(x, y mat.Matrix, d int) float64 {
	n, _ := x.Dims()
	m, _ := y.Dims()
	kxx := kernelSum(x, x, d, true)
	kyy := kernelSum(y, y, d, true)
	kxy := kernelSum(x, y, d, false)
	return kxx/float64(n*(n-1)) + kyy/float64(m*(m-1)) - 2*kxy/float64(n*m)
}

// kernelSum is Σ k(aᵢ, bⱼ), without the diagonal if offDiag.
func kernelSum(a, b mat.Matrix, d int, offDiag bool) float64 {
	var g mat.Dense // [N, M] Gram matrix
	g.Mul(a, b.T())
	r, c := g.Dims()
	var s float64
	for i := 0; i < r; i++ {
		for j, v := range g.RawRowView(i)[:c] {
			if offDiag && i == j {
				continue
			}
			k := v/float64(d) + 1
			s += k * k * k
		}
	}
	return s
}

// KernelSubsets is KID as usually reported: the mean and standard
// deviation of KernelDistance over subsets random subsets of size samples
// drawn without replacement from each set (size is cut to the smaller set).
func KernelSubsets(x, y mat.Matrix, size, subsets int, seed uint64) (mean, std float64, err error) {
	n, dx, err := checkFeatures(x, MinSamples)
	if err != nil {
		return 0, 0, fmt.Errorf("kernel subsets: first set: %w", err)
	}
	m, dy, err := checkFeatures(y, MinSamples)
	if err != nil {
		return 0, 0, fmt.Errorf("kernel subsets: second set: %w", err)
	}
	switch {
	case dx != dy:
		return 0, 0, fmt.Errorf("kernel subsets: feature dimensions differ (%d vs %d)", dx, dy)
	case size < MinSamples || subsets < 1:
		return 0, 0, fmt.Errorf("kernel subsets: subset size %d and count %d, want ≥ %d and ≥ 1", size, subsets, MinSamples)
	}
	size = min(size, n, m)
	rng := rand.New(rand.NewPCG(seed, 0x4b4944))
	vals := make([]float64, subsets)
	for s := range vals {
		xs := rows(x, rng.Perm(n)[:size])
		ys := rows(y, rng.Perm(m)[:size])
		vals[s] = mmd2(xs, ys, dx)
	}
	mean, std = meanStd(vals)
	return mean, std, nil
}

// rows gathers rows idx of x into a new matrix.
func rows(x mat.Matrix, idx []int) *mat.Dense {
	_, d := x.Dims()
	out := mat.NewDense(len(idx), d, nil)
	for i, r := range idx {
		row := out.RawRowView(i)
		for j := range row {
			row[j] = x.At(r, j)
		}
	}
	return out
}

// meanStd is the mean and the population standard deviation of v.
func meanStd(v []float64) (mean, std float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(v)))
}

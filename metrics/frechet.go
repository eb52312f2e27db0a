// Package metrics scores generated media: Fréchet distances between
// Gaussians fitted to features (FVD, FVD-style, FID-style), the kernel
// distance KVD/KID, bootstrap intervals, reconstruction scores (PSNR, SSIM,
// codebook usage, SI-SNR, log-mel distance), the attribute judge that reads
// the digit and the motion direction of a Moving-digits clip, and the frozen
// feature networks (the digit classifier, the video classifier).
//
// Feature sets are gonum matrices [N, D]: one row per sample. Everything
// statistical runs in float64.
package metrics

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// MinSamples is the smallest feature set a Gaussian can be fitted to (the
// unbiased covariance divides by N−1).
const MinSamples = 2

// ErrTooFew reports a feature set smaller than MinSamples.
var ErrTooFew = errors.New("too few samples")

// Gaussian is a mean and an unbiased covariance fitted to N feature vectors.
type Gaussian struct {
	Mean []float64     // [D]
	Cov  *mat.SymDense // [D, D]
	N    int
}

// Dim is the feature dimension.
func (g Gaussian) Dim() int { return len(g.Mean) }

// RankDeficient reports whether the covariance is necessarily singular
// (fewer samples than dimensions + 1): the Fréchet distance is still
// defined, but noisy, and reports should say so.
func (g Gaussian) RankDeficient() bool { return g.N <= g.Dim() }

// checkFeatures rejects empty, too small or non-finite feature sets.
func checkFeatures(x mat.Matrix, min int) (n, d int, err error) {
	if x == nil {
		return 0, 0, fmt.Errorf("no features: %w", ErrTooFew)
	}
	n, d = x.Dims()
	if n < min {
		return n, d, fmt.Errorf("%d samples, need at least %d: %w", n, min, ErrTooFew)
	}
	if d == 0 {
		return n, d, errors.New("features have dimension 0")
	}
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			if v := x.At(i, j); math.IsNaN(v) || math.IsInf(v, 0) {
				return n, d, fmt.Errorf("feature [%d, %d] is %v", i, j, v)
			}
		}
	}
	return n, d, nil
}

// FitGaussian fits a Gaussian to x [N, D]: the mean and the unbiased
// covariance Σ = XcᵀXc/(N−1) (two-pass, as numpy.cov). N ≥ MinSamples.
func FitGaussian(x mat.Matrix) (Gaussian, error) {
	n, d, err := checkFeatures(x, MinSamples)
	if err != nil {
		return Gaussian{}, fmt.Errorf("fit gaussian: %w", err)
	}
	mean := make([]float64, d)
	for i := 0; i < n; i++ {
		for j := range mean {
			mean[j] += x.At(i, j)
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	xc := mat.NewDense(n, d, nil) // [N, D] centred
	for i := 0; i < n; i++ {
		row := xc.RawRowView(i)
		for j := range row {
			row[j] = x.At(i, j) - mean[j]
		}
	}
	cov := mat.NewSymDense(d, nil)
	cov.SymOuterK(1/float64(n-1), xc.T())
	return Gaussian{Mean: mean, Cov: cov, N: n}, nil
}

// Frechet is the Fréchet distance between the Gaussians fitted to x and y
// ([N, D] and [M, D]), the quantity of FID and FVD:
//
//	‖μx − μy‖² + tr Σx + tr Σy − 2 tr (Σx Σy)^½
func Frechet(x, y mat.Matrix) (float64, error) {
	gx, err := FitGaussian(x)
	if err != nil {
		return 0, fmt.Errorf("frechet: first set: %w", err)
	}
	gy, err := FitGaussian(y)
	if err != nil {
		return 0, fmt.Errorf("frechet: second set: %w", err)
	}
	return FrechetGaussians(gx, gy)
}

// FrechetGaussians is the Fréchet distance between two fitted Gaussians.
// The trace of (Σ1Σ2)^½ is computed from the symmetric PSD matrix
// Σ1^½ Σ2 Σ1^½, which has the same eigenvalues, with two symmetric
// eigendecompositions; eigenvalues below the rounding-noise floor
// n·ε·max|λ| (including tiny negative ones) are set to 0, so singular (rank-deficient) covariances need no ε-regularisation.
// The result is clipped at 0.
func FrechetGaussians(a, b Gaussian) (float64, error) {
	if a.Dim() != b.Dim() || a.Cov == nil || b.Cov == nil {
		return 0, fmt.Errorf("frechet: feature dimensions differ (%d vs %d) or covariance missing", a.Dim(), b.Dim())
	}
	var dm float64
	for i, m := range a.Mean {
		dm += (m - b.Mean[i]) * (m - b.Mean[i])
	}
	tr, err := TraceSqrtProduct(a.Cov, b.Cov)
	if err != nil {
		return 0, fmt.Errorf("frechet: %w", err)
	}
	d := dm + trace(a.Cov) + trace(b.Cov) - 2*tr
	return math.Max(d, 0), nil
}

func trace(s *mat.SymDense) float64 {
	var t float64
	for i := 0; i < s.SymmetricDim(); i++ {
		t += s.At(i, i)
	}
	return t
}

// SqrtPSD is the symmetric square root V diag(√max(λ, 0)) Vᵀ of a symmetric
// positive semi-definite matrix s.
func SqrtPSD(s *mat.SymDense) (*mat.SymDense, error) {
	var es mat.EigenSym
	if !es.Factorize(s, true) {
		return nil, errors.New("eigendecomposition of the covariance did not converge")
	}
	vals := es.Values(nil)
	var v mat.Dense
	es.VectorsTo(&v)
	n := len(vals)
	tol := noiseFloor(vals)
	vs := mat.NewDense(n, n, nil) // V diag(λ^¼): (V D^¼)(V D^¼)ᵀ = V D^½ Vᵀ
	for j, l := range vals {
		r := math.Sqrt(math.Sqrt(clipEig(l, tol)))
		for i := 0; i < n; i++ {
			vs.Set(i, j, v.At(i, j)*r)
		}
	}
	out := mat.NewSymDense(n, nil)
	out.SymOuterK(1, vs)
	return out, nil
}

// TraceSqrtProduct is tr (s1 s2)^½ for symmetric PSD s1 and s2 [D, D],
// computed as Σ √max(λᵢ, 0) over the eigenvalues λ of s1^½ s2 s1^½.
func TraceSqrtProduct(s1, s2 *mat.SymDense) (float64, error) {
	if s1.SymmetricDim() != s2.SymmetricDim() {
		return 0, fmt.Errorf("covariances are %d×%d and %d×%d", s1.SymmetricDim(), s1.SymmetricDim(), s2.SymmetricDim(), s2.SymmetricDim())
	}
	r, err := SqrtPSD(s1)
	if err != nil {
		return 0, err
	}
	n := s1.SymmetricDim()
	var t, m mat.Dense
	t.Mul(r, s2)
	m.Mul(&t, r)
	sym := mat.NewSymDense(n, nil) // (M + Mᵀ)/2: M is symmetric up to rounding
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			sym.SetSym(i, j, (m.At(i, j)+m.At(j, i))/2)
		}
	}
	var es mat.EigenSym
	if !es.Factorize(sym, false) {
		return 0, errors.New("eigendecomposition of Σ1^½ Σ2 Σ1^½ did not converge")
	}
	vals := es.Values(nil)
	tol := noiseFloor(vals)
	var tr float64
	for _, l := range vals {
		tr += math.Sqrt(clipEig(l, tol))
	}
	return tr, nil
}

// noiseFloor is the size below which an eigenvalue of a symmetric PSD
// matrix is rounding noise: n·ε·max|λ|.
func noiseFloor(vals []float64) float64 {
	var m float64
	for _, l := range vals {
		m = math.Max(m, math.Abs(l))
	}
	return float64(len(vals)) * 0x1p-52 * m
}

// clipEig sets eigenvalues below the noise floor (including the small
// negative ones rounding makes of zeros) to 0.
func clipEig(l, tol float64) float64 {
	if l <= tol {
		return 0
	}
	return l
}

package metrics

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// Statistic compares two feature sets ([N, D] and [M, D]), e.g. Frechet or
// KernelDistance.
type Statistic func(x, y mat.Matrix) (float64, error)

// Interval is a statistic with its bootstrap percentile interval.
type Interval struct {
	Value  float64 `json:"value"` // on the full sets
	Lo     float64 `json:"lo"`    // lower percentile of the replicates
	Hi     float64 `json:"hi"`    // upper percentile of the replicates
	Level  float64 `json:"level"` // e.g. 0.95
	Reps   int     `json:"reps"`
	StdDev float64 `json:"std"`   // of the replicates
	Shift  float64 `json:"shift"` // Value − median of the replicates (see Bootstrap)
}

// String prints "v [lo, hi]".
func (iv Interval) String() string {
	if iv.Reps == 0 {
		return fmt.Sprintf("%.4g", iv.Value)
	}
	return fmt.Sprintf("%.4g [%.4g, %.4g]", iv.Value, iv.Lo, iv.Hi)
}

// Bootstrap evaluates stat on x and y and on reps resamples of both (rows
// drawn with replacement, each set resampled to its own size), and returns
// the value with the central level percentile interval of the replicates
// (level 0 means 0.95), shifted so that the replicates' median falls on
// the value. The shift matters: a resample holds only about 63% distinct
// rows, and the repeated ones make Fréchet and kernel distances of the
// replicates systematically larger (on 1,000 vs 1,000 real clips the
// replicates' median was twice the value), so the raw percentile interval
// need not even contain the estimate. The spread of the replicates is kept
// as the uncertainty. reps 0 returns the value alone.
func Bootstrap(x, y mat.Matrix, stat Statistic, reps int, level float64, seed uint64) (Interval, error) {
	if x == nil || y == nil {
		return Interval{}, fmt.Errorf("bootstrap: %w", ErrTooFew)
	}
	v, err := stat(x, y)
	if err != nil {
		return Interval{}, err
	}
	n, _ := x.Dims()
	m, _ := y.Dims()
	return bootstrap(v, reps, level, seed, func(rng *rand.Rand) (float64, error) {
		return stat(rows(x, draw(rng, n)), rows(y, draw(rng, m)))
	})
}

// Paired is the difference of a statistic between two generated sets
// against the same reference, with its paired bootstrap interval.
type Paired struct {
	Interval
	// Above is the share of replicates whose difference is above zero.
	Above float64 `json:"share_above_zero"`
}

// BootstrapPaired compares two generated sets a and b ([M, D] each, row i
// of both made from the same condition, e.g. the same prompt) against one
// reference set x: the value is stat(x, b) − stat(x, a), and each
// replicate draws one resample of x and one set of row indices used for
// both a and b. So the spread of the reference and of the conditions,
// which moves both distances alike, cancels out of the difference, and
// two models whose separate intervals overlap can still be told apart.
// The interval is shifted as in Bootstrap.
func BootstrapPaired(x, a, b mat.Matrix, stat Statistic, reps int, level float64, seed uint64) (Paired, error) {
	if x == nil || a == nil || b == nil {
		return Paired{}, fmt.Errorf("paired bootstrap: %w", ErrTooFew)
	}
	n, _ := x.Dims()
	m, _ := a.Dims()
	if mb, _ := b.Dims(); mb != m {
		return Paired{}, fmt.Errorf("paired bootstrap: the compared sets have %d and %d rows, want the same", m, mb)
	}
	diff := func(x, a, b mat.Matrix) (float64, error) {
		da, err := stat(x, a)
		if err != nil {
			return 0, err
		}
		db, err := stat(x, b)
		return db - da, err
	}
	v, err := diff(x, a, b)
	if err != nil {
		return Paired{}, err
	}
	var above int
	iv, err := bootstrap(v, reps, level, seed, func(rng *rand.Rand) (float64, error) {
		ix, ia := draw(rng, n), draw(rng, m)
		d, err := diff(rows(x, ix), rows(a, ia), rows(b, ia))
		if d > 0 {
			above++
		}
		return d, err
	})
	p := Paired{Interval: iv}
	if reps > 0 {
		p.Above = float64(above) / float64(reps)
	}
	return p, err
}

// bootstrap makes the interval of value v from reps replicates.
func bootstrap(v float64, reps int, level float64, seed uint64, replicate func(*rand.Rand) (float64, error)) (Interval, error) {
	if level == 0 {
		level = 0.95
	}
	if reps < 0 || level <= 0 || level >= 1 {
		return Interval{}, fmt.Errorf("bootstrap: %d replicates at level %g, want ≥ 0 and in (0, 1)", reps, level)
	}
	iv := Interval{Value: v, Level: level, Reps: reps, Lo: v, Hi: v}
	if reps == 0 {
		return iv, nil
	}
	rng := rand.New(rand.NewPCG(seed, 0xb0075))
	reps64 := make([]float64, reps)
	var err error
	for r := range reps64 {
		if reps64[r], err = replicate(rng); err != nil {
			return Interval{}, fmt.Errorf("bootstrap replicate %d: %w", r, err)
		}
	}
	slices.Sort(reps64)
	a := (1 - level) / 2
	iv.Shift = v - Quantile(reps64, 0.5)
	iv.Lo, iv.Hi = Quantile(reps64, a)+iv.Shift, Quantile(reps64, 1-a)+iv.Shift
	_, iv.StdDev = meanStd(reps64)
	return iv, nil
}

// draw is n indices in [0, n) with replacement.
func draw(rng *rand.Rand, n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = rng.IntN(n)
	}
	return idx
}

// Quantile is the q-quantile of sorted values with linear interpolation
// (NumPy's default method); NaN for no values.
func Quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	p := q * float64(len(sorted)-1)
	lo := int(math.Floor(p))
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	f := p - float64(lo)
	return sorted[lo] + f*(sorted[lo+1]-sorted[lo])
}

// FromFloat32 stacks feature vectors into a matrix [N, D]; every vector
// must have the same length and finite values.
func FromFloat32(vecs [][]float32) (*mat.Dense, error) {
	if len(vecs) == 0 {
		return nil, fmt.Errorf("no feature vectors: %w", ErrTooFew)
	}
	d := len(vecs[0])
	if d == 0 {
		return nil, errors.New("feature vectors are empty")
	}
	out := mat.NewDense(len(vecs), d, nil)
	for i, v := range vecs {
		if len(v) != d {
			return nil, fmt.Errorf("feature vector %d has %d values, want %d", i, len(v), d)
		}
		row := out.RawRowView(i)
		for j, f := range v {
			if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
				return nil, fmt.Errorf("feature vector %d has %v at %d", i, f, j)
			}
			row[j] = float64(f)
		}
	}
	return out, nil
}

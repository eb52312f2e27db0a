package nn

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// nearestK quantizes rows: q[m] = codebook[idx[m]] with idx[m] the code
// nearest to x[m] in L2 distance (magnitude-aware, so a near-zero residual
// maps to a near-zero code); x [M, C], codebook [K, C] → [M, C]. It has no
// gradient: quantizers wrap it with a straight-through estimator.
type nearestK struct {
	zero  float32 // dead zone: code 0 wins unless another is nearer by more (squared L2)
	idx   *Ints
	stats *CodeStats // nil, or accumulates the rows each code was chosen for
	norm  *[]float32 // ‖e_k‖², scratch
	dot   *[]float32 // x·eᵀ [M, K], scratch
}

// CodeStats accumulates, while On, what codebook updates need: per code the
// number of rows that chose it and their sum, and a uniform sample of rows
// (to restart dead codes from).
type CodeStats struct {
	On     bool
	Count  []float64   // [K]
	Sum    []float64   // [K, C]
	Sample [][]float32 // up to SampleCap rows
	seen   int
	rng    *rand.Rand
}

// SampleCap bounds CodeStats.Sample.
const SampleCap = 256

// NewCodeStats makes empty statistics for k codes of width c.
func NewCodeStats(k, c int, seed uint64) *CodeStats {
	return &CodeStats{Count: make([]float64, k), Sum: make([]float64, k*c), rng: rand.New(rand.NewPCG(seed, 99))}
}

// Reset clears the counts, sums and sample.
func (s *CodeStats) Reset() {
	clear(s.Count)
	clear(s.Sum)
	s.Sample, s.seen = s.Sample[:0], 0
}

func (s *CodeStats) add(code int, row []float32) {
	s.Count[code]++
	c := len(row)
	for j, v := range row {
		s.Sum[code*c+j] += float64(v)
	}
	s.seen++
	switch {
	case len(s.Sample) < SampleCap:
		s.Sample = append(s.Sample, append([]float32(nil), row...))
	case s.rng.IntN(s.seen) < SampleCap: // reservoir sampling
		copy(s.Sample[s.rng.IntN(SampleCap)], row)
	}
}

func (nearestK) String() string     { return "Nearest" }
func (nearestK) dims() ([]int, int) { return []int{2, 2}, 2 }
func (k nearestK) shape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0][1] != in[1][1] {
		return nil, fmt.Errorf("%v: rows %v and codebook %v differ in width", k, in[0], in[1])
	}
	if len(k.idx.V) != in[0][0] {
		return nil, fmt.Errorf("%v: %d indices for %d rows", k, len(k.idx.V), in[0][0])
	}
	return in[0].Clone(), nil
}

func (k nearestK) forward(q []float32, in []*tensor.Dense) error {
	x, e := in[0].Float32s(), in[1].Float32s()
	m, c, nk := in[0].Shape()[0], in[0].Shape()[1], in[1].Shape()[0]
	if len(*k.norm) != nk {
		*k.norm = make([]float32, nk)
	}
	if len(*k.dot) != m*nk {
		*k.dot = make([]float32, m*nk)
	}
	nearestCodes(x, e, c, k.zero, k.idx.V, *k.norm, *k.dot)
	for i, bi := range k.idx.V {
		copy(q[i*c:(i+1)*c], e[bi*c:(bi+1)*c])
		if k.stats != nil && k.stats.On {
			k.stats.add(bi, x[i*c:(i+1)*c])
		}
	}
	return nil
}

// nearestCodes sets idx[i] to the code of e [K, c] nearest to row i of x
// [M, c] in L2 distance, code 0 unless another is nearer by more than zero
// (squared L2); norm [K] and dot [M·K] are scratch.
func nearestCodes(x, e []float32, c int, zero float32, idx []int, norm, dot []float32) {
	m, nk := len(idx), len(norm)
	for j := 0; j < nk; j++ {
		var s float32
		for _, v := range e[j*c : (j+1)*c] {
			s += v * v
		}
		norm[j] = s
	}
	// argmin_k ‖x − e_k‖² = argmin_k ‖e_k‖² − 2 x·e_k
	sgemm(false, true, m, nk, c, -2, x, c, e, c, 0, dot, nk)
	for i := 0; i < m; i++ {
		row := dot[i*nk : (i+1)*nk]
		best, bi := row[0]+norm[0], 0
		for j := 1; j < nk; j++ {
			if d := row[j] + norm[j]; d < best {
				best, bi = d, j
			}
		}
		if bi != 0 && row[0]+norm[0]-best <= zero {
			bi = 0
		}
		idx[i] = bi
	}
}

// NearestCodes is the graph quantizer's code choice (NearestDeadZone)
// without a graph: for each row of x [M, c], the nearest code of codebook
// [K, c], code 0 unless another is nearer by more than zero.
func NearestCodes(x, codebook []float32, c int, zero float32) []int {
	m, nk := len(x)/c, len(codebook)/c
	idx := make([]int, m)
	nearestCodes(x, codebook, c, zero, idx, make([]float32, nk), make([]float32, m*nk))
	return idx
}

// Nearest returns the codebook row nearest to each row of x and records
// the chosen codes in idx (len = rows of x) and, if stats is not nil and
// on, in stats. No gradient flows through it.
func Nearest(x, codebook *G.Node, idx *Ints, stats *CodeStats) (*G.Node, error) {
	return NearestDeadZone(x, codebook, 0, idx, stats)
}

// NearestDeadZone is Nearest, except that code 0 is chosen unless another
// code is nearer than it by more than zero (in squared L2 distance): with
// code 0 frozen at zero, rows that are nearly zero all take it.
func NearestDeadZone(x, codebook *G.Node, zero float32, idx *Ints, stats *CodeStats) (*G.Node, error) {
	return apply(nearestK{zero: zero, idx: idx, stats: stats, norm: new([]float32), dot: new([]float32)}, x, codebook)
}

// stopK is the identity with no gradient (PyTorch's .detach()).
type stopK struct{ nd int }

func (stopK) String() string                                { return "StopGradient" }
func (k stopK) dims() ([]int, int)                          { return []int{k.nd}, k.nd }
func (stopK) shape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }
func (stopK) forward(y []float32, in []*tensor.Dense) error {
	copy(y, in[0].Float32s())
	return nil
}

// StopGradient passes x through and blocks its gradient.
func StopGradient(x *G.Node) (*G.Node, error) { return apply(stopK{nd: x.Dims()}, x) }

// StraightThrough returns q in the forward pass and passes the gradient to
// x unchanged in the backward pass: x + stop(q − x).
func StraightThrough(x, q *G.Node) (*G.Node, error) {
	d, err := G.Sub(q, x)
	if err != nil {
		return nil, err
	}
	if d, err = StopGradient(d); err != nil {
		return nil, err
	}
	return G.Add(x, d)
}

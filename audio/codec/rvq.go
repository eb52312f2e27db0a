package codec

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/omniar/omniar/nn"
)

// DeadBelow is the smoothed count under which a code restarts from a
// recent residual vector of its depth.
const DeadBelow = 0.03

// rvq is the graph part of the residual quantizer: depth d quantizes what
// depths < d left over, against its own codebook.
type rvq struct {
	cfg   Config
	books []*nn.Input // per depth [Codes, Latent], updated by EMA
	stats []*nn.CodeStats
	idx   []*nn.Ints // per depth, the codes of the last run, rows (n, t)
	count [][]float64
	sum   [][]float64
	src   *rand.PCG // drives rng; saved in training checkpoints
	rng   *rand.Rand
}

// rvqOut is what the quantizer gives the decoder and the loss.
type rvqOut struct {
	prefix []*G.Node // after depths 1…D: [N, Latent, T], straight-through to z
	sum    *G.Node   // the quantized latent of all depths as rows [N·T, Latent] (no gradient)
	commit *G.Node   // mean ‖z − stop(q)‖² (scalar)
}

// newRVQ makes the codebooks: code 0 zero, the rest small random vectors
// that the first EMA update restarts from data (their counts start at 0).
func newRVQ(b *nn.Builder, cfg Config, seed uint64) *rvq {
	q := &rvq{cfg: cfg, src: rand.NewPCG(seed, 11)}
	q.rng = rand.New(q.src)
	s := b.Sub("rvq")
	for d := 0; d < cfg.Depths; d++ {
		in := s.Input(fmt.Sprintf("codebook.%d", d), cfg.Codes, cfg.Latent)
		cb := in.Node.Value().Data().([]float32)
		for i := cfg.Latent; i < len(cb); i++ {
			cb[i] = float32(q.rng.NormFloat64() * 0.1)
		}
		q.books = append(q.books, in)
		q.stats = append(q.stats, nn.NewCodeStats(cfg.Codes, cfg.Latent, seed+uint64(d)))
		q.count = append(q.count, make([]float64, cfg.Codes))
		q.sum = append(q.sum, make([]float64, cfg.Codes*cfg.Latent))
	}
	return q
}

// toRows: [N, C, T] → [N·T, C].
func toRows(z *G.Node) (*G.Node, error) {
	s := z.Shape()
	r, err := G.Reshape(z, []int{s[0], s[1], 1, s[2]})
	if err != nil {
		return nil, err
	}
	return nn.ToRows(r)
}

// fromRows: [N·T, C] → [N, C, T].
func fromRows(r *G.Node, n, t int) (*G.Node, error) {
	z, err := nn.FromRows(r, n, 1, t)
	if err != nil {
		return nil, err
	}
	return G.Reshape(z, []int{n, r.Shape()[1], t})
}

// forward quantizes z [N, Latent, T].
func (q *rvq) forward(z *G.Node) (rvqOut, error) {
	n, t := z.Shape()[0], z.Shape()[2]
	zr, err := toRows(z)
	if err != nil {
		return rvqOut{}, err
	}
	rest, err := nn.StopGradient(zr)
	if err != nil {
		return rvqOut{}, err
	}
	var out rvqOut
	q.idx = q.idx[:0]
	var sum *G.Node
	for d := range q.books {
		idx := nn.NewInts(n * t)
		q.idx = append(q.idx, idx)
		qd, err := nn.Nearest(rest, q.books[d].Node, idx, q.stats[d])
		if err != nil {
			return rvqOut{}, fmt.Errorf("rvq depth %d: %w", d, err)
		}
		if sum == nil {
			sum = qd
		} else if sum, err = G.Add(sum, qd); err != nil {
			return rvqOut{}, err
		}
		if d < len(q.books)-1 {
			if rest, err = G.Sub(rest, qd); err != nil {
				return rvqOut{}, err
			}
		}
		st, err := nn.StraightThrough(zr, sum)
		if err != nil {
			return rvqOut{}, err
		}
		p, err := fromRows(st, n, t)
		if err != nil {
			return rvqOut{}, err
		}
		out.prefix = append(out.prefix, p)
	}
	out.sum = sum
	stop, err := nn.StopGradient(sum)
	if err != nil {
		return rvqOut{}, err
	}
	out.commit, err = nn.MSE(zr, stop)
	return out, err
}

// codes returns the codes of the last run as [N·T][Depths].
func (q *rvq) codes() [][]int {
	m := len(q.idx[0].V)
	out := make([][]int, m)
	for r := range out {
		out[r] = make([]int, len(q.idx))
		for d, idx := range q.idx {
			out[r][d] = idx.V[r]
		}
	}
	return out
}

func (q *rvq) codebook(d int) []float32 {
	return q.books[d].Node.Value().(*tensor.Dense).Float32s()
}

// codebooks copies every depth's codebook, depth-major [D, Codes, Latent].
func (q *rvq) codebooks() []float32 {
	out := make([]float32, 0, q.cfg.Depths*q.cfg.Codes*q.cfg.Latent)
	for d := range q.books {
		out = append(out, q.codebook(d)...)
	}
	return out
}

// update applies the statistics gathered since the last call to every
// depth: cb_k ← EMA(sum_k)/EMA(count_k), code 0 stays zero, codes whose
// smoothed count fell under DeadBelow restart from a sampled residual of
// their depth. It returns the number of restarted codes.
func (q *rvq) update() int {
	dec, c := q.cfg.Decay, q.cfg.Latent
	restarted := 0
	for d, st := range q.stats {
		cb, count, sum := q.codebook(d), q.count[d], q.sum[d]
		for k := 1; k < q.cfg.Codes; k++ {
			count[k] = dec*count[k] + (1-dec)*st.Count[k]
			for j := 0; j < c; j++ {
				sum[k*c+j] = dec*sum[k*c+j] + (1-dec)*st.Sum[k*c+j]
			}
			if count[k] < DeadBelow {
				if len(st.Sample) == 0 {
					continue
				}
				row := st.Sample[q.rng.IntN(len(st.Sample))]
				for j, v := range row {
					sum[k*c+j] = float64(v)
				}
				count[k] = 1
				restarted++
			}
			for j := 0; j < c; j++ {
				cb[k*c+j] = float32(sum[k*c+j] / count[k])
			}
		}
		st.Reset()
	}
	return restarted
}

func (q *rvq) rngState() ([]byte, error)  { return q.src.MarshalBinary() }
func (q *rvq) setRNGState(b []byte) error { return q.src.UnmarshalBinary(b) }

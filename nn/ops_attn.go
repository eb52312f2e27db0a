package nn

import (
	"fmt"
	"math"
	"sync"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Mask says which keys each query may attend to: Allow[i*T+j] lets query i
// see key j. One mask serves every sequence of a batch. Change it between
// runs only through Set (training with random frame masks does).
type Mask struct {
	T     int
	Allow []bool

	mu      sync.Mutex
	planned bool
	plan    maskPlan
}

// Set replaces the mask's pattern; the next run of a graph uses it.
func (m *Mask) Set(allow []bool) error {
	if len(allow) != m.T*m.T {
		return fmt.Errorf("mask: %d entries for %d×%d", len(allow), m.T, m.T)
	}
	m.mu.Lock()
	copy(m.Allow, allow)
	m.planned = false
	m.mu.Unlock()
	return nil
}

// FullMask lets every query see every key.
func FullMask(t int) *Mask {
	m := &Mask{T: t, Allow: make([]bool, t*t)}
	for i := range m.Allow {
		m.Allow[i] = true
	}
	return m
}

// CausalMask lets position i see positions j ≤ i.
func CausalMask(t int) *Mask {
	m := &Mask{T: t, Allow: make([]bool, t*t)}
	for i := 0; i < t; i++ {
		for j := 0; j <= i; j++ {
			m.Allow[i*t+j] = true
		}
	}
	return m
}

// BlockCausalMask lets position i see j when group[j] ≤ group[i]: every
// earlier group and its own group (next-group-of-tokens prediction).
func BlockCausalMask(group []int) *Mask {
	t := len(group)
	m := &Mask{T: t, Allow: make([]bool, t*t)}
	for i := 0; i < t; i++ {
		for j := 0; j < t; j++ {
			m.Allow[i*t+j] = group[j] <= group[i]
		}
	}
	return m
}

// attnBlock is the tile size at which attention skips masked-out work:
// with a causal mask over 256 positions, 4 query tiles need 1, 2, 3 and 4
// key tiles, so the score and gradient matmuls do 10/16 of the dense work.
const attnBlock = 64

// maskPlan is a mask's structure at attnBlock granularity.
type maskPlan struct {
	end    []int  // per query: last allowed key + 1 (0 if none)
	prefix []bool // per query: its allowed keys are exactly [0, end)
	qEnd   []int  // per query tile: keys [0, qEnd) cover every allowed key of its rows
	kBeg   []int  // per key tile: the first query that sees any of its keys (T if none)
}

func (m *Mask) getPlan() *maskPlan {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.planned {
		m.planned = true
		t := m.T
		nb := (t + attnBlock - 1) / attnBlock
		p := maskPlan{end: make([]int, t), prefix: make([]bool, t), qEnd: make([]int, nb), kBeg: make([]int, nb)}
		for b := range p.kBeg {
			p.kBeg[b] = t
		}
		for i := 0; i < t; i++ {
			row := m.Allow[i*t : (i+1)*t]
			n := 0
			for j, ok := range row {
				if ok {
					p.end[i] = j + 1
					n++
					p.kBeg[j/attnBlock] = min(p.kBeg[j/attnBlock], i)
				}
			}
			p.prefix[i] = n == p.end[i]
			p.qEnd[i/attnBlock] = max(p.qEnd[i/attnBlock], p.end[i])
		}
		m.plan = p
	}
	return &m.plan
}

// attnK is multi-head scaled dot-product attention on packed
// qkv [B·T, 3·H·hd] = [q | k | v] (rows batch-major, heads are column
// blocks) → [B·T, H·hd]. It runs sgemms per (batch, head, tile) on strided
// views, so no transposes or splits are materialised, tiles the mask rules
// out are skipped, and its gradient comes back packed like its input.
type attnK struct {
	b, t, h int
	mask    *Mask
	probs   *[]float32 // [B, H, T, T], kept for the backward pass
	ds      *[]float32 // [B, H, T, T], scratch of the backward pass
}

func (k attnK) String() string   { return fmt.Sprintf("Attention{B=%d,T=%d,H=%d}", k.b, k.t, k.h) }
func (attnK) dims() ([]int, int) { return []int{2}, 2 }
func (k attnK) shape(in []tensor.Shape) (tensor.Shape, error) {
	if s := in[0]; s[0] != k.b*k.t || s[1]%(3*k.h) != 0 {
		return nil, fmt.Errorf("%v: qkv shape %v, want [B·T, 3·H·hd]", k, s)
	}
	if k.mask.T != k.t || len(k.mask.Allow) != k.t*k.t {
		return nil, fmt.Errorf("%v: mask is for T=%d", k, k.mask.T)
	}
	return tensor.Shape{in[0][0], in[0][1] / 3}, nil
}

// head is one (batch, head) pair's place in the buffers: i indexes its
// [T, T] block of probabilities, off its first element in packed qkv
// (rows w wide), oo its first element in the output (rows d = w/3 wide).
type head struct{ i, off, oo int }

func (k attnK) heads(w int) []head {
	d := w / 3
	hd := d / k.h
	hs := make([]head, 0, k.b*k.h)
	for b := 0; b < k.b; b++ {
		for h := 0; h < k.h; h++ {
			hs = append(hs, head{i: b*k.h + h, off: b*k.t*w + h*hd, oo: b*k.t*d + h*hd})
		}
	}
	return hs
}

// tiles calls fn for each query tile [r0, r1) that sees keys [0, ke), ke > 0.
func (k attnK) tiles(fn func(r0, r1, ke int)) {
	for qb, ke := range k.mask.getPlan().qEnd {
		if ke > 0 {
			fn(qb*attnBlock, min((qb+1)*attnBlock, k.t), ke)
		}
	}
}

func (k attnK) forward(o []float32, in []*tensor.Dense) error {
	qkv := in[0].Float32s()
	w := in[0].Shape()[1]
	d := w / 3
	q, kk, v := qkv, qkv[d:], qkv[2*d:]
	hd, t := d/k.h, k.t
	scale := float32(1 / math.Sqrt(float64(hd)))
	if len(*k.probs) != k.b*k.h*t*t {
		*k.probs = make([]float32, k.b*k.h*t*t)
	}
	probs := *k.probs
	hs := k.heads(w)
	// Three phases, so the matmuls run on every BLAS thread and the softmax
	// on every goroutine: S = scale·Q Kᵀ, P = softmax(S), O = P V.
	for _, h := range hs {
		k.tiles(func(r0, r1, ke int) {
			sgemm(false, true, r1-r0, ke, hd, scale, q[h.off+r0*w:], w, kk[h.off:], w, 0, probs[h.i*t*t+r0*t:], t)
		})
	}
	parallelFor(k.b*k.h*t, 64, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			k.maskedSoftmax(probs[r*t:(r+1)*t], r%t)
		}
	})
	clear(o)
	for _, h := range hs {
		k.tiles(func(r0, r1, ke int) {
			sgemm(false, false, r1-r0, hd, ke, 1, probs[h.i*t*t+r0*t:], t, v[h.off:], w, 0, o[h.oo+r0*d:], d)
		})
	}
	return nil
}

// maskedSoftmax turns the scores of query i into probabilities in place
// (only keys [0, qEnd) of its tile were computed; the rest become 0). A
// query that may see no key gets all-zero probabilities (a zero output).
func (k attnK) maskedSoftmax(row []float32, i int) {
	p := k.mask.getPlan()
	end := p.end[i]
	if end == 0 {
		clear(row)
		return
	}
	if p.prefix[i] { // causal and block-causal rows: no per-key tests
		SoftmaxRow(row[:end], row[:end])
		clear(row[end:])
		return
	}
	allow := k.mask.Allow[i*k.t : i*k.t+end]
	m := float32(math.Inf(-1))
	for j, ok := range allow {
		if ok {
			m = max(m, row[j])
		}
	}
	s := row[:end]
	for j := range s {
		s[j] -= m
	}
	ExpSlice(s, s)
	var sum float32
	for j, ok := range allow {
		if !ok {
			s[j] = 0
		}
		sum += s[j]
	}
	inv := 1 / sum
	for j := range s {
		s[j] *= inv
	}
	clear(row[end:])
}

func (attnK) diffWRT() []bool { return []bool{true} }
func (k attnK) backward(in G.Nodes, _, dy *G.Node) (G.Nodes, error) {
	dqkv, err := apply(attnGradK(k), in[0], dy)
	return G.Nodes{dqkv}, err
}

// attnGradK computes packed [dQ | dK | dV] → [B·T, 3·H·hd] from qkv, dO
// and the cached probabilities:
//
//	dV = Pᵀ dO,  dP = dO Vᵀ,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),
//	dQ = scale · dS K,  dK = scale · dSᵀ Q.
//
// dQ and dP run per query tile over its keys [0, qEnd); dK and dV per key
// tile over the queries that see it [kBeg, T).
type attnGradK attnK

func (k attnGradK) String() string                              { return "AttentionGrad" }
func (attnGradK) dims() ([]int, int)                            { return []int{2, 2}, 2 }
func (attnGradK) shape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }
func (k attnGradK) forward(out []float32, in []*tensor.Dense) error {
	qkv, do := in[0].Float32s(), in[1].Float32s()
	w := in[0].Shape()[1]
	d := w / 3
	q, kk, v := qkv, qkv[d:], qkv[2*d:]
	dq, dk, dv := out, out[d:], out[2*d:]
	hd, t := d/k.h, k.t
	scale := float32(1 / math.Sqrt(float64(hd)))
	if len(*k.ds) != len(*k.probs) {
		*k.ds = make([]float32, len(*k.probs))
	}
	probs, ds := *k.probs, *k.ds
	fwd := attnK(k)
	hs := fwd.heads(w)
	kBeg := k.mask.getPlan().kBeg
	clear(out) // rows and tiles no query sees keep a zero gradient
	// keyTiles calls fn for each key tile [c0, c1) seen by queries [qb, T).
	keyTiles := func(fn func(c0, c1, qb int)) {
		for kb, qb := range kBeg {
			if qb < t {
				fn(kb*attnBlock, min((kb+1)*attnBlock, t), qb)
			}
		}
	}
	for _, h := range hs {
		P, S := probs[h.i*t*t:], ds[h.i*t*t:]
		keyTiles(func(c0, c1, qb int) {
			sgemm(true, false, c1-c0, hd, t-qb, 1, P[qb*t+c0:], t, do[h.oo+qb*d:], d, 0, dv[h.off+c0*w:], w)
		})
		fwd.tiles(func(r0, r1, ke int) {
			sgemm(false, true, r1-r0, ke, hd, 1, do[h.oo+r0*d:], d, v[h.off:], w, 0, S[r0*t:], t)
		})
	}
	qEnd := k.mask.getPlan().qEnd
	parallelFor(k.b*k.h*t, 64, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			ke := qEnd[(r%t)/attnBlock]
			pr, gr := probs[r*t:r*t+ke], ds[r*t:(r+1)*t]
			var dot float32
			for j, pj := range pr {
				dot += pj * gr[j]
			}
			for j, pj := range pr {
				gr[j] = pj * (gr[j] - dot)
			}
			clear(gr[ke:])
		}
	})
	for _, h := range hs {
		S := ds[h.i*t*t:]
		fwd.tiles(func(r0, r1, ke int) {
			sgemm(false, false, r1-r0, hd, ke, scale, S[r0*t:], t, kk[h.off:], w, 0, dq[h.off+r0*w:], w)
		})
		keyTiles(func(c0, c1, qb int) {
			sgemm(true, false, c1-c0, hd, t-qb, scale, S[qb*t+c0:], t, q[h.off+qb*w:], w, 0, dk[h.off+c0*w:], w)
		})
	}
	return nil
}

// Attention runs multi-head attention on packed qkv [B·T, 3·H·hd] for
// batch b of sequences of length t with h heads → [B·T, H·hd]; mask nil
// means every query sees every key.
func Attention(qkv *G.Node, b, t, h int, mask *Mask) (*G.Node, error) {
	if mask == nil {
		mask = FullMask(t)
	}
	return apply(attnK{b: b, t: t, h: h, mask: mask, probs: new([]float32), ds: new([]float32)}, qkv)
}

package unified

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/blas"

	ob "github.com/omniar/omniar/internal/blas"
	"github.com/omniar/omniar/nn"
)

// The inference path: the trunk's forward pass on plain slices with
// OpenBLAS matmuls and a KV cache, reading the same parameter memory as
// the graph (so it always runs the current weights). It honours the
// current Sub by really skipping layers and experts. Unlike the graph it
// has no capacity limit: every token reaches its top-k experts (with no
// overflow the two paths agree; TestDecodeMatchesGraph).

// Cache holds the keys and values of B sequences for every layer.
type Cache struct {
	B    int
	Len  int         // positions decoded so far
	k, v [][]float32 // per layer: [B][Len·Dim] rows, appended group by group
	sub  Sub
	// The adaptive norms' projections of the conditioning, per layer
	// (Block.adaProj; nil without conditioning), computed again only when
	// the conditioning changes: over a generation it stays the same.
	cond []float32
	ada  [][][]float32
}

// NewCache starts an empty cache for b sequences decoded with the
// trunk's current sub-model.
func (t *Trunk) NewCache(b int) *Cache {
	c := &Cache{B: b, k: make([][]float32, len(t.Blocks)*b), v: make([][]float32, len(t.Blocks)*b), sub: t.sub,
		ada: make([][][]float32, len(t.Blocks))}
	return c
}

// Decode runs one group of n new positions per sequence through the
// trunk: x [B·n, Dim] (sequence-major), pos [n·len(RopeSplit)] the rope
// positions of the group (shared by the B sequences), cond [B·CondDim] or
// nil. The group attends to every cached position and to itself (the
// block-causal mask); its keys and values are appended to the cache. It
// returns the final-normed hidden states [B·n, Dim].
func (t *Trunk) Decode(c *Cache, x []float32, n int, pos []float64, cond []float32) ([]float32, error) {
	return t.decode(c, x, n, pos, cond, false)
}

// Prefill is Decode for n positions that are each their own group (a
// prompt's tokens): position r attends to the cache and to the group's
// positions up to r. One pass over a prompt instead of one per token.
func (t *Trunk) Prefill(c *Cache, x []float32, n int, pos []float64, cond []float32) ([]float32, error) {
	return t.decode(c, x, n, pos, cond, true)
}

func (t *Trunk) decode(c *Cache, x []float32, n int, pos []float64, cond []float32, causal bool) ([]float32, error) {
	cfg := t.Cfg
	d := cfg.Dim
	if c.B <= 0 || n <= 0 || len(x) != c.B*n*d {
		return nil, fmt.Errorf("decode: %d values for %d sequences × %d positions × dim %d", len(x), c.B, n, d)
	}
	if len(pos) != n*len(cfg.RopeSplit) {
		return nil, fmt.Errorf("decode: %d rope positions for %d positions × %d axes", len(pos), n, len(cfg.RopeSplit))
	}
	if (cfg.CondDim > 0) != (cond != nil) || (cond != nil && len(cond) != c.B*cfg.CondDim) {
		return nil, fmt.Errorf("decode: conditioning of %d values, model has cond dim %d for %d sequences", len(cond), cfg.CondDim, c.B)
	}
	if fmt.Sprint(c.sub) != fmt.Sprint(t.sub) {
		return nil, fmt.Errorf("decode: cache was started with sub-model %v, trunk runs %v", c.sub, t.sub)
	}
	if !slices.Equal(cond, c.cond) {
		c.cond = append(c.cond[:0], cond...)
		sc := make([]float32, len(cond)) // SiLU(cond)
		for i, v := range cond {
			sc[i] = v / (1 + float32(math.Exp(-float64(v))))
		}
		for l, blk := range t.Blocks {
			c.ada[l] = blk.adaProj(sc, c.B, cfg.Dim)
		}
	}
	cs, sn := ropeTables(cfg, pos, n)
	h := append([]float32(nil), x...)
	for l, blk := range t.Blocks {
		if !t.sub.Runs(l) {
			continue
		}
		if err := blk.decode(t, c, l, h, n, cs, sn, causal); err != nil {
			return nil, fmt.Errorf("decode layer %d: %w", l, err)
		}
	}
	c.Len += n
	out := make([]float32, len(h))
	t.Norm.Apply(out, h)
	return out, nil
}

// ropeTables returns cos and sin [n, headDim/2] as nn.Rope computes them.
func ropeTables(cfg Config, pos []float64, n int) (cs, sn []float32) {
	half, na := cfg.HeadDim()/2, len(cfg.RopeSplit)
	cs, sn = make([]float32, n*half), make([]float32, n*half)
	for r := 0; r < n; r++ {
		for i := 0; i < half; i++ {
			cs[r*half+i] = 1
		}
		i := 0
		for a, m := range cfg.RopeSplit {
			p := pos[r*na+a]
			for j := 0; j < m; j++ {
				th := p * math.Pow(cfg.RopeBase, -float64(j)/float64(m))
				cs[r*half+i], sn[r*half+i] = float32(math.Cos(th)), float32(math.Sin(th))
				i++
			}
		}
	}
	return cs, sn
}

// decode runs block l on h [B·n, Dim] in place; causal masks each new
// position from the new positions after it.
func (blk *Block) decode(t *Trunk, c *Cache, l int, h []float32, n int, cs, sn []float32, causal bool) error {
	cfg := t.Cfg
	d, rows := cfg.Dim, c.B*n
	u := make([]float32, rows*d)
	// attention branch
	blk.AttnNorm.Apply(u, h)
	ada := c.ada[l]
	modulateRows(u, ada, 0, c.B, n, d)
	qkv := make([]float32, rows*3*d)
	sgemm(false, true, rows, 3*d, d, 1, u, d, blk.Attn.QKV.W.Data(), d, 0, qkv, 3*d)
	applyRope(qkv, cs, sn, cfg.HeadDim(), c.B, n, d)
	o := make([]float32, rows*d)
	hd := cfg.HeadDim()
	scale := float32(1 / math.Sqrt(float64(hd)))
	for b := 0; b < c.B; b++ {
		kc, vc := &c.k[l*c.B+b], &c.v[l*c.B+b]
		if len(*kc) != c.Len*d {
			return fmt.Errorf("cache holds %d positions, want %d (was the sub-model changed mid-sequence?)", len(*kc)/d, c.Len)
		}
		for r := 0; r < n; r++ {
			row := qkv[(b*n+r)*3*d:]
			*kc = append(*kc, row[d:2*d]...)
			*vc = append(*vc, row[2*d:3*d]...)
		}
		L := c.Len + n
		s := make([]float32, n*L)
		for hh := 0; hh < cfg.Heads; hh++ {
			sgemm(false, true, n, L, hd, scale, qkv[b*n*3*d+hh*hd:], 3*d, (*kc)[hh*hd:], d, 0, s, L)
			for r := 0; r < n; r++ {
				row := s[r*L : (r+1)*L]
				if causal {
					row = row[:c.Len+r+1]
					clear(s[r*L+c.Len+r+1 : (r+1)*L])
				}
				nn.SoftmaxRow(row, row)
			}
			sgemm(false, false, n, hd, L, 1, s, L, (*vc)[hh*hd:], d, 0, o[b*n*d+hh*hd:], d)
		}
	}
	a := make([]float32, rows*d)
	sgemm(false, true, rows, d, d, 1, o, d, blk.Attn.Out.W.Data(), d, 0, a, d)
	gateRows(a, ada, 2, c.B, n, d)
	for i, v := range a {
		h[i] += v
	}
	// FFN branch
	blk.FFNNorm.Apply(u, h)
	modulateRows(u, ada, 3, c.B, n, d)
	f := blk.MoE.decode(t.sub, u, rows)
	gateRows(f, ada, 5, c.B, n, d)
	for i, v := range f {
		h[i] += v
	}
	return nil
}

// adaProj returns the adaptive-norm projections of SiLU(cond) sc [B·CondDim]:
// [projection][B·Dim], nil for a block without them.
func (blk *Block) adaProj(sc []float32, bsz, d int) [][]float32 {
	if blk.Ada == nil {
		return nil
	}
	out := make([][]float32, len(blk.Ada.Proj))
	for k, p := range blk.Ada.Proj {
		cd := len(p.W.Data()) / d
		o := make([]float32, bsz*d)
		for b := 0; b < bsz; b++ {
			copy(o[b*d:(b+1)*d], p.B.Data())
		}
		sgemm(false, true, bsz, d, cd, 1, sc, cd, p.W.Data(), cd, 1, o, d)
		out[k] = o
	}
	return out
}

// modulateRows is u·(1 + scale) + shift per sequence (projections k, k+1).
func modulateRows(u []float32, ada [][]float32, k, bsz, n, d int) {
	if ada == nil {
		return
	}
	for b := 0; b < bsz; b++ {
		sh, s := ada[k][b*d:(b+1)*d], ada[k+1][b*d:(b+1)*d]
		for r := 0; r < n; r++ {
			row := u[(b*n+r)*d : (b*n+r+1)*d]
			for j := range row {
				row[j] = row[j]*(1+s[j]) + sh[j]
			}
		}
	}
}

// gateRows is f·(1 + gate) per sequence (projection k).
func gateRows(f []float32, ada [][]float32, k, bsz, n, d int) {
	if ada == nil {
		return
	}
	for b := 0; b < bsz; b++ {
		g := ada[k][b*d : (b+1)*d]
		for r := 0; r < n; r++ {
			row := f[(b*n+r)*d : (b*n+r+1)*d]
			for j := range row {
				row[j] *= 1 + g[j]
			}
		}
	}
}

// decode runs the MoE FFN on u [rows, Dim]: routing per token among the
// sub-model's experts, one matmul pair per used expert on its tokens, and
// the shared experts.
func (m *MoE) decode(s Sub, u []float32, rows int) []float32 {
	c := m.cfg
	d, h := c.Dim, c.ExpertHidden
	out := make([]float32, rows*d)
	if m.Shared != nil {
		sh := c.Shared * h
		swigluRows(out, u, rows, d, sh, m.Shared.GateUp.W.Data(), m.Shared.Down.W.Data())
	}
	if m.Router == nil {
		return out
	}
	a, k := s.experts(c), s.topK(c)
	logits := make([]float32, rows*c.Experts)
	sgemm(false, true, rows, c.Experts, d, 1, u, d, m.Router.W.Data(), d, 0, logits, c.Experts)
	tokens := make([][]int, a)
	gates := make([][]float32, a)
	score := make([]float32, a)
	for r := 0; r < rows; r++ {
		lg := logits[r*c.Experts : r*c.Experts+a]
		copy(score, lg)
		if m.Bias != nil {
			for e := range score {
				score[e] += m.Bias[e]
			}
		}
		sel := make([]int, k)
		for j := range sel {
			best := 0
			for e := 1; e < a; e++ {
				if score[e] > score[best] {
					best = e
				}
			}
			sel[j] = best
			score[best] = float32(math.Inf(-1))
		}
		mx := lg[sel[0]]
		var z float32
		for _, e := range sel {
			z += float32(math.Exp(float64(lg[e] - mx)))
		}
		for _, e := range sel {
			tokens[e] = append(tokens[e], r)
			gates[e] = append(gates[e], float32(math.Exp(float64(lg[e]-mx)))/z)
		}
	}
	for e, toks := range tokens {
		if len(toks) == 0 {
			continue
		}
		buf := make([]float32, len(toks)*d)
		for i, r := range toks {
			copy(buf[i*d:(i+1)*d], u[r*d:(r+1)*d])
		}
		y := make([]float32, len(toks)*d)
		swigluRows(y, buf, len(toks), d, h, m.GateUp.Data()[e*2*h*d:(e+1)*2*h*d], m.Down.Data()[e*d*h:(e+1)*d*h])
		for i, r := range toks {
			g := gates[e][i]
			for j, v := range y[i*d : (i+1)*d] {
				out[r*d+j] += g * v
			}
		}
	}
	return out
}

// swigluRows adds W2(silu(x·W1ᵀ) ⊙ x·W3ᵀ) of x [rows, d] to out.
func swigluRows(out, x []float32, rows, d, h int, gateUp, down []float32) {
	a := make([]float32, rows*2*h)
	sgemm(false, true, rows, 2*h, d, 1, x, d, gateUp, d, 0, a, 2*h)
	g := make([]float32, rows*h)
	for r := 0; r < rows; r++ {
		gr, gate, up := g[r*h:(r+1)*h], a[r*2*h:r*2*h+h], a[r*2*h+h:(r+1)*2*h]
		nn.SigmoidSlice(gr, gate)
		for j, v := range gate {
			gr[j] *= v * up[j]
		}
	}
	sgemm(false, true, rows, d, h, 1, g, h, down, h, 1, out, d)
}

// applyRope rotates the q and k parts of packed qkv rows [B·n, 3·Dim].
func applyRope(qkv, cs, sn []float32, hd, bsz, n, d int) {
	half := hd / 2
	for b := 0; b < bsz; b++ {
		for r := 0; r < n; r++ {
			c, s := cs[r*half:(r+1)*half], sn[r*half:(r+1)*half]
			row := qkv[(b*n+r)*3*d:]
			for h := 0; h < 2*d; h += hd {
				xa, xb := row[h:h+half], row[h+half:h+hd]
				for i, av := range xa {
					bv := xb[i]
					xa[i] = av*c[i] - bv*s[i]
					xb[i] = bv*c[i] + av*s[i]
				}
			}
		}
	}
}

// sgemm is C = alpha·op(A)·op(B) + beta·C on row-major slices.
func sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ta, tb := blas.NoTrans, blas.NoTrans
	if tA {
		ta = blas.Trans
	}
	if tB {
		tb = blas.Trans
	}
	ob.F32().Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

package nn

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
)

// Layers take activations as matrices [N, D] with N = batch × sequence rows:
// every layer here is row-wise except attention, which is told B and T.

// Linear is y = x·Wᵀ + b.
type Linear struct {
	W, B *Param // W [out, in] (PyTorch layout), B [out] or nil
}

// NewLinear makes a Linear with PyTorch's default init (U(±1/√in)).
func NewLinear(b *Builder, name string, in, out int, bias bool) *Linear {
	s := b.Sub(name)
	a := 1 / math.Sqrt(float64(in))
	l := &Linear{W: s.Param("weight", true, Uniform(a), out, in)}
	if bias {
		l.B = s.Param("bias", false, Uniform(a), out)
	}
	return l
}

// Forward: x [N, in] → [N, out].
func (l *Linear) Forward(x *G.Node) (*G.Node, error) {
	if l.B == nil {
		return linear(x, l.W.node, nil)
	}
	return linear(x, l.W.node, l.B.node)
}

// Embedding maps token ids to rows of a table.
type Embedding struct{ W *Param } // [vocab, dim]

// NewEmbedding makes a table initialised N(0, 1) like PyTorch.
func NewEmbedding(b *Builder, name string, vocab, dim int) *Embedding {
	return &Embedding{W: b.Sub(name).Param("weight", false, Normal(1), vocab, dim)}
}

// Forward: ids (N) → [N, dim].
func (e *Embedding) Forward(ids *Ints) (*G.Node, error) { return Gather(e.W.node, ids) }

// RMSNorm is x / rms(x) · w.
type RMSNorm struct {
	W   *Param // [dim]
	Eps float32
}

// NewRMSNorm makes an RMSNorm with unit gain.
func NewRMSNorm(b *Builder, name string, dim int, eps float32) *RMSNorm {
	return &RMSNorm{W: b.Sub(name).Param("weight", false, Const(1), dim), Eps: eps}
}

// Forward: x [N, dim] → [N, dim].
func (n *RMSNorm) Forward(x *G.Node) (*G.Node, error) {
	return apply(rmsNormK{eps: n.Eps}, x, n.W.node)
}

// LayerNorm is (x − mean)/std · w + b.
type LayerNorm struct {
	W, B *Param // [dim]
	Eps  float32
}

// NewLayerNorm makes a LayerNorm with unit gain and zero bias.
func NewLayerNorm(b *Builder, name string, dim int, eps float32) *LayerNorm {
	s := b.Sub(name)
	return &LayerNorm{W: s.Param("weight", false, Const(1), dim), B: s.Param("bias", false, Const(0), dim), Eps: eps}
}

// Forward: x [N, dim] → [N, dim].
func (n *LayerNorm) Forward(x *G.Node) (*G.Node, error) {
	return apply(layerNormK{eps: n.Eps}, x, n.W.node, n.B.node)
}

// SiLU is x·σ(x) elementwise.
func SiLU(x *G.Node) (*G.Node, error) { return apply(actK{siluAct, x.Dims()}, x) }

// MSE is the mean of (a − b)² over every element.
func MSE(a, b *G.Node) (*G.Node, error) {
	d, err := G.Sub(a, b)
	if err != nil {
		return nil, err
	}
	if d, err = G.Square(d); err != nil {
		return nil, err
	}
	return G.Mean(d)
}

// GELU is the exact (erf) GELU elementwise.
func GELU(x *G.Node) (*G.Node, error) { return apply(actK{geluAct, x.Dims()}, x) }

// GELUInPlace is GELU on a plain slice.
func GELUInPlace(x []float32) {
	for i, v := range x {
		x[i] = gelu(v)
	}
}

// SwiGLU is the gated FFN W2(silu(x·W1ᵀ) ⊙ x·W3ᵀ); W1 and W3 are stored
// stacked as one [2·hidden, dim] matrix so they cost one matmul.
type SwiGLU struct {
	GateUp *Linear // [2·hidden, dim]: rows [0, hidden) gate, [hidden, 2·hidden) up
	Down   *Linear // [dim, hidden]
}

// NewSwiGLU makes a SwiGLU FFN.
func NewSwiGLU(b *Builder, name string, dim, hidden int) *SwiGLU {
	s := b.Sub(name)
	return &SwiGLU{GateUp: NewLinear(s, "gate_up", dim, 2*hidden, false), Down: NewLinear(s, "down", hidden, dim, false)}
}

// Forward: x [N, dim] → [N, dim].
func (f *SwiGLU) Forward(x *G.Node) (*G.Node, error) {
	h, err := f.GateUp.Forward(x) // [N, 2·hidden]
	if err != nil {
		return nil, err
	}
	if h, err = apply(swigluK{}, h); err != nil { // [N, hidden]
		return nil, err
	}
	return f.Down.Forward(h)
}

// AttentionConfig sizes a multi-head self-attention layer.
type AttentionConfig struct {
	Dim, Heads int
}

// SelfAttention is multi-head self-attention with rotary positions. The
// q, k and v projections are stored stacked as one [3·dim, dim] matrix so
// they cost one matmul (and one gradient matmul each way).
type SelfAttention struct {
	Cfg      AttentionConfig
	QKV, Out *Linear // QKV rows: [0, dim) q, [dim, 2·dim) k, [2·dim, 3·dim) v
}

// NewSelfAttention makes the projections (no biases).
func NewSelfAttention(b *Builder, name string, cfg AttentionConfig) (*SelfAttention, error) {
	if cfg.Heads <= 0 || cfg.Dim%cfg.Heads != 0 {
		return nil, fmt.Errorf("attention %s: dim %d is not divisible by %d heads", name, cfg.Dim, cfg.Heads)
	}
	s := b.Sub(name)
	return &SelfAttention{Cfg: cfg,
		QKV: NewLinear(s, "wqkv", cfg.Dim, 3*cfg.Dim, false), Out: NewLinear(s, "wo", cfg.Dim, cfg.Dim, false)}, nil
}

// Forward: x [B·T, dim] → [B·T, dim]; rope (may be nil) rotates q and k;
// mask nil means full attention.
func (a *SelfAttention) Forward(x *G.Node, b, t int, rope *Rope, mask *Mask) (*G.Node, error) {
	qkv, err := a.QKV.Forward(x) // [B·T, 3·dim]
	if err != nil {
		return nil, err
	}
	if rope != nil {
		if qkv, err = ApplyRopeQK(qkv, rope); err != nil {
			return nil, err
		}
	}
	o, err := Attention(qkv, b, t, a.Cfg.Heads, mask) // [B·T, dim]
	if err != nil {
		return nil, err
	}
	return a.Out.Forward(o)
}

// BlockConfig sizes a pre-norm transformer block.
type BlockConfig struct {
	Dim, Heads, Hidden int
	NormEps            float32
}

// Block is x + Attn(Norm(x)), then + FFN(Norm(·)): the dense pre-norm block.
type Block struct {
	AttnNorm, FFNNorm *RMSNorm
	Attn              *SelfAttention
	FFN               *SwiGLU
}

// NewBlock makes a block.
func NewBlock(b *Builder, name string, cfg BlockConfig) (*Block, error) {
	s := b.Sub(name)
	attn, err := NewSelfAttention(s, "attn", AttentionConfig{Dim: cfg.Dim, Heads: cfg.Heads})
	if err != nil {
		return nil, err
	}
	return &Block{AttnNorm: NewRMSNorm(s, "attn_norm", cfg.Dim, cfg.NormEps), Attn: attn,
		FFNNorm: NewRMSNorm(s, "ffn_norm", cfg.Dim, cfg.NormEps), FFN: NewSwiGLU(s, "ffn", cfg.Dim, cfg.Hidden)}, nil
}

// Forward: x [B·T, dim] → [B·T, dim].
func (blk *Block) Forward(x *G.Node, b, t int, rope *Rope, mask *Mask) (*G.Node, error) {
	h, err := blk.AttnNorm.Forward(x)
	if err != nil {
		return nil, err
	}
	if h, err = blk.Attn.Forward(h, b, t, rope, mask); err != nil {
		return nil, err
	}
	if x, err = G.Add(x, h); err != nil {
		return nil, err
	}
	if h, err = blk.FFNNorm.Forward(x); err != nil {
		return nil, err
	}
	if h, err = blk.FFN.Forward(h); err != nil {
		return nil, err
	}
	return G.Add(x, h)
}

// Apply is Forward on plain slices for inference paths: x [n, in] → [n, out].
func (l *Linear) Apply(x []float32, n int) []float32 {
	w := l.W.Data()
	s := l.W.Shape()
	out, in := s[0], s[1]
	y := make([]float32, n*out)
	var beta float32
	if l.B != nil {
		b := l.B.Data()
		for i := range n {
			copy(y[i*out:(i+1)*out], b)
		}
		beta = 1
	}
	sgemm(false, true, n, out, in, 1, x, in, w, in, beta, y, out)
	return y
}

// Apply is Forward on plain slices: y = x / rms(x) · w row by row
// (x [n, dim]; y may be x).
func (n *RMSNorm) Apply(y, x []float32) {
	w := n.W.Data()
	d := len(w)
	for r := 0; r+d <= len(x); r += d {
		var ss float32
		for _, v := range x[r : r+d] {
			ss += v * v
		}
		s := float32(1 / math.Sqrt(float64(ss/float32(d)+n.Eps)))
		for j, v := range x[r : r+d] {
			y[r+j] = v * s * w[j]
		}
	}
}

// Rows is Forward on plain slices: the embeddings of ids, [len(ids), dim].
func (e *Embedding) Rows(ids []int) []float32 {
	w := e.W.Data()
	d := e.W.Shape()[1]
	out := make([]float32, 0, len(ids)*d)
	for _, id := range ids {
		out = append(out, w[id*d:(id+1)*d]...)
	}
	return out
}

package unified

import (
	"fmt"
	"slices"

	G "gorgonia.org/gorgonia"

	"github.com/omniar/omniar/nn"
)

// Trunk is the shared decoder: pre-norm blocks (RMSNorm, RoPE attention,
// MoE FFN) and a final RMSNorm. Embeddings and heads belong to the callers.
type Trunk struct {
	Cfg    Config
	Blocks []*Block
	Norm   *nn.RMSNorm
	sub    Sub
}

// Block is x + Attn(Norm(x)), then + MoE(Norm(·)); with conditioning both
// norms are adaptive and both branches gated (see AdaNorm). A layer the
// sub-model skips passes x through.
type Block struct {
	AttnNorm, FFNNorm *nn.RMSNorm
	Attn              *nn.SelfAttention
	MoE               *MoE
	Ada               *AdaNorm // nil without conditioning
	on                int      // 1 runs the block, 0 skips it (read by nn.Choose)
}

// AdaNorm is VAR/DiT-style adaptive normalisation from a conditioning
// vector c: shift, scale and gate of both branches are linear in SiLU(c),
// and the branch becomes x + (1 + gate)·f(norm(x)·(1 + scale) + shift).
// The projections start at zero, so a new model is a plain pre-norm one.
type AdaNorm struct {
	Proj [6]*nn.Linear // attn shift, scale, gate; ffn shift, scale, gate: [Dim, CondDim] + bias
}

var adaNames = [6]string{"attn_shift", "attn_scale", "attn_gate", "ffn_shift", "ffn_scale", "ffn_gate"}

func newAdaNorm(b *nn.Builder, cfg Config) *AdaNorm {
	s := b.Sub("ada")
	a := &AdaNorm{}
	for i, n := range adaNames {
		l := s.Sub(n)
		a.Proj[i] = &nn.Linear{W: l.Param("weight", true, nn.Const(0), cfg.Dim, cfg.CondDim), B: l.Param("bias", false, nn.Const(0), cfg.Dim)}
	}
	return a
}

// NewTrunk makes the trunk's parameters under name.
func NewTrunk(b *nn.Builder, name string, cfg Config) (*Trunk, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("trunk %s: %w", name, err)
	}
	s := b.Sub(name)
	t := &Trunk{Cfg: cfg}
	for i := 0; i < cfg.Layers; i++ {
		l := s.Sub(fmt.Sprintf("layers.%d", i))
		attn, err := nn.NewSelfAttention(l, "attn", nn.AttentionConfig{Dim: cfg.Dim, Heads: cfg.Heads})
		if err != nil {
			return nil, fmt.Errorf("trunk %s: %w", name, err)
		}
		blk := &Block{AttnNorm: nn.NewRMSNorm(l, "attn_norm", cfg.Dim, cfg.NormEps), Attn: attn,
			FFNNorm: nn.NewRMSNorm(l, "ffn_norm", cfg.Dim, cfg.NormEps), MoE: newMoE(l, "moe", cfg), on: 1}
		if cfg.CondDim > 0 {
			blk.Ada = newAdaNorm(l, cfg)
		}
		t.Blocks = append(t.Blocks, blk)
	}
	t.Norm = nn.NewRMSNorm(s, "norm", cfg.Dim, cfg.NormEps)
	return t, nil
}

// NewRope makes a Rope for rows positions with the trunk's axis split.
func (t *Trunk) NewRope(rows int) (*nn.Rope, error) {
	return nn.NewRope(t.Cfg.HeadDim(), t.Cfg.RopeSplit, t.Cfg.RopeBase, rows)
}

// Forward: x [B·T, Dim] → h [B·T, Dim] (final-normed) and the summed
// balancing loss of the MoE layers (nil if there is none). mask nil is
// full attention; cond is [B, CondDim] or nil (required iff CondDim > 0).
// Forward may be called more than once on one graph (e.g. one call per
// sequence-length bucket); Sub and balancing apply to every call.
func (t *Trunk) Forward(x *G.Node, b, tt int, rope *nn.Rope, mask *nn.Mask, cond *G.Node) (h, aux *G.Node, err error) {
	if s := x.Shape(); len(s) != 2 || s[0] != b*tt || s[1] != t.Cfg.Dim {
		return nil, nil, fmt.Errorf("trunk: input %v, want [%d, %d]", s, b*tt, t.Cfg.Dim)
	}
	// The adaptive norms project the conditioning per sample, [B, CondDim]
	// → [B, Dim], and only then apply it to the rows: projecting per row
	// would cost T times more.
	var rowCond *G.Node // [B, CondDim] after SiLU
	switch {
	case t.Cfg.CondDim > 0 && cond == nil:
		return nil, nil, fmt.Errorf("trunk: config has cond dim %d but no conditioning was given", t.Cfg.CondDim)
	case t.Cfg.CondDim == 0 && cond != nil:
		return nil, nil, fmt.Errorf("trunk: conditioning given to a model without adaptive norms")
	case cond != nil:
		if s := cond.Shape(); len(s) != 2 || s[0] != b || s[1] != t.Cfg.CondDim {
			return nil, nil, fmt.Errorf("trunk: conditioning %v, want [%d, %d]", s, b, t.Cfg.CondDim)
		}
		if rowCond, err = nn.SiLU(cond); err != nil {
			return nil, nil, err
		}
	}
	h = x
	for i, blk := range t.Blocks {
		var loss *G.Node
		if h, loss, err = blk.Forward(h, b, tt, rope, mask, rowCond); err != nil {
			return nil, nil, fmt.Errorf("trunk layer %d: %w", i, err)
		}
		if loss != nil {
			if aux == nil {
				aux = loss
			} else if aux, err = G.Add(aux, loss); err != nil {
				return nil, nil, err
			}
		}
	}
	if h, err = t.Norm.Forward(h); err != nil {
		return nil, nil, err
	}
	t.applySub()
	return h, aux, nil
}

// modulate is h·(1 + scale) + shift with scale and shift linear in the
// per-sample c [B, CondDim], applied to the t rows of each sample.
func modulate(h, c *G.Node, t int, shift, scale *nn.Linear) (*G.Node, error) {
	sh, err := shift.Forward(c)
	if err != nil {
		return nil, err
	}
	sc, err := scale.Forward(c)
	if err != nil {
		return nil, err
	}
	return nn.Modulate(h, sh, sc, t)
}

// gatedAdd is x + f·(1 + gate) with gate linear in c.
func gatedAdd(x, f, c *G.Node, t int, gate *nn.Linear) (*G.Node, error) {
	g, err := gate.Forward(c)
	if err != nil {
		return nil, err
	}
	return nn.GatedAdd(x, f, g, t)
}

// Forward: x [B·T, Dim] → [B·T, Dim] and the MoE balancing loss (or nil);
// c is the per-sample conditioning [B, CondDim] after SiLU, or nil.
func (blk *Block) Forward(x *G.Node, b, t int, rope *nn.Rope, mask *nn.Mask, c *G.Node) (y, loss *G.Node, err error) {
	branch := func(x *G.Node, norm *nn.RMSNorm, k int, f func(*G.Node) (*G.Node, error)) (*G.Node, error) {
		h, err := norm.Forward(x)
		if err != nil {
			return nil, err
		}
		if c != nil {
			if h, err = modulate(h, c, t, blk.Ada.Proj[k], blk.Ada.Proj[k+1]); err != nil {
				return nil, err
			}
		}
		if h, err = f(h); err != nil {
			return nil, err
		}
		if c != nil {
			return gatedAdd(x, h, c, t, blk.Ada.Proj[k+2])
		}
		return G.Add(x, h)
	}
	y, err = branch(x, blk.AttnNorm, 0, func(h *G.Node) (*G.Node, error) { return blk.Attn.Forward(h, b, t, rope, mask) })
	if err != nil {
		return nil, nil, err
	}
	y, err = branch(y, blk.FFNNorm, 3, func(h *G.Node) (*G.Node, error) {
		var f *G.Node
		f, loss, err = blk.MoE.Forward(h)
		return f, err
	})
	if err != nil {
		return nil, nil, err
	}
	// A skipped layer is y = x at run time (g = 0 in y = x + g·block(x)).
	if y, err = nn.Choose(&blk.on, x, y); err != nil {
		return nil, nil, err
	}
	return y, loss, nil
}

// SetSub selects the sub-model the next runs (graph and Decode) use.
func (t *Trunk) SetSub(s Sub) error {
	if err := s.Validate(t.Cfg); err != nil {
		return err
	}
	s.Layers = slices.Clone(s.Layers)
	t.sub = s
	t.applySub()
	return nil
}

// Sub is the current sub-model.
func (t *Trunk) Sub() Sub { return t.sub }

func (t *Trunk) applySub() {
	for i, blk := range t.Blocks {
		on := t.sub.Runs(i)
		blk.on = 0
		if on {
			blk.on = 1
		}
		blk.MoE.setSub(t.sub, on)
	}
}

// UpdateBias applies one step of bias balancing from the last run's loads;
// call it after each optimizer step. It does nothing for aux balancing or
// when a sub-model ran, so sub-model steps never move the balance.
func (t *Trunk) UpdateBias() {
	if t.Cfg.Balance != BalanceBias || !t.sub.Full(t.Cfg) {
		return
	}
	for _, blk := range t.Blocks {
		blk.MoE.updateBias(t.Cfg.BiasRate)
	}
}

// Loads returns each layer's expert load of the last run (summed over
// Forward calls); zero loads for skipped layers.
func (t *Trunk) Loads() []Load {
	out := make([]Load, len(t.Blocks))
	for i, blk := range t.Blocks {
		out[i] = blk.MoE.load()
	}
	return out
}

// SetTags gives each of the B·T rows a tag (e.g. its modality) for
// Load.ByTag; the router never sees them. nil clears them.
func (t *Trunk) SetTags(tags []int) error {
	for _, blk := range t.Blocks {
		if err := blk.MoE.setTags(slices.Clone(tags)); err != nil {
			return err
		}
	}
	return nil
}

// BalanceState returns the selection biases by name ("layers.3.moe.bias"),
// to store in a checkpoint; empty without bias balancing.
func (t *Trunk) BalanceState() map[string][]float32 {
	st := map[string][]float32{}
	for i, blk := range t.Blocks {
		if blk.MoE.Bias != nil {
			st[fmt.Sprintf("layers.%d.moe.bias", i)] = blk.MoE.Bias
		}
	}
	return st
}

// SetBalanceState restores BalanceState.
func (t *Trunk) SetBalanceState(st map[string][]float32) error {
	for i, blk := range t.Blocks {
		name := fmt.Sprintf("layers.%d.moe.bias", i)
		v, ok := st[name]
		if blk.MoE.Bias == nil {
			continue
		}
		if !ok || len(v) != len(blk.MoE.Bias) {
			return fmt.Errorf("balance state: %s missing or of wrong size", name)
		}
		copy(blk.MoE.Bias, v)
	}
	return nil
}

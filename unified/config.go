// Package unified is OmniAR's unified decoder: one pre-norm transformer
// trunk whose FFNs are mixture-of-experts layers shared by every modality
// (the router sees hidden states only), trained with one
// next-group-of-tokens objective over sequences laid out by seq.go.
//
// The trunk is built twice over the same weights: as a gorgonia graph for
// training (Trunk.Forward) and as a forward-only path on plain slices with
// a KV cache for inference (Trunk.Decode). Elastic sub-models (fewer
// layers, fewer experts, smaller top-k) are run-time settings of one
// compiled graph (Trunk.SetSub), so one training program trains the whole
// family.
package unified

import (
	"fmt"
	"slices"
)

// Balancing methods of the routed experts.
const (
	BalanceAux  = "aux"  // Switch/GShard auxiliary load-balance loss
	BalanceBias = "bias" // DeepSeek-V3 aux-loss-free selection bias
)

// Config sizes the trunk. Experts = 0 makes it dense: the FFN is only the
// always-on SwiGLU of Shared·ExpertHidden units (see Config.Dense).
type Config struct {
	Dim    int `json:"dim"`
	Layers int `json:"layers"`
	Heads  int `json:"heads"`

	Experts      int     `json:"experts"`       // routed experts (0 = dense FFN)
	TopK         int     `json:"top_k"`         // experts per token
	Shared       int     `json:"shared"`        // always-on experts
	ExpertHidden int     `json:"expert_hidden"` // SwiGLU hidden size of one expert
	Capacity     float64 `json:"capacity"`      // capacity factor: an expert keeps ceil(Capacity·N·k/E) tokens

	Balance   string  `json:"balance"`    // BalanceAux or BalanceBias
	AuxWeight float32 `json:"aux_weight"` // weight of the load-balance loss (aux balancing only)
	ZWeight   float32 `json:"z_weight"`   // weight of the router z-loss
	BiasRate  float32 `json:"bias_rate"`  // bias balancing: step of the per-expert bias update (0.001 was too slow for 600 steps: docs/eval/unified_moe_vs_dense.json as of commit 20006cf)

	RopeSplit []int   `json:"rope_split"` // rotary pairs per position axis (time, scale, y, x); Σ ≤ head dim / 2
	RopeBase  float64 `json:"rope_base"`
	CondDim   int     `json:"cond_dim"` // conditioning vector size for adaptive RMSNorm (0 = none)
	NormEps   float32 `json:"norm_eps"`
}

// Tiny is the test configuration (about 50k parameters).
func Tiny() Config {
	return Config{Dim: 32, Layers: 2, Heads: 2, Experts: 8, TopK: 2, Shared: 1, ExpertHidden: 16, Capacity: 1.25,
		Balance: BalanceAux, AuxWeight: 0.01, ZWeight: 0.001, BiasRate: 0.01,
		RopeSplit: []int{8}, RopeBase: 10000, NormEps: 1e-5}
}

// Small is the default model size (about 9M parameters, 3.4M active).
func Small() Config {
	return Config{Dim: 256, Layers: 6, Heads: 4, Experts: 8, TopK: 2, Shared: 1, ExpertHidden: 256, Capacity: 1.25,
		Balance: BalanceAux, AuxWeight: 0.01, ZWeight: 0.001, BiasRate: 0.01,
		RopeSplit: []int{32}, RopeBase: 10000, NormEps: 1e-5}
}

// HeadDim is Dim / Heads.
func (c Config) HeadDim() int { return c.Dim / c.Heads }

// Dense is the dense configuration with the same active FFN size: one
// always-on SwiGLU of (TopK + Shared)·ExpertHidden units.
func (c Config) Dense() Config {
	d := c
	d.Shared = c.TopK + c.Shared
	d.Experts, d.TopK = 0, 0
	d.RopeSplit = slices.Clone(c.RopeSplit)
	return d
}

// Validate reports a configuration that cannot be built.
func (c Config) Validate() error {
	switch {
	case c.Dim <= 0 || c.Layers <= 0 || c.Heads <= 0 || c.ExpertHidden <= 0:
		return fmt.Errorf("unified config: dim %d, layers %d, heads %d, expert hidden %d must be positive", c.Dim, c.Layers, c.Heads, c.ExpertHidden)
	case c.Dim > 1<<16 || c.ExpertHidden > 1<<16 || c.CondDim > 1<<16 || c.Layers > 1<<12 || c.Heads > 1<<12 || c.Experts > 1<<12 || c.Shared > 1<<12:
		// bounds that keep every parameter's size far from int overflow
		return fmt.Errorf("unified config: dim %d, expert hidden %d, cond dim %d (at most %d) or layers %d, heads %d, experts %d, shared %d (at most %d) too large",
			c.Dim, c.ExpertHidden, c.CondDim, 1<<16, c.Layers, c.Heads, c.Experts, c.Shared, 1<<12)
	case c.Dim%c.Heads != 0 || c.HeadDim()%2 != 0:
		return fmt.Errorf("unified config: dim %d must split into %d heads of even size", c.Dim, c.Heads)
	case c.Experts < 0 || c.Shared < 0 || c.CondDim < 0:
		return fmt.Errorf("unified config: negative experts %d, shared %d or cond dim %d", c.Experts, c.Shared, c.CondDim)
	case c.Experts == 0 && c.Shared == 0:
		return fmt.Errorf("unified config: no routed and no shared experts")
	case c.Experts > 0 && (c.TopK < 1 || c.TopK > c.Experts):
		return fmt.Errorf("unified config: top-k %d of %d experts", c.TopK, c.Experts)
	case c.Experts > 0 && !(c.Capacity > 0):
		return fmt.Errorf("unified config: capacity factor %g must be positive", c.Capacity)
	case c.Balance != BalanceAux && c.Balance != BalanceBias:
		return fmt.Errorf("unified config: balance %q, want %q or %q", c.Balance, BalanceAux, BalanceBias)
	case c.AuxWeight < 0 || c.ZWeight < 0 || c.BiasRate < 0:
		return fmt.Errorf("unified config: negative loss weight or bias rate")
	case !(c.RopeBase > 1):
		return fmt.Errorf("unified config: rope base %g must be > 1", c.RopeBase)
	case !(c.NormEps > 0):
		return fmt.Errorf("unified config: norm eps %g must be positive", c.NormEps)
	}
	n := 0
	for _, s := range c.RopeSplit {
		if s < 0 {
			return fmt.Errorf("unified config: rope split %v has a negative part", c.RopeSplit)
		}
		n += s
	}
	if len(c.RopeSplit) == 0 || n > c.HeadDim()/2 {
		return fmt.Errorf("unified config: rope split %v must name 1+ axes with at most %d pairs", c.RopeSplit, c.HeadDim()/2)
	}
	return nil
}

// Sub selects an elastic sub-model of a trunk at run time.
type Sub struct {
	Layers  []int `json:"layers,omitempty"`  // layers that run, ascending (nil = all)
	Experts int   `json:"experts,omitempty"` // the first n routed experts are usable (0 = all)
	TopK    int   `json:"top_k,omitempty"`   // experts per token (0 = the config's)
}

// Config is the configuration of sub-model s of c as a model of its own:
// what training s alone builds (the elastic table's baseline).
func (s Sub) Config(c Config) Config {
	if s.Layers != nil {
		c.Layers = len(s.Layers)
	}
	c.Experts, c.TopK = s.experts(c), s.topK(c)
	return c
}

// Shape names the depth and width of c: layers, routed experts, top-k.
func (c Config) Shape() string {
	return fmt.Sprintf("layers=%d experts=%d topk=%d", c.Layers, c.Experts, c.TopK)
}

// Validate reports a sub-model the configuration does not contain.
func (s Sub) Validate(c Config) error {
	for i, l := range s.Layers {
		if l < 0 || l >= c.Layers || (i > 0 && l <= s.Layers[i-1]) {
			return fmt.Errorf("sub-model layers %v: want ascending layers in [0, %d)", s.Layers, c.Layers)
		}
	}
	if s.Layers != nil && len(s.Layers) == 0 {
		return fmt.Errorf("sub-model runs no layer")
	}
	if s.Experts < 0 || s.Experts > c.Experts || s.TopK < 0 || s.TopK > c.TopK {
		return fmt.Errorf("sub-model experts %d, top-k %d: config has %d experts, top-%d", s.Experts, s.TopK, c.Experts, c.TopK)
	}
	if e, k := s.experts(c), s.topK(c); c.Experts > 0 && k > e {
		return fmt.Errorf("sub-model top-%d of %d experts", k, e)
	}
	return nil
}

func (s Sub) experts(c Config) int {
	if s.Experts == 0 {
		return c.Experts
	}
	return s.Experts
}

func (s Sub) topK(c Config) int {
	if s.TopK == 0 {
		return c.TopK
	}
	return s.TopK
}

// Runs says whether layer l runs.
func (s Sub) Runs(l int) bool { return s.Layers == nil || slices.Contains(s.Layers, l) }

// Full says whether s is the whole model of c.
func (s Sub) Full(c Config) bool {
	return (s.Layers == nil || len(s.Layers) == c.Layers) && s.experts(c) == c.Experts && s.topK(c) == c.TopK
}

// String is the sub-model in the CLI's flag syntax.
func (s Sub) String() string {
	l := "all"
	if s.Layers != nil {
		l = fmt.Sprint(s.Layers)
	}
	return fmt.Sprintf("layers=%s experts=%d topk=%d", l, s.Experts, s.TopK)
}

package unified

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"

	"github.com/omniar/omniar/nn"
)

// MoE is the FFN of a block: E routed SwiGLU experts chosen per token by a
// linear router (top-k, fixed capacity, see nn.Routing) plus always-on
// shared experts, stored as one SwiGLU of Shared·ExpertHidden units (the
// sum of several shared experts is one wider SwiGLU).
type MoE struct {
	cfg    Config
	Router *nn.Linear // [E, Dim], no bias
	GateUp *nn.Param  // [E, 2·hidden, Dim]: per expert rows [0, hidden) gate, [hidden, 2·hidden) up
	Down   *nn.Param  // [E, Dim, hidden]
	Shared *nn.SwiGLU // nil without shared experts

	// Bias is the selection bias of bias balancing ([E], nil otherwise);
	// it is state, not a parameter: UpdateBias changes it.
	Bias []float32

	routings []*nn.Routing // one per Forward call
}

func newMoE(b *nn.Builder, name string, cfg Config) *MoE {
	s := b.Sub(name)
	m := &MoE{cfg: cfg}
	if cfg.Experts > 0 {
		h := cfg.ExpertHidden
		m.Router = nn.NewLinear(s, "router", cfg.Dim, cfg.Experts, false)
		e := s.Sub("experts")
		m.GateUp = e.Param("w_gate_up", true, nn.Uniform(1/math.Sqrt(float64(cfg.Dim))), cfg.Experts, 2*h, cfg.Dim)
		m.Down = e.Param("w_down", true, nn.Uniform(1/math.Sqrt(float64(h))), cfg.Experts, cfg.Dim, h)
		if cfg.Balance == BalanceBias {
			m.Bias = make([]float32, cfg.Experts)
		}
	}
	if cfg.Shared > 0 {
		m.Shared = nn.NewSwiGLU(s, "shared", cfg.Dim, cfg.Shared*cfg.ExpertHidden)
	}
	return m
}

// Forward: x [N, Dim] (normed) → y [N, Dim] and the weighted balancing
// loss (nil for a dense FFN or when both weights are 0).
func (m *MoE) Forward(x *G.Node) (y, loss *G.Node, err error) {
	n := x.Shape()[0]
	if m.Router != nil {
		if y, loss, err = m.routed(x, n); err != nil {
			return nil, nil, err
		}
	}
	if m.Shared != nil {
		s, err := m.Shared.Forward(x)
		if err != nil {
			return nil, nil, err
		}
		if y == nil {
			return s, nil, nil
		}
		if y, err = G.Add(y, s); err != nil {
			return nil, nil, err
		}
	}
	return y, loss, nil
}

func (m *MoE) routed(x *G.Node, n int) (y, loss *G.Node, err error) {
	r, err := nn.NewRouting(n, m.cfg.Experts, m.cfg.TopK, m.cfg.Capacity)
	if err != nil {
		return nil, nil, err
	}
	r.Bias = m.Bias
	r.ZWeight = m.cfg.ZWeight
	if m.cfg.Balance == BalanceAux {
		r.AuxWeight = m.cfg.AuxWeight
	}
	m.routings = append(m.routings, r)
	logits, err := m.Router.Forward(x) // [N, E]
	if err != nil {
		return nil, nil, err
	}
	g, err := nn.Route(logits, r) // [Slots]
	if err != nil {
		return nil, nil, err
	}
	h, err := nn.Dispatch(x, g, r) // [Slots, Dim]
	if err != nil {
		return nil, nil, err
	}
	if h, err = nn.ExpertLinear(h, m.GateUp.Node(), r); err != nil { // [Slots, 2·hidden]
		return nil, nil, err
	}
	if h, err = nn.SwiGLUAct(h); err != nil { // [Slots, hidden]
		return nil, nil, err
	}
	if h, err = nn.ExpertLinear(h, m.Down.Node(), r); err != nil { // [Slots, Dim]
		return nil, nil, err
	}
	if y, err = nn.Combine(h, g, r.Token, n); err != nil { // [N, Dim]
		return nil, nil, err
	}
	if r.AuxWeight == 0 && r.ZWeight == 0 {
		return y, nil, nil
	}
	if loss, err = nn.RouterLoss(logits, g, r); err != nil {
		return nil, nil, err
	}
	return y, loss, nil
}

// setSub applies the sub-model's experts and top-k and whether the layer runs.
func (m *MoE) setSub(s Sub, on bool) {
	for _, r := range m.routings {
		r.Active, r.TopK, r.Off = s.Experts, s.TopK, !on
	}
}

// updateBias moves the selection bias of every usable expert by rate
// toward the mean load: b_e += rate·sign(mean − load_e).
func (m *MoE) updateBias(rate float32) {
	if m.Bias == nil || len(m.routings) == 0 {
		return
	}
	a, _ := m.routings[0].Settings()
	load := make([]float64, a)
	var mean float64
	for _, r := range m.routings {
		for e := range load {
			load[e] += float64(r.Selected[e])
			mean += float64(r.Selected[e]) / float64(a)
		}
	}
	for e, l := range load {
		switch {
		case l < mean:
			m.Bias[e] += rate
		case l > mean:
			m.Bias[e] -= rate
		}
	}
}

// Load is one MoE layer's expert load in the last run.
type Load struct {
	Selected []int         `json:"selected"`         // tokens that chose each expert
	Kept     []int         `json:"kept"`             // of those, kept under capacity
	Dropped  int           `json:"dropped"`          // token-expert pairs over capacity
	ByTag    map[int][]int `json:"by_tag,omitempty"` // selections per caller tag
	Aux, Z   float32       `json:"-"`                // unweighted balancing and z-loss values
}

func (m *MoE) load() Load {
	var l Load
	if m.Router == nil {
		return l
	}
	l.Selected, l.Kept = make([]int, m.cfg.Experts), make([]int, m.cfg.Experts)
	for _, r := range m.routings {
		for e := range l.Selected {
			l.Selected[e] += r.Selected[e]
			l.Kept[e] += r.Kept[e]
		}
		l.Dropped += r.Dropped
		l.Aux += r.Aux
		l.Z += r.Z
		for tag, c := range r.LoadByTag {
			if l.ByTag == nil {
				l.ByTag = map[int][]int{}
			}
			if l.ByTag[tag] == nil {
				l.ByTag[tag] = make([]int, m.cfg.Experts)
			}
			for e, v := range c {
				l.ByTag[tag][e] += v
			}
		}
	}
	return l
}

func (m *MoE) setTags(tags []int) error {
	for _, r := range m.routings {
		if tags != nil && len(tags) != r.N {
			return fmt.Errorf("moe: %d tags for %d tokens", len(tags), r.N)
		}
		r.Tags = tags
	}
	return nil
}

package unified

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/omniar/omniar/nn"
)

// trunkGraph is a trunk on a fixed input x [B·T, Dim] with a causal mask.
type trunkGraph struct {
	b     *nn.Builder
	trunk *Trunk
	x     *nn.Param
	hV    G.Value
	vm    G.VM
}

func newTrunkGraph(t *testing.T, cfg Config, bsz, tt int, seed uint64) *trunkGraph {
	t.Helper()
	b := nn.NewBuilder(seed)
	g := &trunkGraph{b: b, x: b.Param("x", false, nn.Normal(1), bsz*tt, cfg.Dim)}
	var err error
	if g.trunk, err = NewTrunk(b, "trunk", cfg); err != nil {
		t.Fatal(err)
	}
	rope, err := g.trunk.NewRope(bsz * tt)
	if err != nil {
		t.Fatal(err)
	}
	na := len(cfg.RopeSplit)
	pos := make([]float64, bsz*tt*na)
	for i := 0; i < bsz*tt; i++ {
		pos[i*na] = float64(i % tt)
	}
	if err := rope.SetPositions(pos); err != nil {
		t.Fatal(err)
	}
	h, _, err := g.trunk.Forward(g.x.Node(), bsz, tt, rope, nn.CausalMask(tt), nil)
	if err != nil {
		t.Fatal(err)
	}
	G.Read(h, &g.hV)
	g.vm = nn.CompileForward(b.G)
	t.Cleanup(func() { g.vm.Close() })
	return g
}

func (g *trunkGraph) run(t *testing.T) []float32 {
	t.Helper()
	defer g.vm.Reset()
	if err := g.vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), g.hV.Data().([]float32)...)
}

// spread is max load / mean load over the usable experts.
func spread(sel []int) float64 {
	var mx, sum float64
	for _, v := range sel {
		mx = math.Max(mx, float64(v))
		sum += float64(v)
	}
	return mx / (sum / float64(len(sel)))
}

// TestBiasBalancing skews the router toward expert 0 and checks that bias
// updates even the load, and that sub-model runs leave the bias alone.
func TestBiasBalancing(t *testing.T) {
	cfg := Tiny()
	cfg.Layers, cfg.Balance, cfg.BiasRate = 1, BalanceBias, 0.02
	g := newTrunkGraph(t, cfg, 2, 16, 3)
	rng := rand.New(rand.NewPCG(2, 2))
	u := make([]float32, cfg.Dim)
	for i := range u {
		u[i] = float32(rng.NormFloat64())
	}
	x := g.x.Data()
	for i := range x {
		x[i] += 2 * u[i%cfg.Dim]
	}
	w := g.trunk.Blocks[0].MoE.Router.W.Data()
	for i := range u {
		w[i] += u[i] / 16
	}
	g.run(t)
	before := spread(g.trunk.Loads()[0].Selected)
	for i := 0; i < 200; i++ {
		g.trunk.UpdateBias()
		g.run(t)
	}
	after := spread(g.trunk.Loads()[0].Selected)
	if before < 2 || after > 1.3 {
		t.Errorf("load spread (max/mean) %.2f → %.2f: want a skewed start (≥ 2) evened out (≤ 1.3)", before, after)
	}
	t.Logf("load spread (max/mean) %.2f → %.2f", before, after)
	bias := append([]float32(nil), g.trunk.Blocks[0].MoE.Bias...)
	if err := g.trunk.SetSub(Sub{Experts: 4}); err != nil {
		t.Fatal(err)
	}
	g.run(t)
	g.trunk.UpdateBias()
	for e, v := range g.trunk.Blocks[0].MoE.Bias {
		if v != bias[e] {
			t.Fatalf("a sub-model step moved the bias of expert %d", e)
		}
	}
}

// TestElasticLayers checks that the sub-model with layer 0 only equals a
// one-layer model with the same weights, and that masked experts and a
// smaller top-k are honoured.
func TestElasticLayers(t *testing.T) {
	cfg := Tiny()
	full := newTrunkGraph(t, cfg, 2, 8, 7)
	one := cfg
	one.Layers = 1
	small := newTrunkGraph(t, one, 2, 8, 99)
	copyParams(t, full.b, small.b)
	if err := full.trunk.SetSub(Sub{Layers: []int{0}}); err != nil {
		t.Fatal(err)
	}
	if e := relErr(full.run(t), small.run(t)); e > 1e-6 {
		t.Errorf("sub-model layers=[0] differs from a 1-layer model: rel err %.3g", e)
	}
	if l := full.trunk.Loads()[1]; sum(l.Selected) != 0 {
		t.Errorf("skipped layer routed %d tokens", sum(l.Selected))
	}
	if err := full.trunk.SetSub(Sub{Experts: 3, TopK: 1}); err != nil {
		t.Fatal(err)
	}
	full.run(t)
	for i, l := range full.trunk.Loads() {
		if sum(l.Selected) != 16 || sum(l.Selected[3:]) != 0 {
			t.Errorf("layer %d: loads %v, want 16 top-1 choices among experts 0-2", i, l.Selected)
		}
	}
	for _, bad := range []Sub{{Layers: []int{2}}, {Layers: []int{1, 0}}, {Layers: []int{}}, {Experts: 9}, {TopK: 3}, {Experts: 1, TopK: 2}} {
		if err := full.trunk.SetSub(bad); err == nil {
			t.Errorf("sub-model %v accepted", bad)
		}
	}
}

func sum(v []int) int {
	s := 0
	for _, x := range v {
		s += x
	}
	return s
}

// copyParams copies every parameter of src that dst has by name.
func copyParams(t *testing.T, src, dst *nn.Builder) {
	t.Helper()
	by := map[string]*nn.Param{}
	for _, p := range src.Params() {
		by[p.Name()] = p
	}
	for _, p := range dst.Params() {
		q, ok := by[p.Name()]
		if !ok {
			t.Fatalf("no parameter %s in the source model", p.Name())
		}
		copy(p.Data(), q.Data())
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{Tiny(), Small(), Tiny().Dense(), Small().Dense()} {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
	bad := map[string]func(*Config){
		"heads":   func(c *Config) { c.Heads = 3 },
		"topk":    func(c *Config) { c.TopK = 9 },
		"balance": func(c *Config) { c.Balance = "none" },
		"rope":    func(c *Config) { c.RopeSplit = []int{4, 5} },
		"norope":  func(c *Config) { c.RopeSplit = nil },
		"nothing": func(c *Config) { c.Experts, c.Shared = 0, 0 },
		"cap":     func(c *Config) { c.Capacity = 0 },
	}
	for name, f := range bad {
		c := Tiny()
		f(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "unified config") {
			t.Errorf("%s: error %v", name, err)
		}
	}
}

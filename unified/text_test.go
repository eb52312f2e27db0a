package unified

import (
	"strings"
	"testing"

	"github.com/omniar/omniar/nn/optim"
)

// TestLMOverfits trains the tiny MoE text LM on one short fortune (bytes
// as tokens) until it has memorised it.
func TestLMOverfits(t *testing.T) {
	const fortune = "A journey of a thousand miles begins with a single step."
	cfg := LMConfig{Trunk: Tiny(), Vocab: 256, Batch: 2, Seq: len(fortune) - 1, Seed: 1}
	m, err := NewLM(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ps := make([]optim.Param, len(m.Params()))
	for i, p := range m.Params() {
		ps[i] = p
	}
	opt := optim.NewAdamW(optim.DefaultAdamW(), ps)
	var ids, targets []int
	for b := 0; b < cfg.Batch; b++ {
		for i := 0; i < cfg.Seq; i++ {
			ids = append(ids, int(fortune[i]))
			targets = append(targets, int(fortune[i+1]))
		}
	}
	var first, last float64
	for step := 0; step < 150; step++ {
		if last, err = m.Step(ids, targets); err != nil {
			t.Fatal(err)
		}
		if step == 0 {
			first = last
		}
		opt.Step(1e-2, nil)
	}
	t.Logf("loss %.3f → %.3f", first, last)
	if first < 4 || last > 0.3 {
		t.Errorf("loss %.3f → %.3f: want from ≈ ln 256 to below 0.3", first, last)
	}
	if _, err := m.Step(make([]int, len(ids)-1), targets); err == nil {
		t.Error("short batch accepted")
	}
	ids[0] = 256
	if _, err := m.Step(ids, targets); err == nil {
		t.Error("out-of-vocabulary token accepted")
	}
}

// TestLMSubModelStep trains a sub-model with the full model's program:
// the skipped layer and the masked experts get no gradient.
func TestLMSubModelStep(t *testing.T) {
	cfg := LMConfig{Trunk: Tiny(), Vocab: 64, Batch: 2, Seq: 8, Seed: 2}
	m, err := NewLM(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ids := make([]int, 16)
	for i := range ids {
		ids[i] = (i * 7) % 64
	}
	if err := m.Trunk.SetSub(Sub{Layers: []int{0}, Experts: 4}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Step(ids, ids); err != nil {
		t.Fatal(err)
	}
	nonzero := func(g []float32) bool {
		for _, v := range g {
			if v != 0 {
				return true
			}
		}
		return false
	}
	for _, p := range m.Params() {
		name := p.Name()
		skipped := strings.HasPrefix(name, "trunk.layers.1.")
		if nonzero(p.Grad()) == skipped {
			t.Errorf("%s: gradient nonzero = %v in a step of layers=[0]", name, !skipped)
		}
	}
	g := m.Trunk.Blocks[0].MoE.GateUp.Grad()
	per := len(g) / cfg.Trunk.Experts
	if nonzero(g[4*per:]) || !nonzero(g[:4*per]) {
		t.Error("masked experts got a gradient or usable ones none")
	}
}

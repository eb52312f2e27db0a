package unified

import (
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

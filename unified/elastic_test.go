package unified

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestElasticSample(t *testing.T) {
	cfg := Small()
	e := DefaultElastic(cfg)
	if err := e.Validate(cfg); err != nil {
		t.Fatal(err)
	}
	if len(e.Family) < 6 {
		t.Errorf("family of %d sub-models, want ≥ 6", len(e.Family))
	}
	rng := rand.New(rand.NewPCG(1, 1))
	full := 0
	seen := map[string]bool{}
	const n = 4000
	for i := 0; i < n; i++ {
		s := e.Sample(rng)
		if s.Full(cfg) {
			full++
		}
		seen[s.String()] = true
	}
	if f := float64(full) / n; math.Abs(f-0.5) > 0.03 {
		t.Errorf("full model drawn %.3f of the time, want 0.5", f)
	}
	if len(seen) != len(e.Family)+1 {
		t.Errorf("drew %d distinct models, want the full one and %d sub-models", len(seen), len(e.Family))
	}
	bad := Elastic{PFull: 0.5, Family: []Sub{{Experts: 99}}}
	if err := bad.Validate(cfg); err == nil {
		t.Error("sub-model with 99 experts accepted")
	}
	if err := (Elastic{PFull: 0.2}).Validate(cfg); err == nil {
		t.Error("empty family with p_full < 1 accepted")
	}
}

// TestSubConfig: training a sub-model alone builds a model of its shape.
func TestSubConfig(t *testing.T) {
	cfg := Small()
	cfg.Layers, cfg.Experts, cfg.TopK = 4, 8, 2
	tests := []struct {
		sub  Sub
		want string
	}{
		{Sub{}, "layers=4 experts=8 topk=2"},
		{Sub{Layers: []int{0, 1}}, "layers=2 experts=8 topk=2"},
		{Sub{Experts: 4, TopK: 1}, "layers=4 experts=4 topk=1"},
		{Sub{Layers: []int{0, 1}, Experts: 4, TopK: 1}, "layers=2 experts=4 topk=1"},
	}
	for _, tc := range tests {
		c := tc.sub.Config(cfg)
		if got := c.Shape(); got != tc.want {
			t.Errorf("%s: shape %s, want %s", tc.sub, got, tc.want)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", tc.sub, err)
		}
	}
}

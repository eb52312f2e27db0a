package nn

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestMoEOpsGrad checks the router, dispatch, expert matmul, combine and
// router loss against central differences, with a capacity small enough
// that some choices are dropped and a bias that changes the selection.
func TestMoEOpsGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	x := func(s ...int) *tensor.Dense { return randTensor(rng, 1, s...) }
	const n, e, k, d, o = 6, 4, 2, 5, 3
	newRouting := func(t *testing.T) *Routing {
		r, err := NewRouting(n, e, k, 0.7)
		if err != nil {
			t.Fatal(err)
		}
		r.Bias = []float32{0.3, 0, -0.2, 0.1}
		r.AuxWeight, r.ZWeight = 0.7, 0.3
		return r
	}
	moe := func(t *testing.T) func(in map[string]*G.Node) (*G.Node, error) {
		r := newRouting(t)
		return func(in map[string]*G.Node) (*G.Node, error) {
			g, err := Route(in["logits"], r)
			if err != nil {
				return nil, err
			}
			buf, err := Dispatch(in["x"], g, r)
			if err != nil {
				return nil, err
			}
			y, err := ExpertLinear(buf, in["w"], r)
			if err != nil {
				return nil, err
			}
			return Combine(y, g, r.Token, n)
		}
	}
	loss := func(t *testing.T) func(in map[string]*G.Node) (*G.Node, error) {
		r := newRouting(t)
		return func(in map[string]*G.Node) (*G.Node, error) {
			g, err := Route(in["logits"], r)
			if err != nil {
				return nil, err
			}
			return RouterLoss(in["logits"], g, r)
		}
	}
	inputs := func() map[string]*tensor.Dense {
		return map[string]*tensor.Dense{"logits": x(n, e), "x": x(n, d), "w": x(e, o, d)}
	}
	cases := []testCase{
		{name: "moe", inputs: inputs(), build: moe(t)},
		{name: "router_loss", inputs: map[string]*tensor.Dense{"logits": x(n, e)}, build: loss(t)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradients(t, c, 1e-2, 1e-2) })
	}
}

// TestRoutingDrops checks the capacity rule: with every token preferring
// expert 0, only ceil(cap·N·k/E) of them keep it.
func TestRoutingDrops(t *testing.T) {
	r, err := NewRouting(8, 4, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	logits := make([]float32, 8*4)
	for i := 0; i < 8; i++ {
		logits[i*4] = 5
	}
	w := make([]float32, r.Slots())
	if err := r.route(w, logits); err != nil {
		t.Fatal(err)
	}
	if r.Kept[0] != 2 || r.Selected[0] != 8 || r.Dropped != 6 {
		t.Errorf("kept %v selected %v dropped %d, want 2 of 8 kept, 6 dropped", r.Kept, r.Selected, r.Dropped)
	}
	if _, err := NewRouting(4, 2, 3, 1); err == nil {
		t.Error("top-3 of 2 experts accepted")
	}
}

package nn

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// builder builds an op from a fixture (for its params and integer inputs)
// and the graph nodes of its float inputs.
type builder func(fx fixture, n map[string]*G.Node) (*G.Node, error)

func ropeFor(t *testing.T, fx fixture) *Rope {
	var split []int
	for _, v := range fx.params["split"].([]any) {
		split = append(split, int(v.(float64)))
	}
	hd := int(fx.params["head_dim"].(float64))
	pos := fx.inputs["pos"].Float32s()
	r, err := NewRope(hd, split, fx.params["base"].(float64), len(pos)/len(split))
	if err != nil {
		t.Fatal(err)
	}
	p := make([]float64, len(pos))
	for i, v := range pos {
		p[i] = float64(v)
	}
	if err := r.SetPositions(p); err != nil {
		t.Fatal(err)
	}
	return r
}

func maskFor(fx fixture) *Mask {
	allow := fx.inputs["allow"].Float32s()
	t := int(fx.params["t"].(float64))
	m := &Mask{T: t, Allow: make([]bool, len(allow))}
	for i, v := range allow {
		m.Allow[i] = v > 0.5
	}
	return m
}

func attnBuilder(fx fixture, n map[string]*G.Node) (*G.Node, error) {
	p := func(k string) int { return int(fx.params[k].(float64)) }
	qkv, err := G.Concat(1, n["q"], n["k"], n["v"])
	if err != nil {
		return nil, err
	}
	return Attention(qkv, p("b"), p("t"), p("h"), maskFor(fx))
}

func TestOpsTorch(t *testing.T) {
	cases := []struct {
		name   string
		noGrad []string
		build  builder
	}{
		{"rmsnorm", nil, func(_ fixture, n map[string]*G.Node) (*G.Node, error) {
			return apply(rmsNormK{eps: 1e-5}, n["x"], n["w"])
		}},
		{"layernorm", nil, func(_ fixture, n map[string]*G.Node) (*G.Node, error) {
			return apply(layerNormK{eps: 1e-5}, n["x"], n["w"], n["b"])
		}},
		{"silu", nil, func(_ fixture, n map[string]*G.Node) (*G.Node, error) { return apply(actK{siluAct, 2}, n["x"]) }},
		{"gelu", nil, func(_ fixture, n map[string]*G.Node) (*G.Node, error) { return apply(actK{geluAct, 2}, n["x"]) }},
		{"swiglu", nil, func(_ fixture, n map[string]*G.Node) (*G.Node, error) { return apply(swigluK{}, n["x"]) }},
		{"softmax", nil, func(_ fixture, n map[string]*G.Node) (*G.Node, error) { return Softmax(n["x"]) }},
		{"cross_entropy", []string{"targets"}, func(fx fixture, n map[string]*G.Node) (*G.Node, error) {
			return CrossEntropy(n["logits"], &Ints{V: fx.ints("targets")})
		}},
		{"embedding", []string{"ids"}, func(fx fixture, n map[string]*G.Node) (*G.Node, error) {
			return Gather(n["w"], &Ints{V: fx.ints("ids")})
		}},
		{"scatter_add", []string{"idx"}, func(fx fixture, n map[string]*G.Node) (*G.Node, error) {
			return ScatterAdd(n["x"], &Ints{V: fx.ints("idx")}, 7)
		}},
		{"combine", []string{"idx"}, func(fx fixture, n map[string]*G.Node) (*G.Node, error) {
			return Combine(n["x"], n["w"], &Ints{V: fx.ints("idx")}, 7)
		}},
		{"attn_full", []string{"allow"}, attnBuilder},
		{"attn_causal", []string{"allow"}, attnBuilder},
		{"attn_block", []string{"allow"}, attnBuilder},
		{"attn_random", []string{"allow"}, attnBuilder},
		{"attn_tiled_causal", []string{"allow"}, attnBuilder},
		{"attn_tiled_block", []string{"allow"}, attnBuilder},
		{"attn_tiled_random", []string{"allow"}, attnBuilder},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkFixture(t, c.name, c.noGrad, c.build) })
	}
	for _, name := range []string{"rope_1d", "rope_4axes"} {
		t.Run(name, func(t *testing.T) {
			checkFixture(t, name, []string{"pos"}, func(fx fixture, n map[string]*G.Node) (*G.Node, error) {
				return ApplyRope(n["x"], ropeFor(t, fx))
			})
		})
	}
}

// TestOpsGrad checks every op's backward pass against central differences.
func TestOpsGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	x := func(s ...int) *tensor.Dense { return randTensor(rng, 1, s...) }
	rope, err := NewRope(8, []int{1, 1, 1, 1}, 100, 6)
	if err != nil {
		t.Fatal(err)
	}
	if err := rope.SetPositions([]float64{0, 1, 2, 3, 1, 1, 2, 0, 2, 0, 1, 1, 3, 2, 0, 1, 4, 1, 1, 2, 5, 0, 3, 3}); err != nil {
		t.Fatal(err)
	}
	idx := &Ints{V: []int{1, 3, 1, 0, 2}}
	targets := &Ints{V: []int{2, IgnoreIndex, 0, 4}}
	drop := &DropoutState{Training: true, RNG: rand.NewPCG(1, 1)}
	cases := []testCase{
		{name: "rmsnorm", inputs: map[string]*tensor.Dense{"x": x(4, 6), "w": x(6)}, build: func(n map[string]*G.Node) (*G.Node, error) {
			return apply(rmsNormK{eps: 1e-5}, n["x"], n["w"])
		}},
		{name: "layernorm", inputs: map[string]*tensor.Dense{"x": x(4, 6), "w": x(6), "b": x(6)}, build: func(n map[string]*G.Node) (*G.Node, error) {
			return apply(layerNormK{eps: 1e-5}, n["x"], n["w"], n["b"])
		}},
		{name: "silu", inputs: map[string]*tensor.Dense{"x": x(3, 5)}, build: func(n map[string]*G.Node) (*G.Node, error) { return apply(actK{siluAct, 2}, n["x"]) }},
		{name: "gelu", inputs: map[string]*tensor.Dense{"x": x(3, 5)}, build: func(n map[string]*G.Node) (*G.Node, error) { return apply(actK{geluAct, 2}, n["x"]) }},
		{name: "swiglu", inputs: map[string]*tensor.Dense{"x": x(3, 8)}, build: func(n map[string]*G.Node) (*G.Node, error) { return apply(swigluK{}, n["x"]) }},
		{name: "softmax", inputs: map[string]*tensor.Dense{"x": x(3, 5)}, build: func(n map[string]*G.Node) (*G.Node, error) { return Softmax(n["x"]) }},
		{name: "cross_entropy", inputs: map[string]*tensor.Dense{"x": x(4, 5)}, build: func(n map[string]*G.Node) (*G.Node, error) {
			return CrossEntropy(n["x"], targets)
		}},
		{name: "gather", inputs: map[string]*tensor.Dense{"x": x(4, 3)}, build: func(n map[string]*G.Node) (*G.Node, error) { return Gather(n["x"], idx) }},
		{name: "max_rows", inputs: map[string]*tensor.Dense{"x": x(4, 7)}, build: func(n map[string]*G.Node) (*G.Node, error) { return MaxRows(n["x"]) }},
		{name: "scatter_add", inputs: map[string]*tensor.Dense{"x": x(5, 3)}, build: func(n map[string]*G.Node) (*G.Node, error) { return ScatterAdd(n["x"], idx, 4) }},
		{name: "combine", inputs: map[string]*tensor.Dense{"x": x(5, 3), "w": x(5)}, build: func(n map[string]*G.Node) (*G.Node, error) {
			return Combine(n["x"], n["w"], idx, 4)
		}},
		{name: "rope", inputs: map[string]*tensor.Dense{"x": x(6, 16)}, build: func(n map[string]*G.Node) (*G.Node, error) { return ApplyRope(n["x"], rope) }},
		{name: "attention", inputs: map[string]*tensor.Dense{"qkv": x(6, 24)}, build: func(n map[string]*G.Node) (*G.Node, error) {
			return Attention(n["qkv"], 2, 3, 2, CausalMask(3))
		}},
		{name: "modulate", inputs: map[string]*tensor.Dense{"h": x(6, 4), "sh": x(2, 4), "sc": x(2, 4)}, build: func(n map[string]*G.Node) (*G.Node, error) {
			return Modulate(n["h"], n["sh"], n["sc"], 3)
		}},
		{name: "gated_add", inputs: map[string]*tensor.Dense{"x": x(6, 4), "f": x(6, 4), "g": x(2, 4)}, build: func(n map[string]*G.Node) (*G.Node, error) {
			return GatedAdd(n["x"], n["f"], n["g"], 3)
		}},
		{name: "rope_qk", inputs: map[string]*tensor.Dense{"qkv": x(6, 24)}, build: func(n map[string]*G.Node) (*G.Node, error) { return ApplyRopeQK(n["qkv"], rope) }},
		// a fixed mask (reseeded each evaluation) makes dropout a deterministic function
		{name: "dropout", inputs: map[string]*tensor.Dense{"x": x(4, 5)}, build: func(n map[string]*G.Node) (*G.Node, error) {
			drop.RNG.Seed(3, 4)
			return Dropout(n["x"], 0.3, drop)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradients(t, c, 1e-2, 1e-2) })
	}
}

func TestDropout(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	in := randTensor(rng, 1, 100, 100)
	st := &DropoutState{Training: true, RNG: rand.NewPCG(5, 6)}
	build := func(n map[string]*G.Node) (*G.Node, error) { return Dropout(n["x"], 0.25, st) }
	res := evaluate(t, testCase{name: "dropout", inputs: map[string]*tensor.Dense{"x": in}, build: build}, nil)
	zeros := 0
	for i, v := range res.out {
		switch {
		case v == 0:
			zeros++
		case math.Abs(float64(v-in.Float32s()[i]/0.75)) > 1e-6:
			t.Fatalf("kept element %d = %g, want %g", i, v, in.Float32s()[i]/0.75)
		}
	}
	if share := float64(zeros) / float64(len(res.out)); math.Abs(share-0.25) > 0.02 {
		t.Errorf("dropped %.3f of elements, want 0.25 ± 0.02", share)
	}
	st.Training = false
	res = evaluate(t, testCase{name: "dropout-eval", inputs: map[string]*tensor.Dense{"x": in}, build: build}, nil)
	if maxRelErr(res.out, in.Float32s()) != 0 {
		t.Error("dropout in eval mode is not the identity")
	}
	if _, err := Dropout(nil, 1, st); err == nil {
		t.Error("p = 1 accepted")
	}
}

// TestRopeRelative shows attention scores depend only on relative
// positions: shifting every position by a constant leaves q·k unchanged.
func TestRopeRelative(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	q, k := randTensor(rng, 1, 2, 16), randTensor(rng, 1, 2, 16)
	scores := func(shift float64) float64 {
		r, _ := NewRope(16, []int{3, 3, 2}, 10000, 2)
		if err := r.SetPositions([]float64{1 + shift, 2 + shift, 0 + shift, 4 + shift, 3 + shift, 5 + shift}); err != nil {
			t.Fatal(err)
		}
		rot := func(x *tensor.Dense) []float32 {
			return evaluate(t, testCase{name: "rope", inputs: map[string]*tensor.Dense{"x": x}, build: func(n map[string]*G.Node) (*G.Node, error) {
				return ApplyRope(n["x"], r)
			}}, nil).out
		}
		rq, rk := rot(q), rot(k)
		var s float64
		for i := 0; i < 16; i++ {
			s += float64(rq[i]) * float64(rk[16+i])
		}
		return s
	}
	base := scores(0)
	for _, shift := range []float64{1, 7, 100} {
		if got := scores(shift); math.Abs(got-base) > 1e-4*math.Max(1, math.Abs(base)) {
			t.Errorf("shift %g: score %g, unshifted %g", shift, got, base)
		}
	}
}

// TestMaskSet: a mask changed between runs changes the attention output,
// and setting it back restores the first output exactly.
func TestMaskSet(t *testing.T) {
	const tt, d = 5, 4
	rng := rand.New(rand.NewPCG(3, 3))
	qkv := make([]float32, tt*3*d)
	for i := range qkv {
		qkv[i] = float32(rng.NormFloat64())
	}
	g := G.NewGraph()
	x := G.NewMatrix(g, G.Float32, G.WithShape(tt, 3*d), G.WithValue(tensor.New(tensor.WithShape(tt, 3*d), tensor.WithBacking(qkv))))
	m := CausalMask(tt)
	y, err := Attention(x, 1, tt, 1, m)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	run := func() []float32 {
		t.Helper()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		defer vm.Reset()
		return append([]float32(nil), y.Value().Data().([]float32)...)
	}
	causal := run()
	allow := append([]bool(nil), m.Allow...)
	allow[4*tt+0] = false // the last query no longer sees the first key
	if err := m.Set(allow); err != nil {
		t.Fatal(err)
	}
	masked := run()
	if slices.Equal(causal[4*d:], masked[4*d:]) || !slices.Equal(causal[:4*d], masked[:4*d]) {
		t.Fatalf("Set changed the wrong rows: %v vs %v", causal, masked)
	}
	if err := m.Set(CausalMask(tt).Allow); err != nil {
		t.Fatal(err)
	}
	if again := run(); !slices.Equal(again, causal) {
		t.Fatal("restoring the mask did not restore the output")
	}
	if err := m.Set(allow[:3]); err == nil {
		t.Fatal("Set accepted a mask of the wrong size")
	}
}

func TestMaxRows(t *testing.T) {
	x := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{1, 5, -2, -3, -1, -1}))
	res := evaluate(t, testCase{name: "max_rows", inputs: map[string]*tensor.Dense{"x": x}, build: func(n map[string]*G.Node) (*G.Node, error) { return MaxRows(n["x"]) }},
		[]float32{2, 3})
	if !slices.Equal(res.out, []float32{5, -1}) {
		t.Errorf("max %v, want [5 -1]", res.out)
	}
	// the gradient goes to the first maximum only (ties: the first)
	if !slices.Equal(res.grads["x"], []float32{0, 2, 0, 0, 3, 0}) {
		t.Errorf("grad %v", res.grads["x"])
	}
}

package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// convOp applies ConvND or ConvTransposeND to the nodes x, w and (if
// present) b.
func convOp(n map[string]*G.Node, spec ConvSpec, transposed bool) (*G.Node, error) {
	if transposed {
		return ConvTransposeND(n["x"], n["w"], n["b"], spec)
	}
	return ConvND(n["x"], n["w"], n["b"], spec)
}

// withColCap runs f with the column buffer capped at c floats (c ≤ 0: the
// default), so the chunked path is tested too.
func withColCap(c int, f func()) {
	if c <= 0 {
		f()
		return
	}
	old := convColCap
	convColCap = c
	defer func() { convColCap = old }()
	f()
}

var convCaps = []int{0, 1}

func TestConvGrad(t *testing.T) {
	cases := []struct {
		name       string
		x, w       []int
		bias       bool
		spec       ConvSpec
		transposed bool
	}{
		{"conv1d s2 p1", []int{2, 3, 9}, []int{4, 3, 3}, true, ConvSpec{Stride: []int{2}, PadBefore: []int{1}, PadAfter: []int{1}}, false},
		{"conv1d causal", []int{2, 2, 7}, []int{3, 2, 4}, false, ConvSpec{PadBefore: []int{3}, PadAfter: []int{0}}, false},
		{"conv2d p1", []int{2, 3, 5, 6}, []int{4, 3, 3, 3}, true, ConvSpec{PadBefore: []int{1, 1}, PadAfter: []int{1, 1}}, false},
		{"conv2d s2 asym pad", []int{2, 3, 7, 6}, []int{4, 3, 3, 2}, true,
			ConvSpec{Stride: []int{2, 2}, PadBefore: []int{1, 0}, PadAfter: []int{0, 2}}, false},
		{"conv2d dilation 2", []int{1, 2, 7, 7}, []int{3, 2, 3, 3}, false,
			ConvSpec{Dilation: []int{2, 2}, PadBefore: []int{2, 1}, PadAfter: []int{2, 1}}, false},
		{"conv2d 1x1", []int{2, 4, 3, 5}, []int{3, 4, 1, 1}, true, ConvSpec{}, false},
		{"conv2d 1x1 s2", []int{2, 4, 5, 5}, []int{3, 4, 1, 1}, false, ConvSpec{Stride: []int{2, 2}}, false},
		{"conv3d", []int{2, 2, 4, 5, 4}, []int{3, 2, 3, 3, 2}, true,
			ConvSpec{Stride: []int{1, 2, 1}, PadBefore: []int{1, 1, 0}, PadAfter: []int{1, 1, 1}}, false},
		{"conv3d causal", []int{1, 2, 5, 4, 4}, []int{3, 2, 3, 3, 3}, true,
			ConvSpec{PadBefore: []int{2, 1, 1}, PadAfter: []int{0, 1, 1}}, false},
		{"conv3d causal s2", []int{1, 2, 5, 4, 4}, []int{3, 2, 3, 3, 3}, true,
			ConvSpec{Stride: []int{2, 2, 2}, PadBefore: []int{2, 1, 1}, PadAfter: []int{0, 1, 1}}, false},
		{"conv3d causal temporal", []int{2, 3, 5, 2, 3}, []int{2, 3, 3, 1, 1}, true,
			ConvSpec{PadBefore: []int{2, 0, 0}, PadAfter: []int{0, 0, 0}}, false},
		{"convT1d s2 op1", []int{2, 3, 4}, []int{3, 2, 3}, true,
			ConvSpec{Stride: []int{2}, PadBefore: []int{1}, PadAfter: []int{1}, OutputPadding: []int{1}}, true},
		{"convT2d s2 p1 op1", []int{2, 3, 4, 3}, []int{3, 2, 3, 3}, true,
			ConvSpec{Stride: []int{2, 2}, PadBefore: []int{1, 1}, PadAfter: []int{1, 1}, OutputPadding: []int{1, 1}}, true},
		{"convT2d asym", []int{1, 2, 3, 4}, []int{2, 3, 4, 3}, false,
			ConvSpec{Stride: []int{2, 3}, PadBefore: []int{0, 1}, PadAfter: []int{2, 0}, OutputPadding: []int{1, 2}}, true},
		{"convT2d dilation op", []int{1, 2, 4, 4}, []int{2, 2, 3, 3}, false,
			ConvSpec{Dilation: []int{2, 2}, OutputPadding: []int{1, 1}}, true},
		{"convT2d 1x1", []int{2, 3, 3, 2}, []int{3, 4, 1, 1}, true, ConvSpec{}, true},
		{"convT3d", []int{1, 2, 3, 3, 2}, []int{2, 3, 2, 3, 3}, true,
			ConvSpec{Stride: []int{2, 1, 2}, PadBefore: []int{0, 1, 1}, PadAfter: []int{0, 1, 0}, OutputPadding: []int{1, 0, 1}}, true},
	}
	for _, c := range convCaps {
		for _, tc := range cases {
			rng := rand.New(rand.NewPCG(5, uint64(len(tc.name))))
			in := map[string]*tensor.Dense{"x": randTensor(rng, 1, tc.x...), "w": randTensor(rng, 0.5, tc.w...)}
			if tc.bias {
				nb := tc.w[0]
				if tc.transposed {
					nb = tc.w[1]
				}
				in["b"] = randTensor(rng, 1, nb)
			}
			name := fmt.Sprintf("%s (col cap %d)", tc.name, c)
			withColCap(c, func() {
				checkGradients(t, testCase{name: name, inputs: in, build: func(n map[string]*G.Node) (*G.Node, error) {
					return convOp(n, tc.spec, tc.transposed)
				}}, 1e-2, 1e-2)
			})
		}
	}
}

var convFixtures = []string{"conv1d", "conv2d", "conv2d_s2", "conv_transpose2d", "conv3d", "conv3d_causal", "conv3d_causal_t"}

// fixtureSpec reads the geometry stored with a conv fixture.
func fixtureSpec(t *testing.T, fx fixture) (ConvSpec, bool) {
	t.Helper()
	ints := func(key string) []int {
		v, ok := fx.params[key].([]any)
		if !ok {
			return nil
		}
		out := make([]int, len(v))
		for i, e := range v {
			out[i] = int(e.(float64))
		}
		return out
	}
	spec := ConvSpec{Stride: ints("stride"), PadBefore: ints("pad_before"), PadAfter: ints("pad_after"), OutputPadding: ints("output_padding")}
	if spec.Stride == nil || spec.PadBefore == nil || spec.PadAfter == nil {
		t.Fatalf("fixture params %v lack the geometry", fx.params)
	}
	tr, _ := fx.params["transposed"].(bool)
	return spec, tr
}

func TestConvTorch(t *testing.T) {
	for _, c := range convCaps {
		withColCap(c, func() {
			for _, name := range convFixtures {
				checkFixture(t, name, nil, func(fx fixture, n map[string]*G.Node) (*G.Node, error) {
					spec, tr := fixtureSpec(t, fx)
					return convOp(n, spec, tr)
				})
			}
		})
	}
}

// convLayer is any of the conv layers.
type convLayer interface {
	Forward(x *G.Node) (*G.Node, error)
}

// layerForFixture builds the layer matching a fixture's geometry.
func layerForFixture(b *Builder, name string) (convLayer, *Param, *Param) {
	switch name {
	case "conv1d":
		l := NewConv1d(b, "conv", Conv1dConfig{In: 3, Out: 4, Kernel: 3, Stride: 2, Padding: 1, Bias: true})
		return l, l.W, l.B
	case "conv2d":
		l := NewConv2d(b, "conv", Conv2dConfig{In: 3, Out: 5, Kernel: 3, Padding: 1, Bias: true})
		return l, l.W, l.B
	case "conv2d_s2":
		l := NewConv2d(b, "conv", Conv2dConfig{In: 3, Out: 4, Kernel: 3, Stride: 2, Padding: 1})
		return l, l.W, l.B
	case "conv_transpose2d":
		l := NewConvTranspose2d(b, "conv", ConvTranspose2dConfig{In: 4, Out: 3, Kernel: 3, Stride: 2, Padding: 1, OutputPadding: 1, Bias: true})
		return l, l.W, l.B
	case "conv3d":
		l := NewConv3d(b, "conv", Conv3dConfig{In: 3, Out: 4, Kernel: [3]int{3, 3, 2}, Stride: [3]int{1, 2, 1}, Padding: [3]int{1, 1, 0}, Bias: true})
		return l, l.W, l.B
	case "conv3d_causal":
		l := NewCausalConv3d(b, "conv", CausalConv3dConfig{In: 3, Out: 4, Kernel: [3]int{3, 3, 3}, Stride: [3]int{2, 1, 1}, Padding: [2]int{1, 1}, Bias: true})
		return l, l.W, l.B
	case "conv3d_causal_t":
		l := NewCausalConv3d(b, "conv", CausalConv3dConfig{In: 4, Out: 5, Kernel: [3]int{3, 1, 1}, Stride: [3]int{1, 1, 1}, Bias: true})
		return l, l.W, l.B
	}
	panic(name)
}

// TestConvLayersTorch loads PyTorch's weights into each layer (same names
// and layout) and compares the output and the parameter gradients of a
// training program, run twice (buffers are reused, gradients not summed).
func TestConvLayersTorch(t *testing.T) {
	for _, name := range convFixtures {
		fx := loadFixture(t, name)
		b := NewBuilder(1).Sub("enc")
		l, w, bp := layerForFixture(b, name)
		if w.Name() != "enc.conv.weight" || !w.Decay() || !slices.Equal(w.Shape(), fx.inputs["w"].Shape()) {
			t.Fatalf("%s: weight %s %v decay=%v, want enc.conv.weight %v decay=true", name, w.Name(), w.Shape(), w.Decay(), fx.inputs["w"].Shape())
		}
		copy(w.Data(), fx.inputs["w"].Float32s())
		if fb, ok := fx.inputs["b"]; ok {
			if bp == nil || bp.Name() != "enc.conv.bias" || bp.Decay() {
				t.Fatalf("%s: bias %v, want enc.conv.bias without decay", name, bp)
			}
			copy(bp.Data(), fb.Float32s())
		} else if bp != nil {
			t.Fatalf("%s: unexpected bias", name)
		}
		x := b.Input("x", fx.inputs["x"].Shape()...)
		if err := x.Set(fx.inputs["x"].Float32s()); err != nil {
			t.Fatal(err)
		}
		y, err := l.Forward(x.Node)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !y.Shape().Eq(fx.out.Shape()) {
			t.Fatalf("%s: output shape %v, PyTorch %v", name, y.Shape(), fx.out.Shape())
		}
		var yv G.Value
		G.Read(y, &yv)
		loss, err := apply(weightedSumK{r: fx.r, nd: y.Dims()}, y)
		if err != nil {
			t.Fatal(err)
		}
		prog, err := Compile(b.G, loss, b.Params())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for run := range 2 {
			if _, err := prog.Run(); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if e := maxRelErr(yv.Data().([]float32), fx.out.Float32s()); e > 1e-4 {
				t.Errorf("%s run %d: output rel err %.3g", name, run, e)
			}
			if e := maxRelErr(w.Grad(), fx.grads["w"]); e > 1e-4 {
				t.Errorf("%s run %d: weight grad rel err %.3g", name, run, e)
			}
			if bp != nil {
				if e := maxRelErr(bp.Grad(), fx.grads["b"]); e > 1e-4 {
					t.Errorf("%s run %d: bias grad rel err %.3g", name, run, e)
				}
			}
		}
		prog.Close()
	}
}

func TestConvInit(t *testing.T) {
	b := NewBuilder(9)
	c2 := NewConv2d(b, "c2", Conv2dConfig{In: 8, Out: 16, Kernel: 3, Bias: true})
	ct := NewConvTranspose2d(b, "ct", ConvTranspose2dConfig{In: 16, Out: 4, Kernel: 4, Stride: 2, Padding: 1, Bias: true})
	c3 := NewCausalConv3d(b, "c3", CausalConv3dConfig{In: 4, Out: 8, Kernel: [3]int{3, 3, 3}, Padding: [2]int{1, 1}})
	for _, c := range []struct {
		p     *Param
		bound float64
	}{
		{c2.W, 1 / math.Sqrt(8*9)}, {c2.B, 1 / math.Sqrt(8*9)},
		{ct.W, 1 / math.Sqrt(4*16)}, {ct.B, 1 / math.Sqrt(4*16)},
		{c3.W, 1 / math.Sqrt(4*27)},
	} {
		var m float64
		for _, v := range c.p.Data() {
			m = math.Max(m, math.Abs(float64(v)))
		}
		if m > c.bound || m < 0.8*c.bound {
			t.Errorf("%s: max |value| %.4f, want U(±%.4f)", c.p.Name(), m, c.bound)
		}
	}
	if c3.B != nil {
		t.Errorf("c3 has a bias without Bias")
	}
	want := []string{"c2.weight", "c2.bias", "ct.weight", "ct.bias", "c3.weight"}
	var got []string
	for _, p := range b.Params() {
		got = append(got, p.Name())
	}
	if !slices.Equal(got, want) {
		t.Errorf("params %v, want %v", got, want)
	}
}

// TestCausalConv3dCausality changes the input frames after t and checks that
// the output frames that may only see frames ≤ t stay bit-identical.
func TestCausalConv3dCausality(t *testing.T) {
	for _, c := range []struct {
		name string
		mk   func(b *Builder) *CausalConv3d
		st   int
	}{
		{"3x3x3", func(b *Builder) *CausalConv3d {
			return NewCausalConv3d(b, "c", CausalConv3dConfig{In: 2, Out: 3, Kernel: [3]int{3, 3, 3}, Padding: [2]int{1, 1}, Bias: true})
		}, 1},
		{"3x3x3 time stride 2", func(b *Builder) *CausalConv3d {
			return NewCausalConv3d(b, "c", CausalConv3dConfig{In: 2, Out: 3, Kernel: [3]int{3, 3, 3}, Stride: [3]int{2, 1, 1}, Padding: [2]int{1, 1}, Bias: true})
		}, 2},
		{"temporal k4", func(b *Builder) *CausalConv3d {
			return NewCausalConv3d(b, "c", CausalConv3dConfig{In: 2, Out: 3, Kernel: [3]int{4, 1, 1}, Stride: [3]int{1, 1, 1}})
		}, 1},
	} {
		const T, H, W = 7, 4, 5
		b := NewBuilder(3)
		l := c.mk(b)
		x := b.Input("x", 1, 2, T, H, W)
		y, err := l.Forward(x.Node)
		if err != nil {
			t.Fatal(err)
		}
		tOut, fo := y.Shape()[2], y.Shape()[3]*y.Shape()[4]
		if tOut != (T-1)/c.st+1 {
			t.Fatalf("%s: %d output frames from %d, want %d", c.name, tOut, T, (T-1)/c.st+1)
		}
		var yv G.Value
		G.Read(y, &yv)
		vm := CompileForward(b.G)
		run := func(in []float32) []float32 {
			if err := x.Set(in); err != nil {
				t.Fatal(err)
			}
			defer vm.Reset()
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			return slices.Clone(yv.Data().([]float32))
		}
		rng := rand.New(rand.NewPCG(1, 1))
		base := make([]float32, 2*T*H*W)
		for i := range base {
			base[i] = float32(rng.NormFloat64())
		}
		ref := run(base)
		for tt := 0; tt < T-1; tt++ {
			in := slices.Clone(base)
			for ch := range 2 {
				for f := tt + 1; f < T; f++ {
					for i := range H * W {
						in[(ch*T+f)*H*W+i] += float32(rng.NormFloat64())
					}
				}
			}
			got := run(in)
			for o := range 3 {
				for to := range tOut {
					a := got[(o*tOut+to)*fo : (o*tOut+to+1)*fo]
					r := ref[(o*tOut+to)*fo : (o*tOut+to+1)*fo]
					same := slices.Equal(a, r)
					if to*c.st <= tt && !same {
						t.Errorf("%s: changing frames > %d changed output frame %d", c.name, tt, to)
					}
					if to*c.st == tt+1 && same {
						t.Errorf("%s: changing frame %d left output frame %d unchanged", c.name, tt+1, to)
					}
				}
			}
		}
		vm.Close()
	}
}

// TestConvShapeErrors: bad shapes are errors, never panics.
func TestConvShapeErrors(t *testing.T) {
	node := func(g *G.ExprGraph, name string, shape ...int) *G.Node {
		return G.NewTensor(g, tensor.Float32, len(shape), G.WithShape(shape...), G.WithName(name))
	}
	cases := []struct {
		name, want string
		f          func() (*G.Node, error)
	}{
		{"layer channels", "channels", func() (*G.Node, error) {
			b := NewBuilder(1)
			return NewConv2d(b, "c", Conv2dConfig{In: 3, Out: 4, Kernel: 3, Padding: 1}).Forward(b.Input("x", 1, 4, 8, 8).Node)
		}},
		{"op channels", "channels", func() (*G.Node, error) {
			g := G.NewGraph()
			return ConvND(node(g, "x", 1, 4, 8, 8), node(g, "w", 5, 3, 3, 3), nil, ConvSpec{})
		}},
		{"transposed channels", "channels", func() (*G.Node, error) {
			g := G.NewGraph()
			return ConvTransposeND(node(g, "x", 1, 3, 4, 4), node(g, "w", 4, 2, 3, 3), nil, ConvSpec{})
		}},
		{"kernel > padded input", "larger than the padded input", func() (*G.Node, error) {
			b := NewBuilder(1)
			return NewConv2d(b, "c", Conv2dConfig{In: 3, Out: 4, Kernel: 5, Padding: 0}).Forward(b.Input("x", 1, 3, 3, 8).Node)
		}},
		{"temporal kernel > frames", "larger than the padded input", func() (*G.Node, error) {
			b := NewBuilder(1)
			return NewConv3d(b, "c", Conv3dConfig{In: 3, Out: 4, Kernel: [3]int{3, 1, 1}}).Forward(b.Input("x", 1, 3, 2, 4, 4).Node)
		}},
		{"input dims", "want 4 dims", func() (*G.Node, error) {
			b := NewBuilder(1)
			return NewConv2d(b, "c", Conv2dConfig{In: 3, Out: 4, Kernel: 3}).Forward(b.Input("x", 3, 8, 8).Node)
		}},
		{"op input dims", "want 5 dims", func() (*G.Node, error) {
			g := G.NewGraph()
			return ConvND(node(g, "x", 1, 3, 8, 8), node(g, "w", 5, 3, 3, 3, 3), nil, ConvSpec{})
		}},
		{"bias shape", "bias", func() (*G.Node, error) {
			g := G.NewGraph()
			return ConvND(node(g, "x", 1, 3, 8, 8), node(g, "w", 5, 3, 3, 3), node(g, "b", 4), ConvSpec{})
		}},
		{"spec length", "one per spatial dim", func() (*G.Node, error) {
			g := G.NewGraph()
			return ConvND(node(g, "x", 1, 3, 8, 8), node(g, "w", 5, 3, 3, 3), nil, ConvSpec{Stride: []int{2}})
		}},
		{"weight dims", "want 3 to 5 dims", func() (*G.Node, error) {
			g := G.NewGraph()
			return ConvND(node(g, "x", 1, 3, 8, 8), node(g, "w", 5, 3), nil, ConvSpec{})
		}},
		{"output padding ≥ stride", "output padding", func() (*G.Node, error) {
			b := NewBuilder(1)
			return NewConvTranspose2d(b, "c", ConvTranspose2dConfig{In: 3, Out: 4, Kernel: 3, Stride: 2, OutputPadding: 2}).Forward(b.Input("x", 1, 3, 4, 4).Node)
		}},
		{"output padding on conv", "only for transposed", func() (*G.Node, error) {
			g := G.NewGraph()
			return ConvND(node(g, "x", 1, 3, 8, 8), node(g, "w", 5, 3, 3, 3), nil, ConvSpec{Stride: []int{2, 2}, OutputPadding: []int{1, 1}})
		}},
		{"transposed padding too large", "exceeds", func() (*G.Node, error) {
			g := G.NewGraph()
			return ConvTransposeND(node(g, "x", 1, 2, 1, 1), node(g, "w", 2, 3, 3, 3), nil,
				ConvSpec{PadBefore: []int{3, 3}, PadAfter: []int{3, 3}})
		}},
		{"negative padding", "want ≥ 0", func() (*G.Node, error) {
			g := G.NewGraph()
			return ConvND(node(g, "x", 1, 3, 8), node(g, "w", 5, 3, 3), nil, ConvSpec{PadBefore: []int{-1}})
		}},
	}
	for _, c := range cases {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s: panic: %v", c.name, r)
				}
			}()
			n, err := c.f()
			if err == nil {
				t.Errorf("%s: no error (output %v)", c.name, n.Shape())
			} else if !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: error %q does not mention %q", c.name, err, c.want)
			}
		}()
	}
}

// BenchmarkConv2d: N=16, 32→64 channels, 32×32, k=3, padding 1.
func BenchmarkConv2d(b *testing.B) {
	const n, cin, cout, hw, k = 16, 32, 64, 32, 3
	flops := 2.0 * n * cout * hw * hw * cin * k * k
	setup := func() (*Builder, *Input, *G.Node) {
		bld := NewBuilder(1)
		c := NewConv2d(bld, "c", Conv2dConfig{In: cin, Out: cout, Kernel: k, Padding: 1, Bias: true})
		x := bld.Input("x", n, cin, hw, hw)
		rng := rand.New(rand.NewPCG(1, 2))
		d := make([]float32, n*cin*hw*hw)
		for i := range d {
			d[i] = float32(rng.NormFloat64())
		}
		if err := x.Set(d); err != nil {
			b.Fatal(err)
		}
		y, err := c.Forward(x.Node)
		if err != nil {
			b.Fatal(err)
		}
		return bld, x, y
	}
	b.Run("forward", func(b *testing.B) {
		bld, _, _ := setup()
		vm := CompileForward(bld.G)
		defer vm.Close()
		for b.Loop() {
			if err := vm.RunAll(); err != nil {
				b.Fatal(err)
			}
			vm.Reset()
		}
		b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
	b.Run("train", func(b *testing.B) {
		bld, _, y := setup()
		loss, err := G.Sum(y)
		if err != nil {
			b.Fatal(err)
		}
		prog, err := Compile(bld.G, loss, bld.Params())
		if err != nil {
			b.Fatal(err)
		}
		defer prog.Close()
		for b.Loop() {
			if _, err := prog.Run(); err != nil {
				b.Fatal(err)
			}
		}
		// forward + input gradient + weight gradient
		b.ReportMetric(3*flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}

// BenchmarkConvTokenizer: the video tokenizer's costliest layers on a
// batch of 16 frames: the 4×4 stride-2 downsampling conv 32→64 at 64×64
// and its transposed twin, as per-frame Conv3d on [N, C, 1, H, W].
func BenchmarkConvTokenizer(b *testing.B) {
	const n, cin, cout, hw = 16, 32, 64, 64
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name  string
		flops float64
		build func(bld *Builder) (*G.Node, error)
	}{
		{"down", 2.0 * n * cout * (hw / 2) * (hw / 2) * cin * 16, func(bld *Builder) (*G.Node, error) {
			c := NewConv3d(bld, "c", Conv3dConfig{In: cin, Out: cout, Kernel: [3]int{1, 4, 4}, Stride: [3]int{1, 2, 2}, Padding: [3]int{0, 1, 1}})
			x := bld.Param("x", false, Normal(1), n, cin, 1, hw, hw)
			return c.Forward(x.Node())
		}},
		{"up", 2.0 * n * cout * (hw / 2) * (hw / 2) * cin * 16, func(bld *Builder) (*G.Node, error) {
			c := NewConvTranspose3d(bld, "c", ConvTranspose3dConfig{In: cout, Out: cin, Kernel: [3]int{1, 4, 4}, Stride: [3]int{1, 2, 2}, PadBefore: [3]int{0, 1, 1}, PadAfter: [3]int{0, 1, 1}, Bias: true})
			x := bld.Param("x", false, Normal(1), n, cout, 1, hw/2, hw/2)
			return c.Forward(x.Node())
		}},
	} {
		for _, train := range []bool{false, true} {
			name := tc.name + "/forward"
			if train {
				name = tc.name + "/train"
			}
			b.Run(name, func(b *testing.B) {
				bld := NewBuilder(1)
				_ = rng
				y, err := tc.build(bld)
				if err != nil {
					b.Fatal(err)
				}
				flops := tc.flops
				var run func() error
				if train {
					loss, err := G.Sum(y)
					if err != nil {
						b.Fatal(err)
					}
					p, err := Compile(bld.G, loss, bld.Params())
					if err != nil {
						b.Fatal(err)
					}
					defer p.Close()
					run = func() error { _, err := p.Run(); return err }
					flops *= 3
				} else {
					vm := CompileForward(bld.G)
					defer vm.Close()
					run = func() error { defer vm.Reset(); return vm.RunAll() }
				}
				for b.Loop() {
					if err := run(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// TestVol2Col checks vol2col against the definition, cell by cell, on
// random geometries (strides, dilations, asymmetric pads, row chunks) and
// on the tokenizer's own, and col2vol as its adjoint:
// ⟨vol2col(x), c⟩ = ⟨x, col2vol(c)⟩.
func TestVol2Col(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	type geom struct{ k, s, p0, p1, dil, vd [3]int }
	one := [3]int{1, 1, 1}
	geoms := []geom{ // same-size 3×3 (the contiguous path), 4×4 stride 2, causal time stride 4
		{k: [3]int{1, 3, 3}, s: one, p0: [3]int{0, 1, 1}, p1: [3]int{0, 1, 1}, dil: one, vd: [3]int{3, 8, 8}},
		{k: [3]int{1, 4, 4}, s: [3]int{1, 2, 2}, p0: [3]int{0, 1, 1}, p1: [3]int{0, 1, 1}, dil: one, vd: [3]int{2, 8, 8}},
		{k: [3]int{4, 3, 3}, s: [3]int{4, 1, 1}, p0: [3]int{3, 1, 1}, p1: [3]int{0, 1, 1}, dil: one, vd: [3]int{9, 4, 4}},
	}
	for i := range 500 {
		var g geom
		for i := range 3 {
			g.k[i], g.s[i], g.dil[i] = 1+rng.IntN(4), 1+rng.IntN(3), 1+rng.IntN(2)
			g.p0[i], g.p1[i], g.vd[i] = rng.IntN(4), rng.IntN(4), 1+rng.IntN(7)
		}
		if i%4 == 0 { // rows long enough for the vector kernels
			g.vd[2] = 16 + rng.IntN(40)
		}
		geoms = append(geoms, g)
	}
	tested := 0
	for _, gm := range geoms {
		cg := convGeom{sd: 3, k: gm.k, s: gm.s, p0: gm.p0, p1: gm.p1, dil: gm.dil}
		cd, err := cg.colSize(gm.vd)
		if err != nil {
			continue
		}
		tested++
		c, rows := 1+rng.IntN(3), cd[0]*cd[1]
		r0, r1 := 0, rows
		if tested > 3 { // a chunk of the output rows
			r0 = rng.IntN(rows)
			r1 = r0 + 1 + rng.IntN(rows-r0)
		}
		width, vsz := (r1-r0)*cd[2], vol3(gm.vd)
		x := make([]float32, c*vsz)
		for i := range x {
			x[i] = float32(i + 1)
		}
		dir := make([]float32, c*cg.kvol()*width)
		for i := range dir {
			dir[i] = float32(rng.NormFloat64())
		}
		back0 := make([]float32, len(x)) // col2vol adds to it and must leave the rest alone
		for i := range back0 {
			back0[i] = float32(rng.NormFloat64())
		}
		back := slices.Clone(back0)
		cg.col2vol(back, dir, c, gm.vd, cd, r0, r1)
		col := make([]float32, len(dir))
		for i := range col {
			col[i] = float32(math.NaN()) // vol2col must write every cell
		}
		cg.vol2col(col, x, c, gm.vd, cd, r0, r1)
		row := 0
		for ch := range c {
			for kd := range gm.k[0] {
				for kh := range gm.k[1] {
					for kw := range gm.k[2] {
						for r := r0; r < r1; r++ {
							for ow := range cd[2] {
								od, oh := r/cd[1], r%cd[1]
								id := od*gm.s[0] - gm.p0[0] + kd*gm.dil[0]
								ih := oh*gm.s[1] - gm.p0[1] + kh*gm.dil[1]
								iw := ow*gm.s[2] - gm.p0[2] + kw*gm.dil[2]
								var v float32
								if id >= 0 && id < gm.vd[0] && ih >= 0 && ih < gm.vd[1] && iw >= 0 && iw < gm.vd[2] {
									v = x[ch*vsz+(id*gm.vd[1]+ih)*gm.vd[2]+iw]
								}
								if got := col[row*width+(r-r0)*cd[2]+ow]; got != v {
									t.Fatalf("%+v, %d channels, rows [%d, %d): channel %d tap (%d, %d, %d) at row %d col %d = %v, want %v",
										gm, c, r0, r1, ch, kd, kh, kw, r, ow, got, v)
								}
							}
						}
						row++
					}
				}
			}
		}
		var lhs, rhs float64
		for i, v := range col {
			lhs += float64(v) * float64(dir[i])
		}
		for i, v := range x {
			rhs += float64(v) * (float64(back[i]) - float64(back0[i]))
		}
		if math.Abs(lhs-rhs) > 1e-4*(1+math.Abs(lhs)) {
			t.Fatalf("%+v, %d channels, rows [%d, %d): ⟨vol2col(x), c⟩ = %v, ⟨x, col2vol(c)⟩ = %v", gm, c, r0, r1, lhs, rhs)
		}
	}
	if tested < 100 {
		t.Fatalf("only %d of %d geometries were valid", tested, len(geoms))
	}
}

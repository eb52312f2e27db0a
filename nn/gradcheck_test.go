package nn

import (
	"math"
	"math/rand/v2"
	"os"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/omniar/omniar/internal/blas"
)

func TestMain(m *testing.M) {
	blas.Install()
	os.Exit(m.Run())
}

// weightedSumK is loss = Σ x·r for a fixed r: the probe that turns any
// output into a scalar for gradient checks (its gradient is r).
type weightedSumK struct {
	r  []float32
	nd int
}

func (weightedSumK) String() string       { return "WeightedSum" }
func (k weightedSumK) dims() ([]int, int) { return []int{k.nd}, 0 }
func (k weightedSumK) shape(in []tensor.Shape) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}
func (k weightedSumK) forward(out []float32, in []*tensor.Dense) error {
	var s float64
	for i, v := range in[0].Float32s() {
		s += float64(v) * float64(k.r[i])
	}
	out[0] = float32(s)
	return nil
}
func (k weightedSumK) diffWRT() []bool { return []bool{true} }
func (k weightedSumK) backward(in G.Nodes, _, dy *G.Node) (G.Nodes, error) {
	n, err := apply(broadcastK{r: k.r, to: in[0].Shape()}, dy)
	return G.Nodes{n}, err
}

// broadcastK is the gradient of weightedSumK: dy·r in the input's shape.
type broadcastK struct {
	r  []float32
	to tensor.Shape
}

func (broadcastK) String() string       { return "Broadcast" }
func (k broadcastK) dims() ([]int, int) { return []int{0}, len(k.to) }
func (k broadcastK) shape(in []tensor.Shape) (tensor.Shape, error) {
	return k.to.Clone(), nil
}
func (k broadcastK) forward(out []float32, in []*tensor.Dense) error {
	dy := in[0].Float32s()[0]
	for i, r := range k.r {
		out[i] = dy * r
	}
	return nil
}

// testCase is one layer or op under test: inputs, and how to build its output.
type testCase struct {
	name   string
	inputs map[string]*tensor.Dense // all differentiable unless listed in noGrad
	noGrad map[string]bool
	build  func(in map[string]*G.Node) (*G.Node, error)
}

type result struct {
	out   []float32
	shape tensor.Shape
	loss  float64
	grads map[string][]float32
}

func randTensor(rng *rand.Rand, scale float64, shape ...int) *tensor.Dense {
	n := tensor.Shape(shape).TotalSize()
	d := make([]float32, n)
	for i := range d {
		d[i] = float32(rng.NormFloat64() * scale)
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))
}

// evaluate builds the case in a fresh graph with the probe r, runs forward
// and backward, and returns the output, the loss and the input gradients.
func evaluate(t *testing.T, tc testCase, r []float32) result {
	t.Helper()
	g := G.NewGraph()
	nodes := map[string]*G.Node{}
	var wrt G.Nodes
	var names []string
	for _, name := range sortedKeys(tc.inputs) {
		v := tc.inputs[name].Clone().(*tensor.Dense)
		n := G.NewTensor(g, tensor.Float32, v.Dims(), G.WithShape(v.Shape()...), G.WithName(name), G.WithValue(v))
		nodes[name] = n
		if !tc.noGrad[name] {
			wrt = append(wrt, n)
			names = append(names, name)
		}
	}
	out, err := tc.build(nodes)
	if err != nil {
		t.Fatalf("%s: build: %v", tc.name, err)
	}
	if r == nil {
		return forwardOnly(t, g, out)
	}
	loss, err := apply(weightedSumK{r: r, nd: out.Dims()}, out)
	if err != nil {
		t.Fatal(err)
	}
	var outV G.Value
	G.Read(out, &outV)
	if _, err := G.Grad(loss, wrt...); err != nil {
		t.Fatalf("%s: grad: %v", tc.name, err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(wrt...))
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatalf("%s: run: %v", tc.name, err)
	}
	res := result{out: floats(outV), shape: outV.Shape().Clone(),
		loss: float64(scalarValue(loss.Value())), grads: map[string][]float32{}}
	for i, n := range wrt {
		gv, err := n.Grad()
		if err != nil {
			t.Fatalf("%s: grad of %s: %v", tc.name, names[i], err)
		}
		res.grads[names[i]] = append([]float32(nil), gv.Data().([]float32)...)
	}
	return res
}

func forwardOnly(t *testing.T, g *G.ExprGraph, out *G.Node) result {
	var outV G.Value
	G.Read(out, &outV)
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatalf("run: %v", err)
	}
	return result{out: floats(outV), shape: outV.Shape().Clone()}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	for i := 1; i < len(ks); i++ {
		for j := i; j > 0 && ks[j] < ks[j-1]; j-- {
			ks[j], ks[j-1] = ks[j-1], ks[j]
		}
	}
	return ks
}

// checkGradients compares analytic gradients of Σ out·r with central
// differences, perturbing up to maxProbe elements of each input.
func checkGradients(t *testing.T, tc testCase, eps, tol float64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	base := evaluate(t, tc, nil)
	r := make([]float32, len(base.out))
	for i := range r {
		r[i] = float32(rng.NormFloat64())
	}
	got := evaluate(t, tc, r)
	const maxProbe = 24
	for name, an := range got.grads {
		x := tc.inputs[name].Float32s()
		var scale float64
		for _, v := range an {
			scale = math.Max(scale, math.Abs(float64(v)))
		}
		idx := rng.Perm(len(x))
		if len(idx) > maxProbe {
			idx = idx[:maxProbe]
		}
		for _, i := range idx {
			orig := x[i]
			x[i] = orig + float32(eps)
			lp := lossOf(t, tc, r)
			x[i] = orig - float32(eps)
			lm := lossOf(t, tc, r)
			x[i] = orig
			num := (lp - lm) / (2 * eps)
			if d := math.Abs(num - float64(an[i])); d > tol*math.Max(scale, 1e-3) {
				t.Errorf("%s: d/d%s[%d]: analytic %.6g, numeric %.6g (|diff| %.3g > %.3g·%.3g)", tc.name, name, i, an[i], num, d, tol, scale)
			}
		}
	}
}

// lossOf evaluates Σ out·r in float64 from a forward pass.
func lossOf(t *testing.T, tc testCase, r []float32) float64 {
	res := evaluate(t, tc, nil)
	var s float64
	for i, v := range res.out {
		s += float64(v) * float64(r[i])
	}
	return s
}

// floats copies a tensor's or scalar's values.
func floats(v G.Value) []float32 {
	if f, ok := v.(*G.F32); ok {
		return []float32{float32(*f)}
	}
	return append([]float32(nil), v.Data().([]float32)...)
}

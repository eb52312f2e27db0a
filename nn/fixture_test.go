package nn

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/omniar/omniar/nn/ckpt"
)

// fixture is one PyTorch reference case written by tools/make_fixtures.py.
type fixture struct {
	inputs map[string]*tensor.Dense
	out    *tensor.Dense
	r      []float32
	grads  map[string][]float32
	params map[string]any
}

func loadFixture(t *testing.T, name string) fixture {
	t.Helper()
	f, err := ckpt.Load(filepath.Join("testdata", "fixtures", name+".safetensors"))
	if err != nil {
		t.Fatalf("%v (run `make fixtures`)", err)
	}
	get := func(n string) *tensor.Dense {
		shape, _ := f.Shape(n)
		d, err := f.Get(n)
		if err != nil {
			t.Fatal(err)
		}
		if len(shape) == 0 {
			return tensor.New(tensor.WithShape(), tensor.WithBacking(d))
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))
	}
	fx := fixture{inputs: map[string]*tensor.Dense{}, grads: map[string][]float32{}, params: map[string]any{}}
	for _, n := range f.Names() {
		switch {
		case strings.HasPrefix(n, "in."):
			fx.inputs[strings.TrimPrefix(n, "in.")] = get(n)
		case strings.HasPrefix(n, "grad."):
			fx.grads[strings.TrimPrefix(n, "grad.")] = get(n).Float32s()
		case n == "out":
			fx.out = get(n)
		case n == "r":
			fx.r = get(n).Float32s()
		}
	}
	if p := f.Meta["params"]; p != "" {
		if err := json.Unmarshal([]byte(p), &fx.params); err != nil {
			t.Fatalf("fixture %s: params: %v", name, err)
		}
	}
	return fx
}

// ints reads an integer-valued fixture input (ids, targets, positions).
func (fx fixture) ints(name string) []int {
	d := fx.inputs[name].Float32s()
	out := make([]int, len(d))
	for i, v := range d {
		out[i] = int(v)
	}
	return out
}

// maxRelErr is max|a-b| / max|b|, the error measure of the fixture tests.
func maxRelErr(a, b []float32) float64 {
	var num, den float64
	for i := range b {
		num = math.Max(num, math.Abs(float64(a[i])-float64(b[i])))
		den = math.Max(den, math.Abs(float64(b[i])))
	}
	if den == 0 {
		return num
	}
	return num / den
}

// checkFixture builds the op on the fixture's inputs and compares the output
// and the gradients of Σ out·r with PyTorch: relative error ≤ tol (1e-4).
// Inputs named in noGrad (ids, targets, masks) are not differentiated.
func checkFixture(t *testing.T, name string, noGrad []string, build func(fx fixture, n map[string]*G.Node) (*G.Node, error)) {
	t.Helper()
	const tol = 1e-4
	fx := loadFixture(t, name)
	ng := map[string]bool{}
	for _, n := range noGrad {
		ng[n] = true
	}
	res := evaluate(t, testCase{name: name, inputs: fx.inputs, noGrad: ng, build: func(n map[string]*G.Node) (*G.Node, error) {
		return build(fx, n)
	}}, fx.r)
	if !res.shape.Eq(fx.out.Shape()) && !(res.shape.IsScalar() && fx.out.Shape().TotalSize() == 1) {
		t.Fatalf("%s: output shape %v, PyTorch %v", name, res.shape, fx.out.Shape())
	}
	if e := maxRelErr(res.out, fx.out.Float32s()); e > tol {
		t.Errorf("%s: output rel err %.3g > %g", name, e, tol)
	}
	for n, want := range fx.grads {
		if ng[n] {
			continue
		}
		got, ok := res.grads[n]
		if !ok {
			t.Errorf("%s: no gradient for %s", name, n)
			continue
		}
		if e := maxRelErr(got, want); e > tol {
			t.Errorf("%s: grad %s rel err %.3g > %g", name, n, e, tol)
		}
	}
}

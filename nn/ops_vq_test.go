package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestResizeTorch(t *testing.T) {
	for _, name := range []string{"resize_area_8to3", "resize_area_8to1", "resize_area_8x6to6x4",
		"resize_bilinear_3to8", "resize_bilinear_1to8", "resize_bilinear_6x4to8x6"} {
		t.Run(name, func(t *testing.T) {
			checkFixture(t, name, nil, func(fx fixture, n map[string]*G.Node) (*G.Node, error) {
				s := fx.inputs["x"].Shape()
				out := fx.params["out"].([]any)
				oh, ow := int(out[0].(float64)), int(out[1].(float64))
				if fx.params["mode"] == "area" {
					return Resize(n["x"], AreaMatrix(oh, s[2]), AreaMatrix(ow, s[3]))
				}
				return Resize(n["x"], BilinearMatrix(oh, s[2]), BilinearMatrix(ow, s[3]))
			})
		})
	}
}

func TestVQOpsGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	x := func(s ...int) *tensor.Dense { return randTensor(rng, 1, s...) }
	cases := []testCase{
		{name: "resize_area", inputs: map[string]*tensor.Dense{"x": x(2, 2, 5, 4)}, build: func(n map[string]*G.Node) (*G.Node, error) {
			return Resize(n["x"], AreaMatrix(3, 5), AreaMatrix(2, 4))
		}},
		{name: "resize_bilinear", inputs: map[string]*tensor.Dense{"x": x(2, 2, 3, 2)}, build: func(n map[string]*G.Node) (*G.Node, error) {
			return Resize(n["x"], BilinearMatrix(5, 3), BilinearMatrix(4, 2))
		}},
		{name: "to_rows", inputs: map[string]*tensor.Dense{"x": x(2, 3, 2, 2)}, build: func(n map[string]*G.Node) (*G.Node, error) { return ToRows(n["x"]) }},
		{name: "from_rows", inputs: map[string]*tensor.Dense{"x": x(8, 3)}, build: func(n map[string]*G.Node) (*G.Node, error) { return FromRows(n["x"], 2, 2, 2) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradients(t, c, 1e-2, 1e-2) })
	}
}

func TestStraightThroughIsIdentityGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	xv, qv := randTensor(rng, 1, 3, 2), randTensor(rng, 1, 3, 2)
	r := []float32{1, 2, 3, 4, 5, 6}
	// not a finite-difference case: the estimator's gradient is by design not
	// the derivative of its forward value (which does not depend on x)
	res := evaluate(t, testCase{name: "st", inputs: map[string]*tensor.Dense{"x": xv, "q": qv}, noGrad: map[string]bool{"q": true}, build: func(n map[string]*G.Node) (*G.Node, error) {
		return StraightThrough(n["x"], n["q"])
	}}, r)
	for i := range r {
		if math.Abs(float64(res.out[i]-qv.Float32s()[i])) > 1e-6 {
			t.Fatalf("forward %v, want q %v", res.out, qv.Float32s())
		}
		if res.grads["x"][i] != r[i] {
			t.Fatalf("grad of x %v, want the output gradient %v", res.grads["x"], r)
		}
	}
}

// TestNearest checks the codes against brute force, with and without a
// dead zone around code 0.
func TestNearest(t *testing.T) {
	for _, zero := range []float32{0, 0.5, 2} {
		rng := rand.New(rand.NewPCG(1, 9))
		xs, cb := randTensor(rng, 1, 50, 4), randTensor(rng, 1, 16, 4)
		idx := NewInts(50)
		res := evaluate(t, testCase{name: "nearest", inputs: map[string]*tensor.Dense{"x": xs, "cb": cb}, build: func(n map[string]*G.Node) (*G.Node, error) {
			return NearestDeadZone(n["x"], n["cb"], zero, idx, nil)
		}}, nil)
		x, e := xs.Float32s(), cb.Float32s()
		zeros := 0
		for i := 0; i < 50; i++ {
			d := make([]float64, 16)
			bi := 0
			for k := range d {
				for c := 0; c < 4; c++ {
					v := float64(x[i*4+c] - e[k*4+c])
					d[k] += v * v
				}
				if d[k] < d[bi] {
					bi = k
				}
			}
			if d[0]-d[bi] <= float64(zero)+1e-5 && d[0]-d[bi] > float64(zero)-1e-5 && bi != 0 {
				continue // at the edge of the dead zone: rounding decides
			}
			if d[0]-d[bi] <= float64(zero) {
				bi = 0
			}
			if bi == 0 {
				zeros++
			}
			if idx.V[i] != bi {
				t.Fatalf("dead zone %g, row %d: code %d, brute force %d", zero, i, idx.V[i], bi)
			}
			for c := 0; c < 4; c++ {
				if res.out[i*4+c] != e[bi*4+c] {
					t.Fatalf("dead zone %g, row %d: output is not code %d", zero, i, bi)
				}
			}
		}
		t.Logf("dead zone %g: %d of 50 rows take code 0", zero, zeros)
	}
}

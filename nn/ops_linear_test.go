package nn

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestLinearGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, bias := range []bool{false, true} {
		in := map[string]*tensor.Dense{"x": randTensor(rng, 1, 5, 7), "w": randTensor(rng, 0.5, 3, 7)}
		if bias {
			in["b"] = randTensor(rng, 1, 3)
		}
		checkGradients(t, testCase{name: "linear", inputs: in, build: func(n map[string]*G.Node) (*G.Node, error) {
			return linear(n["x"], n["w"], n["b"])
		}}, 1e-2, 1e-2)
	}
}

func TestLinearTorch(t *testing.T) {
	checkFixture(t, "linear", nil, func(_ fixture, n map[string]*G.Node) (*G.Node, error) {
		return linear(n["x"], n["w"], nil)
	})
	checkFixture(t, "linear_bias", nil, func(_ fixture, n map[string]*G.Node) (*G.Node, error) {
		return linear(n["x"], n["w"], n["b"])
	})
}

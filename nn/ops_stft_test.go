package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestSTFTMagFixture(t *testing.T) {
	for _, c := range []struct{ n, hop int }{{16, 4}, {15, 5}, {64, 16}} {
		name := fmt.Sprintf("stft_%d_%d", c.n, c.hop)
		checkFixture(t, name, nil, func(_ fixture, in map[string]*G.Node) (*G.Node, error) {
			return STFTMag(in["x"], c.n, c.hop)
		})
	}
}

func TestSTFTMagGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct{ n, hop, l int }{{8, 2, 21}, {9, 3, 20}, {16, 16, 40}} {
		tc := testCase{name: fmt.Sprintf("stft n=%d hop=%d", c.n, c.hop),
			inputs: map[string]*tensor.Dense{"x": randTensor(rng, 1, 2, c.l)},
			build:  func(in map[string]*G.Node) (*G.Node, error) { return STFTMag(in["x"], c.n, c.hop) }}
		checkGradients(t, tc, 1e-2, 1e-2)
	}
}

func TestSTFTMagErrors(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(1, 10), G.WithInit(G.Zeroes()))
	for _, c := range []struct{ n, hop int }{{1, 1}, {4, 0}, {16, 4}} {
		if _, err := STFTMag(x, c.n, c.hop); err == nil {
			t.Errorf("STFTMag(n=%d, hop=%d) on 10 samples: no error", c.n, c.hop)
		}
	}
}

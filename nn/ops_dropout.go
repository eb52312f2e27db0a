package nn

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// DropoutState is shared by every dropout op of a model: the training
// switch and one seeded generator whose state goes into checkpoints.
type DropoutState struct {
	Training bool
	RNG      *rand.PCG
}

// dropoutK zeroes each element with probability p and scales the rest by
// 1/(1−p) while training; the identity otherwise. The mask is kept for the
// backward pass.
type dropoutK struct {
	p    float32
	nd   int
	st   *DropoutState
	mask *[]float32
}

func (k dropoutK) String() string                              { return fmt.Sprintf("Dropout{p=%g}", k.p) }
func (k dropoutK) dims() ([]int, int)                          { return []int{k.nd}, k.nd }
func (dropoutK) shape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }
func (k dropoutK) forward(y []float32, in []*tensor.Dense) error {
	x := in[0].Float32s()
	m := *k.mask
	if len(m) != len(x) {
		m = make([]float32, len(x))
		*k.mask = m
	}
	if !k.st.Training || k.p == 0 {
		for i := range m {
			m[i] = 1
		}
		copy(y, x)
		return nil
	}
	keep := 1 / (1 - k.p)
	rng := rand.New(k.st.RNG)
	for i, v := range x {
		m[i] = 0
		if rng.Float32() >= k.p {
			m[i] = keep
		}
		y[i] = v * m[i]
	}
	return nil
}
func (dropoutK) diffWRT() []bool { return []bool{true} }
func (k dropoutK) backward(_ G.Nodes, _, dy *G.Node) (G.Nodes, error) {
	dx, err := apply(maskMulK{mask: k.mask, nd: k.nd}, dy)
	return G.Nodes{dx}, err
}

// maskMulK is dx = dy·mask (dropout's backward).
type maskMulK struct {
	mask *[]float32
	nd   int
}

func (maskMulK) String() string                                { return "MaskMul" }
func (k maskMulK) dims() ([]int, int)                          { return []int{k.nd}, k.nd }
func (maskMulK) shape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }
func (k maskMulK) forward(dx []float32, in []*tensor.Dense) error {
	for i, v := range in[0].Float32s() {
		dx[i] = v * (*k.mask)[i]
	}
	return nil
}

// Dropout applies dropout with probability p to x, driven by st.
func Dropout(x *G.Node, p float64, st *DropoutState) (*G.Node, error) {
	if p < 0 || p >= 1 {
		return nil, fmt.Errorf("dropout: p = %g outside [0, 1)", p)
	}
	return apply(dropoutK{p: float32(p), nd: x.Dims(), st: st, mask: new([]float32)}, x)
}

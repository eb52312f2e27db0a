package nn

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// activation is an elementwise nonlinearity with its derivative.
type activation struct {
	name string
	f    func(float32) float32
	df   func(float32) float32 // derivative, as a function of the input
}

var (
	siluAct = activation{"SiLU", func(x float32) float32 { return x * sigmoid32(x) }, dsilu}
	geluAct = activation{"GELU", gelu, dgelu}
)

func dsilu(x float32) float32 {
	s := sigmoid32(x)
	return s * (1 + x*(1-s))
}

// gelu is the exact (erf) GELU, PyTorch's default.
func gelu(x float32) float32 {
	return float32(0.5 * float64(x) * (1 + math.Erf(float64(x)/math.Sqrt2)))
}

func dgelu(x float32) float32 {
	v := float64(x)
	return float32(0.5*(1+math.Erf(v/math.Sqrt2)) + v*math.Exp(-0.5*v*v)/math.Sqrt(2*math.Pi))
}

// actK applies an activation to a tensor of nd dims.
type actK struct {
	act activation
	nd  int
}

func (k actK) String() string                              { return k.act.name }
func (k actK) dims() ([]int, int)                          { return []int{k.nd}, k.nd }
func (actK) shape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }
func (k actK) forward(y []float32, in []*tensor.Dense) error {
	x := in[0].Float32s()
	if k.act.name == siluAct.name {
		SigmoidSlice(y, x)
		for i, v := range x {
			y[i] *= v
		}
		return nil
	}
	for i, v := range x {
		y[i] = k.act.f(v)
	}
	return nil
}
func (actK) diffWRT() []bool { return []bool{true} }
func (k actK) backward(in G.Nodes, _, dy *G.Node) (G.Nodes, error) {
	dx, err := apply(actGradK(k), in[0], dy)
	return G.Nodes{dx}, err
}

// actGradK is dx = dy·f'(x).
type actGradK actK

func (k actGradK) String() string                              { return k.act.name + "Grad" }
func (k actGradK) dims() ([]int, int)                          { return []int{k.nd, k.nd}, k.nd }
func (actGradK) shape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }
func (k actGradK) forward(dx []float32, in []*tensor.Dense) error {
	x, dy := in[0].Float32s(), in[1].Float32s()
	if k.act.name == siluAct.name {
		SigmoidSlice(dx, x) // σ(x), vectorised; then dy·σ·(1 + x·(1−σ))
		for i, v := range x {
			s := dx[i]
			dx[i] = dy[i] * s * (1 + v*(1-s))
		}
		return nil
	}
	for i, v := range x {
		dx[i] = dy[i] * k.act.df(v)
	}
	return nil
}

// swigluK is y = silu(a)·b where [a | b] = x, x [N, 2H] → y [N, H]: the
// gate and up projections of a SwiGLU FFN come from one matmul.
type swigluK struct{}

func (swigluK) String() string     { return "SwiGLU" }
func (swigluK) dims() ([]int, int) { return []int{2}, 2 }
func (k swigluK) shape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0][1]%2 != 0 {
		return nil, fmt.Errorf("%v: input %v has an odd last dim", k, in[0])
	}
	return tensor.Shape{in[0][0], in[0][1] / 2}, nil
}
func (swigluK) forward(y []float32, in []*tensor.Dense) error {
	x := in[0].Float32s()
	h := in[0].Shape()[1] / 2
	parallelFor(in[0].Shape()[0], 16, func(lo, hi int) {
		sig := make([]float32, h)
		for r := lo; r < hi; r++ {
			a, b, yr := x[2*r*h:(2*r+1)*h], x[(2*r+1)*h:(2*r+2)*h], y[r*h:(r+1)*h]
			SigmoidSlice(sig, a)
			for j, v := range a {
				yr[j] = v * sig[j] * b[j]
			}
		}
	})
	return nil
}
func (swigluK) diffWRT() []bool { return []bool{true} }
func (swigluK) backward(in G.Nodes, _, dy *G.Node) (G.Nodes, error) {
	dx, err := apply(swigluGradK{}, in[0], dy)
	return G.Nodes{dx}, err
}

// swigluGradK is [da | db] = [dy·b·silu'(a) | dy·silu(a)].
type swigluGradK struct{}

func (swigluGradK) String() string                                { return "SwiGLUGrad" }
func (swigluGradK) dims() ([]int, int)                            { return []int{2, 2}, 2 }
func (swigluGradK) shape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }
func (swigluGradK) forward(dx []float32, in []*tensor.Dense) error {
	x, dy := in[0].Float32s(), in[1].Float32s()
	h := in[0].Shape()[1] / 2
	parallelFor(in[0].Shape()[0], 16, func(lo, hi int) {
		sig := make([]float32, h)
		for r := lo; r < hi; r++ {
			a, b, g := x[2*r*h:(2*r+1)*h], x[(2*r+1)*h:(2*r+2)*h], dy[r*h:(r+1)*h]
			da, db := dx[2*r*h:(2*r+1)*h], dx[(2*r+1)*h:(2*r+2)*h]
			SigmoidSlice(sig, a)
			for j, v := range a {
				s := sig[j]
				da[j] = g[j] * b[j] * s * (1 + v*(1-s))
				db[j] = g[j] * v * s
			}
		}
	})
	return nil
}

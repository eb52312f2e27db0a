package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// framesK moves time into the batch: [B, C, T, H, W] ↔ [B·T, C, H, W], so
// per-frame work (quantizing each latent frame) runs on one batch.
type framesK struct {
	toBatch       bool
	b, c, t, h, w int
}

func (k framesK) String() string { return fmt.Sprintf("Frames{toBatch=%v}", k.toBatch) }
func (k framesK) dims() ([]int, int) {
	if k.toBatch {
		return []int{5}, 4
	}
	return []int{4}, 5
}
func (k framesK) shape(in []tensor.Shape) (tensor.Shape, error) {
	if k.toBatch {
		return tensor.Shape{k.b * k.t, k.c, k.h, k.w}, nil
	}
	if in[0][0] != k.b*k.t {
		return nil, fmt.Errorf("%v: %v is not %d×%d frames", k, in[0], k.b, k.t)
	}
	return tensor.Shape{k.b, k.c, k.t, k.h, k.w}, nil
}
func (k framesK) forward(y []float32, in []*tensor.Dense) error {
	x := in[0].Float32s()
	hw := k.h * k.w
	for b := 0; b < k.b; b++ {
		for c := 0; c < k.c; c++ {
			for t := 0; t < k.t; t++ {
				video := ((b*k.c+c)*k.t + t) * hw // [B, C, T, ·]
				batch := ((b*k.t+t)*k.c + c) * hw // [B·T, C, ·]
				if k.toBatch {
					copy(y[batch:batch+hw], x[video:video+hw])
				} else {
					copy(y[video:video+hw], x[batch:batch+hw])
				}
			}
		}
	}
	return nil
}
func (framesK) diffWRT() []bool { return []bool{true} }
func (k framesK) backward(_ G.Nodes, _, dy *G.Node) (G.Nodes, error) {
	b := k
	b.toBatch = !k.toBatch
	dx, err := apply(b, dy)
	return G.Nodes{dx}, err
}

// FramesToBatch reshapes a video batch x [B, C, T, H, W] to [B·T, C, H, W].
func FramesToBatch(x *G.Node) (*G.Node, error) {
	s := x.Shape()
	return apply(framesK{toBatch: true, b: s[0], c: s[1], t: s[2], h: s[3], w: s[4]}, x)
}

// BatchToFrames is the inverse of FramesToBatch for b videos of t frames.
func BatchToFrames(x *G.Node, b, t int) (*G.Node, error) {
	s := x.Shape()
	return apply(framesK{b: b, c: s[1], t: t, h: s[2], w: s[3]}, x)
}

// chooseK passes on input *i of its inputs (all of one shape); the
// gradient goes to that input only. It picks, per step, which of several
// branches a loss sees (e.g. a random partial-scale decode) in a static graph.
type chooseK struct {
	i  *int
	n  int
	nd int
}

func (k chooseK) String() string { return fmt.Sprintf("Choose{of %d}", k.n) }
func (k chooseK) dims() ([]int, int) {
	in := make([]int, k.n)
	for j := range in {
		in[j] = k.nd
	}
	return in, k.nd
}
func (k chooseK) shape(in []tensor.Shape) (tensor.Shape, error) {
	for _, s := range in {
		if !s.Eq(in[0]) {
			return nil, fmt.Errorf("%v: inputs %v differ in shape", k, in)
		}
	}
	return in[0].Clone(), nil
}
func (k chooseK) forward(y []float32, in []*tensor.Dense) error {
	if *k.i < 0 || *k.i >= k.n {
		return fmt.Errorf("%v: choice %d", k, *k.i)
	}
	copy(y, in[*k.i].Float32s())
	return nil
}
func (k chooseK) diffWRT() []bool {
	d := make([]bool, k.n)
	for j := range d {
		d[j] = true
	}
	return d
}
func (k chooseK) backward(in G.Nodes, _, dy *G.Node) (G.Nodes, error) {
	out := make(G.Nodes, k.n)
	for j := range out {
		var err error
		if out[j], err = apply(gateK{i: k.i, j: j, nd: k.nd}, dy); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// gateK is dy if input j was chosen, else zeros.
type gateK struct {
	i     *int
	j, nd int
}

func (gateK) String() string                                { return "ChooseGrad" }
func (k gateK) dims() ([]int, int)                          { return []int{k.nd}, k.nd }
func (gateK) shape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }
func (k gateK) forward(y []float32, in []*tensor.Dense) error {
	if *k.i == k.j {
		copy(y, in[0].Float32s())
	} else {
		clear(y)
	}
	return nil
}

// Choose returns xs[*i] (read at run time) with the gradient routed to it.
func Choose(i *int, xs ...*G.Node) (*G.Node, error) {
	return apply(chooseK{i: i, n: len(xs), nd: xs[0].Dims()}, xs...)
}

package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Ints is integer data a graph reads each run (token ids, targets, row
// indices): gorgonia graphs are static, so the data changes, never the node.
type Ints struct{ V []int }

// NewInts makes integer data of a fixed length n (the graph's shapes depend on it).
func NewInts(n int) *Ints { return &Ints{V: make([]int, n)} }

// Set copies v in; its length must be the one the graph was built with.
func (x *Ints) Set(v []int) error {
	if len(v) != len(x.V) {
		return fmt.Errorf("got %d ints, want %d", len(v), len(x.V))
	}
	copy(x.V, v)
	return nil
}

func checkRows(k kernel, idx []int, n int) error {
	for i, r := range idx {
		if r < 0 || r >= n {
			return fmt.Errorf("%v: index %d at %d outside [0, %d)", k, r, i, n)
		}
	}
	return nil
}

// gatherK picks rows: y[m] = x[idx[m]]; x [N, D] → [M, D]. It is the
// embedding lookup (x = the table) and the MoE dispatch (x = token states).
type gatherK struct{ idx *Ints }

func (gatherK) String() string     { return "GatherRows" }
func (gatherK) dims() ([]int, int) { return []int{2}, 2 }
func (k gatherK) shape(in []tensor.Shape) (tensor.Shape, error) {
	return tensor.Shape{len(k.idx.V), in[0][1]}, nil
}
func (k gatherK) forward(y []float32, in []*tensor.Dense) error {
	x, n, d := in[0].Float32s(), in[0].Shape()[0], in[0].Shape()[1]
	if err := checkRows(k, k.idx.V, n); err != nil {
		return err
	}
	for m, r := range k.idx.V {
		copy(y[m*d:(m+1)*d], x[r*d:(r+1)*d])
	}
	return nil
}
func (gatherK) diffWRT() []bool { return []bool{true} }
func (k gatherK) backward(in G.Nodes, _, dy *G.Node) (G.Nodes, error) {
	dx, err := apply(scatterAddK{idx: k.idx, n: in[0].Shape()[0]}, dy)
	return G.Nodes{dx}, err
}

// scatterAddK adds rows back: y[idx[m]] += x[m]; x [M, D] → [n, D].
type scatterAddK struct {
	idx *Ints
	n   int
}

func (scatterAddK) String() string     { return "ScatterAddRows" }
func (scatterAddK) dims() ([]int, int) { return []int{2}, 2 }
func (k scatterAddK) shape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0][0] != len(k.idx.V) {
		return nil, fmt.Errorf("%v: %d rows for %d indices", k, in[0][0], len(k.idx.V))
	}
	return tensor.Shape{k.n, in[0][1]}, nil
}
func (k scatterAddK) forward(y []float32, in []*tensor.Dense) error {
	x, d := in[0].Float32s(), in[0].Shape()[1]
	if err := checkRows(k, k.idx.V, k.n); err != nil {
		return err
	}
	clear(y)
	for m, r := range k.idx.V {
		yr, xr := y[r*d:(r+1)*d], x[m*d:(m+1)*d]
		for j, v := range xr {
			yr[j] += v
		}
	}
	return nil
}
func (scatterAddK) diffWRT() []bool { return []bool{true} }
func (k scatterAddK) backward(_ G.Nodes, _, dy *G.Node) (G.Nodes, error) {
	dx, err := apply(gatherK{idx: k.idx}, dy)
	return G.Nodes{dx}, err
}

// combineK is the MoE combine: y[idx[m]] += w[m]·x[m]; x [M, D], w [M] → [n, D].
type combineK struct {
	idx *Ints
	n   int
}

func (combineK) String() string     { return "CombineRows" }
func (combineK) dims() ([]int, int) { return []int{2, 1}, 2 }
func (k combineK) shape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0][0] != len(k.idx.V) || in[1][0] != len(k.idx.V) {
		return nil, fmt.Errorf("%v: rows %v and weights %v for %d indices", k, in[0], in[1], len(k.idx.V))
	}
	return tensor.Shape{k.n, in[0][1]}, nil
}
func (k combineK) forward(y []float32, in []*tensor.Dense) error {
	x, w, d := in[0].Float32s(), in[1].Float32s(), in[0].Shape()[1]
	if err := checkRows(k, k.idx.V, k.n); err != nil {
		return err
	}
	clear(y)
	for m, r := range k.idx.V {
		yr, xr, wm := y[r*d:(r+1)*d], x[m*d:(m+1)*d], w[m]
		for j, v := range xr {
			yr[j] += wm * v
		}
	}
	return nil
}
func (combineK) diffWRT() []bool { return []bool{true, true} }
func (k combineK) backward(in G.Nodes, _, dy *G.Node) (G.Nodes, error) {
	dx, err := apply(combineDxK{idx: k.idx}, dy, in[1])
	if err != nil {
		return nil, err
	}
	dw, err := apply(combineDwK{idx: k.idx}, dy, in[0])
	return G.Nodes{dx, dw}, err
}

// combineDxK is dx[m] = w[m]·dy[idx[m]].
type combineDxK struct{ idx *Ints }

func (combineDxK) String() string     { return "CombineRowsDx" }
func (combineDxK) dims() ([]int, int) { return []int{2, 1}, 2 }
func (k combineDxK) shape(in []tensor.Shape) (tensor.Shape, error) {
	return tensor.Shape{len(k.idx.V), in[0][1]}, nil
}
func (k combineDxK) forward(dx []float32, in []*tensor.Dense) error {
	dy, w, d := in[0].Float32s(), in[1].Float32s(), in[0].Shape()[1]
	for m, r := range k.idx.V {
		out, g := dx[m*d:(m+1)*d], dy[r*d:(r+1)*d]
		for j, v := range g {
			out[j] = w[m] * v
		}
	}
	return nil
}

// combineDwK is dw[m] = dy[idx[m]]·x[m].
type combineDwK struct{ idx *Ints }

func (combineDwK) String() string     { return "CombineRowsDw" }
func (combineDwK) dims() ([]int, int) { return []int{2, 2}, 1 }
func (k combineDwK) shape(in []tensor.Shape) (tensor.Shape, error) {
	return tensor.Shape{len(k.idx.V)}, nil
}
func (k combineDwK) forward(dw []float32, in []*tensor.Dense) error {
	dy, x, d := in[0].Float32s(), in[1].Float32s(), in[0].Shape()[1]
	for m, r := range k.idx.V {
		var s float32
		g, xr := dy[r*d:(r+1)*d], x[m*d:(m+1)*d]
		for j, v := range g {
			s += v * xr[j]
		}
		dw[m] = s
	}
	return nil
}

// Gather returns rows idx of x [N, D] → [len(idx), D] (differentiable in x).
func Gather(x *G.Node, idx *Ints) (*G.Node, error) { return apply(gatherK{idx: idx}, x) }

// ScatterAdd sums rows of x [M, D] into n rows: y[idx[m]] += x[m].
func ScatterAdd(x *G.Node, idx *Ints, n int) (*G.Node, error) {
	return apply(scatterAddK{idx: idx, n: n}, x)
}

// Combine sums weighted rows into n rows: y[idx[m]] += w[m]·x[m] (MoE combine).
func Combine(x, w *G.Node, idx *Ints, n int) (*G.Node, error) {
	return apply(combineK{idx: idx, n: n}, x, w)
}

package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MaxRows is the maximum of each row: x [N, K] → [N]. It is global max
// pooling (rows = channels, K = places): a channel that fires on an
// object anywhere keeps its full response, where a mean would dilute it
// by the empty places and blur two objects into one response. The
// gradient flows to the first maximum of each row.
func MaxRows(x *G.Node) (*G.Node, error) { return apply(maxRowsK{}, x) }

type maxRowsK struct{}

func (maxRowsK) String() string     { return "MaxRows" }
func (maxRowsK) dims() ([]int, int) { return []int{2}, 1 }
func (maxRowsK) shape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0][1] < 1 {
		return nil, fmt.Errorf("MaxRows: empty rows %v", in[0])
	}
	return tensor.Shape{in[0][0]}, nil
}
func (maxRowsK) forward(y []float32, in []*tensor.Dense) error {
	x, k := in[0].Float32s(), in[0].Shape()[1]
	for r := range y {
		y[r] = x[r*k+Argmax(x[r*k:(r+1)*k])]
	}
	return nil
}
func (maxRowsK) diffWRT() []bool { return []bool{true} }
func (maxRowsK) backward(in G.Nodes, _, dy *G.Node) (G.Nodes, error) {
	dx, err := apply(maxRowsGradK{}, in[0], dy)
	return G.Nodes{dx}, err
}

// maxRowsGradK routes dy [N] to each row's first maximum of x [N, K].
type maxRowsGradK struct{}

func (maxRowsGradK) String() string     { return "MaxRowsGrad" }
func (maxRowsGradK) dims() ([]int, int) { return []int{2, 1}, 2 }
func (maxRowsGradK) shape(in []tensor.Shape) (tensor.Shape, error) {
	return in[0].Clone(), nil
}
func (maxRowsGradK) forward(dx []float32, in []*tensor.Dense) error {
	x, dy, k := in[0].Float32s(), in[1].Float32s(), in[0].Shape()[1]
	clear(dx)
	for r, g := range dy {
		dx[r*k+Argmax(x[r*k:(r+1)*k])] = g
	}
	return nil
}

// Argmax is the index of the first maximum of a non-empty v.
func Argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

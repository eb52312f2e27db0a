package nn

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	ob "github.com/omniar/omniar/internal/blas"
)

// sgemm computes C = alpha·op(A)·op(B) + beta·C on row-major slices.
func sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ta, tb := blas.NoTrans, blas.NoTrans
	if tA {
		ta = blas.Trans
	}
	if tB {
		tb = blas.Trans
	}
	ob.F32().Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// linearK is y = x·Wᵀ + b with x [N, in], W [out, in] (PyTorch layout), b [out].
type linearK struct{ bias bool }

func (k linearK) String() string { return fmt.Sprintf("Linear{bias=%v}", k.bias) }

func (k linearK) dims() ([]int, int) {
	if k.bias {
		return []int{2, 2, 1}, 2
	}
	return []int{2, 2}, 2
}

func (k linearK) shape(in []tensor.Shape) (tensor.Shape, error) {
	x, w := in[0], in[1]
	if len(x) != 2 || len(w) != 2 || x[1] != w[1] {
		return nil, fmt.Errorf("%v: x %v and W %v do not match (want [N,in] and [out,in])", k, x, w)
	}
	if k.bias && (len(in[2]) != 1 || in[2][0] != w[0]) {
		return nil, fmt.Errorf("%v: bias %v, want [%d]", k, in[2], w[0])
	}
	return tensor.Shape{x[0], w[0]}, nil
}

func (k linearK) forward(y []float32, in []*tensor.Dense) error {
	x, w := in[0].Float32s(), in[1].Float32s()
	n, dIn, dOut := in[0].Shape()[0], in[0].Shape()[1], in[1].Shape()[0]
	var beta float32
	if k.bias {
		b := in[2].Float32s()
		for r := 0; r < n; r++ {
			copy(y[r*dOut:(r+1)*dOut], b)
		}
		beta = 1
	}
	sgemm(false, true, n, dOut, dIn, 1, x, dIn, w, dIn, beta, y, dOut)
	return nil
}

func (k linearK) diffWRT() []bool {
	if k.bias {
		return []bool{true, true, true}
	}
	return []bool{true, true}
}

func (k linearK) backward(in G.Nodes, _, dy *G.Node) (G.Nodes, error) {
	dx, err := apply(linearDxK{}, dy, in[1])
	if err != nil {
		return nil, err
	}
	dw, err := apply(linearDwK{}, dy, in[0])
	if err != nil {
		return nil, err
	}
	if !k.bias {
		return G.Nodes{dx, dw}, nil
	}
	db, err := apply(colSumK{}, dy)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dw, db}, nil
}

// linearDxK is dx = dy·W: dy [N, out], W [out, in] → [N, in].
type linearDxK struct{}

func (linearDxK) String() string     { return "LinearDx" }
func (linearDxK) dims() ([]int, int) { return []int{2, 2}, 2 }
func (k linearDxK) shape(in []tensor.Shape) (tensor.Shape, error) {
	return tensor.Shape{in[0][0], in[1][1]}, nil
}
func (linearDxK) forward(dx []float32, in []*tensor.Dense) error {
	n, dOut, dIn := in[0].Shape()[0], in[1].Shape()[0], in[1].Shape()[1]
	sgemm(false, false, n, dIn, dOut, 1, in[0].Float32s(), dOut, in[1].Float32s(), dIn, 0, dx, dIn)
	return nil
}

// linearDwK is dW = dyᵀ·x: dy [N, out], x [N, in] → [out, in].
type linearDwK struct{}

func (linearDwK) String() string     { return "LinearDw" }
func (linearDwK) dims() ([]int, int) { return []int{2, 2}, 2 }
func (k linearDwK) shape(in []tensor.Shape) (tensor.Shape, error) {
	return tensor.Shape{in[0][1], in[1][1]}, nil
}
func (linearDwK) forward(dw []float32, in []*tensor.Dense) error {
	n, dOut, dIn := in[0].Shape()[0], in[0].Shape()[1], in[1].Shape()[1]
	sgemm(true, false, dOut, dIn, n, 1, in[0].Float32s(), dOut, in[1].Float32s(), dIn, 0, dw, dIn)
	return nil
}

// colSumK sums the rows of a matrix: [N, D] → [D] (the gradient of a bias).
type colSumK struct{}

func (colSumK) String() string     { return "ColSum" }
func (colSumK) dims() ([]int, int) { return []int{2}, 1 }
func (colSumK) shape(in []tensor.Shape) (tensor.Shape, error) {
	return tensor.Shape{in[0][1]}, nil
}
func (colSumK) forward(out []float32, in []*tensor.Dense) error {
	x, d := in[0].Float32s(), in[0].Shape()[1]
	clear(out)
	for r := 0; r+d <= len(x); r += d {
		row := x[r : r+d]
		for j, v := range row {
			out[j] += v
		}
	}
	return nil
}

// Linear applies y = x·Wᵀ (+ b); b may be nil.
func linear(x, w, b *G.Node) (*G.Node, error) {
	if b == nil {
		return apply(linearK{}, x, w)
	}
	return apply(linearK{bias: true}, x, w, b)
}

package nn

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ResizeMatrix is a linear 1-D resampling from n to m samples as an [m, n]
// matrix; a 2-D resize of a plane X is My · X · Mxᵀ.
type ResizeMatrix struct {
	M, N int
	W    []float32 // [M, N]
}

// AreaMatrix averages over the source interval of each output sample:
// PyTorch's adaptive_avg_pool / interpolate(mode="area").
func AreaMatrix(m, n int) ResizeMatrix {
	r := ResizeMatrix{M: m, N: n, W: make([]float32, m*n)}
	for i := 0; i < m; i++ {
		lo, hi := i*n/m, ((i+1)*n+m-1)/m // floor and ceil, as adaptive pooling
		for j := lo; j < hi; j++ {
			r.W[i*n+j] = 1 / float32(hi-lo)
		}
	}
	return r
}

// BilinearMatrix interpolates linearly with half-pixel centres:
// PyTorch's interpolate(mode="bilinear", align_corners=False).
func BilinearMatrix(m, n int) ResizeMatrix {
	r := ResizeMatrix{M: m, N: n, W: make([]float32, m*n)}
	scale := float64(n) / float64(m)
	for i := 0; i < m; i++ {
		src := math.Max((float64(i)+0.5)*scale-0.5, 0)
		j0 := int(src)
		j1 := min(j0+1, n-1)
		f := float32(src - float64(j0))
		r.W[i*n+j0] += 1 - f
		r.W[i*n+j1] += f
	}
	return r
}

func (r ResizeMatrix) transpose() ResizeMatrix {
	t := ResizeMatrix{M: r.N, N: r.M, W: make([]float32, len(r.W))}
	for i := 0; i < r.M; i++ {
		for j := 0; j < r.N; j++ {
			t.W[j*r.M+i] = r.W[i*r.N+j]
		}
	}
	return t
}

// resizeK maps every plane of x [N, C, H, W] to My·X·Mxᵀ → [N, C, h, w].
type resizeK struct{ my, mx ResizeMatrix }

func (k resizeK) String() string {
	return fmt.Sprintf("Resize{%d×%d→%d×%d}", k.my.N, k.mx.N, k.my.M, k.mx.M)
}
func (resizeK) dims() ([]int, int) { return []int{4}, 4 }
func (k resizeK) shape(in []tensor.Shape) (tensor.Shape, error) {
	s := in[0]
	if s[2] != k.my.N || s[3] != k.mx.N {
		return nil, fmt.Errorf("%v: input %v", k, s)
	}
	return tensor.Shape{s[0], s[1], k.my.M, k.mx.M}, nil
}
func (k resizeK) forward(y []float32, in []*tensor.Dense) error {
	x := in[0].Float32s()
	h, w, oh, ow := k.my.N, k.mx.N, k.my.M, k.mx.M
	planes := len(x) / (h * w)
	tmp := make([]float32, oh*w)
	for p := 0; p < planes; p++ {
		// T = My·X [oh, w]; Y = T·Mxᵀ [oh, ow]
		sgemm(false, false, oh, w, h, 1, k.my.W, h, x[p*h*w:], w, 0, tmp, w)
		sgemm(false, true, oh, ow, w, 1, tmp, w, k.mx.W, w, 0, y[p*oh*ow:], ow)
	}
	return nil
}
func (resizeK) diffWRT() []bool { return []bool{true} }
func (k resizeK) backward(_ G.Nodes, _, dy *G.Node) (G.Nodes, error) {
	dx, err := apply(resizeK{my: k.my.transpose(), mx: k.mx.transpose()}, dy)
	return G.Nodes{dx}, err
}

// Resize applies a separable linear resize to the last two dims of x [N, C, H, W].
func Resize(x *G.Node, my, mx ResizeMatrix) (*G.Node, error) {
	return apply(resizeK{my: my, mx: mx}, x)
}

// rowsK moves channels last: [N, C, H, W] → [N·H·W, C] (toRows) or back.
type rowsK struct {
	toRows     bool
	n, c, h, w int
}

func (k rowsK) String() string { return fmt.Sprintf("Rows{toRows=%v}", k.toRows) }
func (k rowsK) dims() ([]int, int) {
	if k.toRows {
		return []int{4}, 2
	}
	return []int{2}, 4
}
func (k rowsK) shape(in []tensor.Shape) (tensor.Shape, error) {
	if k.toRows {
		return tensor.Shape{k.n * k.h * k.w, k.c}, nil
	}
	return tensor.Shape{k.n, k.c, k.h, k.w}, nil
}
func (k rowsK) forward(y []float32, in []*tensor.Dense) error {
	x := in[0].Float32s()
	hw := k.h * k.w
	for n := 0; n < k.n; n++ {
		for c := 0; c < k.c; c++ {
			for p := 0; p < hw; p++ {
				if k.toRows {
					y[(n*hw+p)*k.c+c] = x[(n*k.c+c)*hw+p]
				} else {
					y[(n*k.c+c)*hw+p] = x[(n*hw+p)*k.c+c]
				}
			}
		}
	}
	return nil
}
func (rowsK) diffWRT() []bool { return []bool{true} }
func (k rowsK) backward(_ G.Nodes, _, dy *G.Node) (G.Nodes, error) {
	b := k
	b.toRows = !k.toRows
	dx, err := apply(b, dy)
	return G.Nodes{dx}, err
}

// ToRows reshapes x [N, C, H, W] to one row per pixel: [N·H·W, C].
func ToRows(x *G.Node) (*G.Node, error) {
	s := x.Shape()
	return apply(rowsK{toRows: true, n: s[0], c: s[1], h: s[2], w: s[3]}, x)
}

// FromRows is the inverse of ToRows for planes of h×w and n images.
func FromRows(x *G.Node, n, h, w int) (*G.Node, error) {
	return apply(rowsK{n: n, c: x.Shape()[1], h: h, w: w}, x)
}

package nn

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Rope holds rotary-embedding angles for every row of a batch. The
// rotary pairs of a head (pair i rotates dims i and i + headDim/2, the
// "rotate half" layout) are split among position axes: Split[a] pairs
// follow axis a with frequencies Base^(−j/Split[a]). One axis of headDim/2
// pairs is ordinary 1-D RoPE; (time, scale, y, x) is the video layout.
// Pairs beyond ΣSplit are not rotated.
type Rope struct {
	HeadDim  int
	Split    []int
	Base     float64
	cos, sin []float32 // [rows, HeadDim/2]
}

// NewRope makes a Rope for rows positions; all start at position 0.
func NewRope(headDim int, split []int, base float64, rows int) (*Rope, error) {
	if headDim%2 != 0 {
		return nil, fmt.Errorf("rope: head dim %d is odd", headDim)
	}
	n := 0
	for _, s := range split {
		if s < 0 {
			return nil, fmt.Errorf("rope: split %v has a negative part", split)
		}
		n += s
	}
	if n > headDim/2 {
		return nil, fmt.Errorf("rope: split %v has %d pairs, head dim %d has %d", split, n, headDim, headDim/2)
	}
	r := &Rope{HeadDim: headDim, Split: append([]int(nil), split...), Base: base,
		cos: make([]float32, rows*headDim/2), sin: make([]float32, rows*headDim/2)}
	for i := range r.cos {
		r.cos[i] = 1
	}
	return r, nil
}

// SetPositions sets the position of every row: pos[row*len(Split)+axis].
func (r *Rope) SetPositions(pos []float64) error {
	half, na := r.HeadDim/2, len(r.Split)
	rows := len(r.cos) / half
	if len(pos) != rows*na {
		return fmt.Errorf("rope: %d positions for %d rows × %d axes", len(pos), rows, na)
	}
	for row := 0; row < rows; row++ {
		i := 0
		for a, n := range r.Split {
			p := pos[row*na+a]
			for j := 0; j < n; j++ {
				th := p * math.Pow(r.Base, -float64(j)/float64(n))
				r.cos[row*half+i] = float32(math.Cos(th))
				r.sin[row*half+i] = float32(math.Sin(th))
				i++
			}
		}
	}
	return nil
}

// ropeK rotates the first cols columns of x [N, W] head by head and copies
// the rest (cols = 2/3·W on packed [q | k | v]); inverse rotates back (the
// backward pass).
type ropeK struct {
	r       *Rope
	cols    int
	inverse bool
}

func (k ropeK) String() string   { return fmt.Sprintf("RoPE{split=%v,inverse=%v}", k.r.Split, k.inverse) }
func (ropeK) dims() ([]int, int) { return []int{2}, 2 }
func (k ropeK) shape(in []tensor.Shape) (tensor.Shape, error) {
	if k.cols%k.r.HeadDim != 0 || k.cols > in[0][1] || in[0][0]*k.r.HeadDim/2 != len(k.r.cos) {
		return nil, fmt.Errorf("%v: input %v does not fit head dim %d and %d rows", k, in[0], k.r.HeadDim, len(k.r.cos)/(k.r.HeadDim/2))
	}
	return in[0].Clone(), nil
}
func (k ropeK) forward(y []float32, in []*tensor.Dense) error {
	x, d := in[0].Float32s(), in[0].Shape()[1]
	hd := k.r.HeadDim
	half := hd / 2
	sign := float32(1)
	if k.inverse {
		sign = -1
	}
	for row := 0; row < in[0].Shape()[0]; row++ {
		c, s := k.r.cos[row*half:(row+1)*half], k.r.sin[row*half:(row+1)*half]
		copy(y[row*d+k.cols:(row+1)*d], x[row*d+k.cols:(row+1)*d])
		for h := row * d; h < row*d+k.cols; h += hd {
			xa, xb, ya, yb := x[h:h+half], x[h+half:h+hd], y[h:h+half], y[h+half:h+hd]
			for i, a := range xa {
				b, si := xb[i], sign*s[i]
				ya[i] = a*c[i] - b*si
				yb[i] = b*c[i] + a*si
			}
		}
	}
	return nil
}
func (ropeK) diffWRT() []bool { return []bool{true} }
func (k ropeK) backward(_ G.Nodes, _, dy *G.Node) (G.Nodes, error) {
	dx, err := apply(ropeK{r: k.r, cols: k.cols, inverse: !k.inverse}, dy)
	return G.Nodes{dx}, err
}

// ApplyRope rotates x [N, H·hd] by the angles of r.
func ApplyRope(x *G.Node, r *Rope) (*G.Node, error) {
	return apply(ropeK{r: r, cols: x.Shape()[1]}, x)
}

// ApplyRopeQK rotates the q and k parts of packed qkv [N, 3·H·hd] and
// leaves v as it is.
func ApplyRopeQK(qkv *G.Node, r *Rope) (*G.Node, error) {
	return apply(ropeK{r: r, cols: qkv.Shape()[1] / 3 * 2}, qkv)
}

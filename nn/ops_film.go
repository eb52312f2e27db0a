package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Adaptive normalisation (VAR/DiT's adaLN) modulates every row of a
// sample with that sample's vectors. Built from gorgonia's elementwise ops
// it took a dozen broadcast, clone and add nodes per block; these two
// fused ops do it in one pass each way.

// Modulate is h⊙(1 + scale) + shift with h [B·T, D] and per-sample
// shift, scale [B, D] (row r belongs to sample r / t).
func Modulate(h, shift, scale *G.Node, t int) (*G.Node, error) {
	return apply(filmK{t: t}, h, shift, scale)
}

// GatedAdd is x + f⊙(1 + gate): a residual branch f [B·T, D] scaled by
// the per-sample gate [B, D].
func GatedAdd(x, f, gate *G.Node, t int) (*G.Node, error) {
	return apply(gatedAddK{t: t}, x, f, gate)
}

func checkFilm(k kernel, rows tensor.Shape, per []tensor.Shape, t int) error {
	if t <= 0 || len(rows) != 2 || rows[0]%t != 0 {
		return fmt.Errorf("%v: rows %v are not whole samples of %d", k, rows, t)
	}
	for _, s := range per {
		if len(s) != 2 || s[0] != rows[0]/t || s[1] != rows[1] {
			return fmt.Errorf("%v: per-sample input %v, want [%d, %d]", k, s, rows[0]/t, rows[1])
		}
	}
	return nil
}

// filmK: y = h⊙(1 + scale[r/t]) + shift[r/t].
type filmK struct{ t int }

func (k filmK) String() string   { return fmt.Sprintf("Modulate{T=%d}", k.t) }
func (filmK) dims() ([]int, int) { return []int{2, 2, 2}, 2 }
func (k filmK) shape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in[0]) == 2 && len(in[1]) == 2 && in[0][1] != in[1][1] {
		return nil, fmt.Errorf("%v: h %v and shift %v differ in width", k, in[0], in[1])
	}
	return in[0].Clone(), checkFilm(k, in[0], in[1:], k.t)
}
func (k filmK) forward(y []float32, in []*tensor.Dense) error {
	h, sh, sc := in[0].Float32s(), in[1].Float32s(), in[2].Float32s()
	d := in[0].Shape()[1]
	for r := range len(h) / d {
		s := r / k.t * d
		hr, yr := h[r*d:(r+1)*d], y[r*d:(r+1)*d]
		for j, v := range hr {
			yr[j] = v*(1+sc[s+j]) + sh[s+j]
		}
	}
	return nil
}
func (filmK) diffWRT() []bool { return []bool{true, true, true} }
func (k filmK) backward(in G.Nodes, _, dy *G.Node) (G.Nodes, error) {
	dh, err := apply(filmScaleK(k), dy, in[2])
	if err != nil {
		return nil, err
	}
	dsh, err := apply(sampleSumK(k), dy)
	if err != nil {
		return nil, err
	}
	dsc, err := apply(sampleDotK(k), dy, in[0])
	return G.Nodes{dh, dsh, dsc}, err
}

// gatedAddK: y = x + f⊙(1 + gate[r/t]).
type gatedAddK struct{ t int }

func (k gatedAddK) String() string   { return fmt.Sprintf("GatedAdd{T=%d}", k.t) }
func (gatedAddK) dims() ([]int, int) { return []int{2, 2, 2}, 2 }
func (k gatedAddK) shape(in []tensor.Shape) (tensor.Shape, error) {
	if !in[0].Eq(in[1]) {
		return nil, fmt.Errorf("%v: x %v and f %v differ", k, in[0], in[1])
	}
	return in[0].Clone(), checkFilm(k, in[0], in[2:], k.t)
}
func (k gatedAddK) forward(y []float32, in []*tensor.Dense) error {
	x, f, g := in[0].Float32s(), in[1].Float32s(), in[2].Float32s()
	d := in[0].Shape()[1]
	for r := range len(x) / d {
		s := r / k.t * d
		for j := range d {
			i := r*d + j
			y[i] = x[i] + f[i]*(1+g[s+j])
		}
	}
	return nil
}
func (gatedAddK) diffWRT() []bool { return []bool{true, true, true} }
func (k gatedAddK) backward(in G.Nodes, _, dy *G.Node) (G.Nodes, error) {
	df, err := apply(filmScaleK(k), dy, in[2])
	if err != nil {
		return nil, err
	}
	dg, err := apply(sampleDotK(k), dy, in[1])
	return G.Nodes{dy, df, dg}, err
}

// filmScaleK: a⊙(1 + s[r/t]) — the input gradient of both ops.
type filmScaleK struct{ t int }

func (k filmScaleK) String() string   { return fmt.Sprintf("FilmScale{T=%d}", k.t) }
func (filmScaleK) dims() ([]int, int) { return []int{2, 2}, 2 }
func (k filmScaleK) shape(in []tensor.Shape) (tensor.Shape, error) {
	return in[0].Clone(), checkFilm(k, in[0], in[1:], k.t)
}
func (k filmScaleK) forward(y []float32, in []*tensor.Dense) error {
	a, s := in[0].Float32s(), in[1].Float32s()
	d := in[0].Shape()[1]
	for r := range len(a) / d {
		o := r / k.t * d
		for j := range d {
			y[r*d+j] = a[r*d+j] * (1 + s[o+j])
		}
	}
	return nil
}

// sampleSumK: Σ over each sample's rows of a [B·T, D] → [B, D].
type sampleSumK struct{ t int }

func (k sampleSumK) String() string   { return fmt.Sprintf("SampleSum{T=%d}", k.t) }
func (sampleSumK) dims() ([]int, int) { return []int{2}, 2 }
func (k sampleSumK) shape(in []tensor.Shape) (tensor.Shape, error) {
	if err := checkFilm(k, in[0], nil, k.t); err != nil {
		return nil, err
	}
	return tensor.Shape{in[0][0] / k.t, in[0][1]}, nil
}
func (k sampleSumK) forward(y []float32, in []*tensor.Dense) error {
	a := in[0].Float32s()
	d := in[0].Shape()[1]
	clear(y)
	for r := range len(a) / d {
		o := r / k.t * d
		for j, v := range a[r*d : (r+1)*d] {
			y[o+j] += v
		}
	}
	return nil
}

// sampleDotK: Σ over each sample's rows of a⊙b → [B, D].
type sampleDotK struct{ t int }

func (k sampleDotK) String() string   { return fmt.Sprintf("SampleDot{T=%d}", k.t) }
func (sampleDotK) dims() ([]int, int) { return []int{2, 2}, 2 }
func (k sampleDotK) shape(in []tensor.Shape) (tensor.Shape, error) {
	if !in[0].Eq(in[1]) {
		return nil, fmt.Errorf("%v: %v and %v differ", k, in[0], in[1])
	}
	if err := checkFilm(k, in[0], nil, k.t); err != nil {
		return nil, err
	}
	return tensor.Shape{in[0][0] / k.t, in[0][1]}, nil
}
func (k sampleDotK) forward(y []float32, in []*tensor.Dense) error {
	a, b := in[0].Float32s(), in[1].Float32s()
	d := in[0].Shape()[1]
	clear(y)
	for r := range len(a) / d {
		o := r / k.t * d
		for j := range d {
			y[o+j] += a[r*d+j] * b[r*d+j]
		}
	}
	return nil
}

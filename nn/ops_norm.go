package nn

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Norms normalise each row of x [N, D]. Built from elementwise primitives
// they cost about 2× PyTorch per step, so each is one fused kernel, and the
// backward kernels recompute the row statistics rather than caching them.

// rmsNormK is y = x / √(mean(x²) + eps) · w; x [N, D], w [D].
type rmsNormK struct{ eps float32 }

func (k rmsNormK) String() string   { return fmt.Sprintf("RMSNorm{eps=%g}", k.eps) }
func (rmsNormK) dims() ([]int, int) { return []int{2, 1}, 2 }
func (k rmsNormK) shape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in[1]) != 1 || in[0][1] != in[1][0] {
		return nil, fmt.Errorf("%v: x %v and weight %v do not match", k, in[0], in[1])
	}
	return in[0].Clone(), nil
}

func rms(row []float32, eps float32) float32 {
	var ss float32
	for _, v := range row {
		ss += v * v
	}
	return float32(1 / math.Sqrt(float64(ss/float32(len(row))+eps)))
}

func (k rmsNormK) forward(y []float32, in []*tensor.Dense) error {
	x, w := in[0].Float32s(), in[1].Float32s()
	d := len(w)
	for r := 0; r < len(x); r += d {
		xr, yr := x[r:r+d], y[r:r+d]
		s := rms(xr, k.eps)
		for j, v := range xr {
			yr[j] = v * s * w[j]
		}
	}
	return nil
}

func (rmsNormK) diffWRT() []bool { return []bool{true, true} }
func (k rmsNormK) backward(in G.Nodes, _, dy *G.Node) (G.Nodes, error) {
	dx, err := apply(rmsNormDxK(k), in[0], in[1], dy)
	if err != nil {
		return nil, err
	}
	dw, err := apply(rmsNormDwK(k), in[0], dy)
	return G.Nodes{dx, dw}, err
}

// rmsNormDxK: dx = s·(g − x·s²·mean(g·x)) with g = dy·w, s = 1/rms(x).
type rmsNormDxK rmsNormK

func (rmsNormDxK) String() string                                { return "RMSNormDx" }
func (rmsNormDxK) dims() ([]int, int)                            { return []int{2, 1, 2}, 2 }
func (rmsNormDxK) shape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }
func (k rmsNormDxK) forward(dx []float32, in []*tensor.Dense) error {
	x, w, dy := in[0].Float32s(), in[1].Float32s(), in[2].Float32s()
	d := len(w)
	for r := 0; r < len(x); r += d {
		xr, dyr, dxr := x[r:r+d], dy[r:r+d], dx[r:r+d]
		s := rms(xr, k.eps)
		var dot float32
		for j, v := range xr {
			dot += dyr[j] * w[j] * v
		}
		c := s * s * dot / float32(d)
		for j, v := range xr {
			dxr[j] = s * (dyr[j]*w[j] - v*c)
		}
	}
	return nil
}

// rmsNormDwK: dw = Σ_rows dy·x·s.
type rmsNormDwK rmsNormK

func (rmsNormDwK) String() string     { return "RMSNormDw" }
func (rmsNormDwK) dims() ([]int, int) { return []int{2, 2}, 1 }
func (rmsNormDwK) shape(in []tensor.Shape) (tensor.Shape, error) {
	return tensor.Shape{in[0][1]}, nil
}
func (k rmsNormDwK) forward(dw []float32, in []*tensor.Dense) error {
	x, dy := in[0].Float32s(), in[1].Float32s()
	d := len(dw)
	clear(dw)
	for r := 0; r < len(x); r += d {
		xr, dyr := x[r:r+d], dy[r:r+d]
		s := rms(xr, k.eps)
		for j, v := range xr {
			dw[j] += dyr[j] * v * s
		}
	}
	return nil
}

// layerNormK is y = (x − mean)/√(var + eps) · w + b; x [N, D], w, b [D].
type layerNormK struct{ eps float32 }

func (k layerNormK) String() string   { return fmt.Sprintf("LayerNorm{eps=%g}", k.eps) }
func (layerNormK) dims() ([]int, int) { return []int{2, 1, 1}, 2 }
func (k layerNormK) shape(in []tensor.Shape) (tensor.Shape, error) {
	for _, s := range in[1:] {
		if len(s) != 1 || s[0] != in[0][1] {
			return nil, fmt.Errorf("%v: x %v and weight/bias %v do not match", k, in[0], s)
		}
	}
	return in[0].Clone(), nil
}

// moments returns the mean and 1/std of a row.
func moments(row []float32, eps float32) (mu, s float32) {
	var sum float64
	for _, v := range row {
		sum += float64(v)
	}
	m := sum / float64(len(row))
	var ss float64
	for _, v := range row {
		d := float64(v) - m
		ss += d * d
	}
	return float32(m), float32(1 / math.Sqrt(ss/float64(len(row))+float64(eps)))
}

func (k layerNormK) forward(y []float32, in []*tensor.Dense) error {
	x, w, b := in[0].Float32s(), in[1].Float32s(), in[2].Float32s()
	d := len(w)
	for r := 0; r < len(x); r += d {
		xr, yr := x[r:r+d], y[r:r+d]
		mu, s := moments(xr, k.eps)
		for j, v := range xr {
			yr[j] = (v-mu)*s*w[j] + b[j]
		}
	}
	return nil
}

func (layerNormK) diffWRT() []bool { return []bool{true, true, true} }
func (k layerNormK) backward(in G.Nodes, _, dy *G.Node) (G.Nodes, error) {
	dx, err := apply(layerNormDxK(k), in[0], in[1], dy)
	if err != nil {
		return nil, err
	}
	dw, err := apply(layerNormDwK(k), in[0], dy)
	if err != nil {
		return nil, err
	}
	db, err := apply(colSumK{}, dy)
	return G.Nodes{dx, dw, db}, err
}

// layerNormDxK: dx = s·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·w.
type layerNormDxK layerNormK

func (layerNormDxK) String() string                                { return "LayerNormDx" }
func (layerNormDxK) dims() ([]int, int)                            { return []int{2, 1, 2}, 2 }
func (layerNormDxK) shape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }
func (k layerNormDxK) forward(dx []float32, in []*tensor.Dense) error {
	x, w, dy := in[0].Float32s(), in[1].Float32s(), in[2].Float32s()
	d := len(w)
	for r := 0; r < len(x); r += d {
		xr, dyr, dxr := x[r:r+d], dy[r:r+d], dx[r:r+d]
		mu, s := moments(xr, k.eps)
		var mg, mgx float32
		for j, v := range xr {
			g := dyr[j] * w[j]
			mg += g
			mgx += g * (v - mu) * s
		}
		mg /= float32(d)
		mgx /= float32(d)
		for j, v := range xr {
			dxr[j] = s * (dyr[j]*w[j] - mg - (v-mu)*s*mgx)
		}
	}
	return nil
}

// layerNormDwK: dw = Σ_rows dy·x̂.
type layerNormDwK layerNormK

func (layerNormDwK) String() string     { return "LayerNormDw" }
func (layerNormDwK) dims() ([]int, int) { return []int{2, 2}, 1 }
func (layerNormDwK) shape(in []tensor.Shape) (tensor.Shape, error) {
	return tensor.Shape{in[0][1]}, nil
}
func (k layerNormDwK) forward(dw []float32, in []*tensor.Dense) error {
	x, dy := in[0].Float32s(), in[1].Float32s()
	d := len(dw)
	clear(dw)
	for r := 0; r < len(x); r += d {
		xr, dyr := x[r:r+d], dy[r:r+d]
		mu, s := moments(xr, k.eps)
		for j, v := range xr {
			dw[j] += dyr[j] * (v - mu) * s
		}
	}
	return nil
}

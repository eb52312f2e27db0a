package nn

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// SoftmaxRow writes softmax(x) into y (y may be x) and returns
// log Σ exp(x). A NaN in x makes every output NaN.
func SoftmaxRow(y, x []float32) float32 {
	y = y[:len(x)]
	m, i := maxVec(x)
	if i == 0 {
		m = float32(math.Inf(-1))
	}
	for _, v := range x[i:] {
		m = max(m, v)
	}
	for j := expShiftVec(y, x, m); j < len(x); j++ {
		y[j] = exp32(x[j] - m)
	}
	s, i := sumVec(y)
	for _, e := range y[i:] {
		s += e
	}
	inv := 1 / s
	for j := scaleVec(y, inv); j < len(y); j++ {
		y[j] *= inv
	}
	return m + float32(math.Log(float64(s)))
}

// softmaxK is the softmax over the last axis of x [N, D].
type softmaxK struct{}

func (softmaxK) String() string                                { return "Softmax" }
func (softmaxK) dims() ([]int, int)                            { return []int{2}, 2 }
func (softmaxK) shape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }
func (softmaxK) forward(y []float32, in []*tensor.Dense) error {
	x, d := in[0].Float32s(), in[0].Shape()[1]
	for r := 0; r < len(x); r += d {
		SoftmaxRow(y[r:r+d], x[r:r+d])
	}
	return nil
}
func (softmaxK) diffWRT() []bool { return []bool{true} }
func (softmaxK) backward(_ G.Nodes, y, dy *G.Node) (G.Nodes, error) {
	dx, err := apply(softmaxGradK{}, y, dy)
	return G.Nodes{dx}, err
}

// softmaxGradK is dx = y·(dy − Σ dy·y) per row.
type softmaxGradK struct{}

func (softmaxGradK) String() string                                { return "SoftmaxGrad" }
func (softmaxGradK) dims() ([]int, int)                            { return []int{2, 2}, 2 }
func (softmaxGradK) shape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }
func (softmaxGradK) forward(dx []float32, in []*tensor.Dense) error {
	y, dy, d := in[0].Float32s(), in[1].Float32s(), in[0].Shape()[1]
	for r := 0; r < len(y); r += d {
		yr, gr := y[r:r+d], dy[r:r+d]
		var dot float32
		for j, v := range yr {
			dot += v * gr[j]
		}
		for j, v := range yr {
			dx[r+j] = v * (gr[j] - dot)
		}
	}
	return nil
}

// IgnoreIndex marks a target that does not count in the loss (PyTorch's value).
const IgnoreIndex = -100

// crossEntropyK is the mean over non-ignored rows of −log softmax(logits)[target];
// logits [N, V], targets N ints. The softmax is kept for the backward pass.
type crossEntropyK struct {
	targets *Ints
	cache   *ceCache
}

type ceCache struct {
	probs []float32
	count int
}

func (crossEntropyK) String() string     { return "CrossEntropy" }
func (crossEntropyK) dims() ([]int, int) { return []int{2}, 0 }
func (k crossEntropyK) shape(in []tensor.Shape) (tensor.Shape, error) {
	if len(k.targets.V) != in[0][0] {
		return nil, fmt.Errorf("%v: %d targets for %d rows", k, len(k.targets.V), in[0][0])
	}
	return tensor.ScalarShape(), nil
}
func (k crossEntropyK) forward(out []float32, in []*tensor.Dense) error {
	x, v := in[0].Float32s(), in[0].Shape()[1]
	c := k.cache
	if len(c.probs) != len(x) {
		c.probs = make([]float32, len(x))
	}
	var loss float64
	c.count = 0
	for i, t := range k.targets.V {
		if t == IgnoreIndex {
			continue
		}
		if t < 0 || t >= v {
			return fmt.Errorf("%v: target %d of row %d outside [0, %d)", k, t, i, v)
		}
		lse := SoftmaxRow(c.probs[i*v:(i+1)*v], x[i*v:(i+1)*v])
		loss += float64(lse - x[i*v+t])
		c.count++
	}
	out[0] = 0
	if c.count > 0 {
		out[0] = float32(loss / float64(c.count))
	}
	return nil
}
func (crossEntropyK) diffWRT() []bool { return []bool{true} }
func (k crossEntropyK) backward(in G.Nodes, _, dy *G.Node) (G.Nodes, error) {
	dx, err := apply(crossEntropyGradK(k), in[0], dy)
	return G.Nodes{dx}, err
}

// crossEntropyGradK is dlogits = dy·(softmax − onehot)/count, 0 on ignored
// rows; its inputs are the logits (for the shape only) and dy.
type crossEntropyGradK crossEntropyK

func (crossEntropyGradK) String() string                                { return "CrossEntropyGrad" }
func (crossEntropyGradK) dims() ([]int, int)                            { return []int{2, 0}, 2 }
func (crossEntropyGradK) shape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }
func (k crossEntropyGradK) forward(dx []float32, in []*tensor.Dense) error {
	c := k.cache
	v := in[0].Shape()[1]
	clear(dx)
	if c.count == 0 {
		return nil
	}
	scale := in[1].Float32s()[0] / float32(c.count)
	for i, t := range k.targets.V {
		if t == IgnoreIndex {
			continue
		}
		row, p := dx[i*v:(i+1)*v], c.probs[i*v:(i+1)*v]
		for j, pj := range p {
			row[j] = scale * pj
		}
		row[t] -= scale
	}
	return nil
}

// CrossEntropy is the mean cross-entropy of logits [N, V] against targets
// (len N, IgnoreIndex rows skipped).
func CrossEntropy(logits *G.Node, targets *Ints) (*G.Node, error) {
	return apply(crossEntropyK{targets: targets, cache: &ceCache{}}, logits)
}

// Softmax over the last axis of x [N, D].
func Softmax(x *G.Node) (*G.Node, error) { return apply(softmaxK{}, x) }

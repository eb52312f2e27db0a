package nn

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sync/atomic"
	"time"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// kernel is the float32 computation behind one custom gorgonia op.
//
// gorgonia's Op interface has a dozen methods that are the same for every op
// here; kernel keeps only what differs, and op adapts it. The output buffer
// belongs to the op node and is reused run after run, so a training step
// allocates nothing: gorgonia's register allocator may hand the buffer to a
// later op once the value is dead, which is safe because every kernel writes
// every element of its output before reading it.
type kernel interface {
	fmt.Stringer
	// dims gives the number of dimensions of each input and of the output
	// (0 for a scalar output).
	dims() (in []int, out int)
	// shape infers the output shape from the input shapes.
	shape(in []tensor.Shape) (tensor.Shape, error)
	// forward computes out (overwriting every element) from in.
	forward(out []float32, in []*tensor.Dense) error
}

// differentiable kernels build their gradient nodes from the forward inputs,
// the forward output and the gradient of the output.
type differentiable interface {
	kernel
	diffWRT() []bool
	backward(in G.Nodes, out, grad *G.Node) (G.Nodes, error)
}

var opIDs atomic.Uint64

// op adapts a kernel to gorgonia.Op and gorgonia.SDOp.
type op struct {
	k   kernel
	id  uint64 // unique, so gorgonia never merges two ops that carry state
	out *tensor.Dense
	f32 G.F32
}

func newOp(k kernel) *op { return &op{k: k, id: opIDs.Add(1)} }

// apply adds the kernel as a node whose children are in.
func apply(k kernel, in ...*G.Node) (*G.Node, error) {
	n, err := G.ApplyOp(newOp(k), in...)
	if err != nil {
		return nil, fmt.Errorf("%v: %w", k, err)
	}
	return n, nil
}

func (o *op) Arity() int { in, _ := o.k.dims(); return len(in) }

func (o *op) Type() hm.Type {
	in, out := o.k.dims()
	ts := make([]hm.Type, 0, len(in)+1)
	for _, d := range in {
		ts = append(ts, tensorType(d))
	}
	ts = append(ts, tensorType(out))
	return hm.NewFnType(ts...)
}

func tensorType(d int) hm.Type {
	if d == 0 {
		return tensor.Float32
	}
	return G.TensorType{Dims: d, Of: tensor.Float32}
}

func (o *op) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	shapes := make([]tensor.Shape, len(ds))
	for i, d := range ds {
		s, ok := d.(tensor.Shape)
		if !ok {
			return nil, fmt.Errorf("%v: input %d has no shape", o.k, i)
		}
		shapes[i] = s
	}
	return o.k.shape(shapes)
}

func (o *op) Do(vals ...G.Value) (G.Value, error) {
	in := make([]*tensor.Dense, len(vals))
	shapes := make([]tensor.Shape, len(vals))
	for i, v := range vals {
		if f, ok := v.(*G.F32); ok {
			v = tensor.New(tensor.WithShape(), tensor.WithBacking([]float32{float32(*f)}))
		}
		t, ok := v.(*tensor.Dense)
		if !ok || t.Dtype() != tensor.Float32 {
			return nil, fmt.Errorf("%v: input %d is %T, want a float32 tensor", o.k, i, v)
		}
		in[i], shapes[i] = t, t.Shape()
	}
	s, err := o.k.shape(shapes)
	if err != nil {
		return nil, err
	}
	if OpStats != nil {
		defer func(t0 time.Time) { OpStats.add(o.k.String(), time.Since(t0)) }(time.Now())
	}
	if s.IsScalar() {
		var buf [1]float32
		if err := o.k.forward(buf[:], in); err != nil {
			return nil, err
		}
		o.f32 = G.F32(buf[0])
		return &o.f32, nil
	}
	if o.out == nil || !o.out.Shape().Eq(s) {
		o.out = tensor.New(tensor.WithShape(s.Clone()...), tensor.Of(tensor.Float32))
	}
	if err := o.k.forward(o.out.Float32s(), in); err != nil {
		return nil, err
	}
	return o.out, nil
}

func (o *op) ReturnsPtr() bool     { return false }
func (o *op) CallsExtern() bool    { return false }
func (o *op) OverwritesInput() int { return -1 }
func (o *op) String() string       { return o.k.String() }
func (o *op) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "omniar.%v#%d", o.k, o.id)
}
func (o *op) Hashcode() uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}

func (o *op) DiffWRT(n int) []bool {
	if d, ok := o.k.(differentiable); ok {
		return d.diffWRT()
	}
	return make([]bool, n)
}

func (o *op) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	d, ok := o.k.(differentiable)
	if !ok {
		return nil, fmt.Errorf("%v is not differentiable", o.k)
	}
	return d.backward(in, out, grad)
}

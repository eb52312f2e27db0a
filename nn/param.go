package nn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Param is one trainable tensor of a module, held by a gorgonia node.
// It satisfies optim.Param.
type Param struct {
	name  string
	node  *G.Node
	decay bool
}

// Name is the tensor's module path, e.g. "layers.3.attn.wq".
func (p *Param) Name() string { return p.name }

// Node is the graph node holding the value.
func (p *Param) Node() *G.Node { return p.node }

// Shape of the tensor.
func (p *Param) Shape() []int { return p.node.Shape().Clone() }

// Decay says whether AdamW's weight decay applies (not to norms, biases, embeddings).
func (p *Param) Decay() bool { return p.decay }

// Data is the value, shared with the graph: writing it changes the model.
func (p *Param) Data() []float32 { return p.node.Value().Data().([]float32) }

// Grad is the gradient of the last Program.Run, or nil before the first.
func (p *Param) Grad() []float32 {
	g, err := p.node.Grad()
	if err != nil || g == nil {
		return nil
	}
	return g.Data().([]float32)
}

// Init says how a new parameter is filled.
type Init func(rng *rand.Rand, data []float32)

// Normal fills with N(0, std²).
func Normal(std float64) Init {
	return func(rng *rand.Rand, d []float32) {
		for i := range d {
			d[i] = float32(rng.NormFloat64() * std)
		}
	}
}

// Const fills with one value (1 for norm gains, 0 for biases).
func Const(v float32) Init {
	return func(_ *rand.Rand, d []float32) {
		for i := range d {
			d[i] = v
		}
	}
}

// Uniform fills with U(-a, a) (PyTorch's default for Linear and Conv is a = 1/√fan_in).
func Uniform(a float64) Init {
	return func(rng *rand.Rand, d []float32) {
		for i := range d {
			d[i] = float32((2*rng.Float64() - 1) * a)
		}
	}
}

// Builder creates the parameters of a model in one graph, named by module
// path, initialised from one seeded generator so a model is reproducible.
type Builder struct {
	G      *G.ExprGraph
	rng    *rand.Rand
	prefix string
	params *[]*Param
	zero   bool // parameters start at zero (NewLoadBuilder)
	shape  bool // parameters have shapes but no values (NewShapeBuilder)
}

// NewBuilder starts a model in a new graph.
func NewBuilder(seed uint64) *Builder {
	ps := []*Param{}
	return &Builder{G: G.NewGraph(), rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), params: &ps}
}

// NewLoadBuilder starts a model whose parameters are all loaded from a
// checkpoint right after it is built: they start at zero instead of
// running their initialisers, which for an inference model took longer
// than loading it.
func NewLoadBuilder() *Builder {
	b := NewBuilder(0)
	b.zero = true
	return b
}

// NewShapeBuilder starts a model whose parameters get their shapes but no
// memory, so that a configuration read from a file can be checked against
// the file's tensors (CheckBuild) before a model of that size is built.
func NewShapeBuilder() *Builder {
	b := NewBuilder(0)
	b.shape = true
	return b
}

// ShapesOnly reports a NewShapeBuilder builder: its parameters have no
// values, so code that initialises them must skip it.
func (b *Builder) ShapesOnly() bool { return b.shape }

// CheckBuild builds a model's parameters with build on a shape builder
// and checks them against the stored tensors; stored looks a name up
// (MapSizes, ckpt.File.Size). A loader calls it before building the model
// for real, because a configuration read from a damaged file could ask
// for more memory than the machine has before a mismatch shows.
func CheckBuild(build func(*Builder) error, stored func(name string) (n int, ok bool)) error {
	b := NewShapeBuilder()
	if err := build(b); err != nil {
		return err
	}
	if err := checkSizes(b.Params(), stored); err != nil {
		return fmt.Errorf("weights do not fit the configuration: %w", err)
	}
	return nil
}

// checkSizes reports the first parameter whose size differs from the
// stored tensor of its name, or that is not stored.
func checkSizes(ps []*Param, stored func(name string) (n int, ok bool)) error {
	for _, p := range ps {
		n := 1
		for _, s := range p.node.Shape() {
			n *= s
		}
		m, ok := stored(p.name)
		if !ok {
			return fmt.Errorf("%s: not stored, the configuration needs %d values", p.name, n)
		}
		if m != n {
			return fmt.Errorf("%s: %d values stored, the configuration needs %d", p.name, m, n)
		}
	}
	return nil
}

// MapSizes is CheckBuild's lookup for weights held by name.
func MapSizes(w map[string][]float32) func(string) (int, bool) {
	return func(name string) (int, bool) {
		v, ok := w[name]
		return len(v), ok
	}
}

// LoadParams copies weights held by name into params; every param must be
// there with its size.
func LoadParams(ps []*Param, w map[string][]float32) error {
	for _, p := range ps {
		v, ok := w[p.Name()]
		if !ok || len(v) != len(p.Data()) {
			return fmt.Errorf("weights: %s missing or of size %d, want %d", p.Name(), len(v), len(p.Data()))
		}
		copy(p.Data(), v)
	}
	return nil
}

// Sub returns a builder whose parameter names are prefixed with name + ".".
func (b *Builder) Sub(name string) *Builder {
	c := *b
	c.prefix = b.prefix + name + "."
	return &c
}

// Param creates a parameter.
func (b *Builder) Param(name string, decay bool, init Init, shape ...int) *Param {
	n := 1
	for _, s := range shape {
		n *= s
	}
	full := b.prefix + name
	opts := []G.NodeConsOpt{G.WithShape(shape...), G.WithName(full)}
	if !b.shape {
		data := make([]float32, n)
		if !b.zero {
			init(b.rng, data)
		}
		opts = append(opts, G.WithValue(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))))
	}
	node := G.NewTensor(b.G, tensor.Float32, len(shape), opts...)
	p := &Param{name: full, node: node, decay: decay}
	*b.params = append(*b.params, p)
	return p
}

// Input creates a non-trainable float32 input node (data fed each run with Set).
func (b *Builder) Input(name string, shape ...int) *Input {
	n := 1
	for _, s := range shape {
		n *= s
	}
	t := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(make([]float32, n)))
	return &Input{Node: G.NewTensor(b.G, tensor.Float32, len(shape), G.WithShape(shape...), G.WithName(b.prefix+name), G.WithValue(t)), t: t}
}

// Params lists every parameter created so far, in creation order.
func (b *Builder) Params() []*Param { return *b.params }

// Input is a float32 data node of fixed shape.
type Input struct {
	Node *G.Node
	t    *tensor.Dense
}

// Set copies x into the input; len(x) must match its size.
func (in *Input) Set(x []float32) error {
	d := in.t.Float32s()
	if len(x) != len(d) {
		return fmt.Errorf("input %s: got %d values, want %d (shape %v)", in.Node.Name(), len(x), len(d), in.t.Shape())
	}
	copy(d, x)
	return nil
}

// Program is a compiled training graph: the forward pass to a scalar loss and
// the backward pass to every parameter.
type Program struct {
	vm     G.VM
	loss   *G.Node
	params []*Param
}

// Compile differentiates loss with respect to params and compiles both passes.
func Compile(g *G.ExprGraph, loss *G.Node, params []*Param) (*Program, error) {
	if !loss.IsScalar() {
		return nil, fmt.Errorf("compile: loss has shape %v, want a scalar", loss.Shape())
	}
	nodes := make(G.Nodes, len(params))
	for i, p := range params {
		nodes[i] = p.node
	}
	if _, err := G.Grad(loss, nodes...); err != nil {
		return nil, fmt.Errorf("compile: backward pass: %w", err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(nodes...))
	return &Program{vm: vm, loss: loss, params: params}, nil
}

// CompileForward compiles the forward pass of g only (inference, evaluation).
func CompileForward(g *G.ExprGraph) G.VM { return G.NewTapeMachine(g) }

// ErrNonFinite reports a NaN or infinite loss.
var ErrNonFinite = errors.New("loss is not finite")

// Run executes forward and backward once and returns the loss. Gradients are
// fresh (not accumulated over runs) and readable through Param.Grad.
func (p *Program) Run() (float64, error) {
	for _, q := range p.params {
		if g := q.Grad(); g != nil {
			clear(g)
		}
	}
	defer p.vm.Reset()
	if err := p.vm.RunAll(); err != nil {
		return 0, fmt.Errorf("run: %w", err)
	}
	v := float64(scalarValue(p.loss.Value()))
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return v, ErrNonFinite
	}
	return v, nil
}

// Close releases the machine.
func (p *Program) Close() error { return p.vm.Close() }

func scalarValue(v G.Value) float32 {
	switch x := v.(type) {
	case *G.F32:
		return float32(*x)
	case *tensor.Dense:
		return x.Float32s()[0]
	}
	return float32(math.NaN())
}

package metrics

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	G "gorgonia.org/gorgonia"

	"github.com/omniar/omniar/nn"
	"github.com/omniar/omniar/nn/ckpt"
)

// The frozen feature networks (the digit classifier of the judge and the
// video classifier of FVD-style scores) are one kind of network: 3-D
// convolutions with SiLU (images are videos of depth 1), flattened, one
// hidden layer whose SiLU output is the feature vector, and a linear head.

// ConvLayer is one convolution of a Net; dims are (D, H, W).
type ConvLayer struct {
	Out     int    `json:"out"`
	Kernel  [3]int `json:"kernel"`
	Stride  [3]int `json:"stride"`
	Padding [3]int `json:"padding"`
}

// NetConfig describes a Net.
type NetConfig struct {
	Name     string      `json:"name"`
	Input    [4]int      `json:"input"` // [C, D, H, W] of one sample
	Convs    []ConvLayer `json:"convs"`
	Features int         `json:"features"` // width of the penultimate layer
	Logits   int         `json:"logits"`   // head width
	// Pool "mean" averages the last conv's output over (D, H, W) before the
	// hidden layer (global average pooling); "max-space" takes its maximum
	// over (H, W) and keeps the time steps in order, [C·D]; "" flattens it.
	Pool string `json:"pool,omitempty"`
	// Aux > 0 adds, in training only, a 1×1×1 conv of the last conv's
	// output to Aux classes, with a cross-entropy per output cell (dense
	// targets: what is at each place and time); it is not saved.
	Aux int `json:"aux,omitempty"`
	// Binary: the head is Logits/2 (absent, present) pairs, one per label
	// of a multi-label output; otherwise one softmax over Logits classes.
	Binary bool `json:"binary,omitempty"`
}

// Labels is the number of targets per sample: Logits/2 for a Binary net, 1 otherwise.
func (c NetConfig) Labels() int {
	if c.Binary {
		return c.Logits / 2
	}
	return 1
}

// Validate reports a configuration that cannot be built.
func (c NetConfig) Validate() error {
	if c.Features <= 0 || c.Logits <= 0 || len(c.Convs) == 0 || (c.Binary && c.Logits%2 != 0) {
		return fmt.Errorf("net %q: need convs, features > 0 and logits > 0 (even if binary)", c.Name)
	}
	if c.Pool != "" && c.Pool != "mean" && c.Pool != "max-space" {
		return fmt.Errorf("net %q: pool %q, want \"\", \"mean\" or \"max-space\"", c.Name, c.Pool)
	}
	for _, v := range c.Input {
		if v <= 0 || v > 1<<12 {
			return fmt.Errorf("net %q: input shape %v must be in [1, %d]", c.Name, c.Input, 1<<12)
		}
	}
	// bounds far beyond any network here, so a damaged file's config is
	// rejected before it is built, even only as shapes
	if c.SampleSize() > 1<<24 || len(c.Convs) > 64 || c.Features > 1<<16 || c.Logits > 1<<16 || c.Aux < 0 || c.Aux > 1<<16 {
		return fmt.Errorf("net %q: %d input values (at most %d), %d convs (64), features %d, logits %d, aux %d (each at most %d)",
			c.Name, c.SampleSize(), 1<<24, len(c.Convs), c.Features, c.Logits, c.Aux, 1<<16)
	}
	for i, l := range c.Convs {
		if l.Out <= 0 || l.Out > 1<<12 {
			return fmt.Errorf("net %q: conv %d has %d outputs, want [1, %d]", c.Name, i, l.Out, 1<<12)
		}
		for a := range 3 {
			if l.Kernel[a] < 1 || l.Kernel[a] > 31 || l.Stride[a] < 1 || l.Stride[a] > 31 || l.Padding[a] < 0 || l.Padding[a] > 31 {
				return fmt.Errorf("net %q: conv %d kernel %v, stride %v, padding %v: want kernel and stride in [1, 31], padding in [0, 31]", c.Name, i, l.Kernel, l.Stride, l.Padding)
			}
		}
	}
	return nil
}

// SampleSize is the number of input values of one sample.
func (c NetConfig) SampleSize() int { return c.Input[0] * c.Input[1] * c.Input[2] * c.Input[3] }

// Net is a NetConfig built for a fixed batch in its own graph.
type Net struct {
	Cfg    NetConfig
	Batch  int
	B      *nn.Builder
	X      *nn.Input // [Batch, C, D, H, W], values in [0, 1]
	Maps   *G.Node   // [Batch, C', D', H', W'] the last conv's output
	Feats  *G.Node   // [Batch, Features]
	Logits *G.Node   // [Batch, Logits]
}

// NewNet builds cfg for batch samples with seeded initial weights.
func NewNet(cfg NetConfig, batch int, seed uint64) (*Net, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if batch <= 0 {
		return nil, fmt.Errorf("net %q: batch %d is not positive", cfg.Name, batch)
	}
	return newNet(cfg, batch, nn.NewBuilder(seed))
}

// newNet builds cfg for batch samples with b's parameters.
func newNet(cfg NetConfig, batch int, b *nn.Builder) (*Net, error) {
	n := &Net{Cfg: cfg, Batch: batch, B: b}
	n.X = b.Input("x", batch, cfg.Input[0], cfg.Input[1], cfg.Input[2], cfg.Input[3])
	if err := n.build(); err != nil {
		return nil, fmt.Errorf("build net %q: %w", cfg.Name, err)
	}
	return n, nil
}

// build wires convs → flatten → fc (features) → head (logits).
func (n *Net) build() error {
	x := n.X.Node
	in := n.Cfg.Input[0]
	var err error
	for i, l := range n.Cfg.Convs {
		c := nn.NewConv3d(n.B, fmt.Sprintf("conv%d", i), nn.Conv3dConfig{In: in, Out: l.Out, Kernel: l.Kernel, Stride: l.Stride, Padding: l.Padding, Bias: true})
		if x, err = c.Forward(x); err != nil { // [B, Out, D', H', W']
			return err
		}
		if x, err = nn.SiLU(x); err != nil {
			return err
		}
		in = l.Out
	}
	n.Maps = x
	if x, err = n.pool(x); err != nil { // [B, flat]
		return err
	}
	if x, err = nn.NewLinear(n.B, "fc", x.Shape()[1], n.Cfg.Features, true).Forward(x); err != nil {
		return err
	}
	if n.Feats, err = nn.SiLU(x); err != nil { // [B, Features]
		return err
	}
	n.Logits, err = nn.NewLinear(n.B, "head", n.Cfg.Features, n.Cfg.Logits, true).Forward(n.Feats) // [B, Logits]
	return err
}

// pool turns the last conv's output [B, C, D, H, W] into rows: [B, C·D·H·W]
// flattened, [B, C] averaged over (D, H, W), or [B, C·D] maxima over (H, W).
func (n *Net) pool(x *G.Node) (*G.Node, error) {
	s := x.Shape()
	switch n.Cfg.Pool {
	case "":
		return G.Reshape(x, []int{n.Batch, s[1] * s[2] * s[3] * s[4]})
	case "max-space":
		x, err := G.Reshape(x, []int{n.Batch * s[1] * s[2], s[3] * s[4]}) // [B·C·D, H·W]
		if err != nil {
			return nil, err
		}
		if x, err = nn.MaxRows(x); err != nil { // [B·C·D]
			return nil, err
		}
		return G.Reshape(x, []int{n.Batch, s[1] * s[2]})
	}
	x, err := G.Reshape(x, []int{n.Batch, s[1], s[2] * s[3] * s[4]}) // [B, C, D·H·W]
	if err != nil {
		return nil, err
	}
	return G.Mean(x, 2)
}

// Params lists the weights.
func (n *Net) Params() []*nn.Param { return n.B.Params() }

// NumParams counts the scalars.
func (n *Net) NumParams() int {
	k := 0
	for _, p := range n.Params() {
		k += len(p.Data())
	}
	return k
}

// Metadata keys of a weights file.
const (
	MetaConfig = "config" // NetConfig JSON
)

// Save writes the weights as F16 safetensors with the config and meta
// (Round first, so that what was measured is what is saved).
func (n *Net) Save(path string, meta map[string]string) error {
	m := map[string]string{}
	for k, v := range meta {
		m[k] = v
	}
	cfg, _ := json.Marshal(n.Cfg)
	m[MetaConfig] = string(cfg)
	var ts []ckpt.Tensor
	for _, p := range n.Params() {
		if strings.HasPrefix(p.Name(), auxPrefix) {
			continue
		}
		ts = append(ts, ckpt.Tensor{Name: p.Name(), Shape: p.Shape(), Data: p.Data()})
	}
	return ckpt.Save(path, m, ts, ckpt.F16)
}

// Round rounds the weights to the F16 precision Save stores.
func (n *Net) Round() {
	for _, p := range n.Params() {
		d := p.Data()
		for i, v := range d {
			d[i] = ckpt.RoundF16(v)
		}
	}
}

// CopyFrom copies the weights of another Net of the same config (not
// the training-only auxiliary head).
func (n *Net) CopyFrom(src *Net) error {
	a, b := n.Params(), slices.DeleteFunc(slices.Clone(src.Params()), func(p *nn.Param) bool { return strings.HasPrefix(p.Name(), auxPrefix) })
	if len(a) != len(b) {
		return fmt.Errorf("net %q: %d params, source has %d", n.Cfg.Name, len(a), len(b))
	}
	for i, p := range a {
		if p.Name() != b[i].Name() || !slices.Equal(p.Shape(), b[i].Shape()) {
			return fmt.Errorf("net %q: param %s %v vs source %s %v", n.Cfg.Name, p.Name(), p.Shape(), b[i].Name(), b[i].Shape())
		}
		copy(p.Data(), b[i].Data())
	}
	return nil
}

// Weights is a loaded weights file of a Net.
type Weights struct {
	Path   string
	SHA256 string
	Cfg    NetConfig
	Meta   map[string]string
	file   *ckpt.File
}

// LoadWeights reads a weights file written by Net.Save.
func LoadWeights(path string) (*Weights, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load weights: %w", err)
	}
	f, err := ckpt.Decode(path, b)
	if err != nil {
		return nil, fmt.Errorf("load weights: %w", err)
	}
	sum := sha256.Sum256(b)
	w := &Weights{Path: path, SHA256: hex.EncodeToString(sum[:]), Meta: f.Meta, file: f}
	c, ok := f.Meta[MetaConfig]
	if !ok {
		return nil, fmt.Errorf("load weights %s: no %q metadata (not a metrics network)", path, MetaConfig)
	}
	if err := json.Unmarshal([]byte(c), &w.Cfg); err != nil {
		return nil, fmt.Errorf("load weights %s: config: %w", path, err)
	}
	if err := w.Cfg.Validate(); err != nil {
		return nil, fmt.Errorf("load weights %s: %w", path, err)
	}
	if err := nn.CheckBuild(func(b *nn.Builder) error { _, err := newNet(w.Cfg, 1, b); return err }, f.Size); err != nil {
		return nil, fmt.Errorf("load weights %s: %w", path, err)
	}
	return w, nil
}

// Build makes a Net of the file's config for batch samples holding its
// weights. Tensors are matched by name and size (training checkpoints
// store them flattened).
func (w *Weights) Build(batch int) (*Net, error) {
	n, err := NewNet(w.Cfg, batch, 0)
	if err != nil {
		return nil, fmt.Errorf("weights %s: %w", w.Path, err)
	}
	for _, p := range n.Params() {
		if err := w.file.Into(p.Name(), p.Data()); err != nil {
			return nil, fmt.Errorf("weights %s: %w", w.Path, err)
		}
	}
	return n, nil
}

// Runner evaluates a frozen Net forward, batch by batch.
type Runner struct {
	Net *Net
	vm  G.VM
}

// NewRunner compiles the forward pass of n.
func NewRunner(n *Net) *Runner { return &Runner{Net: n, vm: nn.CompileForward(n.B.G)} }

// Close releases the machine.
func (r *Runner) Close() error { return r.vm.Close() }

// Output is what a Runner computes for each sample.
type Output struct {
	Feats  [][]float32 // [N][Features]
	Logits [][]float32 // [N][Logits]
}

// Run evaluates samples [N·SampleSize] (N any; the last batch is padded).
func (r *Runner) Run(samples []float32) (Output, error) {
	size := r.Net.Cfg.SampleSize()
	if len(samples)%size != 0 {
		return Output{}, fmt.Errorf("net %q: %d input values are not a multiple of the sample size %d", r.Net.Cfg.Name, len(samples), size)
	}
	n, bs := len(samples)/size, r.Net.Batch
	out := Output{Feats: make([][]float32, 0, n), Logits: make([][]float32, 0, n)}
	buf := make([]float32, bs*size)
	for lo := 0; lo < n; lo += bs {
		hi := min(lo+bs, n)
		clear(buf)
		copy(buf, samples[lo*size:hi*size])
		f, l, err := r.batch(buf)
		if err != nil {
			return Output{}, err
		}
		for i := 0; i < hi-lo; i++ {
			out.Feats = append(out.Feats, slices.Clone(f[i*r.Net.Cfg.Features:(i+1)*r.Net.Cfg.Features]))
			out.Logits = append(out.Logits, slices.Clone(l[i*r.Net.Cfg.Logits:(i+1)*r.Net.Cfg.Logits]))
		}
	}
	return out, nil
}

// batch runs one full batch and returns the feature and logit buffers.
func (r *Runner) batch(x []float32) (feats, logits []float32, err error) {
	if err := r.Net.X.Set(x); err != nil {
		return nil, nil, err
	}
	defer r.vm.Reset()
	if err := r.vm.RunAll(); err != nil {
		return nil, nil, fmt.Errorf("net %q: %w", r.Net.Cfg.Name, err)
	}
	f, ok1 := r.Net.Feats.Value().Data().([]float32)
	l, ok2 := r.Net.Logits.Value().Data().([]float32)
	if !ok1 || !ok2 {
		return nil, nil, errors.New("net outputs are not float32 tensors")
	}
	return f, l, nil
}

package nn

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
)

// Convolution layers over the engine in ops_conv.go. Weights use PyTorch's
// layout (Conv: [Out, In, k...]; ConvTranspose: [In, Out, k...]) and names
// ("<name>.weight", "<name>.bias"), so PyTorch checkpoints map 1:1, and
// PyTorch's default init: U(±1/√fan_in) for weight and bias. In all configs
// a zero Stride means 1.

// convParams creates "<name>.weight" of shape w and, if bias, "<name>.bias"
// of size nb, both U(±1/√fanIn).
func convParams(b *Builder, name string, w []int, fanIn, nb int, bias bool) (*Param, *Param) {
	bound := 1 / math.Sqrt(float64(fanIn))
	wp := b.Param(name+".weight", true, Uniform(bound), w...)
	if !bias {
		return wp, nil
	}
	return wp, b.Param(name+".bias", false, Uniform(bound), nb)
}

func one(s int) int {
	if s == 0 {
		return 1
	}
	return s
}

func ones3(s [3]int) []int { return []int{one(s[0]), one(s[1]), one(s[2])} }

func rep(v, n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// bnode is the bias node, nil without bias.
func bnode(p *Param) *G.Node {
	if p == nil {
		return nil
	}
	return p.Node()
}

// convForward checks x against the layer and applies the op.
func convForward(name string, x *G.Node, nd, in int, w, b *Param, spec ConvSpec, transposed bool) (*G.Node, error) {
	if x.Dims() != nd || x.Shape()[1] != in {
		return nil, fmt.Errorf("%s: input has shape %v, want %d dims with %d channels", name, x.Shape(), nd, in)
	}
	var y *G.Node
	var err error
	if transposed {
		y, err = ConvTransposeND(x, w.Node(), bnode(b), spec)
	} else {
		y, err = ConvND(x, w.Node(), bnode(b), spec)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return y, nil
}

// Conv1dConfig configures a Conv1d: padding is symmetric.
type Conv1dConfig struct {
	In, Out, Kernel, Stride, Padding int
	Bias                             bool
}

// Conv1d is a 1-D convolution.
type Conv1d struct {
	W    *Param // [Out, In, Kernel]
	B    *Param // [Out], nil without bias
	cfg  Conv1dConfig
	name string
}

// NewConv1d creates a Conv1d's parameters.
func NewConv1d(b *Builder, name string, cfg Conv1dConfig) *Conv1d {
	w, bb := convParams(b, name, []int{cfg.Out, cfg.In, cfg.Kernel}, cfg.In*cfg.Kernel, cfg.Out, cfg.Bias)
	return &Conv1d{W: w, B: bb, cfg: cfg, name: b.prefix + name}
}

// Forward: x [N, In, L] → [N, Out, L'], L' = (L + 2·Padding − Kernel)/Stride + 1.
func (c *Conv1d) Forward(x *G.Node) (*G.Node, error) {
	p := []int{c.cfg.Padding}
	return convForward(c.name, x, 3, c.cfg.In, c.W, c.B, ConvSpec{Stride: []int{one(c.cfg.Stride)}, PadBefore: p, PadAfter: p}, false)
}

// Conv2dConfig configures a Conv2d: square kernel, same stride and
// symmetric padding on both axes.
type Conv2dConfig struct {
	In, Out, Kernel, Stride, Padding int
	Bias                             bool
}

// Conv2d is a 2-D convolution.
type Conv2d struct {
	W    *Param // [Out, In, Kernel, Kernel]
	B    *Param // [Out], nil without bias
	cfg  Conv2dConfig
	name string
}

// NewConv2d creates a Conv2d's parameters.
func NewConv2d(b *Builder, name string, cfg Conv2dConfig) *Conv2d {
	k := cfg.Kernel
	w, bb := convParams(b, name, []int{cfg.Out, cfg.In, k, k}, cfg.In*k*k, cfg.Out, cfg.Bias)
	return &Conv2d{W: w, B: bb, cfg: cfg, name: b.prefix + name}
}

// Forward: x [N, In, H, W] → [N, Out, H', W'], H' = (H + 2·Padding − Kernel)/Stride + 1.
func (c *Conv2d) Forward(x *G.Node) (*G.Node, error) {
	p := rep(c.cfg.Padding, 2)
	return convForward(c.name, x, 4, c.cfg.In, c.W, c.B, ConvSpec{Stride: rep(one(c.cfg.Stride), 2), PadBefore: p, PadAfter: p}, false)
}

// ConvTranspose2dConfig configures a ConvTranspose2d as PyTorch does.
type ConvTranspose2dConfig struct {
	In, Out, Kernel, Stride, Padding, OutputPadding int
	Bias                                            bool
}

// ConvTranspose2d is a 2-D transposed convolution (the input gradient of a
// Conv2d from Out to In channels), used for learned upsampling.
type ConvTranspose2d struct {
	W    *Param // [In, Out, Kernel, Kernel]
	B    *Param // [Out], nil without bias
	cfg  ConvTranspose2dConfig
	name string
}

// NewConvTranspose2d creates a ConvTranspose2d's parameters. As in PyTorch,
// fan_in is Out·Kernel² (dim 1 of the weight).
func NewConvTranspose2d(b *Builder, name string, cfg ConvTranspose2dConfig) *ConvTranspose2d {
	k := cfg.Kernel
	w, bb := convParams(b, name, []int{cfg.In, cfg.Out, k, k}, cfg.Out*k*k, cfg.Out, cfg.Bias)
	return &ConvTranspose2d{W: w, B: bb, cfg: cfg, name: b.prefix + name}
}

// Forward: x [N, In, H, W] → [N, Out, H', W'],
// H' = (H−1)·Stride − 2·Padding + Kernel + OutputPadding.
func (c *ConvTranspose2d) Forward(x *G.Node) (*G.Node, error) {
	p := rep(c.cfg.Padding, 2)
	spec := ConvSpec{Stride: rep(one(c.cfg.Stride), 2), PadBefore: p, PadAfter: p, OutputPadding: rep(c.cfg.OutputPadding, 2)}
	return convForward(c.name, x, 4, c.cfg.In, c.W, c.B, spec, true)
}

// Conv3dConfig configures a Conv3d; Kernel, Stride and Padding are per dim
// (D, H, W), padding symmetric.
type Conv3dConfig struct {
	In, Out                 int
	Kernel, Stride, Padding [3]int
	Bias                    bool
}

// Conv3d is a 3-D convolution over [D, H, W] (D = time for video).
type Conv3d struct {
	W    *Param // [Out, In, kd, kh, kw]
	B    *Param // [Out], nil without bias
	cfg  Conv3dConfig
	spec ConvSpec
	name string
}

// NewConv3d creates a Conv3d's parameters.
func NewConv3d(b *Builder, name string, cfg Conv3dConfig) *Conv3d {
	k := cfg.Kernel
	w, bb := convParams(b, name, []int{cfg.Out, cfg.In, k[0], k[1], k[2]}, cfg.In*k[0]*k[1]*k[2], cfg.Out, cfg.Bias)
	p := cfg.Padding[:]
	return &Conv3d{W: w, B: bb, cfg: cfg, name: b.prefix + name,
		spec: ConvSpec{Stride: ones3(cfg.Stride), PadBefore: p, PadAfter: p}}
}

// Forward: x [N, In, D, H, W] → [N, Out, D', H', W'],
// D' = (D + 2·Padding[0] − Kernel[0])/Stride[0] + 1 and likewise H', W'.
func (c *Conv3d) Forward(x *G.Node) (*G.Node, error) {
	return convForward(c.name, x, 5, c.cfg.In, c.W, c.B, c.spec, false)
}

// CausalConv3dConfig configures a CausalConv3d: time (D) is padded by
// Kernel[0]−1 frames before and none after, H and W symmetrically by Padding.
type CausalConv3dConfig struct {
	In, Out        int
	Kernel, Stride [3]int
	Padding        [2]int // H, W
	Bias           bool
}

// CausalConv3d is a Conv3d whose output frame t sees input frames ≤ t only
// (with temporal stride s, output t sees inputs ≤ s·t). Its weights are a
// PyTorch Conv3d's, applied after F.pad(x, (pw, pw, ph, ph, kt−1, 0)).
type CausalConv3d struct {
	W    *Param // [Out, In, kt, kh, kw]
	B    *Param // [Out], nil without bias
	in   int
	spec ConvSpec
	name string
}

// NewCausalConv3d creates a CausalConv3d's parameters.
func NewCausalConv3d(b *Builder, name string, cfg CausalConv3dConfig) *CausalConv3d {
	k := cfg.Kernel
	w, bb := convParams(b, name, []int{cfg.Out, cfg.In, k[0], k[1], k[2]}, cfg.In*k[0]*k[1]*k[2], cfg.Out, cfg.Bias)
	return &CausalConv3d{W: w, B: bb, in: cfg.In, name: b.prefix + name, spec: ConvSpec{
		Stride:    ones3(cfg.Stride),
		PadBefore: []int{max(k[0]-1, 0), cfg.Padding[0], cfg.Padding[1]},
		PadAfter:  []int{0, cfg.Padding[0], cfg.Padding[1]},
	}}
}

// Forward: x [N, In, T, H, W] → [N, Out, T', H', W'] with
// T' = (T − 1)/Stride[0] + 1 (1 + s·k frames → 1 + k) and
// H' = (H + 2·Padding[0] − Kernel[1])/Stride[1] + 1, likewise W'.
func (c *CausalConv3d) Forward(x *G.Node) (*G.Node, error) {
	return convForward(c.name, x, 5, c.in, c.W, c.B, c.spec, false)
}

// ConvTranspose3dConfig configures a ConvTranspose3d; Kernel, Stride,
// PadBefore and PadAfter are per dim (D, H, W). Asymmetric padding trims
// the output: a temporal (4,1,1) stride-4 upsampling with PadBefore 3 maps
// 1 + k latent frames to 1 + 4k frames, causally.
type ConvTranspose3dConfig struct {
	In, Out                             int
	Kernel, Stride, PadBefore, PadAfter [3]int
	Bias                                bool
}

// ConvTranspose3d is a transposed 3-D convolution over [D, H, W].
type ConvTranspose3d struct {
	W    *Param // [In, Out, kd, kh, kw]
	B    *Param // [Out], nil without bias
	in   int
	spec ConvSpec
	name string
}

// NewConvTranspose3d creates a ConvTranspose3d's parameters.
func NewConvTranspose3d(b *Builder, name string, cfg ConvTranspose3dConfig) *ConvTranspose3d {
	k := cfg.Kernel
	w, bb := convParams(b, name, []int{cfg.In, cfg.Out, k[0], k[1], k[2]}, cfg.Out*k[0]*k[1]*k[2], cfg.Out, cfg.Bias)
	return &ConvTranspose3d{W: w, B: bb, in: cfg.In, name: b.prefix + name,
		spec: ConvSpec{Stride: ones3(cfg.Stride), PadBefore: cfg.PadBefore[:], PadAfter: cfg.PadAfter[:]}}
}

// Forward: x [N, In, D, H, W] → [N, Out, D', H', W'] with
// D' = (D−1)·Stride[0] − PadBefore[0] − PadAfter[0] + Kernel[0], likewise H', W'.
func (c *ConvTranspose3d) Forward(x *G.Node) (*G.Node, error) {
	return convForward(c.name, x, 5, c.in, c.W, c.B, c.spec, true)
}

package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// One convolution engine for 1, 2 and 3 spatial dimensions, forward and
// transposed, as custom ops.
//
// Tensors are [N, C, spatial...] with 1 ([L]), 2 ([H, W]) or 3 ([D, H, W])
// spatial dims; internally a shape is lifted to 3 spatial dims by putting 1s
// in front, so Conv1d is the D=H=1 case and Conv2d the D=1 case.
//
// The geometry relates a "volume" (the input of a convolution, the output of
// a transposed one) to a "column" grid (the output of a convolution, the
// input of a transposed one), per dim:
//
//	col = (vol + padBefore + padAfter − dil·(k−1) − 1) / stride + 1
//
// Four kernels do all the work (W is [O, C·K] with K = kd·kh·kw):
//
//	convK       y  = W · vol2col(x) + b     conv forward; input gradient of a transposed conv
//	convDataK   x  = col2vol(Wᵀ · y) + b    input gradient of a conv; transposed conv forward
//	convWeightK dW = Σₙ yₙ · vol2col(xₙ)ᵀ   weight gradient of both
//	convBiasK   db = Σ over N and space     bias gradient of both
//
// Every product is one sgemm per batch item, or per chunk of output rows
// when the column buffer would exceed convColCap floats. The column buffer
// belongs to the op and is reused run after run. A 1×1×1 kernel with stride
// 1 and no padding skips vol2col: the input already is the column matrix.

// convColCap bounds the column buffer of one op, in float32s (4 MB); larger
// problems are cut into chunks of output rows, which keeps the buffers of a
// deep video model small without hurting the sgemm (a chunk is still
// hundreds of columns wide). A variable so tests can force the chunked path.
var convColCap = 1 << 20

// ConvSpec is the geometry of a convolution or transposed convolution over
// 1, 2 or 3 spatial dims. Each slice holds one entry per spatial dim (in
// D, H, W order of the dims present) or is nil: nil Stride and Dilation mean
// 1, nil pads and OutputPadding mean 0. Kernel sizes come from the weight.
//
// PadBefore and PadAfter are separate so padding can be asymmetric: causal
// time padding is PadBefore k−1, PadAfter 0. For a transposed convolution the
// pads and OutputPadding are PyTorch's padding and output_padding: the output
// size is (in−1)·stride − padBefore − padAfter + dil·(k−1) + 1 + outputPadding,
// and OutputPadding must be smaller than the stride or the dilation.
type ConvSpec struct {
	Stride, PadBefore, PadAfter, Dilation, OutputPadding []int
}

// ConvND convolves x [N, C, spatial...] with w [O, C, k...] (PyTorch's
// layout) and adds b [O] if b is not nil: → [N, O, spatial'...]. The number
// of spatial dims (1 to 3) is that of w.
func ConvND(x, w, b *G.Node, spec ConvSpec) (*G.Node, error) {
	g, err := newConvGeom(spec, w.Shape(), false)
	if err != nil {
		return nil, err
	}
	if x.Dims() != g.sd+2 {
		return nil, fmt.Errorf("conv: input has shape %v, want %d dims for weight %v", x.Shape(), g.sd+2, w.Shape())
	}
	if b == nil {
		return apply(&convK{g: g}, x, w)
	}
	return apply(&convK{g: g, bias: true}, x, w, b)
}

// ConvTransposeND is the transposed convolution of x [N, C, spatial...]
// with w [C, O, k...] (PyTorch's ConvTranspose layout), plus b [O] if b is
// not nil: → [N, O, spatial'...]. It is the input gradient of ConvND with
// the same weight and spec.
func ConvTransposeND(x, w, b *G.Node, spec ConvSpec) (*G.Node, error) {
	g, err := newConvGeom(spec, w.Shape(), true)
	if err != nil {
		return nil, err
	}
	if x.Dims() != g.sd+2 {
		return nil, fmt.Errorf("conv transpose: input has shape %v, want %d dims for weight %v", x.Shape(), g.sd+2, w.Shape())
	}
	if b == nil {
		return apply(&convDataK{g: g}, x, w)
	}
	return apply(&convDataK{g: g, bias: true}, x, w, b)
}

// convGeom is a ConvSpec resolved to 3 spatial dims (0 = D, 1 = H, 2 = W).
type convGeom struct {
	sd                    int // spatial dims of the tensors: 1, 2 or 3
	k, s, p0, p1, dil, op [3]int
}

var convDimNames = [3]string{"D", "H", "W"}

// newConvGeom resolves spec for a weight of shape w ([·, ·, k...]).
func newConvGeom(spec ConvSpec, w tensor.Shape, transposed bool) (convGeom, error) {
	g := convGeom{sd: len(w) - 2}
	if g.sd < 1 || g.sd > 3 {
		return g, fmt.Errorf("conv: weight has shape %v, want 3 to 5 dims ([out, in, k...])", w)
	}
	off := 3 - g.sd
	g.k, g.s, g.dil = [3]int{1, 1, 1}, [3]int{1, 1, 1}, [3]int{1, 1, 1}
	copy(g.k[off:], w[2:])
	fields := []struct {
		dst  *[3]int
		src  []int
		name string
	}{
		{&g.s, spec.Stride, "stride"}, {&g.p0, spec.PadBefore, "pad before"}, {&g.p1, spec.PadAfter, "pad after"},
		{&g.dil, spec.Dilation, "dilation"}, {&g.op, spec.OutputPadding, "output padding"},
	}
	for _, f := range fields {
		if f.src == nil {
			continue
		}
		if len(f.src) != g.sd {
			return g, fmt.Errorf("conv: %s %v has %d entries, want %d (one per spatial dim)", f.name, f.src, len(f.src), g.sd)
		}
		copy(f.dst[off:], f.src)
	}
	for i := off; i < 3; i++ {
		switch {
		case g.k[i] < 1:
			return g, fmt.Errorf("conv: weight %v has kernel size %d in dim %s", w, g.k[i], convDimNames[i])
		case g.s[i] < 1:
			return g, fmt.Errorf("conv: stride %d in dim %s, want ≥ 1", g.s[i], convDimNames[i])
		case g.dil[i] < 1:
			return g, fmt.Errorf("conv: dilation %d in dim %s, want ≥ 1", g.dil[i], convDimNames[i])
		case g.p0[i] < 0 || g.p1[i] < 0:
			return g, fmt.Errorf("conv: padding (%d, %d) in dim %s, want ≥ 0", g.p0[i], g.p1[i], convDimNames[i])
		case g.op[i] != 0 && !transposed:
			return g, fmt.Errorf("conv: output padding %v is only for transposed convolutions", spec.OutputPadding)
		case g.op[i] < 0 || (g.op[i] >= g.s[i] && g.op[i] >= g.dil[i]):
			return g, fmt.Errorf("conv: output padding %d in dim %s, want ≥ 0 and smaller than stride %d or dilation %d",
				g.op[i], convDimNames[i], g.s[i], g.dil[i])
		}
	}
	return g, nil
}

func (g *convGeom) String() string {
	o := 3 - g.sd
	s := fmt.Sprintf("k=%v s=%v p=%v/%v", g.k[o:], g.s[o:], g.p0[o:], g.p1[o:])
	if g.dil != [3]int{1, 1, 1} {
		s += fmt.Sprintf(" d=%v", g.dil[o:])
	}
	if g.op != [3]int{} {
		s += fmt.Sprintf(" op=%v", g.op[o:])
	}
	return s
}

// spatial lifts the spatial dims of an [N, C, spatial...] shape to 3 dims.
func (g *convGeom) spatial(s tensor.Shape) [3]int {
	d := [3]int{1, 1, 1}
	copy(d[3-g.sd:], s[2:])
	return d
}

// shapeOf is [n, c, sp...] with the sd spatial dims of sp.
func (g *convGeom) shapeOf(n, c int, sp [3]int) tensor.Shape {
	s := tensor.Shape{n, c}
	return append(s, sp[3-g.sd:]...)
}

func (g *convGeom) kvol() int { return g.k[0] * g.k[1] * g.k[2] }

// colSize is the output grid of a convolution of a volume vd.
func (g *convGeom) colSize(vd [3]int) ([3]int, error) {
	var cd [3]int
	for i := range 3 {
		eff := g.dil[i]*(g.k[i]-1) + 1
		padded := vd[i] + g.p0[i] + g.p1[i]
		if padded < eff {
			return cd, fmt.Errorf("kernel %d (dilated %d) is larger than the padded input %d+%d+%d in dim %s",
				g.k[i], eff, g.p0[i], vd[i], g.p1[i], convDimNames[i])
		}
		cd[i] = (padded-eff)/g.s[i] + 1
	}
	return cd, nil
}

// volSize is the output volume of a transposed convolution of a grid cd.
func (g *convGeom) volSize(cd [3]int) ([3]int, error) {
	var vd [3]int
	for i := range 3 {
		vd[i] = (cd[i]-1)*g.s[i] - g.p0[i] - g.p1[i] + g.dil[i]*(g.k[i]-1) + 1 + g.op[i]
		if vd[i] < 1 {
			return vd, fmt.Errorf("input %d gives output size %d in dim %s (padding %d+%d exceeds the dilated kernel)",
				cd[i], vd[i], convDimNames[i], g.p0[i], g.p1[i])
		}
	}
	return vd, nil
}

// pointwise reports whether vol2col is the identity.
func (g *convGeom) pointwise(vd, cd [3]int) bool {
	return g.k == [3]int{1, 1, 1} && g.s == [3]int{1, 1, 1} && g.p0 == [3]int{} && vd == cd
}

// rowsPerChunk is how many output rows (of the flattened D·H grid, each
// cd[2] wide) one column buffer of ck rows holds.
func (g *convGeom) rowsPerChunk(ck int, cd [3]int) int {
	return max(1, min(cd[0]*cd[1], convColCap/max(1, ck*cd[2])))
}

// checkWeight checks a weight [·, ·, k...] against the geometry.
func (g *convGeom) checkWeight(k kernel, w tensor.Shape) error {
	if len(w) != g.sd+2 || g.spatial(w) != g.k {
		return fmt.Errorf("%v: weight has shape %v, want %d dims with kernel %v", k, w, g.sd+2, g.k[3-g.sd:])
	}
	return nil
}

// checkIn checks that an input is [N, C, spatial...] with sd spatial dims.
func (g *convGeom) checkIn(k kernel, what string, s tensor.Shape) error {
	if len(s) != g.sd+2 {
		return fmt.Errorf("%v: %s has shape %v, want %d dims [N, C, %d spatial]", k, what, s, g.sd+2, g.sd)
	}
	return nil
}

// span is the range [lo, hi) of output positions j in [0, m) whose input
// index j·s + o lies in [0, n).
func span(o, s, n, m int) (lo, hi int) {
	if o < 0 {
		lo = (-o + s - 1) / s
	}
	if o <= n-1 {
		hi = (n-1-o)/s + 1
	}
	hi = min(hi, m)
	lo = min(lo, hi)
	return lo, hi
}

// rowRuns splits the output rows [r0, r1) of kernel tap (kd, kh) into
// runs within one output plane: fn(a, n, src) for n rows from row r0+a
// whose input rows start at src, src+step, … (step = stride·width), and
// fn(a, n, -1) for n rows that read depth or height padding. Working per
// run instead of per row keeps the index arithmetic out of the inner loops,
// where it cost as much as the copying on the tokenizer's 8- to 64-px rows.
func (g *convGeom) rowRuns(vd, cd [3]int, r0, r1, kd, kh int, fn func(a, n, src int)) {
	for r := r0; r < r1; {
		od, oh := r/cd[1], r%cd[1]
		end := min(r1, (od+1)*cd[1]) // the rows of plane od in the chunk
		id := od*g.s[0] - g.p0[0] + kd*g.dil[0]
		if id < 0 || id >= vd[0] {
			fn(r-r0, end-r, -1)
			r = end
			continue
		}
		oh0 := kh*g.dil[1] - g.p0[1]
		lo, hi := span(oh0, g.s[1], vd[1], cd[1])
		lo, hi = max(lo, oh)+od*cd[1], min(hi+od*cd[1], end)
		if lo >= hi {
			fn(r-r0, end-r, -1)
			r = end
			continue
		}
		if lo > r {
			fn(r-r0, lo-r, -1)
		}
		ih := (lo-od*cd[1])*g.s[1] + oh0
		fn(lo-r0, hi-lo, (id*vd[1]+ih)*vd[2])
		if end > hi {
			fn(hi-r0, end-hi, -1)
		}
		r = end
	}
}

// vol2col writes the column matrix of output rows [r0, r1) of one batch
// item: x is [c, vd], col is [c·K, (r1−r0)·cd[2]] with rows ordered
// (channel, kd, kh, kw) as in the weight, zeros where the kernel reads padding.
func (g *convGeom) vol2col(col, x []float32, c int, vd, cd [3]int, r0, r1 int) {
	w := cd[2]
	width := (r1 - r0) * w
	vvol := vol3(vd)
	sw, step := g.s[2], g.s[1]*vd[2]
	// Rows of one plane are contiguous in both x and col when the kernel
	// slides one pixel at a time over a row as wide as the output's: a run
	// is then one copy, and only the few cells that wrapped in from a
	// neighbouring row are zeroed after it.
	block := sw == 1 && g.s[1] == 1 && vd[2] == w
	row := 0
	for ch := range c {
		xc := x[ch*vvol : (ch+1)*vvol]
		for kd := range g.k[0] {
			for kh := range g.k[1] {
				for kw := range g.k[2] {
					dst := col[row*width : (row+1)*width]
					row++
					ow0 := kw*g.dil[2] - g.p0[2]
					lo, hi := span(ow0, sw, vd[2], w)
					g.rowRuns(vd, cd, r0, r1, kd, kh, func(a, n, src int) {
						out := dst[a*w : (a+n)*w]
						if src < 0 || lo == hi {
							clear(out)
							return
						}
						if block {
							from, d := src+ow0, 0
							if from < 0 {
								d, from = -from, 0
							}
							copy(out[d:], xc[from:min(len(xc), src+ow0+len(out))])
							for j := 0; j < len(out); j += w {
								clear(out[j : j+lo])
								clear(out[j+hi : j+w])
							}
							return
						}
						for j := 0; j < n; j, src = j+1, src+step {
							seg := out[j*w : (j+1)*w]
							clear(seg[:lo])
							clear(seg[hi:])
							gather(seg[lo:hi], xc[src+lo*sw+ow0:], sw)
						}
					})
				}
			}
		}
	}
}

// gather sets d[j] = s[j·stride].
func gather(d, s []float32, stride int) {
	switch stride {
	case 1:
		copy(d, s)
		return
	case 2: // the tokenizer's downsampling convs
		n := gather2Vec(d, s)
		d, s = d[n:], s[2*n:]
	}
	if len(d) == 0 {
		return
	}
	s = s[:(len(d)-1)*stride+1]
	for j := range d {
		d[j] = s[j*stride]
	}
}

// col2vol is the adjoint of vol2col: it adds the column matrix of output
// rows [r0, r1) into x [c, vd], dropping what falls on padding.
func (g *convGeom) col2vol(x, col []float32, c int, vd, cd [3]int, r0, r1 int) {
	w := cd[2]
	width := (r1 - r0) * w
	vvol := vol3(vd)
	sw, step := g.s[2], g.s[1]*vd[2]
	row := 0
	for ch := range c {
		xc := x[ch*vvol : (ch+1)*vvol]
		for kd := range g.k[0] {
			for kh := range g.k[1] {
				for kw := range g.k[2] {
					src := col[row*width : (row+1)*width]
					row++
					ow0 := kw*g.dil[2] - g.p0[2]
					lo, hi := span(ow0, sw, vd[2], w)
					if lo == hi {
						continue
					}
					g.rowRuns(vd, cd, r0, r1, kd, kh, func(a, n, dst int) {
						if dst < 0 {
							return
						}
						for j := a; j < a+n; j, dst = j+1, dst+step {
							scatterAdd(xc[dst+lo*sw+ow0:], src[j*w+lo:j*w+hi], sw)
						}
					})
				}
			}
		}
	}
}

// scatterAdd adds s[j] to d[j·stride].
func scatterAdd(d, s []float32, stride int) {
	switch stride {
	case 1:
		n := addVec(d, s)
		d, s = d[n:], s[n:]
	case 2: // the tokenizer's upsampling convs
		n := scatter2Vec(d, s)
		d, s = d[2*n:], s[n:]
	}
	if len(s) == 0 {
		return
	}
	d = d[:(len(s)-1)*stride+1]
	for j, v := range s {
		d[j*stride] += v
	}
}

// grow returns (*buf)[:n], reallocating only when the buffer is too small.
func grow(buf *[]float32, n int) []float32 {
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	return (*buf)[:n]
}

func vol3(d [3]int) int { return d[0] * d[1] * d[2] }

// fillChannels sets every element of channel j of each of the n items of
// x [n, len(b), sp] to b[j].
func fillChannels(x, b []float32, n, sp int) {
	c := len(b)
	for i := range n {
		for j, v := range b {
			row := x[(i*c+j)*sp : (i*c+j+1)*sp]
			for t := range row {
				row[t] = v
			}
		}
	}
}

// convK is the convolution y [N, O, cd] = W [O, C, k] ⋆ x [N, C, vd] (+ b [O]).
type convK struct {
	g    convGeom
	bias bool
	// col, when set, fixes the output grid (the input gradient of a
	// transposed convolution, whose grid is the transposed conv's input).
	col   [3]int
	fixed bool
	buf   []float32
}

func (k *convK) String() string { return fmt.Sprintf("Conv%dd{%v bias=%v}", k.g.sd, &k.g, k.bias) }

func (k *convK) dims() ([]int, int) {
	n := k.g.sd + 2
	if k.bias {
		return []int{n, n, 1}, n
	}
	return []int{n, n}, n
}

func (k *convK) shape(in []tensor.Shape) (tensor.Shape, error) {
	x, w := in[0], in[1]
	if err := k.g.checkIn(k, "input", x); err != nil {
		return nil, err
	}
	if err := k.g.checkWeight(k, w); err != nil {
		return nil, err
	}
	if x[1] != w[1] {
		return nil, fmt.Errorf("%v: input %v has %d channels, weight %v expects %d", k, x, x[1], w, w[1])
	}
	if k.bias && (len(in[2]) != 1 || in[2][0] != w[0]) {
		return nil, fmt.Errorf("%v: bias has shape %v, want [%d]", k, in[2], w[0])
	}
	cd := k.col
	if !k.fixed {
		var err error
		if cd, err = k.g.colSize(k.g.spatial(x)); err != nil {
			return nil, fmt.Errorf("%v: input %v: %w", k, x, err)
		}
	}
	return k.g.shapeOf(x[0], w[0], cd), nil
}

func (k *convK) forward(y []float32, in []*tensor.Dense) error {
	xs, ws := in[0].Shape(), in[1].Shape()
	n, c, o := xs[0], xs[1], ws[0]
	vd := k.g.spatial(xs)
	cd := k.col
	if !k.fixed {
		cd, _ = k.g.colSize(vd)
	}
	vsz, csz := vol3(vd), vol3(cd)
	x, w := in[0].Float32s(), in[1].Float32s()
	var beta float32
	if k.bias {
		fillChannels(y, in[2].Float32s(), n, csz)
		beta = 1
	}
	ck := c * k.g.kvol()
	rows, rpc := cd[0]*cd[1], k.g.rowsPerChunk(ck, cd)
	for i := range n {
		xi, yi := x[i*c*vsz:(i+1)*c*vsz], y[i*o*csz:(i+1)*o*csz]
		if k.g.pointwise(vd, cd) {
			sgemm(false, false, o, csz, c, 1, w, c, xi, csz, beta, yi, csz)
			continue
		}
		for r0 := 0; r0 < rows; r0 += rpc {
			r1 := min(r0+rpc, rows)
			width := (r1 - r0) * cd[2]
			col := grow(&k.buf, ck*width)
			k.g.vol2col(col, xi, c, vd, cd, r0, r1)
			sgemm(false, false, o, width, ck, 1, w, ck, col, width, beta, yi[r0*cd[2]:], csz)
		}
	}
	return nil
}

func (k *convK) diffWRT() []bool {
	if k.bias {
		return []bool{true, true, true}
	}
	return []bool{true, true}
}

func (k *convK) backward(in G.Nodes, _, dy *G.Node) (G.Nodes, error) {
	dx, err := apply(&convDataK{g: k.g, vol: k.g.spatial(in[0].Shape()), fixed: true}, dy, in[1])
	if err != nil {
		return nil, err
	}
	dw, err := apply(&convWeightK{g: k.g}, dy, in[0])
	if err != nil {
		return nil, err
	}
	return k.g.withBiasGrad(G.Nodes{dx, dw}, k.bias, dy)
}

// withBiasGrad appends the bias gradient — dOut summed over all but the
// channel dim — to the data and weight gradients when the op has a bias.
func (g *convGeom) withBiasGrad(grads G.Nodes, bias bool, dOut *G.Node) (G.Nodes, error) {
	if !bias {
		return grads, nil
	}
	db, err := apply(convBiasK{nd: g.sd + 2}, dOut)
	if err != nil {
		return nil, err
	}
	return append(grads, db), nil
}

// convDataK is x [N, C, vd] = col2vol(Wᵀ · y) (+ b [C]) for y [N, O, cd] and
// W [O, C, k]: the input gradient of a convolution (vd fixed to the
// convolution's input) and the forward of a transposed convolution (vd from
// volSize, b its bias).
type convDataK struct {
	g     convGeom
	bias  bool
	vol   [3]int
	fixed bool
	buf   []float32
}

func (k *convDataK) String() string {
	if k.fixed {
		return fmt.Sprintf("ConvData%dd{%v}", k.g.sd, &k.g)
	}
	return fmt.Sprintf("ConvTranspose%dd{%v bias=%v}", k.g.sd, &k.g, k.bias)
}

func (k *convDataK) dims() ([]int, int) {
	n := k.g.sd + 2
	if k.bias {
		return []int{n, n, 1}, n
	}
	return []int{n, n}, n
}

func (k *convDataK) volOf(cd [3]int) ([3]int, error) {
	if k.fixed {
		return k.vol, nil
	}
	return k.g.volSize(cd)
}

func (k *convDataK) shape(in []tensor.Shape) (tensor.Shape, error) {
	y, w := in[0], in[1]
	if err := k.g.checkIn(k, "input", y); err != nil {
		return nil, err
	}
	if err := k.g.checkWeight(k, w); err != nil {
		return nil, err
	}
	if y[1] != w[0] {
		return nil, fmt.Errorf("%v: input %v has %d channels, weight %v expects %d", k, y, y[1], w, w[0])
	}
	if k.bias && (len(in[2]) != 1 || in[2][0] != w[1]) {
		return nil, fmt.Errorf("%v: bias has shape %v, want [%d]", k, in[2], w[1])
	}
	vd, err := k.volOf(k.g.spatial(y))
	if err != nil {
		return nil, fmt.Errorf("%v: input %v: %w", k, y, err)
	}
	return k.g.shapeOf(y[0], w[1], vd), nil
}

func (k *convDataK) forward(x []float32, in []*tensor.Dense) error {
	ys, ws := in[0].Shape(), in[1].Shape()
	n, o, c := ys[0], ys[1], ws[1]
	cd := k.g.spatial(ys)
	vd, _ := k.volOf(cd)
	vsz, csz := vol3(vd), vol3(cd)
	y, w := in[0].Float32s(), in[1].Float32s()
	var beta float32
	if k.bias {
		fillChannels(x, in[2].Float32s(), n, vsz)
		beta = 1
	} else {
		clear(x)
	}
	ck := c * k.g.kvol()
	rows, rpc := cd[0]*cd[1], k.g.rowsPerChunk(ck, cd)
	for i := range n {
		yi, xi := y[i*o*csz:(i+1)*o*csz], x[i*c*vsz:(i+1)*c*vsz]
		if k.g.pointwise(vd, cd) {
			sgemm(true, false, c, csz, o, 1, w, c, yi, csz, beta, xi, csz)
			continue
		}
		for r0 := 0; r0 < rows; r0 += rpc {
			r1 := min(r0+rpc, rows)
			width := (r1 - r0) * cd[2]
			col := grow(&k.buf, ck*width)
			sgemm(true, false, ck, width, o, 1, w, ck, yi[r0*cd[2]:], csz, 0, col, width)
			k.g.col2vol(xi, col, c, vd, cd, r0, r1)
		}
	}
	return nil
}

func (k *convDataK) diffWRT() []bool {
	if k.bias {
		return []bool{true, true, true}
	}
	return []bool{true, true}
}

// backward of the transposed convolution: its input gradient is the
// convolution of dy, its weight gradient convWeightK with the roles of
// input and output swapped.
func (k *convDataK) backward(in G.Nodes, _, dx *G.Node) (G.Nodes, error) {
	dy, err := apply(&convK{g: k.g, col: k.g.spatial(in[0].Shape()), fixed: true}, dx, in[1])
	if err != nil {
		return nil, err
	}
	dw, err := apply(&convWeightK{g: k.g}, in[0], dx)
	if err != nil {
		return nil, err
	}
	return k.g.withBiasGrad(G.Nodes{dy, dw}, k.bias, dx)
}

// convWeightK is dW [O, C, k] = Σₙ yₙ [O, cd] · vol2col(xₙ)ᵀ for y [N, O, cd]
// and x [N, C, vd].
type convWeightK struct {
	g   convGeom
	buf []float32
}

func (k *convWeightK) String() string { return fmt.Sprintf("ConvWeight%dd{%v}", k.g.sd, &k.g) }

func (k *convWeightK) dims() ([]int, int) {
	n := k.g.sd + 2
	return []int{n, n}, n
}

func (k *convWeightK) shape(in []tensor.Shape) (tensor.Shape, error) {
	y, x := in[0], in[1]
	if err := k.g.checkIn(k, "output gradient", y); err != nil {
		return nil, err
	}
	if err := k.g.checkIn(k, "input", x); err != nil {
		return nil, err
	}
	if y[0] != x[0] {
		return nil, fmt.Errorf("%v: batch sizes of %v and %v differ", k, y, x)
	}
	return k.g.shapeOf(y[1], x[1], k.g.k), nil
}

func (k *convWeightK) forward(dw []float32, in []*tensor.Dense) error {
	ys, xs := in[0].Shape(), in[1].Shape()
	n, o, c := ys[0], ys[1], xs[1]
	cd, vd := k.g.spatial(ys), k.g.spatial(xs)
	vsz, csz := vol3(vd), vol3(cd)
	y, x := in[0].Float32s(), in[1].Float32s()
	clear(dw)
	ck := c * k.g.kvol()
	rows, rpc := cd[0]*cd[1], k.g.rowsPerChunk(ck, cd)
	for i := range n {
		yi, xi := y[i*o*csz:(i+1)*o*csz], x[i*c*vsz:(i+1)*c*vsz]
		if k.g.pointwise(vd, cd) {
			sgemm(false, true, o, c, csz, 1, yi, csz, xi, csz, 1, dw, c)
			continue
		}
		for r0 := 0; r0 < rows; r0 += rpc {
			r1 := min(r0+rpc, rows)
			width := (r1 - r0) * cd[2]
			col := grow(&k.buf, ck*width)
			k.g.vol2col(col, xi, c, vd, cd, r0, r1)
			sgemm(false, true, o, ck, width, 1, yi[r0*cd[2]:], csz, col, width, 1, dw, ck)
		}
	}
	return nil
}

// convBiasK sums [N, O, spatial...] over everything but O: → [O].
type convBiasK struct{ nd int }

func (k convBiasK) String() string     { return fmt.Sprintf("ConvBias%dd", k.nd-2) }
func (k convBiasK) dims() ([]int, int) { return []int{k.nd}, 1 }
func (k convBiasK) shape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in[0]) != k.nd {
		return nil, fmt.Errorf("%v: input has shape %v, want %d dims", k, in[0], k.nd)
	}
	return tensor.Shape{in[0][1]}, nil
}
func (k convBiasK) forward(out []float32, in []*tensor.Dense) error {
	s := in[0].Shape()
	n, o := s[0], s[1]
	sp := s[2:].TotalSize()
	d := in[0].Float32s()
	clear(out)
	for i := range n {
		for j := range o {
			var acc float64
			for _, v := range d[(i*o+j)*sp : (i*o+j+1)*sp] {
				acc += float64(v)
			}
			out[j] += float32(acc)
		}
	}
	return nil
}

package metrics

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/omniar/omniar/nn/ckpt"
)

// I3D is the Inflated Inception-V1 network of FVD (Carreira & Zisserman
// 2017) for inference, on plain float32 volumes (no graph): the same
// computation as tools/i3d.py, the PyTorch port whose public checkpoints
// tools/i3d_convert.py turns into safetensors with these tensor names.
// Convolutions use TF-style 'SAME' zero padding; BatchNorm (eps 1e-3) is
// folded into the convolutions at load time. Channel counts come from the
// weights, so narrow test copies of the network load too.
type I3D struct {
	stem     [3]*unit3D // Conv3d_1a_7x7, Conv3d_2b_1x1, Conv3d_2c_3x3
	mixed    [9]*inception
	logits   *unit3D
	Classes  int
	Features int // channels of the pooled features (1024 at full width)
}

// i3dMixed are the inception blocks in order.
var i3dMixed = [9]string{"Mixed_3b", "Mixed_3c", "Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f", "Mixed_5b", "Mixed_5c"}

// I3DSize is the input side of I3D.
const I3DSize = 224

// vol is a feature volume [C, T, H, W].
type vol struct {
	c, t, h, w int
	d          []float32
}

func newVol(c, t, h, w int) vol { return vol{c, t, h, w, make([]float32, c*t*h*w)} }

// unit3D is a convolution with folded BatchNorm and optional ReLU.
type unit3D struct {
	name    string
	w       []float32 // [out, in·kt·kh·kw]
	b       []float32 // [out]
	in, out int
	k, s    [3]int
	relu    bool
}

type inception struct{ b0, b1a, b1b, b2a, b2b, b3b *unit3D }

// LoadI3D reads I3D weights (tools/i3d_convert.py or tools/i3d.py names).
func LoadI3D(path string) (*I3D, error) {
	f, err := ckpt.Load(path)
	if err != nil {
		return nil, fmt.Errorf("load i3d: %w", err)
	}
	m := &I3D{}
	specs := []struct {
		dst    **unit3D
		name   string
		stride [3]int
	}{
		{&m.stem[0], "Conv3d_1a_7x7", [3]int{2, 2, 2}},
		{&m.stem[1], "Conv3d_2b_1x1", [3]int{1, 1, 1}},
		{&m.stem[2], "Conv3d_2c_3x3", [3]int{1, 1, 1}},
	}
	for _, s := range specs {
		if *s.dst, err = loadUnit(f, s.name, s.stride, true, true); err != nil {
			return nil, fmt.Errorf("load i3d %s: %w", path, err)
		}
	}
	for i, name := range i3dMixed {
		if m.mixed[i], err = loadInception(f, name); err != nil {
			return nil, fmt.Errorf("load i3d %s: %w", path, err)
		}
	}
	if m.logits, err = loadUnit(f, "logits", [3]int{1, 1, 1}, false, false); err != nil {
		return nil, fmt.Errorf("load i3d %s: %w", path, err)
	}
	m.Classes, m.Features = m.logits.out, m.logits.in
	return m, m.check()
}

// check verifies that the channel counts chain up.
func (m *I3D) check() error {
	ch := m.stem[0].out
	if m.stem[1].in != ch || m.stem[2].in != m.stem[1].out {
		return errors.New("i3d: stem channels do not chain")
	}
	ch = m.stem[2].out
	for i, b := range m.mixed {
		for _, u := range []*unit3D{b.b0, b.b1a, b.b2a, b.b3b} {
			if u.in != ch {
				return fmt.Errorf("i3d: %s takes %d channels, gets %d", u.name, u.in, ch)
			}
		}
		if b.b1b.in != b.b1a.out || b.b2b.in != b.b2a.out {
			return fmt.Errorf("i3d: %s branches do not chain", i3dMixed[i])
		}
		ch = b.b0.out + b.b1b.out + b.b2b.out + b.b3b.out
	}
	if m.logits.in != ch {
		return fmt.Errorf("i3d: logits take %d channels, get %d", m.logits.in, ch)
	}
	return nil
}

func loadInception(f *ckpt.File, name string) (*inception, error) {
	b := &inception{}
	one := [3]int{1, 1, 1}
	for _, u := range []struct {
		dst **unit3D
		sub string
	}{{&b.b0, "b0"}, {&b.b1a, "b1a"}, {&b.b1b, "b1b"}, {&b.b2a, "b2a"}, {&b.b2b, "b2b"}, {&b.b3b, "b3b"}} {
		var err error
		if *u.dst, err = loadUnit(f, name+"."+u.sub, one, true, true); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// loadUnit reads "<name>.conv3d.weight" [O, C, kt, kh, kw], the bias or
// BatchNorm "<name>.bn.{weight,bias,running_mean,running_var}", and folds
// the BatchNorm into the weights.
func loadUnit(f *ckpt.File, name string, stride [3]int, bn, relu bool) (*unit3D, error) {
	shape, ok := f.Shape(name + ".conv3d.weight")
	if !ok || len(shape) != 5 || slices.Min(shape) <= 0 {
		return nil, fmt.Errorf("no 5-d tensor %s.conv3d.weight of positive sizes", name)
	}
	w, err := f.Get(name + ".conv3d.weight")
	if err != nil {
		return nil, err
	}
	u := &unit3D{name: name, w: w, out: shape[0], in: shape[1], k: [3]int{shape[2], shape[3], shape[4]}, s: stride, relu: relu, b: make([]float32, shape[0])}
	if !bn {
		if u.b, err = f.Get(name+".conv3d.bias", u.out); err != nil {
			return nil, err
		}
		return u, nil
	}
	p := map[string][]float32{}
	for _, k := range []string{"weight", "bias", "running_mean", "running_var"} {
		if p[k], err = f.Get(name+".bn."+k, u.out); err != nil {
			return nil, err
		}
	}
	per := len(w) / u.out
	for o := 0; o < u.out; o++ {
		sc := float64(p["weight"][o]) / math.Sqrt(float64(p["running_var"][o])+1e-3)
		for j := o * per; j < (o+1)*per; j++ {
			w[j] = float32(float64(w[j]) * sc)
		}
		u.b[o] = float32(float64(p["bias"][o]) - float64(p["running_mean"][o])*sc)
	}
	return u, nil
}

// samePad is TF's total 'SAME' padding of kernel k, stride s on size n.
func samePad(k, s, n int) int {
	if n%s == 0 {
		return max(k-s, 0)
	}
	return max(k-n%s, 0)
}

// geometry of one dim: output size and padding before.
func sameDim(k, s, n int) (out, before int) {
	p := samePad(k, s, n)
	return (n+p-k)/s + 1, p / 2
}

// forward applies the unit: conv (im2col + sgemm, one output frame at a
// time), bias, ReLU.
func (u *unit3D) forward(x vol) vol {
	ot, pt := sameDim(u.k[0], u.s[0], x.t)
	oh, ph := sameDim(u.k[1], u.s[1], x.h)
	ow, pw := sameDim(u.k[2], u.s[2], x.w)
	y := newVol(u.out, ot, oh, ow)
	kk := u.in * u.k[0] * u.k[1] * u.k[2]
	plane := oh * ow
	direct := u.k == [3]int{1, 1, 1} && u.s == [3]int{1, 1, 1}
	var col []float32
	if !direct {
		col = make([]float32, kk*plane)
	}
	wm := blas32.General{Rows: u.out, Cols: kk, Stride: kk, Data: u.w}
	if direct { // the input is the column matrix [C, T·H·W]
		ym := blas32.General{Rows: u.out, Cols: ot * plane, Stride: ot * plane, Data: y.d}
		blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, wm, blas32.General{Rows: kk, Cols: ot * plane, Stride: ot * plane, Data: x.d}, 0, ym)
	} else {
		tmp := make([]float32, u.out*plane)
		for t := 0; t < ot; t++ {
			u.im2col(col, x, t, oh, ow, pt, ph, pw)
			blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, wm, blas32.General{Rows: kk, Cols: plane, Stride: plane, Data: col}, 0,
				blas32.General{Rows: u.out, Cols: plane, Stride: plane, Data: tmp})
			for o := 0; o < u.out; o++ {
				copy(y.d[(o*ot+t)*plane:(o*ot+t+1)*plane], tmp[o*plane:(o+1)*plane])
			}
		}
	}
	u.finish(y)
	return y
}

// im2col fills col [C·kt·kh·kw, oh·ow] for output frame t (zero padding).
func (u *unit3D) im2col(col []float32, x vol, t, oh, ow, pt, ph, pw int) {
	plane := oh * ow
	r := 0
	for c := 0; c < x.c; c++ {
		for a := 0; a < u.k[0]; a++ {
			it := t*u.s[0] - pt + a
			for b := 0; b < u.k[1]; b++ {
				for d := 0; d < u.k[2]; d++ {
					row := col[r*plane : (r+1)*plane]
					r++
					if it < 0 || it >= x.t {
						clear(row)
						continue
					}
					src := x.d[(c*x.t+it)*x.h*x.w:]
					for oy := 0; oy < oh; oy++ {
						iy := oy*u.s[1] - ph + b
						dst := row[oy*ow : (oy+1)*ow]
						if iy < 0 || iy >= x.h {
							clear(dst)
							continue
						}
						line := src[iy*x.w:]
						for ox := range dst {
							ix := ox*u.s[2] - pw + d
							if ix < 0 || ix >= x.w {
								dst[ox] = 0
							} else {
								dst[ox] = line[ix]
							}
						}
					}
				}
			}
		}
	}
}

// finish adds the bias and applies ReLU.
func (u *unit3D) finish(y vol) {
	n := y.t * y.h * y.w
	for o := 0; o < y.c; o++ {
		seg := y.d[o*n : (o+1)*n]
		b := u.b[o]
		for i, v := range seg {
			v += b
			if u.relu && v < 0 {
				v = 0
			}
			seg[i] = v
		}
	}
}

// maxPoolSame is MaxPool3dSamePadding: zero 'SAME' padding, then max.
func maxPoolSame(x vol, k, s [3]int) vol {
	ot, pt := sameDim(k[0], s[0], x.t)
	oh, ph := sameDim(k[1], s[1], x.h)
	ow, pw := sameDim(k[2], s[2], x.w)
	y := newVol(x.c, ot, oh, ow)
	i := 0
	for c := 0; c < x.c; c++ {
		for t := 0; t < ot; t++ {
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					y.d[i] = poolMax(x, c, t*s[0]-pt, oy*s[1]-ph, ox*s[2]-pw, k)
					i++
				}
			}
		}
	}
	return y
}

// poolMax is the max of a window at (t0, y0, x0); padding counts as 0.
func poolMax(x vol, c, t0, y0, x0 int, k [3]int) float32 {
	m := float32(math.Inf(-1))
	for t := t0; t < t0+k[0]; t++ {
		for yy := y0; yy < y0+k[1]; yy++ {
			for xx := x0; xx < x0+k[2]; xx++ {
				v := float32(0)
				if t >= 0 && t < x.t && yy >= 0 && yy < x.h && xx >= 0 && xx < x.w {
					v = x.d[((c*x.t+t)*x.h+yy)*x.w+xx]
				}
				m = max(m, v)
			}
		}
	}
	return m
}

func (b *inception) forward(x vol) vol {
	y0 := b.b0.forward(x)
	y1 := b.b1b.forward(b.b1a.forward(x))
	y2 := b.b2b.forward(b.b2a.forward(x))
	y3 := b.b3b.forward(maxPoolSame(x, [3]int{3, 3, 3}, [3]int{1, 1, 1}))
	out := vol{c: y0.c + y1.c + y2.c + y3.c, t: y0.t, h: y0.h, w: y0.w}
	out.d = make([]float32, 0, out.c*out.t*out.h*out.w)
	for _, y := range []vol{y0, y1, y2, y3} {
		out.d = append(out.d, y.d...)
	}
	return out
}

// I3DOutput is what I3D computes for one clip.
type I3DOutput struct {
	Logits [][]float32 // [T'][Classes], per output time step
	Pooled [][]float32 // [T'][Features], the average-pooled features before the logits
}

// Mean averages over the output time steps (the 400-d and 1024-d FVD features).
func (o I3DOutput) Mean() (logits, pooled []float32) { return meanRows(o.Logits), meanRows(o.Pooled) }

func meanRows(r [][]float32) []float32 {
	out := make([]float32, len(r[0]))
	for _, row := range r {
		for i, v := range row {
			out[i] += v / float32(len(r))
		}
	}
	return out
}

// Forward runs the network on one clip x [3, T, 224, 224] in [-1, 1]
// (I3DInput makes it); T ≥ 9 gives at least one output step.
func (m *I3D) Forward(x []float32, frames int) (I3DOutput, error) {
	if frames < 9 || len(x) != 3*frames*I3DSize*I3DSize {
		return I3DOutput{}, fmt.Errorf("i3d: input has %d values for %d frames, want 3×T×%d×%d with T ≥ 9", len(x), frames, I3DSize, I3DSize)
	}
	v := vol{3, frames, I3DSize, I3DSize, x}
	v = m.stem[0].forward(v)
	v = maxPoolSame(v, [3]int{1, 3, 3}, [3]int{1, 2, 2})
	v = m.stem[2].forward(m.stem[1].forward(v))
	v = maxPoolSame(v, [3]int{1, 3, 3}, [3]int{1, 2, 2})
	for i, b := range m.mixed {
		switch i {
		case 2:
			v = maxPoolSame(v, [3]int{3, 3, 3}, [3]int{2, 2, 2})
		case 7:
			v = maxPoolSame(v, [3]int{2, 2, 2}, [3]int{2, 2, 2})
		}
		v = b.forward(v)
	}
	if v.h != 7 || v.w != 7 || v.t < 2 {
		return I3DOutput{}, fmt.Errorf("i3d: final volume %d×%d×%d, want ≥2×7×7", v.t, v.h, v.w)
	}
	pooled := avgPool277(v) // [C, T−1, 1, 1]
	lg := m.logits.forward(pooled)
	return I3DOutput{Logits: timeRows(lg), Pooled: timeRows(pooled)}, nil
}

// avgPool277 is AvgPool3d(kernel (2, 7, 7), stride 1) on a 7×7 volume.
func avgPool277(x vol) vol {
	y := newVol(x.c, x.t-1, 1, 1)
	for c := 0; c < x.c; c++ {
		for t := 0; t < x.t-1; t++ {
			var s float32
			for a := 0; a < 2; a++ {
				for _, v := range x.d[(c*x.t+t+a)*49 : (c*x.t+t+a+1)*49] {
					s += v
				}
			}
			y.d[c*(x.t-1)+t] = s / 98
		}
	}
	return y
}

// timeRows turns [C, T, 1, 1] into [T][C].
func timeRows(x vol) [][]float32 {
	out := make([][]float32, x.t)
	for t := range out {
		out[t] = make([]float32, x.c)
		for c := range out[t] {
			out[t][c] = x.d[c*x.t+t]
		}
	}
	return out
}

// I3DInput is the standard FVD preprocessing of a grey clip (frames of
// w×h pixels): every frame resized to size×size (bilinear, as PyTorch's
// interpolate with align_corners=False), scaled to [-1, 1] and repeated
// over the 3 colour channels: → [3, T, size, size].
func I3DInput(frames [][]uint8, w, h, size int) ([]float32, error) {
	if len(frames) == 0 || w <= 0 || h <= 0 || size <= 0 {
		return nil, fmt.Errorf("i3d input: %d frames of %d×%d to %d×%d", len(frames), w, h, size, size)
	}
	plane := size * size
	out := make([]float32, 3*len(frames)*plane)
	for t, f := range frames {
		if len(f) != w*h {
			return nil, fmt.Errorf("i3d input: frame %d has %d pixels, want %d×%d", t, len(f), w, h)
		}
		dst := out[t*plane : (t+1)*plane]
		resizeBilinear(dst, f, w, h, size, size)
		for i, v := range dst {
			dst[i] = v/255*2 - 1
		}
	}
	n := len(frames) * plane
	copy(out[n:2*n], out[:n])
	copy(out[2*n:], out[:n])
	return out, nil
}

// resizeBilinear scales src [h, w] to dst [oh, ow] with half-pixel centres
// (align_corners=False, no antialiasing), clamping at the borders.
func resizeBilinear(dst []float32, src []uint8, w, h, ow, oh int) {
	sy, sx := float64(h)/float64(oh), float64(w)/float64(ow)
	for y := 0; y < oh; y++ {
		fy := math.Max((float64(y)+0.5)*sy-0.5, 0)
		y0 := min(int(fy), h-1)
		y1 := min(y0+1, h-1)
		ay := fy - float64(y0)
		for x := 0; x < ow; x++ {
			fx := math.Max((float64(x)+0.5)*sx-0.5, 0)
			x0 := min(int(fx), w-1)
			x1 := min(x0+1, w-1)
			ax := fx - float64(x0)
			top := (1-ax)*float64(src[y0*w+x0]) + ax*float64(src[y0*w+x1])
			bot := (1-ax)*float64(src[y1*w+x0]) + ax*float64(src[y1*w+x1])
			dst[y*ow+x] = float32((1-ay)*top + ay*bot)
		}
	}
}

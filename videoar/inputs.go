package videoar

import (
	"fmt"
	"math/rand/v2"

	"github.com/omniar/omniar/msvq"
	"github.com/omniar/omniar/tokenizers"
)

// Inputs are one sample's graph inputs, built on the CPU from its codes.
type Inputs struct {
	Text    []int     // ids of the token positions: <bos>, the prompt, <pad>…, <video>, </video>
	NText   int       // real prompt tokens after <bos> (0 = unconditional)
	Vis     []float32 // [Visual, Dim] running sum of the frame's earlier scales at each cell (raster: the previous code's codebook vector)
	Ctx     []float32 // [Visual, Past·Local²·Dim] the earlier frames' latents around each cell, the nearest first (raster: empty)
	Targets []int     // [Visual] the codes to predict: the clean ones, or SelfCorrect's repairs
}

// PromptIDs lays out a tokenized prompt: <bos>, up to Prompt−1 ids, <pad>s.
func PromptIDs(prompt []int, n int) (ids []int, real int) {
	ids = make([]int, n)
	for i := range ids {
		ids[i] = tokenizers.Pad
	}
	ids[0] = tokenizers.BOS
	real = min(len(prompt), n-1)
	copy(ids[1:], prompt[:real])
	return ids, real
}

// Builder turns codes into inputs with the tokenizer's quantizer.
type Builder struct {
	Cfg Config
	L   Layout
	Dec *msvq.Decoder
}

// NewBuilder checks that the decoder is the configuration's quantizer.
func NewBuilder(cfg Config, frames int, dec *msvq.Decoder) (*Builder, error) {
	if dec.Cfg.Codes != cfg.Quant.Codes || dec.Cfg.Dim != cfg.Quant.Dim || fmt.Sprint(dec.Cfg.Scales) != fmt.Sprint(cfg.Quant.Scales) {
		return nil, fmt.Errorf("videoar: tokenizer quantizer %+v does not match the generator's %+v", dec.Cfg, cfg.Quant)
	}
	if frames < 1 || frames > cfg.Frames {
		return nil, fmt.Errorf("videoar: %d latent frames, the generator has %d", frames, cfg.Frames)
	}
	l, err := NewLayout(cfg.Prompt, frames, cfg.Quant.Scales)
	if err != nil {
		return nil, err
	}
	l.Raster = cfg.Raster
	return &Builder{Cfg: cfg, L: l, Dec: dec}, nil
}

// Flip replaces each code of frame f by a random one with probability
// maxRate·f/(frames−1): cross-frame error correction corrupts the inputs
// of later frames more, the targets stay clean.
func Flip(codes [][]int, ncodes int, maxRate float64, rng *rand.Rand) [][]int {
	out := make([][]int, len(codes))
	for f, c := range codes {
		out[f] = append([]int(nil), c...)
		if len(codes) < 2 || maxRate <= 0 {
			continue
		}
		rate := maxRate * float64(f) / float64(len(codes)-1)
		for i := range out[f] {
			if rng.Float64() < rate {
				out[f][i] = rng.IntN(ncodes)
			}
		}
	}
	return out
}

// SelfCorrect corrupts each frame's codes the way the sampler's own
// mistakes would, and teaches the later scales to undo them (Infinity's
// bitwise self-correction, applied to codes): every code of a scale
// before the last is replaced by a random one with probability rate, and
// from a frame's first replaced code on, the codes of its later scales,
// inputs and targets alike, are re-quantized from what the inputs before
// them leave of the frame's clean latent. Cross-frame error correction
// (Flip) keeps the targets clean instead, so a scale after a mistake
// learns the code that fitted the clean scales, not the one that repairs
// the mistake. codes, in and targets are [frames][PerFrame]; with rate 0
// in and targets are copies of codes.
func (b *Builder) SelfCorrect(codes [][]int, rate float64, rng *rand.Rand) (in, targets [][]int, err error) {
	last := len(b.L.Scales) - 1
	in, targets = make([][]int, len(codes)), make([][]int, len(codes))
	for f, c := range codes {
		if len(c) != b.L.PerFrame {
			return nil, nil, fmt.Errorf("videoar: frame %d has %d codes, want %d", f, len(c), b.L.PerFrame)
		}
		m := b.maps(c)
		rest, err := b.Dec.Latent(m, len(m)) // the clean latent, what is left to draw
		if err != nil {
			return nil, nil, fmt.Errorf("videoar: frame %d: %w", f, err)
		}
		corrupt := false
		for s := range b.L.Scales {
			t := append([]int(nil), m[s]...)
			if corrupt {
				t = b.Dec.Quantize(rest, s)
			}
			x := append([]int(nil), t...)
			for i := range x {
				if s < last && rate > 0 && rng.Float64() < rate {
					x[i] = rng.IntN(b.Cfg.Quant.Codes)
					corrupt = corrupt || x[i] != t[i]
				}
			}
			z, err := b.Dec.Contribution(s, x)
			if err != nil {
				return nil, nil, fmt.Errorf("videoar: frame %d: %w", f, err)
			}
			for i, v := range z {
				rest[i] -= v
			}
			in[f], targets[f] = append(in[f], x...), append(targets[f], t...)
		}
	}
	return in, targets, nil
}

// Build makes the inputs of a sample whose conditioning codes are in
// (perhaps corrupted) and whose codes to predict are targets (the clean
// codes, or SelfCorrect's repairs); both [frames][PerFrame].
func (b *Builder) Build(prompt []int, in, targets [][]int) (Inputs, error) {
	l, d, w := b.L, b.Cfg.Quant.Dim, b.ctxWidth()
	if len(in) != l.Frames || len(targets) != l.Frames {
		return Inputs{}, fmt.Errorf("videoar: %d/%d frames of codes, want %d", len(in), len(targets), l.Frames)
	}
	x := Inputs{Vis: make([]float32, l.Visual()*d), Ctx: make([]float32, l.Visual()*w), Targets: make([]int, 0, l.Visual())}
	for f := range l.Frames {
		if len(in[f]) != l.PerFrame || len(targets[f]) != l.PerFrame {
			return Inputs{}, fmt.Errorf("videoar: frame %d has %d codes, want %d", f, len(in[f]), l.PerFrame)
		}
		x.Targets = append(x.Targets, targets[f]...)
	}
	ids, n := PromptIDs(prompt, b.Cfg.Prompt)
	x.Text, x.NText = b.L.TextIDs(ids), n
	fd := b.newFeeder()
	for _, st := range l.steps(l.Frames) {
		v := l.v(st)
		vis, ctx := fd.inputs(st)
		copy(x.Vis[v*d:], vis)
		copy(x.Ctx[v*w:], ctx)
		o := v - st.f*l.PerFrame
		if err := fd.add(st, in[st.f][o:o+st.n]); err != nil {
			return Inputs{}, fmt.Errorf("videoar: frame %d: %w", st.f, err)
		}
	}
	return x, nil
}

// feeder makes each step's visual inputs from the codes of the steps
// before it, for training (Build) and sampling (decode) alike.
type feeder struct {
	b *Builder
	// VideoAR: the running sum of the current frame's scales [Dim, side,
	// side] and the latents of up to Past earlier frames, the nearest first.
	fhat []float32
	prev [][]float32
	last int // raster: the previous code (−1 before the first)
}

func (b *Builder) newFeeder() *feeder { return &feeder{b: b, last: -1} }

// inputs of step st: vis [n, Dim] and ctx [n, Past·Local²·Dim] (nil in raster
// order; the first position's vis is zero).
func (fd *feeder) inputs(st step) (vis, ctx []float32) {
	q := fd.b.Cfg.Quant
	if fd.b.Cfg.Raster {
		vis = make([]float32, q.Dim)
		if fd.last >= 0 {
			copy(vis, fd.b.Dec.Codebook[fd.last*q.Dim:(fd.last+1)*q.Dim])
		}
		return vis, nil
	}
	if st.s == 0 {
		fd.fhat = make([]float32, q.Dim*q.Side()*q.Side())
	}
	return fd.b.groupInputs(fd.fhat, fd.prev, st.s)
}

// add takes in the codes of step st, sampled or given.
func (fd *feeder) add(st step, codes []int) error {
	q := fd.b.Cfg.Quant
	if fd.b.Cfg.Raster {
		for _, c := range codes {
			if c < 0 || c >= q.Codes {
				return fmt.Errorf("scale %d: code %d outside [0, %d)", st.s, c, q.Codes)
			}
			fd.last = c
		}
		return nil
	}
	z, err := fd.b.Dec.Contribution(st.s, codes)
	if err != nil {
		return err
	}
	for i, v := range z {
		fd.fhat[i] += v
	}
	if st.s == len(q.Scales)-1 {
		fd.prev = append([][]float32{fd.fhat}, fd.prev[:min(len(fd.prev), fd.b.Cfg.PastFrames()-1)]...)
	}
	return nil
}

// groupInputs are the inputs of scale s of a frame whose earlier scales
// sum to fhat, after frames whose latents are prev (the nearest first;
// none for the first frame): vis [k·k, Dim] and ctx [k·k, Past·Local²·Dim],
// zeros where there is no such earlier frame.
func (b *Builder) groupInputs(fhat []float32, prev [][]float32, s int) (vis, ctx []float32) {
	k, d := b.L.Scales[s], b.Cfg.Quant.Dim
	vis, ctx = make([]float32, k*k*d), make([]float32, k*k*b.ctxWidth())
	if s > 0 {
		b.scatter(vis, b.Dec.NextInput(fhat, s), s)
	}
	for j, p := range prev {
		b.neighbourhoods(ctx, j*b.Cfg.Local*b.Cfg.Local*d, b.Dec.NextInput(p, s), s)
	}
	return vis, ctx
}

// maps splits a frame's codes into per-scale maps.
func (b *Builder) maps(codes []int) msvq.Maps {
	m := make(msvq.Maps, len(b.L.Scales))
	for s, k := range b.L.Scales {
		o := b.L.Start(0, s)
		m[s] = codes[o : o+k*k]
	}
	return m
}

// ctxWidth is the width of a position's ctx input (0 in raster order).
func (b *Builder) ctxWidth() int {
	if b.Cfg.Raster {
		return 0
	}
	return b.Cfg.PastFrames() * b.Cfg.Local * b.Cfg.Local * b.Cfg.Quant.Dim
}

// scatter writes planes [Dim, k, k] as rows [k·k, Dim].
func (b *Builder) scatter(dst, planes []float32, s int) {
	k, d := b.L.Scales[s], b.Cfg.Quant.Dim
	for p := range k * k {
		for c := range d {
			dst[p*d+c] = planes[c*k*k+p]
		}
	}
}

// neighbourhoods writes, for every cell of scale s, the Local×Local cells
// of planes [Dim, k, k] around it (zeros outside), from column off of its
// ctx row on: (dy, dx, channel).
func (b *Builder) neighbourhoods(dst []float32, off int, planes []float32, s int) {
	k, d, r := b.L.Scales[s], b.Cfg.Quant.Dim, b.Cfg.Local/2
	w := b.ctxWidth()
	for y := range k {
		for x := range k {
			row := dst[(y*k+x)*w : (y*k+x+1)*w]
			i := off
			for dy := -r; dy <= r; dy++ {
				for dx := -r; dx <= r; dx++ {
					yy, xx := y+dy, x+dx
					if yy >= 0 && yy < k && xx >= 0 && xx < k {
						for c := range d {
							row[i+c] = planes[c*k*k+yy*k+xx]
						}
					}
					i += d
				}
			}
		}
	}
}

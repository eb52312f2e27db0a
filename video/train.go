package video

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	G "gorgonia.org/gorgonia"

	"github.com/omniar/omniar/msvq"
	"github.com/omniar/omniar/nn"
	"github.com/omniar/omniar/nn/optim"
)

// TrainConfig is the training-graph shape and loss recipe.
type TrainConfig struct {
	Batch, Frames int
	// PartialWeight weighs the reconstruction from a random prefix of the
	// scales, so the coarse scales must carry content (DESIGN.md).
	PartialWeight float64
	// NoQuant bypasses the quantizer: the continuous autoencoder, the
	// ceiling the quantized tokenizer is measured against.
	NoQuant bool
	// InkWeight weighs the reconstruction error of pixels with ink
	// (grey > 25) 1 + InkWeight times: thin strokes are a few percent of a
	// Moving-digits frame, so an unweighted loss is mostly background.
	InkWeight float64
	// FirstWeight weighs the reconstruction error of frame 0 — the image
	// path, encoded alone — 1 + FirstWeight times, so that the temporal
	// stage, which trains the shared spatial layers for groups of frames,
	// does not wear the image path down.
	FirstWeight float64
	// DecoderOnly trains the decoder alone: the encoder, phi and the
	// codebook stay frozen, so every clip keeps its codes and the models
	// trained on them (VideoAR, the unified model) stay valid; the weights'
	// ID, which covers only what sets the codes, does not change.
	DecoderOnly bool
	// Percept is a frozen feature network (convolutions with SiLU, each
	// applied to every frame); PerceptWeight × the mean squared difference
	// of its feature maps of the full decode and of the input is added to
	// the loss: the usual remedy for the blurred thin strokes of an L1 + L2
	// decoder. On the shipped tokenizer's codes it moved the digit check
	// by about a point (model card): the codes, not the decoder, bound it.
	Percept       []PerceptConv
	PerceptWeight float64
	// SeedCodes is msvq.Quantizer.SeedCodes: the first step sets the codes
	// to residual vectors of its batch (training from scratch).
	SeedCodes bool
	Seed      uint64
}

// PerceptConv is one frozen convolution of TrainConfig.Percept: its shape
// and weights ([Out, In, kd, kh, kw] and [Out]).
type PerceptConv struct {
	Cfg  nn.Conv3dConfig
	W, B []float32
}

// perceptPrefix names the frozen feature network's tensors, which are
// neither trained nor saved.
const perceptPrefix = "percept."

// Trainer is the tokenizer compiled for training on [Batch, Frames] clips.
type Trainer struct {
	Cfg     Config
	TC      TrainConfig
	Q       *msvq.Quantizer
	b       *nn.Builder
	x       *nn.Input
	w       *nn.Input // per-pixel loss weights, nil without InkWeight
	pm      *nn.Input // 1 on the samples the perceptual term reads, 0 elsewhere; nil without Percept
	prog    *nn.Program
	params  []*nn.Param // every weight of the graph
	train   []*nn.Param // what the optimizer updates: params, or the decoder's (DecoderOnly)
	choice  int
	rng     *rand.PCG
	recon   G.Value
	percept G.Value
	Metrics StepMetrics
}

// StepMetrics are the figures of the last step.
type StepMetrics struct {
	PSNR      float64 // full decode, per pixel over the batch, dB
	Restarted int     // dead codes restarted
	Percept   float64 // the perceptual term before its weight (0 without one)
}

// NewTrainer builds the training graph: reconstruction (L1 + L2) of the
// full decode, PartialWeight × that of a decode from a random number of
// coarse scales, and the quantizer's loss.
func NewTrainer(cfg Config, tc TrainConfig) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if _, err := cfg.LatentFrames(tc.Frames); err != nil {
		return nil, err
	}
	b := nn.NewBuilder(tc.Seed)
	t := &Trainer{Cfg: cfg, TC: tc, b: b, rng: rand.NewPCG(tc.Seed, 3)}
	t.x = b.Input("x", tc.Batch, cfg.Channels, tc.Frames, cfg.Size, cfg.Size)
	if tc.InkWeight > 0 || tc.FirstWeight > 0 {
		t.w = b.Input("w", tc.Batch, cfg.Channels, tc.Frames, cfg.Size, cfg.Size)
	}
	l := newLayers(b, cfg)
	var err error
	if t.Q, err = msvq.New(b, "quant", cfg.Quant, tc.Seed); err != nil {
		return nil, err
	}
	loss, err := t.build(l)
	if err != nil {
		return nil, fmt.Errorf("video tokenizer graph: %w", err)
	}
	t.params = slices.DeleteFunc(b.Params(), func(p *nn.Param) bool { return strings.HasPrefix(p.Name(), perceptPrefix) })
	if tc.NoQuant { // phi is not in the graph
		t.params = slices.DeleteFunc(t.params, func(p *nn.Param) bool { return strings.HasPrefix(p.Name(), "quant.") })
	}
	t.train = t.params
	if tc.DecoderOnly {
		t.train = slices.DeleteFunc(slices.Clone(t.params), func(p *nn.Param) bool { return !strings.HasPrefix(p.Name(), "dec.") })
	}
	if t.prog, err = nn.Compile(b.G, loss, t.train); err != nil {
		return nil, err
	}
	t.Q.Stats.On = !tc.DecoderOnly
	t.Q.SeedCodes = tc.SeedCodes
	return t, nil
}

func (t *Trainer) build(l *layers) (*G.Node, error) {
	z, err := l.encode(t.x.Node)
	if err != nil {
		return nil, err
	}
	if t.TC.NoQuant {
		y, err := l.decode(z, t.TC.Batch)
		if err != nil {
			return nil, err
		}
		G.Read(y, &t.recon)
		return t.recLoss(y)
	}
	q, err := t.Q.Forward(z)
	if err != nil {
		return nil, err
	}
	y, err := l.decode(q.FHat, t.TC.Batch)
	if err != nil {
		return nil, err
	}
	G.Read(y, &t.recon)
	loss, err := t.recLoss(y)
	if err != nil {
		return nil, err
	}
	if loss, err = t.addPercept(loss, y); err != nil {
		return nil, err
	}
	if t.TC.PartialWeight > 0 && len(q.Partials) > 0 {
		p, err := nn.Choose(&t.choice, q.Partials...)
		if err != nil {
			return nil, err
		}
		yp, err := l.decode(p, t.TC.Batch)
		if err != nil {
			return nil, err
		}
		lp, err := t.recLoss(yp)
		if err != nil {
			return nil, err
		}
		if lp, err = G.Mul(lp, G.NewConstant(float32(t.TC.PartialWeight))); err != nil {
			return nil, err
		}
		if loss, err = G.Add(loss, lp); err != nil {
			return nil, err
		}
	}
	if t.TC.DecoderOnly { // the quantizer's loss has no decoder gradient
		return loss, nil
	}
	return G.Add(loss, q.Loss)
}

// addPercept adds PerceptWeight × Σ over Percept's layers of the mean
// squared difference of the feature maps of y and of the input.
func (t *Trainer) addPercept(loss, y *G.Node) (*G.Node, error) {
	if t.TC.PerceptWeight == 0 || len(t.TC.Percept) == 0 {
		return loss, nil
	}
	b := t.b.Sub(strings.TrimSuffix(perceptPrefix, "."))
	t.pm = b.Input("mask", t.x.Node.Shape()...)
	fy, err := G.HadamardProd(y, t.pm.Node) // a masked-out sample is black in both: no difference
	if err != nil {
		return nil, err
	}
	fx, err := G.HadamardProd(t.x.Node, t.pm.Node)
	if err != nil {
		return nil, err
	}
	var sum *G.Node
	for i, pc := range t.TC.Percept {
		c := nn.NewConv3d(b, fmt.Sprintf("conv%d", i), pc.Cfg)
		if len(pc.W) != len(c.W.Data()) || (c.B == nil) != (pc.B == nil) || c.B != nil && len(pc.B) != len(c.B.Data()) {
			return nil, fmt.Errorf("perceptual conv %d: weights do not fit %+v", i, pc.Cfg)
		}
		copy(c.W.Data(), pc.W)
		if c.B != nil {
			copy(c.B.Data(), pc.B)
		}
		if fy, err = silu(c.Forward(fy)); err != nil { // [B, Out, T, H', W']
			return nil, err
		}
		if fx, err = silu(c.Forward(fx)); err != nil {
			return nil, err
		}
		d, err := nn.MSE(fy, fx)
		if err != nil {
			return nil, err
		}
		if sum == nil {
			sum = d
		} else if sum, err = G.Add(sum, d); err != nil {
			return nil, err
		}
	}
	G.Read(sum, &t.percept)
	w, err := G.Mul(sum, G.NewConstant(float32(t.TC.PerceptWeight)))
	if err != nil {
		return nil, err
	}
	return G.Add(loss, w)
}

func silu(x *G.Node, err error) (*G.Node, error) {
	if err != nil {
		return nil, err
	}
	return nn.SiLU(x)
}

// recLoss is mean w·|y − x| + mean w·(y − x)² (w = 1 without InkWeight
// and FirstWeight).
func (t *Trainer) recLoss(y *G.Node) (*G.Node, error) {
	d, err := G.Sub(y, t.x.Node)
	if err != nil {
		return nil, err
	}
	a, err := G.Abs(d)
	if err != nil {
		return nil, err
	}
	s, err := G.Square(d)
	if err != nil {
		return nil, err
	}
	if t.w != nil {
		if a, err = G.HadamardProd(a, t.w.Node); err != nil {
			return nil, err
		}
		if s, err = G.HadamardProd(s, t.w.Node); err != nil {
			return nil, err
		}
	}
	l1, err := G.Mean(a)
	if err != nil {
		return nil, err
	}
	l2, err := G.Mean(s)
	if err != nil {
		return nil, err
	}
	return G.Add(l1, l2)
}

// Pixels maps uint8 grey to the model's [0, 1]: black (background) is 0.
func Pixels(dst []float32, src []uint8) {
	for i, v := range src {
		dst[i] = float32(v) / 255
	}
}

// Step trains on one batch of clips [Batch, Frames, Size, Size] (grey
// uint8): forward, backward, then the codebook's EMA update. The optimizer
// step is the caller's (nn/train).
func (t *Trainer) Step(clips []uint8) (float64, error) { return t.StepSamples(clips, nil) }

// StepSamples is Step with the perceptual term on the clips whose entry in
// percept is true only (nil: on all). A perceptual net trained on digits
// knows nothing of real scenes, so its features are no guide to them.
func (t *Trainer) StepSamples(clips []uint8, percept []bool) (float64, error) {
	n := t.TC.Batch * t.TC.Frames * t.Cfg.Size * t.Cfg.Size * t.Cfg.Channels
	if len(clips) != n {
		return 0, fmt.Errorf("video tokenizer step: %d pixels, want %d", len(clips), n)
	}
	x := make([]float32, n)
	Pixels(x, clips)
	if err := t.x.Set(x); err != nil {
		return 0, err
	}
	if t.w != nil {
		if err := t.w.Set(t.weights(clips)); err != nil {
			return 0, err
		}
	}
	if t.pm != nil {
		if err := t.pm.Set(t.perceptMask(percept)); err != nil {
			return 0, err
		}
	}
	t.choice = int(t.rng.Uint64() % uint64(len(t.Cfg.Quant.Scales)-1))
	loss, err := t.prog.Run()
	if err != nil {
		return loss, err
	}
	t.Metrics = StepMetrics{PSNR: psnr(t.recon.Data().([]float32), x)}
	if t.percept != nil {
		t.Metrics.Percept = float64(t.percept.Data().(float32))
	}
	if !t.TC.DecoderOnly {
		t.Metrics.Restarted = t.Q.UpdateCodebook()
	}
	return loss, nil
}

// perceptMask is 1 on every pixel of the clips whose entry in on is true
// (all clips if on is nil), 0 elsewhere.
func (t *Trainer) perceptMask(on []bool) []float32 {
	m := make([]float32, t.TC.Batch*t.Cfg.Channels*t.TC.Frames*t.Cfg.Size*t.Cfg.Size)
	per := len(m) / t.TC.Batch
	for i := range t.TC.Batch {
		if on == nil || i < len(on) && on[i] {
			for j := i * per; j < (i+1)*per; j++ {
				m[j] = 1
			}
		}
	}
	return m
}

// weights are the per-pixel loss weights of clips [Batch, Channels,
// Frames, Size, Size]: 1, plus InkWeight on ink, times 1 + FirstWeight on
// frame 0.
func (t *Trainer) weights(clips []uint8) []float32 {
	w := make([]float32, len(clips))
	frame := t.Cfg.Size * t.Cfg.Size
	for i, v := range clips {
		w[i] = 1
		if v > 25 {
			w[i] += float32(t.TC.InkWeight)
		}
		if i/frame%t.TC.Frames == 0 {
			w[i] *= 1 + float32(t.TC.FirstWeight)
		}
	}
	return w
}

// psnr of y against x in [0, 1].
func psnr(y, x []float32) float64 {
	var se float64
	for i, v := range x {
		d := float64(max(0, min(1, y[i])) - v)
		se += d * d
	}
	return 10 * math.Log10(1/math.Max(se/float64(len(x)), 1e-12))
}

// Params are the trainable tensors: encoder, decoder and phi, or the
// decoder alone (DecoderOnly).
func (t *Trainer) Params() []optim.Param { return asOptim(t.train) }

// Frozen are the tensors a DecoderOnly trainer keeps fixed but saves in
// its checkpoints (nn/train.Freezer), so they hold the whole tokenizer.
func (t *Trainer) Frozen() []optim.Param {
	return asOptim(slices.DeleteFunc(slices.Clone(t.params), func(p *nn.Param) bool { return slices.Contains(t.train, p) }))
}

func asOptim(ps []*nn.Param) []optim.Param {
	out := make([]optim.Param, len(ps))
	for i, p := range ps {
		out[i] = p
	}
	return out
}

// MarshalState saves what is not a parameter: the codebook, its EMA and
// the partial-scale generator.
func (t *Trainer) MarshalState() ([]byte, error) {
	count, sum := t.Q.EMAState()
	rng, err := t.rng.MarshalBinary()
	if err != nil {
		return nil, err
	}
	out := binary.LittleEndian.AppendUint32(nil, uint32(len(rng)))
	out = append(out, rng...)
	for _, v := range t.Q.CodebookData() {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
	}
	for _, v := range append(append([]float64(nil), count...), sum...) {
		out = binary.LittleEndian.AppendUint64(out, math.Float64bits(v))
	}
	return out, nil
}

// UnmarshalState restores MarshalState's bytes.
func (t *Trainer) UnmarshalState(b []byte) error {
	count, _ := t.Q.EMAState()
	st, err := decodeState(b, len(t.Q.CodebookData()), len(count))
	if err != nil {
		return err
	}
	if err := t.rng.UnmarshalBinary(st.rng); err != nil {
		return err
	}
	copy(t.Q.CodebookData(), st.codebook)
	t.Q.SetEMAState(st.count, st.sum)
	return nil
}

// state is the decoded MarshalState layout: u32 length + generator state,
// the codebook as float32, then the EMA counts and sums as float64.
type state struct {
	rng        []byte
	codebook   []float32
	count, sum []float64
}

func decodeState(b []byte, ncb, ncount int) (state, error) {
	var st state
	if len(b) < 4 {
		return st, fmt.Errorf("video tokenizer state: %d bytes", len(b))
	}
	nr := int(binary.LittleEndian.Uint32(b))
	nsum := ncb // EMA sums have the codebook's shape
	if want := 4 + nr + 4*ncb + 8*(ncount+nsum); len(b) != want {
		return st, fmt.Errorf("video tokenizer state: %d bytes, want %d (another configuration?)", len(b), want)
	}
	st.rng = b[4 : 4+nr]
	p := b[4+nr:]
	st.codebook = make([]float32, ncb)
	for i := range st.codebook {
		st.codebook[i] = math.Float32frombits(binary.LittleEndian.Uint32(p[4*i:]))
	}
	p = p[4*ncb:]
	st.count, st.sum = make([]float64, ncount), make([]float64, nsum)
	for i := range st.count {
		st.count[i] = math.Float64frombits(binary.LittleEndian.Uint64(p[8*i:]))
	}
	p = p[8*ncount:]
	for i := range st.sum {
		st.sum[i] = math.Float64frombits(binary.LittleEndian.Uint64(p[8*i:]))
	}
	return st, nil
}

// InitFrom starts from trained weights (the image stage's, for the video
// stage): parameters and codebook; the codebook's EMA restarts from it.
// The weights are of a tokenizer of config from: the trainer's own config,
// or a smaller one that differs only in growing parts, which start so that
// the grown tokenizer computes what the old one did: residual blocks after the temporal convs (from ResTime 0) and
// latent-time blocks (from TimeMix 0) start as the identity, and a temporal
// kernel widened in space (from TimeKernel 1) keeps the old weights at its
// centre.
func (t *Trainer) InitFrom(from Config, w Weights) error {
	var fresh []string // name parts of the grown blocks, left at their init
	if from.ResTime == 0 && t.Cfg.ResTime > 0 {
		from.ResTime = t.Cfg.ResTime
		fresh = append(fresh, ".res_time.")
	}
	if from.TimeMix == 0 && t.Cfg.TimeMix > 0 {
		from.TimeMix = t.Cfg.TimeMix
		fresh = append(fresh, ".mix.")
	}
	if t.TC.DecoderOnly && from.Quant.ZeroBias != t.Cfg.Quant.ZeroBias {
		return fmt.Errorf("tokenizer init: decoder-only training keeps the codes, but the dead zone %g differs from the init's %g", t.Cfg.Quant.ZeroBias, from.Quant.ZeroBias)
	}
	from.Quant.ZeroBias = t.Cfg.Quant.ZeroBias // the dead zone changes no weight
	growKernel := from.timeKernel() == 1 && t.Cfg.timeKernel() > 1
	if growKernel {
		from.TimeKernel = t.Cfg.TimeKernel
	}
	if from.JSON() != t.Cfg.JSON() {
		return fmt.Errorf("tokenizer init: config %s, want %s", from.JSON(), t.Cfg.JSON())
	}
	ps := slices.DeleteFunc(slices.Clone(t.params), func(p *nn.Param) bool {
		return slices.ContainsFunc(fresh, func(part string) bool { return strings.Contains(p.Name(), part) })
	})
	if growKernel {
		var err error
		if ps, err = t.embedTimeKernel(ps, w); err != nil {
			return err
		}
	}
	if err := nn.LoadParams(ps, w.Params); err != nil {
		return fmt.Errorf("tokenizer %w", err)
	}
	cb := t.Q.CodebookData()
	if len(w.Codebook) != len(cb) {
		return fmt.Errorf("tokenizer init: codebook of %d values, want %d", len(w.Codebook), len(cb))
	}
	copy(cb, w.Codebook)
	count, _ := t.Q.EMAState()
	ones, sum := make([]float64, len(count)), make([]float64, len(cb))
	for i := range ones {
		ones[i] = 1
	}
	for i, v := range cb {
		sum[i] = float64(v)
	}
	t.Q.SetEMAState(ones, sum)
	return nil
}

// embedTimeKernel loads the 1×1 temporal kernels of w into the centre of
// the trainer's tk×tk ones (the rest zero) and returns ps without them.
func (t *Trainer) embedTimeKernel(ps []*nn.Param, w Weights) ([]*nn.Param, error) {
	tk := t.Cfg.timeKernel()
	rest := ps[:0:0]
	for _, p := range ps {
		if n := p.Name(); n != "enc.time.weight" && n != "dec.time.weight" {
			rest = append(rest, p)
			continue
		}
		v, dst := w.Params[p.Name()], p.Data()
		if len(v)*tk*tk != len(dst) {
			return nil, fmt.Errorf("tokenizer init: %s of size %d, want %d", p.Name(), len(v), len(dst)/(tk*tk))
		}
		clear(dst)
		for i, x := range v { // [a, b, k] → [a, b, k, tk, tk] at the centre
			dst[(i*tk+tk/2)*tk+tk/2] = x
		}
	}
	return rest, nil
}

// Close releases the graph.
func (t *Trainer) Close() error { return t.prog.Close() }

// Package codec is the audio tokenizer (DESIGN.md, "Tokens"): a 1-D conv
// encoder from 16 kHz mono to one latent vector every Hop() samples (50 a
// second with strides 2·4·5·8), residual vector quantization over Depths
// codebooks of Codes codes (L2 nearest code, EMA codebooks with dead-code
// restarts, code 0 frozen at zero), and a transposed-conv decoder back to
// the waveform, or one that predicts short-time spectra and overlap-adds
// them (HeadConfig). Training minimises L1 on the waveform plus a
// multi-resolution STFT loss (spectral convergence + log-magnitude L1,
// optionally log-mel L1) and a commitment loss, with quantizer dropout:
// the decoder is trained on a random prefix of the depths, so any prefix
// decodes to sensible audio and the coarse depth carries the most. Tokens
// are ordered depth by depth, coarse first.
package codec

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

	G "gorgonia.org/gorgonia"

	"github.com/omniar/omniar/audio"
	"github.com/omniar/omniar/nn"
)

// Config sizes the codec and its training loss.
type Config struct {
	Rate      int     `json:"rate"`       // sample rate (audio.ModelRate)
	Strides   []int   `json:"strides"`    // encoder downsampling per stage; Hop is their product
	Channels  []int   `json:"channels"`   // widths: after conv_in, then after each stage
	ResStages int     `json:"res_stages"` // residual units after the coarsest this many stages
	Latent    int     `json:"latent"`     // latent (and code) width
	Depths    int     `json:"depths"`     // residual VQ depths
	Codes     int     `json:"codes"`      // codes per depth; code 0 is frozen at zero
	Beta      float64 `json:"beta"`       // commitment weight
	Decay     float64 `json:"decay"`      // EMA decay of the codebooks
	// Training loss: WaveWeight·L1(wave) + mean over FFTs of (spectral
	// convergence + log-magnitude L1), hop FFT/4; with probability
	// QDropout a step decodes from a random prefix of the depths.
	FFTs       []int   `json:"ffts"`
	WaveWeight float64 `json:"wave_weight"`
	QDropout   float64 `json:"q_dropout"`
	// MelWeight weighs a log-mel L1 on the same STFTs (n/8 HTK bands at
	// window n, the filters of audio.MelSpectrogram), averaged over FFTs:
	// it spends the loss where hearing, and the log-mel metrics, resolve.
	MelWeight float64 `json:"mel_weight,omitempty"`
	// Head, if set, replaces the decoder's transposed-conv stages below the
	// coarsest with a filterbank head (HeadConfig).
	Head *HeadConfig `json:"head,omitempty"`
}

// HeadConfig is a decoder that predicts short-time spectra and synthesises
// them: after conv_in and the coarsest residual unit, one transposed conv
// takes the latent frames to Rate/Hop synthesis frames a second, residual
// units (Dilations) work at that rate, a conv gives each bin of a
// Size-point spectrum a log-magnitude and a phase direction, and a
// transposed conv of kernel Size and stride Hop overlap-adds the spectra
// into the waveform. That last conv starts as the Hann-windowed inverse
// real DFT and is trained on. Every layer of this decoder runs at a frame
// rate, and it places a formant by raising the log-magnitude of its bins,
// additively, where the stack of short transposed convs had to build
// every frequency above 1 kHz out of images of lower ones, and linear
// real and imaginary outputs had to span the spectrum's range of levels.
type HeadConfig struct {
	Hop       int   `json:"hop"`   // samples between synthesis frames; divides the codec's Hop
	Size      int   `json:"size"`  // samples a synthesis frame: ≥ Hop, Size − Hop even
	Width     int   `json:"width"` // channels at the synthesis frame rate
	Dilations []int `json:"dilations"`
}

// bins is the number of spectral bins a synthesis frame has.
func (h HeadConfig) bins() int { return h.Size/2 + 1 }

// Small is the shipped codec: 50 frames/s, 8 depths of 256 codes
// (3.2 kbit/s), trainable on one CPU core in minutes: SmallV1's encoder
// and quantizer, a head decoder (synthesis frames of 20 ms every 5 ms, 192
// channels, units dilated 1, 3 and 9) and the log-mel loss. It is trained
// from SmallV1's weights (make assets-codec).
func Small() Config {
	c := SmallV1()
	c.MelWeight, c.Head = 2, &HeadConfig{Hop: 80, Size: 320, Width: 192, Dilations: []int{1, 3, 9}}
	return c
}

// SmallV1 is the first shipped codec: a transposed-conv decoder and no
// mel loss. Its resynthesis of held-out voices was 6 and 9 dB short
// between 1–2 and 2–4 kHz, and decoding its latent without quantization
// scored as badly (omniar eval codec): its encoder and decoder, not its
// quantizer, lost the formants.
func SmallV1() Config {
	return Config{Rate: audio.ModelRate, Strides: []int{2, 4, 5, 8}, Channels: []int{16, 32, 64, 96, 128},
		ResStages: 2, Latent: 32, Depths: 8, Codes: 256, Beta: 0.25, Decay: 0.99,
		FFTs: []int{256, 512, 1024}, WaveWeight: 5, QDropout: 0.5}
}

// Named returns the configuration called name: small, small-v1 or tiny.
func Named(name string) (Config, error) {
	switch name {
	case "small":
		return Small(), nil
	case "small-v1":
		return SmallV1(), nil
	case "tiny":
		return Tiny(), nil
	}
	return Config{}, fmt.Errorf("codec config %q: want small, small-v1 or tiny", name)
}

// Tiny is a test configuration: 40 samples a frame.
func Tiny() Config {
	return Config{Rate: audio.ModelRate, Strides: []int{2, 4, 5}, Channels: []int{4, 8, 8, 16},
		ResStages: 1, Latent: 8, Depths: 3, Codes: 16, Beta: 0.25, Decay: 0.9,
		FFTs: []int{64, 128}, WaveWeight: 5, QDropout: 0.5}
}

// Hop is the number of samples per latent frame.
func (c Config) Hop() int {
	h := 1
	for _, s := range c.Strides {
		h *= s
	}
	return h
}

// Bitrate is the token bitrate in bit/s with depths depths.
func (c Config) Bitrate(depths int) float64 {
	return float64(c.Rate) / float64(c.Hop()) * float64(depths) * math.Log2(float64(c.Codes))
}

// Validate reports sizes that do not fit together.
func (c Config) Validate() error {
	switch {
	case c.Rate <= 0 || len(c.Strides) == 0 || len(c.Channels) != len(c.Strides)+1:
		return fmt.Errorf("codec config: need a rate, strides and one more channel width than strides (%d strides, %d widths)", len(c.Strides), len(c.Channels))
	case c.ResStages < 0 || c.ResStages > len(c.Strides):
		return fmt.Errorf("codec config: res_stages %d not in [0, %d]", c.ResStages, len(c.Strides))
	case c.Latent <= 0 || c.Depths <= 0 || c.Codes < 2 || c.Codes > 1<<16:
		return fmt.Errorf("codec config: latent %d, depths %d, codes %d: need positive sizes and 2..65536 codes", c.Latent, c.Depths, c.Codes)
	case !(c.Decay > 0 && c.Decay < 1) || c.Beta < 0 || c.WaveWeight < 0 || c.QDropout < 0 || c.QDropout > 1:
		return fmt.Errorf("codec config: decay %g, beta %g, wave weight %g, q dropout %g out of range", c.Decay, c.Beta, c.WaveWeight, c.QDropout)
	}
	for _, s := range c.Strides {
		if s < 1 {
			return fmt.Errorf("codec config: stride %d", s)
		}
	}
	for _, w := range c.Channels {
		if w < 1 {
			return fmt.Errorf("codec config: width %d", w)
		}
	}
	for _, n := range c.FFTs {
		if n < 8 {
			return fmt.Errorf("codec config: FFT size %d, want ≥ 8", n)
		}
	}
	if c.MelWeight < 0 {
		return fmt.Errorf("codec config: mel weight %g out of range", c.MelWeight)
	}
	// bounds far beyond any codec here, so a damaged file's config is
	// rejected before it is built, even only as shapes
	if c.Rate > 1<<20 || len(c.Strides) > 16 || slices.Max(c.Strides) > 64 || slices.Max(c.Channels) > 1<<12 || c.Latent > 1<<12 || c.Depths > 64 ||
		(len(c.FFTs) > 0 && slices.Max(c.FFTs) > 1<<16) || (c.Head != nil && (c.Head.Size > 1<<16 || c.Head.Width > 1<<12 || len(c.Head.Dilations) > 64)) {
		return fmt.Errorf("codec config: rate ≤ %d, ≤ 16 strides each ≤ 64, widths and latent ≤ %d, depths ≤ 64, FFT and head sizes ≤ %d, head width ≤ %d, ≤ 64 dilations", 1<<20, 1<<12, 1<<16, 1<<12)
	}
	if h := c.Head; h != nil {
		if h.Hop < 1 || c.Hop()%h.Hop != 0 || h.Size < h.Hop || (h.Size-h.Hop)%2 != 0 || h.Width < 1 || c.ResStages < 1 {
			return fmt.Errorf("codec config: head hop %d, size %d, width %d: need a hop dividing %d, a size ≥ hop with an even difference, a positive width and res_stages ≥ 1", h.Hop, h.Size, h.Width, c.Hop())
		}
		for _, d := range h.Dilations {
			if d < 1 {
				return fmt.Errorf("codec config: head dilation %d", d)
			}
		}
	}
	return nil
}

// JSON is the configuration as checkpoint metadata.
func (c Config) JSON() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// conv is a 1-D convolution or transposed convolution with PyTorch's
// weight layout.
type conv struct {
	w, b       *nn.Param
	spec       nn.ConvSpec
	transposed bool
}

// convCfg is a conv's geometry: kernel k, stride s, dilation d and the
// padding before and after (for a transposed conv, PyTorch's padding,
// trimmed from the output); gain scales the initial weights.
type convCfg struct {
	in, out, k, s, d, p0, p1 int
	bias, transposed         bool
	gain                     float64
}

// newConv creates the weights. Random weights are uniform with standard
// deviation gain/√fan-in, fan-in counting the inputs that reach one output
// (in·k, or in·k/s for a transposed conv): with He's gain √2 the signal
// keeps its scale through the stack, where PyTorch's default (std
// 1/√(3·fan-in)) shrinks it threefold a layer and a deep codec starts
// from a vanishing output and learns slowly. Biases start at zero.
func newConv(b *nn.Builder, name string, c convCfg, random bool) *conv {
	shape, fanIn := []int{c.out, c.in, c.k}, c.in*c.k
	if c.transposed {
		shape, fanIn = []int{c.in, c.out, c.k}, max(1, c.in*c.k/max(c.s, 1))
	}
	init := nn.Const(0) // weights to be loaded: skip drawing random ones
	if random {
		init = nn.Uniform(math.Sqrt(3) * c.gain / math.Sqrt(float64(fanIn)))
	}
	cv := &conv{w: b.Param(name+".weight", true, init, shape...), transposed: c.transposed,
		spec: nn.ConvSpec{Stride: []int{max(c.s, 1)}, Dilation: []int{max(c.d, 1)}, PadBefore: []int{c.p0}, PadAfter: []int{c.p1}}}
	if c.bias {
		cv.b = b.Param(name+".bias", false, nn.Const(0), c.out)
	}
	return cv
}

// Forward: x [N, in, L] → [N, out, L'].
func (c *conv) Forward(x *G.Node) (*G.Node, error) {
	var b *G.Node
	if c.b != nil {
		b = c.b.Node()
	}
	if c.transposed {
		return nn.ConvTransposeND(x, c.w.Node(), b, c.spec)
	}
	return nn.ConvND(x, c.w.Node(), b, c.spec)
}

// same is a stride-1 conv that keeps the length (odd k).
func same(in, out, k, d int, bias bool) convCfg {
	p := d * (k - 1) / 2
	return convCfg{in: in, out: out, k: k, d: d, p0: p, p1: p, bias: bias, gain: math.Sqrt2}
}

// strided maps length L to L/s exactly (L a multiple of s): kernel 2s,
// padding s split before and after; transposed, it maps T to T·s.
func strided(in, out, s int, bias, transposed bool) convCfg {
	return convCfg{in: in, out: out, k: 2 * s, s: s, p0: (s + 1) / 2, p1: s / 2, bias: bias, transposed: transposed, gain: math.Sqrt2}
}

// resUnit is x + conv1×1(SiLU(conv3(SiLU(x)))), the 3-tap conv dilated
// by d; the branch starts small so a unit starts near the identity.
type resUnit struct{ a, b *conv }

func newResUnit(bld *nn.Builder, name string, w, d int, bias, random bool) *resUnit {
	out := same(w, w, 1, 1, bias)
	out.gain = 0.1
	return &resUnit{a: newConv(bld, name+".conv1", same(w, w, 3, d, bias), random), b: newConv(bld, name+".conv2", out, random)}
}

// resUnits are residual units of width w, one a dilation.
func resUnits(bld *nn.Builder, name string, dil []int, w int, bias, random bool) []*resUnit {
	var us []*resUnit
	for k, d := range dil {
		us = append(us, newResUnit(bld, fmt.Sprintf("%s.%d", name, k), w, d, bias, random))
	}
	return us
}

// chain applies units in order.
func chain(h *G.Node, us []*resUnit) (*G.Node, error) {
	var err error
	for _, u := range us {
		if h, err = u.Forward(h); err != nil {
			return nil, err
		}
	}
	return h, nil
}

func (r *resUnit) Forward(x *G.Node) (*G.Node, error) {
	h, err := nn.SiLU(x)
	if err != nil {
		return nil, err
	}
	if h, err = r.a.Forward(h); err != nil {
		return nil, err
	}
	if h, err = nn.SiLU(h); err != nil {
		return nil, err
	}
	if h, err = r.b.Forward(h); err != nil {
		return nil, err
	}
	return G.Add(x, h)
}

// layers are the encoder and decoder weights.
type layers struct {
	cfg           Config
	encIn, encOut *conv
	encDown       []*conv
	encRes        []*resUnit // nil where a stage has none
	decIn, decOut *conv
	decUp         []*conv // coarse to fine
	decRes        []*resUnit
	head          *head // replaces decUp, decOut and all but decRes[0]
}

// head is HeadConfig's layers.
type head struct {
	up, spec, synth *conv
	res             []*resUnit
}

func newHead(b *nn.Builder, cfg Config, random bool) *head {
	h, in := cfg.Head, cfg.Channels[len(cfg.Channels)-1]
	s := cfg.Hop() / h.Hop
	spec := same(h.Width, 3*h.bins(), 3, 1, true)
	spec.gain = 0.1
	hd := &head{
		up:   newConv(b, "up", strided(in, h.Width, s, true, true), random),
		res:  resUnits(b, "res", h.Dilations, h.Width, true, random),
		spec: newConv(b, "logspec", spec, random),
		synth: newConv(b, "synth", convCfg{in: 2 * h.bins(), out: 1, k: h.Size, s: h.Hop,
			p0: (h.Size - h.Hop) / 2, p1: (h.Size - h.Hop) / 2, transposed: true}, false),
	}
	if random {
		copy(hd.synth.w.Data(), synthesisBasis(h.Size))
		lm := hd.spec.b.Data()[:h.bins()]
		for i := range lm {
			lm[i] = headLogMag0
		}
	}
	return hd
}

// headLogMag0 is the initial log-magnitude of every bin: a quiet start,
// but over the spectral losses' floors, so that their gradients reach the
// head from the first step (under a floor, a log loss is flat).
const headLogMag0 = -4

// synthesisBasis is the transposed conv weight [2·bins, 1, n] that turns
// the real parts (channels 0…bins−1) and imaginary parts (bins…2·bins−1)
// of a frame's spectrum into its Hann-windowed inverse real DFT, scaled
// by 1/√n so unit coefficients give a waveform of order one.
func synthesisBasis(n int) []float32 {
	bins := n/2 + 1
	w := make([]float32, 2*bins*n)
	for k := 0; k < bins; k++ {
		c := 2.0
		if k == 0 || 2*k == n {
			c = 1
		}
		for t := 0; t < n; t++ {
			win := 0.5 - 0.5*math.Cos(2*math.Pi*float64(t)/float64(n))
			a := 2 * math.Pi * float64(k*t) / float64(n)
			w[k*n+t] = float32(win * c * math.Cos(a) / math.Sqrt(float64(n)))
			w[(bins+k)*n+t] = float32(-win * c * math.Sin(a) / math.Sqrt(float64(n)))
		}
	}
	return w
}

// Forward: h [N, C, T] at the latent rate → waveform [N, 1, T·Hop].
func (hd *head) Forward(h *G.Node) (*G.Node, error) {
	h, err := nn.SiLU(h)
	if err != nil {
		return nil, err
	}
	if h, err = hd.up.Forward(h); err != nil {
		return nil, fmt.Errorf("decode head: %w", err)
	}
	if h, err = chain(h, hd.res); err != nil {
		return nil, err
	}
	if h, err = nn.SiLU(h); err != nil {
		return nil, err
	}
	if h, err = hd.spec.Forward(h); err != nil {
		return nil, err
	}
	if h, err = polar(h); err != nil {
		return nil, err
	}
	return hd.synth.Forward(h)
}

// polar turns [N, 3·bins, F] = (log-magnitude, x, y) into the spectrum's
// real and imaginary parts [N, 2·bins, F] = exp(log-magnitude)·(x, y)/|(x, y)|:
// the head sets each bin's level additively in the log domain, where the
// spectral losses measure it, and its phase by a direction.
func polar(h *G.Node) (*G.Node, error) {
	b := h.Shape()[1] / 3
	part := func(i int) (*G.Node, error) { return G.Slice(h, nil, G.S(i*b, (i+1)*b), nil) }
	lm, err := part(0)
	if err != nil {
		return nil, err
	}
	x, err := part(1)
	if err != nil {
		return nil, err
	}
	y, err := part(2)
	if err != nil {
		return nil, err
	}
	if lm, err = bound(lm, math.Log(math.Sqrt(float64(2*(b-1))))+2); err != nil {
		return nil, err
	}
	mag, err := G.Exp(lm)
	if err != nil {
		return nil, err
	}
	x2, err := G.Square(x)
	if err != nil {
		return nil, err
	}
	y2, err := G.Square(y)
	if err != nil {
		return nil, err
	}
	r2, err := G.Add(x2, y2)
	if err != nil {
		return nil, err
	}
	if r2, err = G.Add(r2, G.NewConstant(float32(1e-6))); err != nil {
		return nil, err
	}
	r, err := G.Sqrt(r2)
	if err != nil {
		return nil, err
	}
	scale, err := G.Div(mag, r)
	if err != nil {
		return nil, err
	}
	re, err := G.HadamardProd(scale, x)
	if err != nil {
		return nil, err
	}
	im, err := G.HadamardProd(scale, y)
	if err != nil {
		return nil, err
	}
	return G.Concat(1, re, im)
}

// bound softly caps log-magnitudes at hi: hi − softplus(hi − lm), within
// 0.02 of lm below hi − 4. With the orthonormal synthesis basis a bin of
// full-scale audio has a log-magnitude of at most log √Size; hi is e² above
// that. Without it a real recording unlike the training speech made the
// head output bins 250 dB over the input (exp of a runaway log-magnitude).
func bound(lm *G.Node, hi float64) (*G.Node, error) {
	c := G.NewConstant(float32(hi))
	d, err := G.Sub(c, lm)
	if err != nil {
		return nil, err
	}
	if d, err = G.Softplus(d); err != nil {
		return nil, err
	}
	return G.Sub(c, d)
}

// newLayers creates the weights, initialised as PyTorch does if random,
// else zero (inference graphs, whose weights are loaded next).
func newLayers(b *nn.Builder, cfg Config, random bool) *layers {
	l := &layers{cfg: cfg}
	e, d := b.Sub("enc"), b.Sub("dec")
	ch, ns := cfg.Channels, len(cfg.Strides)
	// The encoder has no biases: silence (all zeros) encodes to an exactly
	// zero latent, which takes the frozen zero code at every depth, so
	// silent frames cost a generator nothing (DESIGN.md).
	l.encIn = newConv(e, "conv_in", same(1, ch[0], 7, 1, false), random)
	for i, s := range cfg.Strides {
		l.encDown = append(l.encDown, newConv(e, fmt.Sprintf("down.%d", i), strided(ch[i], ch[i+1], s, false, false), random))
		var r *resUnit
		if i >= ns-cfg.ResStages {
			r = newResUnit(e, fmt.Sprintf("res.%d", i), ch[i+1], 1, false, random)
		}
		l.encRes = append(l.encRes, r)
	}
	l.encOut = newConv(e, "conv_out", same(ch[ns], cfg.Latent, 3, 1, false), random)
	l.decIn = newConv(d, "conv_in", same(cfg.Latent, ch[ns], 7, 1, true), random)
	if cfg.Head != nil {
		l.decRes = []*resUnit{newResUnit(d, "res.0", ch[ns], 1, true, random)}
		l.head = newHead(d.Sub("head"), cfg, random)
		return l
	}
	for j := 0; j < ns; j++ {
		i := ns - 1 - j // the encoder stage this one mirrors
		var r *resUnit
		if j < cfg.ResStages {
			r = newResUnit(d, fmt.Sprintf("res.%d", j), ch[i+1], 1, true, random)
		}
		l.decRes = append(l.decRes, r)
		l.decUp = append(l.decUp, newConv(d, fmt.Sprintf("up.%d", j), strided(ch[i+1], ch[i], cfg.Strides[i], true, true), random))
	}
	l.decOut = newConv(d, "conv_out", same(ch[0], 1, 7, 1, true), random)
	return l
}

// encode: x [N, 1, L] (L a multiple of Hop) → z [N, Latent, L/Hop].
func (l *layers) encode(x *G.Node) (*G.Node, error) {
	h, err := l.encIn.Forward(x)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	for i, dn := range l.encDown {
		if h, err = nn.SiLU(h); err != nil {
			return nil, err
		}
		if h, err = dn.Forward(h); err != nil {
			return nil, fmt.Errorf("encode stage %d: %w", i, err)
		}
		if l.encRes[i] != nil {
			if h, err = l.encRes[i].Forward(h); err != nil {
				return nil, err
			}
		}
	}
	if h, err = nn.SiLU(h); err != nil {
		return nil, err
	}
	return l.encOut.Forward(h)
}

// decode: z [N, Latent, T] → waveform [N, 1, T·Hop].
func (l *layers) decode(z *G.Node) (*G.Node, error) {
	h, err := l.decIn.Forward(z)
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if l.head != nil {
		if h, err = l.decRes[0].Forward(h); err != nil {
			return nil, err
		}
		return l.head.Forward(h)
	}
	for j, up := range l.decUp {
		if l.decRes[j] != nil {
			if h, err = l.decRes[j].Forward(h); err != nil {
				return nil, err
			}
		}
		if h, err = nn.SiLU(h); err != nil {
			return nil, err
		}
		if h, err = up.Forward(h); err != nil {
			return nil, fmt.Errorf("decode stage %d: %w", j, err)
		}
	}
	if h, err = nn.SiLU(h); err != nil {
		return nil, err
	}
	return l.decOut.Forward(h)
}

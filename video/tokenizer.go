// Package video is the 3D multi-scale causal video tokenizer: a
// factorised encoder (2-D spatial convs per frame, then a causal temporal
// conv that keeps the first frame alone and folds every later 4 frames into
// one latent frame: 1 + 4k frames → 1 + k), VAR's multi-scale residual
// quantizer on each latent frame, and the mirrored causal decoder. An image
// is a one-frame video: the same weights tokenize it.
package video

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

	G "gorgonia.org/gorgonia"

	"github.com/omniar/omniar/msvq"
	"github.com/omniar/omniar/nn"
)

// Config sizes the tokenizer.
type Config struct {
	Size     int   `json:"size"`     // frame side (64)
	Channels int   `json:"channels"` // 1: grey
	Widths   []int `json:"widths"`   // hidden channels per resolution, full first; len = Down+1
	Down     int   `json:"down"`     // spatial downsampling steps (3: f = 8)
	Res      int   `json:"res"`      // residual blocks at the latent resolution, each side
	// ResTime residual blocks, each side, sit right after the temporal
	// convs: at the latent frame rate in the encoder, at the video frame
	// rate in the decoder, where each frame of a group must be drawn apart
	// from the others (with none, only the transposed temporal conv's four
	// linear maps tell the frames of a group apart).
	ResTime int `json:"res_time,omitempty"`
	// TimeKernel is the spatial side of the temporal convs' kernel (odd;
	// 0 means 1). With 1, the decoder draws the frames of a group as four
	// channel mixes of one latent frame, which cannot move anything; with
	// 3, each frame of the group is its own 3×3 conv of the latent, so a
	// moving digit can be drawn shifted (and the encoder sees where it went).
	TimeKernel int `json:"time_kernel,omitempty"`
	// TimeMix causal residual blocks, each side, mix each latent frame with
	// the one before (a (2, 3, 3) conv over latent time), at the latent frame
	// rate: after the fold in the encoder, before the unfold in the decoder.
	// Without them the frames of a group are drawn from their latent frame
	// alone, though the previous one shows where the digit just was: frames
	// 1–3 of each group reconstructed 3–4 dB worse than frame 4.
	TimeMix    int         `json:"time_mix,omitempty"`
	TimeStride int         `json:"time_stride"` // 4: 1 + 4k frames → 1 + k latent frames
	Quant      msvq.Config `json:"quant"`
}

// Small is the default tokenizer: 64×64 grey, f = 8, 4× in time, 32 latent
// channels, 256 codes over scales 1, 2, 3, 4, 6, 8. The full-resolution
// layers are narrow (they cost the most per channel) and the depth sits at
// 8×8, where a residual block costs 1/64 of one at 64×64.
func Small() Config {
	return Config{Size: 64, Channels: 1, Widths: []int{32, 64, 96, 96}, Down: 3, Res: 2, ResTime: 2, TimeKernel: 3, TimeMix: 2, TimeStride: 4, Quant: msvq.Default(32)}
}

// Tiny is a test configuration.
func Tiny() Config {
	q := msvq.Config{Codes: 16, Dim: 8, Scales: []int{1, 2, 4}, Beta: 0.25, Decay: 0.9, PhiRatio: 0.5}
	return Config{Size: 16, Channels: 1, Widths: []int{8, 8, 8}, Down: 2, Res: 1, TimeStride: 4, Quant: q}
}

// Validate checks that the sizes fit together.
func (c Config) Validate() error {
	if err := c.Quant.Validate(); err != nil {
		return err
	}
	if c.Size>>c.Down != c.Quant.Side() || c.Size%(1<<c.Down) != 0 {
		return fmt.Errorf("video tokenizer: %d px / 2^%d is not the quantizer side %d", c.Size, c.Down, c.Quant.Side())
	}
	if c.TimeKernel < 0 || c.TimeKernel%2 == 0 && c.TimeKernel != 0 {
		return fmt.Errorf("video tokenizer config: time kernel %d must be odd", c.TimeKernel)
	}
	if c.Channels <= 0 || c.TimeStride <= 0 || c.Res < 0 || c.ResTime < 0 || c.TimeMix < 0 || len(c.Widths) != c.Down+1 {
		return fmt.Errorf("video tokenizer config %+v: sizes must be positive, one width per resolution", c)
	}
	for _, w := range c.Widths {
		if w <= 0 || w > 1<<12 {
			return fmt.Errorf("video tokenizer config: widths %v must be in [1, %d]", c.Widths, 1<<12)
		}
	}
	// bounds far beyond any model here, so a damaged file's config is
	// rejected before it is built, even only as shapes
	if c.Size > 1<<12 || c.Channels > 16 || c.Down > 10 || c.TimeStride > 64 || c.TimeKernel > 63 || c.Res > 64 || c.ResTime > 64 || c.TimeMix > 64 {
		return fmt.Errorf("video tokenizer config %+v: size ≤ %d, channels ≤ 16, down ≤ 10, time stride ≤ 64, time kernel ≤ 63, blocks ≤ 64 each", c, 1<<12)
	}
	return nil
}

// timeKernel is TimeKernel with 0 read as 1 (checkpoints from before it).
func (c Config) timeKernel() int { return max(1, c.TimeKernel) }

// LatentFrames is the number of latent frames of a t-frame clip.
func (c Config) LatentFrames(t int) (int, error) {
	if t < 1 || (t-1)%c.TimeStride != 0 {
		return 0, fmt.Errorf("a clip of %d frames: need 1 + %d·k frames", t, c.TimeStride)
	}
	return 1 + (t-1)/c.TimeStride, nil
}

// JSON is the configuration as checkpoint metadata; a time kernel of 1 is
// written as none, so configs that build the same network read the same.
func (c Config) JSON() string {
	if c.TimeKernel == 1 {
		c.TimeKernel = 0
	}
	b, _ := json.Marshal(c)
	return string(b)
}

// layers are the encoder and decoder weights.
type layers struct {
	encIn  *nn.Conv3d
	encDn  []*nn.Conv3d
	encRes []*resBlock
	encT   *nn.CausalConv3d
	encTR  []*resBlock
	encMix []*resBlock
	encOut *nn.Conv3d
	decIn  *nn.Conv3d
	decRes []*resBlock
	decMix []*resBlock
	decT   *nn.ConvTranspose3d
	decTR  []*resBlock
	decUp  []*nn.ConvTranspose3d
	decOut *nn.Conv3d
}

// spatial is a per-frame kernel or stride (1 in time); pad a per-frame padding (0 in time).
func spatial(k int) [3]int { return [3]int{1, k, k} }
func pad(p int) [3]int     { return [3]int{0, p, p} }

func newLayers(b *nn.Builder, cfg Config) *layers {
	ws, c, lat := cfg.Widths, cfg.Channels, cfg.Quant.Dim
	top := ws[cfg.Down]
	l := &layers{}
	e, d := b.Sub("enc"), b.Sub("dec")
	// The encoder has no biases: with black = 0 and SiLU(0) = 0, an empty
	// region encodes to exactly zero and takes the frozen zero code at every
	// scale, so background tokens are cheap to model (DESIGN.md).
	l.encIn = nn.NewConv3d(e, "conv_in", nn.Conv3dConfig{In: c, Out: ws[0], Kernel: spatial(3), Padding: pad(1)})
	for i := 0; i < cfg.Down; i++ {
		l.encDn = append(l.encDn, nn.NewConv3d(e, fmt.Sprintf("down.%d", i), nn.Conv3dConfig{In: ws[i], Out: ws[i+1], Kernel: spatial(4), Stride: spatial(2), Padding: pad(1)}))
	}
	for i := 0; i < cfg.Res; i++ {
		l.encRes = append(l.encRes, newResBlock(e.Sub(fmt.Sprintf("res.%d", i)), top, false))
	}
	ts, tk := cfg.TimeStride, cfg.timeKernel()
	l.encT = nn.NewCausalConv3d(e, "time", nn.CausalConv3dConfig{In: top, Out: top, Kernel: [3]int{ts, tk, tk}, Stride: [3]int{ts, 1, 1}, Padding: [2]int{tk / 2, tk / 2}})
	for i := 0; i < cfg.ResTime; i++ {
		l.encTR = append(l.encTR, newResBlock(e.Sub(fmt.Sprintf("res_time.%d", i)), top, false))
	}
	for i := 0; i < cfg.TimeMix; i++ {
		l.encMix = append(l.encMix, newMixBlock(e.Sub(fmt.Sprintf("mix.%d", i)), top, false))
	}
	l.encOut = nn.NewConv3d(e, "conv_out", nn.Conv3dConfig{In: top, Out: lat, Kernel: spatial(3), Padding: pad(1)})
	l.decIn = nn.NewConv3d(d, "conv_in", nn.Conv3dConfig{In: lat, Out: top, Kernel: spatial(3), Padding: pad(1), Bias: true})
	for i := 0; i < cfg.Res; i++ {
		l.decRes = append(l.decRes, newResBlock(d.Sub(fmt.Sprintf("res.%d", i)), top, true))
	}
	for i := 0; i < cfg.TimeMix; i++ {
		l.decMix = append(l.decMix, newMixBlock(d.Sub(fmt.Sprintf("mix.%d", i)), top, true))
	}
	l.decT = nn.NewConvTranspose3d(d, "time", nn.ConvTranspose3dConfig{In: top, Out: top, Kernel: [3]int{ts, tk, tk}, Stride: [3]int{ts, 1, 1},
		PadBefore: [3]int{ts - 1, tk / 2, tk / 2}, PadAfter: [3]int{0, tk / 2, tk / 2}, Bias: true})
	for i := 0; i < cfg.ResTime; i++ {
		l.decTR = append(l.decTR, newResBlock(d.Sub(fmt.Sprintf("res_time.%d", i)), top, true))
	}
	for i := 0; i < cfg.Down; i++ {
		in, out := ws[cfg.Down-i], ws[cfg.Down-i-1]
		l.decUp = append(l.decUp, nn.NewConvTranspose3d(d, fmt.Sprintf("up.%d", i), nn.ConvTranspose3dConfig{In: in, Out: out, Kernel: spatial(4), Stride: spatial(2), PadBefore: pad(1), PadAfter: pad(1), Bias: true}))
	}
	l.decOut = nn.NewConv3d(d, "conv_out", nn.Conv3dConfig{In: ws[0], Out: c, Kernel: spatial(3), Padding: pad(1), Bias: true})
	if !b.ShapesOnly() {
		identityInTime(l.encT.W.Data(), l.decT.W.Data(), top, ts, tk)
		l.heInit()
	}
	return l
}

// heInit rescales the spatial convs from PyTorch's default U(±1/√fan_in)
// to He's U(±√(6/fan_in)), which keeps the signal's variance through
// SiLU layers, and zeroes the second conv (and its bias) of each residual
// block so a block starts as the identity. With the default init the bias-free
// encoder shrank a frame about 10⁴× by the latent, every vector took the
// zero code, the decoder saw zeros and the encoder's gradient was 2e-8 of
// the output layer's (TestEncoderGetsGradient).
func (l *layers) heInit() {
	scale := func(p *nn.Param) {
		w := p.Data() // once: Data goes through reflection
		for i := range w {
			w[i] *= float32(math.Sqrt(6))
		}
	}
	for _, c := range append([]*nn.Conv3d{l.encIn, l.encOut, l.decIn, l.decOut}, l.encDn...) {
		scale(c.W)
	}
	for _, u := range l.decUp {
		scale(u.W)
	}
	for _, r := range slices.Concat(l.encRes, l.decRes, l.encTR, l.decTR, l.encMix, l.decMix) {
		scale(r.w1)
		clear(r.c2.W.Data())
		if r.c2.B != nil {
			clear(r.c2.B.Data())
		}
	}
}

// identityInTime starts the temporal convs as the identity on the image
// path: the encoder's causal conv passes the last frame of each group
// (frame 0 alone) through, the decoder's transposed conv copies each latent
// frame to the frames it covers. With the default random init these two
// layers shrank the signal and its gradient about 10× each way, and the
// encoder's gradients fell below AdamW's ε (measured: first moments of
// 1e-11), so the image stage barely trained the encoder. Only the centre
// of a tk×tk spatial kernel is set.
func identityInTime(enc, dec []float32, w, k, tk int) {
	clear(enc) // [Out, In, k, tk, tk]
	clear(dec) // [In, Out, k, tk, tk]
	centre := func(c, t int) int { return (((c*w+c)*k+t)*tk+tk/2)*tk + tk/2 }
	for c := range w {
		enc[centre(c, k-1)] = 1
		for t := range k {
			dec[centre(c, t)] = 1
		}
	}
}

// resBlock is x + c2(SiLU(c1(x))) with per-frame 3×3 convs: depth at the
// latent resolution, where it is cheap. A mix block (newMixBlock) has a c1
// that is causal over latent time instead.
type resBlock struct {
	c1 forwarder
	w1 *nn.Param  // c1's weights
	c2 *nn.Conv3d // zero at init, so the block starts as the identity
}

func newResBlock(b *nn.Builder, w int, bias bool) *resBlock {
	cfg := nn.Conv3dConfig{In: w, Out: w, Kernel: spatial(3), Padding: pad(1), Bias: bias}
	c1 := nn.NewConv3d(b, "conv1", cfg)
	return &resBlock{c1: c1, w1: c1.W, c2: nn.NewConv3d(b, "conv2", cfg)}
}

// newMixBlock is a resBlock whose first conv, (2, 3, 3) and causal in
// time, sees a latent frame and the one before it (the first sees zeros
// before it, so an image is still a one-frame video).
func newMixBlock(b *nn.Builder, w int, bias bool) *resBlock {
	c1 := nn.NewCausalConv3d(b, "conv1", nn.CausalConv3dConfig{In: w, Out: w, Kernel: [3]int{2, 3, 3}, Stride: [3]int{1, 1, 1}, Padding: [2]int{1, 1}, Bias: bias})
	return &resBlock{c1: c1, w1: c1.W, c2: nn.NewConv3d(b, "conv2", nn.Conv3dConfig{In: w, Out: w, Kernel: spatial(3), Padding: pad(1), Bias: bias})}
}

func (r *resBlock) Forward(x *G.Node) (*G.Node, error) {
	h, err := chain(x, r.c1, r.c2)
	if err != nil {
		return nil, err
	}
	return G.Add(x, h)
}

type forwarder interface {
	Forward(*G.Node) (*G.Node, error)
}

// chain applies layers with SiLU between them (not after the last).
func chain(x *G.Node, ls ...forwarder) (*G.Node, error) {
	var err error
	for i, l := range ls {
		if x, err = l.Forward(x); err != nil {
			return nil, err
		}
		if i < len(ls)-1 {
			if x, err = nn.SiLU(x); err != nil {
				return nil, err
			}
		}
	}
	return x, nil
}

// encode: x [B, C, T, S, S] → latent frames [B·T', D, s, s].
func (l *layers) encode(x *G.Node) (*G.Node, error) {
	ls := []forwarder{l.encIn}
	for _, d := range l.encDn {
		ls = append(ls, d)
	}
	for _, r := range l.encRes {
		ls = append(ls, r)
	}
	h, err := chain(x, append(ls, l.encT)...)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	if h, err = residuals(h, l.encTR); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	if h, err = blocks(h, l.encMix); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	z, err := l.encOut.Forward(h) // [B, D, T', s, s]
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return nn.FramesToBatch(z)
}

// decode: latent frames [B·T', D, s, s] of b clips → [B, C, T, S, S].
func (l *layers) decode(z *G.Node, b int) (*G.Node, error) {
	tl := z.Shape()[0] / b
	v, err := nn.BatchToFrames(z, b, tl)
	if err != nil {
		return nil, err
	}
	ls := []forwarder{l.decIn}
	for _, r := range l.decRes {
		ls = append(ls, r)
	}
	h, err := chain(v, ls...)
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if h, err = blocks(h, l.decMix); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if h, err = nn.SiLU(h); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if h, err = l.decT.Forward(h); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if h, err = residuals(h, l.decTR); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	ls = nil
	for _, u := range l.decUp {
		ls = append(ls, u)
	}
	y, err := chain(h, append(ls, l.decOut)...)
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	return y, nil
}

// blocks applies residual blocks one after another, with no activation
// between or around them, so that blocks that start as the identity leave
// the network as it was without them.
func blocks(x *G.Node, rs []*resBlock) (*G.Node, error) {
	var err error
	for _, r := range rs {
		if x, err = r.Forward(x); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// residuals applies SiLU, then blocks.
func residuals(x *G.Node, rs []*resBlock) (*G.Node, error) {
	x, err := nn.SiLU(x)
	if err != nil {
		return nil, err
	}
	return blocks(x, rs)
}

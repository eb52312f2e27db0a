package video

import (
	"errors"
	"fmt"
	"strings"

	G "gorgonia.org/gorgonia"

	"github.com/omniar/omniar/msvq"
	"github.com/omniar/omniar/nn"
	"github.com/omniar/omniar/tokenizers/tokfile"
)

// Weights are a tokenizer's tensors by name (checkpoint names) plus its codebook.
type Weights struct {
	Params   map[string][]float32
	Codebook []float32
}

// Weights copies the trainer's current weights.
func (t *Trainer) Weights() Weights {
	w := Weights{Params: map[string][]float32{}, Codebook: append([]float32(nil), t.Q.CodebookData()...)}
	for _, p := range t.params {
		w.Params[p.Name()] = append([]float32(nil), p.Data()...)
	}
	return w
}

// ID names a tokenizer by its codebook and quantizer refinement weights
// (what turns codes into latents), so tokens are never decoded by another
// tokenizer: the codebook id of its .tok files and token stores.
func (w Weights) ID() string {
	return tokfile.CodebookID(w.Codebook, w.Params["quant.phi.weight"])
}

// Encoder tokenizes clips of a fixed frame count, one at a time.
type Encoder struct {
	cfg    Config
	frames int
	x      *nn.Input
	q      *msvq.Quantizer
	vm     G.VM
}

// NewEncoder builds the encoding graph for clips of frames frames.
func NewEncoder(cfg Config, frames int, w Weights) (*Encoder, error) {
	if _, err := cfg.LatentFrames(frames); err != nil {
		return nil, err
	}
	b := nn.NewLoadBuilder()
	e := &Encoder{cfg: cfg, frames: frames, x: b.Input("x", 1, cfg.Channels, frames, cfg.Size, cfg.Size)}
	l := newLayers(b, cfg)
	var err error
	if e.q, err = msvq.New(b, "quant", cfg.Quant, 0); err != nil {
		return nil, err
	}
	z, err := l.encode(e.x.Node)
	if err != nil {
		return nil, err
	}
	if _, err := e.q.Forward(z); err != nil {
		return nil, err
	}
	if err := nn.LoadParams(b.Params(), w.Params); err != nil {
		return nil, fmt.Errorf("tokenizer %w", err)
	}
	copy(e.q.CodebookData(), w.Codebook)
	e.vm = nn.CompileForward(b.G)
	return e, nil
}

// Encode tokenizes one clip [frames, Size, Size] (grey uint8): the token
// maps of every latent frame.
func (e *Encoder) Encode(clip []uint8) ([]msvq.Maps, error) {
	if len(clip) != e.frames*e.cfg.Size*e.cfg.Size*e.cfg.Channels {
		return nil, fmt.Errorf("encode: clip of %d pixels, want %d frames of %d×%d", len(clip), e.frames, e.cfg.Size, e.cfg.Size)
	}
	x := make([]float32, len(clip))
	Pixels(x, clip)
	if err := e.x.Set(x); err != nil {
		return nil, err
	}
	defer e.vm.Reset()
	if err := e.vm.RunAll(); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	idx := e.q.Indices()
	tl := len(idx[0]) // scale 1 has one code a latent frame
	out := make([]msvq.Maps, tl)
	for f := range out {
		out[f] = make(msvq.Maps, len(idx))
		for s, k := range e.cfg.Quant.Scales {
			out[f][s] = idx[s][f*k*k : (f+1)*k*k]
		}
	}
	return out, nil
}

// Close releases the graph.
func (e *Encoder) Close() error { return e.vm.Close() }

// QuantDecoder is the graph-free quantizer decoder over these weights: it
// turns token maps into latents (generation's inputs and outputs).
func (w Weights) QuantDecoder(cfg Config) (*msvq.Decoder, error) {
	phi, ok := w.Params["quant.phi.weight"]
	q := cfg.Quant
	if !ok || len(phi) != q.Dim*q.Dim*9 || len(w.Codebook) != q.Codes*q.Dim {
		return nil, fmt.Errorf("tokenizer weights: no quantizer of %d codes × %d", q.Codes, q.Dim)
	}
	return &msvq.Decoder{Cfg: q, Codebook: w.Codebook, PhiW: phi}, nil
}

// PixelDecoder turns the latents of one clip back into frames.
type PixelDecoder struct {
	cfg     Config
	latents int
	z       *nn.Input
	y       G.Value
	vm      G.VM
}

// NewPixelDecoder builds the decoding graph for clips of latents latent frames.
func NewPixelDecoder(cfg Config, latents int, w Weights) (*PixelDecoder, error) {
	if latents < 1 {
		return nil, fmt.Errorf("pixel decoder: %d latent frames", latents)
	}
	b := nn.NewLoadBuilder()
	h := cfg.Quant.Side()
	d := &PixelDecoder{cfg: cfg, latents: latents, z: b.Input("z", latents, cfg.Quant.Dim, h, h)}
	l := newLayers(b, cfg)
	y, err := l.decode(d.z.Node, 1)
	if err != nil {
		return nil, err
	}
	G.Read(y, &d.y)
	// The encoder and quantizer weights are built but unused here; load
	// only what the decoding graph has.
	var ps []*nn.Param
	for _, p := range b.Params() {
		if strings.HasPrefix(p.Name(), "dec.") {
			ps = append(ps, p)
		}
	}
	if err := nn.LoadParams(ps, w.Params); err != nil {
		return nil, fmt.Errorf("tokenizer %w", err)
	}
	d.vm = nn.CompileForward(b.G)
	return d, nil
}

// Frames is the number of video frames a decode returns.
func (d *PixelDecoder) Frames() int { return 1 + (d.latents-1)*d.cfg.TimeStride }

// Decode maps latents [latents, Dim, side, side] to frames [Frames, Size, Size] (grey).
func (d *PixelDecoder) Decode(latents []float32) ([]uint8, error) {
	if err := d.z.Set(latents); err != nil {
		return nil, fmt.Errorf("pixel decoder: %w", err)
	}
	defer d.vm.Reset()
	if err := d.vm.RunAll(); err != nil {
		return nil, fmt.Errorf("pixel decoder: %w", err)
	}
	return toU8(d.y.Data().([]float32)), nil
}

// Close releases the graph.
func (d *PixelDecoder) Close() error { return d.vm.Close() }

// RoundTrip is the tokenizer's inference path end to end: clips of a fixed
// frame count to token maps (Encoder), token maps to latents (the
// graph-free quantizer decoder), latents to frames (PixelDecoder).
type RoundTrip struct {
	Enc   *Encoder
	Quant *msvq.Decoder
	Pix   *PixelDecoder
}

// NewRoundTrip builds the three for clips of frames frames.
func NewRoundTrip(cfg Config, frames int, w Weights) (*RoundTrip, error) {
	latents, err := cfg.LatentFrames(frames)
	if err != nil {
		return nil, err
	}
	r := &RoundTrip{}
	if r.Quant, err = w.QuantDecoder(cfg); err != nil {
		return nil, err
	}
	if r.Enc, err = NewEncoder(cfg, frames, w); err != nil {
		return nil, err
	}
	if r.Pix, err = NewPixelDecoder(cfg, latents, w); err != nil {
		r.Enc.Close()
		return nil, err
	}
	return r, nil
}

// Run encodes one clip [frames, Size, Size] and decodes its tokens back.
func (r *RoundTrip) Run(clip []uint8) ([]msvq.Maps, []uint8, error) {
	maps, err := r.Enc.Encode(clip)
	if err != nil {
		return nil, nil, err
	}
	lat, err := r.Quant.Latents(maps)
	if err != nil {
		return nil, nil, err
	}
	px, err := r.Pix.Decode(lat)
	return maps, px, err
}

// Close releases the graphs.
func (r *RoundTrip) Close() error { return errors.Join(r.Enc.Close(), r.Pix.Close()) }

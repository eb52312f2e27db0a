package codec

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	G "gorgonia.org/gorgonia"

	"github.com/omniar/omniar/nn"
	"github.com/omniar/omniar/nn/ckpt"
	"github.com/omniar/omniar/tokenizers/tokfile"
)

// Weights are a codec's tensors by name plus its codebooks [D, Codes, Latent].
type Weights struct {
	Params    map[string][]float32
	Codebooks []float32
}

// ChunkFrames bounds the frames one encoder or decoder pass handles, so
// the memory of a pass does not grow with the length of a recording;
// longer audio is cut into chunks of 10 s.
const ChunkFrames = 500

// BucketFrames is the granularity of pass lengths: a clip is padded with
// silence to a multiple of it (0.5 s), so clips of similar length share a
// compiled pass.
const BucketFrames = 25

// Codec encodes and decodes audio with trained weights. Its compiled
// passes are cached by length; it is safe for one goroutine at a time
// (a mutex serialises calls).
type Codec struct {
	Cfg Config
	W   Weights
	id  string
	mu  sync.Mutex
	enc map[int]*encPass
	dec map[int]*decPass
}

type encPass struct {
	x  *nn.Input
	q  *rvq
	z  *G.Value // the latent before quantization [1, Latent, frames]
	vm G.VM
}

type decPass struct {
	z  *nn.Input
	y  *G.Value
	vm G.VM
}

// New checks the weights against the configuration.
func New(cfg Config, w Weights) (*Codec, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if n := cfg.Depths * cfg.Codes * cfg.Latent; len(w.Codebooks) != n {
		return nil, fmt.Errorf("codec weights: %d codebook values, want %d", len(w.Codebooks), n)
	}
	if err := nn.CheckBuild(func(b *nn.Builder) error { newLayers(b, cfg, false); return nil }, nn.MapSizes(w.Params)); err != nil {
		return nil, fmt.Errorf("codec: %w", err)
	}
	b := nn.NewBuilder(0)
	newLayers(b, cfg, false)
	if err := nn.LoadParams(b.Params(), w.Params); err != nil {
		return nil, fmt.Errorf("codec %w", err)
	}
	return &Codec{Cfg: cfg, W: w, id: tokfile.CodebookID(w.Codebooks), enc: map[int]*encPass{}, dec: map[int]*decPass{}}, nil
}

// CodebookID identifies the codebooks in .tok files.
func (c *Codec) CodebookID() string { return c.id }

// Close releases the compiled passes.
func (c *Codec) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, p := range c.enc {
		p.vm.Close()
		delete(c.enc, k)
	}
	for k, p := range c.dec {
		p.vm.Close()
		delete(c.dec, k)
	}
	return nil
}

// Frames is the number of latent frames of n samples (the last one padded
// with silence).
func (c *Codec) Frames(n int) int { return max(1, (n+c.Cfg.Hop()-1)/c.Cfg.Hop()) }

// passFrames is the length of the passes for nf frames.
func passFrames(nf int) int {
	return min((nf+BucketFrames-1)/BucketFrames*BucketFrames, ChunkFrames)
}

// encoder returns the compiled encoding pass of cf frames.
func (c *Codec) encoder(cf int) (*encPass, error) {
	if p := c.enc[cf]; p != nil {
		return p, nil
	}
	b := nn.NewBuilder(0)
	p := &encPass{x: b.Input("x", 1, 1, cf*c.Cfg.Hop()), z: new(G.Value)}
	l := newLayers(b, c.Cfg, false)
	p.q = newRVQ(b, c.Cfg, 0)
	z, err := l.encode(p.x.Node)
	if err != nil {
		return nil, err
	}
	G.Read(z, p.z)
	if _, err := p.q.forward(z); err != nil {
		return nil, err
	}
	if err := nn.LoadParams(b.Params(), c.W.Params); err != nil {
		return nil, fmt.Errorf("codec %w", err)
	}
	cs := c.Cfg.Codes * c.Cfg.Latent
	for d := range p.q.books {
		copy(p.q.codebook(d), c.W.Codebooks[d*cs:(d+1)*cs])
	}
	p.vm = nn.CompileForward(b.G)
	c.enc[cf] = p
	return p, nil
}

// decoder returns the compiled decoding pass of cf frames.
func (c *Codec) decoder(cf int) (*decPass, error) {
	if p := c.dec[cf]; p != nil {
		return p, nil
	}
	b := nn.NewBuilder(0)
	p := &decPass{z: b.Input("z", 1, c.Cfg.Latent, cf), y: new(G.Value)}
	l := newLayers(b, c.Cfg, false)
	y, err := l.decode(p.z.Node)
	if err != nil {
		return nil, err
	}
	G.Read(y, p.y)
	if err := nn.LoadParams(b.Params(), c.W.Params); err != nil {
		return nil, fmt.Errorf("codec %w", err)
	}
	p.vm = nn.CompileForward(b.G)
	c.dec[cf] = p
	return p, nil
}

// Encode tokenizes a 16 kHz mono waveform: codes[frame][depth], depth 0
// the coarsest.
func (c *Codec) Encode(wave []float32) ([][]int, error) {
	codes, _, err := c.encode(wave, false)
	return codes, err
}

// EncodeLatent is Encode that also returns the encoder's latent before
// quantization, [Latent, T] for T = len(codes) frames: DecodeLatent of it
// is what the codec would give without quantization error.
func (c *Codec) EncodeLatent(wave []float32) ([][]int, []float32, error) {
	return c.encode(wave, true)
}

func (c *Codec) encode(wave []float32, latent bool) ([][]int, []float32, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	hop, nf, lat := c.Cfg.Hop(), c.Frames(len(wave)), c.Cfg.Latent
	cf := passFrames(nf)
	p, err := c.encoder(cf)
	if err != nil {
		return nil, nil, err
	}
	out := make([][]int, 0, nf)
	var z []float32
	if latent {
		z = make([]float32, lat*nf)
	}
	buf := make([]float32, cf*hop)
	for f0 := 0; f0 < nf; f0 += cf {
		clear(buf)
		if f0*hop < len(wave) {
			copy(buf, wave[f0*hop:])
		}
		if err := p.x.Set(buf); err != nil {
			return nil, nil, err
		}
		err := p.vm.RunAll()
		if err == nil {
			n := min(cf, nf-f0)
			out = append(out, p.q.codes()[:n]...)
			if latent {
				zc := (*p.z).Data().([]float32)
				for j := 0; j < lat; j++ {
					copy(z[j*nf+f0:j*nf+f0+n], zc[j*cf:j*cf+n])
				}
			}
		}
		p.vm.Reset()
		if err != nil {
			return nil, nil, fmt.Errorf("encode: %w", err)
		}
	}
	return out, z, nil
}

// Latent is the quantized latent [Latent, T] of codes using the first
// depths depths: the sum of their code vectors.
func (c *Codec) Latent(codes [][]int, depths int) ([]float32, error) {
	cfg := c.Cfg
	if depths < 1 || depths > cfg.Depths {
		return nil, fmt.Errorf("decode: %d depths, the codec has 1…%d", depths, cfg.Depths)
	}
	t, cs := len(codes), cfg.Codes*cfg.Latent
	z := make([]float32, cfg.Latent*t)
	for f, fr := range codes {
		if len(fr) < depths {
			return nil, fmt.Errorf("decode: frame %d has %d depths, want ≥ %d", f, len(fr), depths)
		}
		for d := 0; d < depths; d++ {
			k := fr[d]
			if k < 0 || k >= cfg.Codes {
				return nil, fmt.Errorf("decode: frame %d depth %d: code %d outside [0, %d)", f, d, k, cfg.Codes)
			}
			e := c.W.Codebooks[d*cs+k*cfg.Latent:]
			for j := 0; j < cfg.Latent; j++ {
				z[j*t+f] += e[j]
			}
		}
	}
	return z, nil
}

// Decode turns codes[frame][depth] back into a waveform of len(codes)·Hop
// samples, using the first depths depths.
func (c *Codec) Decode(codes [][]int, depths int) ([]float32, error) {
	if len(codes) == 0 {
		return nil, fmt.Errorf("decode: no frames")
	}
	z, err := c.Latent(codes, depths)
	if err != nil {
		return nil, err
	}
	return c.DecodeLatent(z, len(codes))
}

// DecodeLatent turns a latent [Latent, frames] into frames·Hop samples.
func (c *Codec) DecodeLatent(z []float32, frames int) ([]float32, error) {
	if frames < 1 || len(z) != c.Cfg.Latent*frames {
		return nil, fmt.Errorf("decode: a latent of %d values for %d frames of width %d", len(z), frames, c.Cfg.Latent)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	hop, nf, lat := c.Cfg.Hop(), frames, c.Cfg.Latent
	cf := passFrames(nf)
	p, err := c.decoder(cf)
	if err != nil {
		return nil, err
	}
	out := make([]float32, 0, nf*hop)
	buf := make([]float32, lat*cf)
	for f0 := 0; f0 < nf; f0 += cf {
		n := min(cf, nf-f0)
		clear(buf)
		for j := 0; j < lat; j++ {
			copy(buf[j*cf:j*cf+n], z[j*nf+f0:j*nf+f0+n])
		}
		if err := p.z.Set(buf); err != nil {
			return nil, err
		}
		err := p.vm.RunAll()
		if err == nil {
			out = append(out, (*p.y).Data().([]float32)[:n*hop]...)
		}
		p.vm.Reset()
		if err != nil {
			return nil, fmt.Errorf("decode: %w", err)
		}
	}
	return out, nil
}

// Weights-only files (the shipped codec) hold the params by name, the
// codebooks as one [D, Codes, Latent] tensor and the configuration.
const (
	weightsFormat  = "omniar-audio-codec-v1"
	codebooksName  = "rvq.codebooks"
	metaConfig     = "config"
	metaFormat     = "format"
	metaTrainState = "task_state"
)

// SaveWeights writes a weights-only checkpoint (no optimizer state).
func SaveWeights(path string, cfg Config, w Weights) error {
	names := make([]string, 0, len(w.Params))
	for n := range w.Params {
		names = append(names, n)
	}
	slices.Sort(names) // so the file is a function of the weights
	ts := make([]ckpt.Tensor, 0, len(names)+1)
	for _, n := range names {
		ts = append(ts, ckpt.Tensor{Name: n, Shape: []int{len(w.Params[n])}, Data: w.Params[n]})
	}
	ts = append(ts, ckpt.Tensor{Name: codebooksName, Shape: []int{cfg.Depths, cfg.Codes, cfg.Latent}, Data: w.Codebooks})
	return ckpt.Save(path, map[string]string{metaFormat: weightsFormat, metaConfig: cfg.JSON()}, ts, ckpt.F16)
}

// Load reads a codec from a weights-only file or a training checkpoint.
func Load(path string) (*Codec, error) {
	cfg, w, _, err := readFile(path)
	if err != nil {
		return nil, err
	}
	c, err := New(cfg, w)
	if err != nil {
		return nil, fmt.Errorf("audio codec %s: %w", path, err)
	}
	return c, nil
}

// readFile reads the configuration, the weights and, from a training
// checkpoint, the quantizer's state (nil from a weights-only file).
func readFile(path string) (Config, Weights, *state, error) {
	var cfg Config
	f, err := ckpt.Load(path)
	if err != nil {
		return cfg, Weights{}, nil, err
	}
	if err := json.Unmarshal([]byte(f.Meta[metaConfig]), &cfg); err != nil {
		return cfg, Weights{}, nil, fmt.Errorf("audio codec %s: config: %w", path, err)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, Weights{}, nil, fmt.Errorf("audio codec %s: %w", path, err)
	}
	w := Weights{Params: map[string][]float32{}}
	for _, n := range f.Names() {
		if strings.HasPrefix(n, "optim.") || n == codebooksName {
			continue
		}
		if w.Params[n], err = f.Get(n); err != nil {
			return cfg, Weights{}, nil, err
		}
	}
	if f.Has(codebooksName) {
		if w.Codebooks, err = f.Get(codebooksName); err != nil {
			return cfg, Weights{}, nil, err
		}
		return cfg, w, nil, nil
	}
	raw, err := base64.StdEncoding.DecodeString(f.Meta[metaTrainState])
	if err != nil {
		return cfg, Weights{}, nil, fmt.Errorf("audio codec %s: state: %w", path, err)
	}
	st, err := decodeState(raw, cfg)
	if err != nil {
		return cfg, Weights{}, nil, fmt.Errorf("audio codec %s: %w", path, err)
	}
	w.Codebooks = st.codebooks
	return cfg, w, &st, nil
}

// Token file dims: the indices are depth-major (all frames of depth 0,
// then depth 1, …), so a reader can take the coarse depths alone.
const (
	DimDepths     = "depths"
	DimFrames     = "frames"
	DimSampleRate = "sample_rate"
	DimFrameSize  = "frame_size"
	DimSamples    = "samples"
)

// ToFile packs codes[frame][depth] of a clip of samples samples into a
// .tok file.
func (c *Codec) ToFile(codes [][]int, samples int) *tokfile.File {
	t, d := len(codes), c.Cfg.Depths
	idx := make([]uint16, t*d)
	for f, fr := range codes {
		for k, v := range fr {
			idx[k*t+f] = uint16(v)
		}
	}
	scales := make([]int, d)
	for i := range scales {
		scales[i] = i + 1
	}
	return &tokfile.File{Header: tokfile.Header{Modality: "audio",
		Dims: []tokfile.Dim{{Name: DimDepths, Size: d}, {Name: DimFrames, Size: t},
			{Name: DimSampleRate, Size: c.Cfg.Rate}, {Name: DimFrameSize, Size: c.Cfg.Hop()}, {Name: DimSamples, Size: samples}},
		Scales: scales, CodebookID: c.id, CodebookSize: c.Cfg.Codes, Count: len(idx)}, Indices: idx}
}

// FromFile unpacks a .tok file made by this codec: codes[frame][depth]
// (the file may hold fewer depths than the codec) and the sample count.
func (c *Codec) FromFile(f *tokfile.File) (codes [][]int, samples int, err error) {
	if err := f.Check("audio", c.id); err != nil {
		return nil, 0, err
	}
	v, err := f.MustDims(DimDepths, DimFrames, DimSampleRate, DimFrameSize, DimSamples)
	if err != nil {
		return nil, 0, err
	}
	d, t := v[0], v[1]
	switch {
	case f.CodebookSize != c.Cfg.Codes:
		return nil, 0, fmt.Errorf("tokens of a %d-code codebook, the codec has %d", f.CodebookSize, c.Cfg.Codes)
	case v[2] != c.Cfg.Rate || v[3] != c.Cfg.Hop():
		return nil, 0, fmt.Errorf("tokens of %d Hz audio in %d-sample frames, the codec has %d Hz and %d", v[2], v[3], c.Cfg.Rate, c.Cfg.Hop())
	case d < 1 || d > c.Cfg.Depths || t < 1 || d*t != f.Count:
		return nil, 0, fmt.Errorf("%d depths × %d frames do not fit %d indices (codec: up to %d depths)", d, t, f.Count, c.Cfg.Depths)
	case v[4] < 0 || v[4] > t*c.Cfg.Hop():
		return nil, 0, fmt.Errorf("%d samples do not fit %d frames", v[4], t)
	}
	codes = make([][]int, t)
	for fr := range codes {
		codes[fr] = make([]int, d)
		for k := range codes[fr] {
			codes[fr][k] = int(f.Indices[k*t+fr])
		}
	}
	return codes, v[4], nil
}

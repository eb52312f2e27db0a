package codec

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/omniar/omniar/audio"
	"github.com/omniar/omniar/nn"
	"github.com/omniar/omniar/nn/optim"
)

// TrainConfig is the training-graph shape.
type TrainConfig struct {
	Batch   int // clips a step
	Samples int // samples a clip, a multiple of Hop
	Seed    uint64
}

// Trainer is the codec compiled for training on [Batch, Samples] clips.
type Trainer struct {
	Cfg     Config
	TC      TrainConfig
	q       *rvq
	x       *nn.Input
	prog    *nn.Program
	params  []*nn.Param
	choice  int // index of the depth prefix the decoder sees this step
	rng     *rand.PCG
	recon   G.Value
	Metrics StepMetrics
}

// StepMetrics are the figures of the last step.
type StepMetrics struct {
	Depths    int     // depths the decoder used
	SNR       float64 // of the reconstruction over the batch, dB
	Restarted int     // dead codes restarted
}

// NewTrainer builds the training graph.
func NewTrainer(cfg Config, tc TrainConfig) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if tc.Batch < 1 || tc.Samples < cfg.Hop() || tc.Samples%cfg.Hop() != 0 {
		return nil, fmt.Errorf("codec trainer: batch %d of %d samples: need ≥ 1 clips of a positive multiple of %d samples", tc.Batch, tc.Samples, cfg.Hop())
	}
	for _, n := range cfg.FFTs {
		if n > tc.Samples {
			return nil, fmt.Errorf("codec trainer: FFT size %d is longer than a %d-sample clip", n, tc.Samples)
		}
	}
	b := nn.NewBuilder(tc.Seed)
	t := &Trainer{Cfg: cfg, TC: tc, rng: rand.NewPCG(tc.Seed, 5)}
	t.x = b.Input("x", tc.Batch, tc.Samples)
	l := newLayers(b, cfg, true)
	t.q = newRVQ(b, cfg, tc.Seed)
	loss, err := t.build(l)
	if err != nil {
		return nil, fmt.Errorf("codec graph: %w", err)
	}
	t.params = b.Params()
	if t.prog, err = nn.Compile(b.G, loss, t.params); err != nil {
		return nil, err
	}
	for _, s := range t.q.stats {
		s.On = true
	}
	return t, nil
}

func (t *Trainer) build(l *layers) (*G.Node, error) {
	n, s := t.TC.Batch, t.TC.Samples
	x3, err := G.Reshape(t.x.Node, []int{n, 1, s})
	if err != nil {
		return nil, err
	}
	z, err := l.encode(x3)
	if err != nil {
		return nil, err
	}
	q, err := t.q.forward(z)
	if err != nil {
		return nil, err
	}
	zq, err := nn.Choose(&t.choice, q.prefix...)
	if err != nil {
		return nil, err
	}
	y, err := l.decode(zq)
	if err != nil {
		return nil, err
	}
	if y, err = G.Reshape(y, []int{n, s}); err != nil {
		return nil, err
	}
	G.Read(y, &t.recon)
	loss, err := reconLoss(t.Cfg, y, t.x.Node)
	if err != nil {
		return nil, err
	}
	commit, err := G.Mul(q.commit, G.NewConstant(float32(t.Cfg.Beta)))
	if err != nil {
		return nil, err
	}
	return G.Add(loss, commit)
}

// reconLoss is WaveWeight·mean|y − x| + the mean over FFT sizes of
// spectral convergence ‖|Y| − |X|‖_F/‖|X|‖_F, mean |log|Y| − log|X|| and
// MelWeight·mean |log mel(Y) − log mel(X)|; y, x [N, L].
func reconLoss(cfg Config, y, x *G.Node) (*G.Node, error) {
	d, err := G.Sub(y, x)
	if err != nil {
		return nil, err
	}
	if d, err = G.Abs(d); err != nil {
		return nil, err
	}
	loss, err := G.Mean(d)
	if err != nil {
		return nil, err
	}
	if loss, err = G.Mul(loss, G.NewConstant(float32(cfg.WaveWeight))); err != nil {
		return nil, err
	}
	w := G.NewConstant(float32(1 / float64(len(cfg.FFTs))))
	for _, n := range cfg.FFTs {
		l, err := stftLoss(cfg, y, x, n)
		if err != nil {
			return nil, fmt.Errorf("stft loss %d: %w", n, err)
		}
		if l, err = G.Mul(l, w); err != nil {
			return nil, err
		}
		if loss, err = G.Add(loss, l); err != nil {
			return nil, err
		}
	}
	return loss, nil
}

// stftLoss is spectral convergence + log-magnitude L1 (+ MelWeight·log-mel
// L1) at window n, hop n/4.
func stftLoss(cfg Config, y, x *G.Node, n int) (*G.Node, error) {
	sy, err := nn.STFTMag(y, n, n/4)
	if err != nil {
		return nil, err
	}
	sx, err := nn.STFTMag(x, n, n/4)
	if err != nil {
		return nil, err
	}
	diff, err := G.Sub(sy, sx)
	if err != nil {
		return nil, err
	}
	sq, err := G.Square(diff)
	if err != nil {
		return nil, err
	}
	num, err := G.Sum(sq)
	if err != nil {
		return nil, err
	}
	sx2, err := G.Square(sx)
	if err != nil {
		return nil, err
	}
	den, err := G.Sum(sx2)
	if err != nil {
		return nil, err
	}
	ratio, err := G.Div(num, den)
	if err != nil {
		return nil, err
	}
	sc, err := G.Sqrt(ratio)
	if err != nil {
		return nil, err
	}
	floor := G.NewConstant(float32(LogFloor))
	ly, err := logFloor(sy, floor)
	if err != nil {
		return nil, err
	}
	lx, err := logFloor(sx, floor)
	if err != nil {
		return nil, err
	}
	ld, err := G.Sub(ly, lx)
	if err != nil {
		return nil, err
	}
	if ld, err = G.Abs(ld); err != nil {
		return nil, err
	}
	lm, err := G.Mean(ld)
	if err != nil {
		return nil, err
	}
	loss, err := G.Add(sc, lm)
	if err != nil || cfg.MelWeight == 0 {
		return loss, err
	}
	ml, err := melLoss(cfg, sy, sx, n)
	if err != nil {
		return nil, err
	}
	if ml, err = G.Mul(ml, G.NewConstant(float32(cfg.MelWeight))); err != nil {
		return nil, err
	}
	return G.Add(loss, ml)
}

// MelFloor is added to mel energies (power) before the logarithm. It is
// far under LogFloor²: in the voiced frames of the training speech the
// STFT magnitudes of the second and third formants (1–4 kHz) lie only a
// few times over LogFloor, many under it, so the log-magnitude loss
// compresses that band; a mel band sums several bins, and this floor lies
// far under it.
const MelFloor = 1e-5

// melLoss is mean |ln(mel(Y) + MelFloor) − ln(mel(X) + MelFloor)| over
// n/8 bands, from the STFT magnitudes sy, sx [N, T, n/2+1].
func melLoss(cfg Config, sy, sx *G.Node, n int) (*G.Node, error) {
	s := sy.Shape()
	bins, mels := s[2], n/8
	bank := G.NewConstant(tensor.New(tensor.WithShape(bins, mels), tensor.WithBacking(audio.MelMatrix(cfg.Rate, n, mels))))
	floor := G.NewConstant(float32(MelFloor))
	logMel := func(m *G.Node) (*G.Node, error) {
		p, err := G.Square(m)
		if err != nil {
			return nil, err
		}
		if p, err = G.Reshape(p, []int{s[0] * s[1], bins}); err != nil {
			return nil, err
		}
		if p, err = G.Mul(p, bank); err != nil {
			return nil, err
		}
		return logFloor(p, floor)
	}
	ly, err := logMel(sy)
	if err != nil {
		return nil, err
	}
	lx, err := logMel(sx)
	if err != nil {
		return nil, err
	}
	d, err := G.Sub(ly, lx)
	if err != nil {
		return nil, err
	}
	if d, err = G.Abs(d); err != nil {
		return nil, err
	}
	return G.Mean(d)
}

// LogFloor is added to STFT magnitudes before the logarithm: a bin of
// noise 70 dB under full scale counts as silence, so the loss does not
// chase inaudible noise in the digital silence between words.
const LogFloor = 1e-2

func logFloor(s, floor *G.Node) (*G.Node, error) {
	a, err := G.Add(s, floor)
	if err != nil {
		return nil, err
	}
	return G.Log(a)
}

// Step trains on one batch [Batch·Samples] of waveforms in [-1, 1]:
// forward, backward, then the codebooks' EMA update. The optimizer step is
// the caller's (nn/train).
func (t *Trainer) Step(wave []float32) (float64, error) {
	if err := t.x.Set(wave); err != nil {
		return 0, fmt.Errorf("codec step: %w", err)
	}
	t.choice = t.Cfg.Depths - 1
	if float64(t.rng.Uint64()>>11)/(1<<53) < t.Cfg.QDropout {
		t.choice = int(t.rng.Uint64() % uint64(t.Cfg.Depths))
	}
	loss, err := t.prog.Run()
	if err != nil {
		return loss, err
	}
	t.Metrics = StepMetrics{Depths: t.choice + 1, SNR: snr(t.recon.Data().([]float32), wave), Restarted: t.q.update()}
	return loss, nil
}

// snr is 10·log10(Σx²/Σ(y−x)²).
func snr(y, x []float32) float64 {
	var s, e float64
	for i, v := range x {
		d := float64(y[i] - v)
		s += float64(v) * float64(v)
		e += d * d
	}
	return 10 * math.Log10(math.Max(s, 1e-20)/math.Max(e, 1e-20))
}

// Params are the trainable tensors (encoder and decoder).
func (t *Trainer) Params() []optim.Param {
	ps := make([]optim.Param, len(t.params))
	for i, p := range t.params {
		ps[i] = p
	}
	return ps
}

// Weights copies the trainer's current weights.
func (t *Trainer) Weights() Weights {
	w := Weights{Params: map[string][]float32{}, Codebooks: t.q.codebooks()}
	for _, p := range t.params {
		w.Params[p.Name()] = append([]float32(nil), p.Data()...)
	}
	return w
}

// MarshalState saves what is not a parameter: the generator of the depth
// choices, the codebooks and their EMA statistics.
func (t *Trainer) MarshalState() ([]byte, error) {
	rng, err := t.rng.MarshalBinary()
	if err != nil {
		return nil, err
	}
	out := binary.LittleEndian.AppendUint32(nil, uint32(len(rng)))
	out = append(out, rng...)
	for _, v := range t.q.codebooks() {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
	}
	for d := range t.q.books {
		for _, v := range append(append([]float64(nil), t.q.count[d]...), t.q.sum[d]...) {
			out = binary.LittleEndian.AppendUint64(out, math.Float64bits(v))
		}
	}
	qr, err := t.q.rngState()
	if err != nil {
		return nil, err
	}
	return append(out, qr...), nil
}

// UnmarshalState restores MarshalState's bytes.
func (t *Trainer) UnmarshalState(b []byte) error {
	st, err := decodeState(b, t.Cfg)
	if err != nil {
		return err
	}
	if err := t.rng.UnmarshalBinary(st.rng); err != nil {
		return err
	}
	cs := t.Cfg.Codes * t.Cfg.Latent
	for d := range t.q.books {
		copy(t.q.codebook(d), st.codebooks[d*cs:(d+1)*cs])
		copy(t.q.count[d], st.count[d])
		copy(t.q.sum[d], st.sum[d])
	}
	return t.q.setRNGState(st.qrng)
}

// state is MarshalState's layout: u32 length + generator state, the
// codebooks [D, Codes, Latent] as float32, per depth the EMA counts and
// sums as float64, then the restart generator's state.
type state struct {
	rng, qrng  []byte
	codebooks  []float32
	count, sum [][]float64
}

func decodeState(b []byte, cfg Config) (state, error) {
	var st state
	if len(b) < 4 {
		return st, fmt.Errorf("codec state: %d bytes", len(b))
	}
	nr := int(binary.LittleEndian.Uint32(b))
	cs := cfg.Codes * cfg.Latent
	fixed := 4 + nr + 4*cfg.Depths*cs + 8*cfg.Depths*(cfg.Codes+cs)
	if nr > len(b) || len(b) < fixed {
		return st, fmt.Errorf("codec state: %d bytes, want more than %d (another configuration?)", len(b), fixed)
	}
	st.rng = b[4 : 4+nr]
	p := b[4+nr:]
	st.codebooks = make([]float32, cfg.Depths*cs)
	for i := range st.codebooks {
		st.codebooks[i] = math.Float32frombits(binary.LittleEndian.Uint32(p[4*i:]))
	}
	p = p[4*len(st.codebooks):]
	f64 := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = math.Float64frombits(binary.LittleEndian.Uint64(p[8*i:]))
		}
		p = p[8*n:]
		return v
	}
	for d := 0; d < cfg.Depths; d++ {
		st.count = append(st.count, f64(cfg.Codes))
		st.sum = append(st.sum, f64(cs))
	}
	st.qrng = p
	return st, nil
}

// InitFrom starts training from the codec in path (a weights file or a
// training checkpoint) instead of random weights: every tensor of that
// codec is copied into the tensor of the same name (which must have the
// same size); tensors it lacks (residual units or a head this
// configuration adds) keep their initialisation, and tensors this
// configuration lacks are skipped; the codebooks are copied with their EMA
// statistics from a training checkpoint, or from a weights file with each
// code counted once, so that no code restarts at the first update. It
// returns the number of tensors copied.
func (t *Trainer) InitFrom(path string) (int, error) {
	cfg, w, st, err := readFile(path)
	if err != nil {
		return 0, err
	}
	if cfg.Depths != t.Cfg.Depths || cfg.Codes != t.Cfg.Codes || cfg.Latent != t.Cfg.Latent {
		return 0, fmt.Errorf("codec init %s: %d depths × %d codes of width %d, this codec has %d × %d of %d",
			path, cfg.Depths, cfg.Codes, cfg.Latent, t.Cfg.Depths, t.Cfg.Codes, t.Cfg.Latent)
	}
	byName := map[string]*nn.Param{}
	for _, p := range t.params {
		byName[p.Name()] = p
	}
	copied := 0
	for n, v := range w.Params {
		p := byName[n]
		switch {
		case p == nil: // a layer this configuration replaces
			continue
		case len(p.Data()) != len(v):
			return 0, fmt.Errorf("codec init %s: tensor %s has %d values, here %d: another architecture", path, n, len(v), len(p.Data()))
		}
		copy(p.Data(), v)
		copied++
	}
	cs := cfg.Codes * cfg.Latent
	for d := range t.q.books {
		cb := w.Codebooks[d*cs : (d+1)*cs]
		copy(t.q.codebook(d), cb)
		if st != nil {
			copy(t.q.count[d], st.count[d])
			copy(t.q.sum[d], st.sum[d])
			continue
		}
		for k := range t.q.count[d] {
			t.q.count[d][k] = 1
			for j := 0; j < cfg.Latent; j++ {
				t.q.sum[d][k*cfg.Latent+j] = float64(cb[k*cfg.Latent+j])
			}
		}
	}
	return copied, nil
}

// Close releases the graph.
func (t *Trainer) Close() error { return t.prog.Close() }

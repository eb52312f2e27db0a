package codec

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/dsp/fourier"
	G "gorgonia.org/gorgonia"

	"github.com/omniar/omniar/audio"
	"github.com/omniar/omniar/internal/blas"
	"github.com/omniar/omniar/nn"
	"github.com/omniar/omniar/nn/optim"
	"github.com/omniar/omniar/tokenizers/tokfile"
)

func TestMain(m *testing.M) {
	blas.Install()
	os.Exit(m.Run())
}

// speech is testdata/speech.wav: 0.5 s of an espeak-ng voice of the
// speech training split ("car").
func speech(t *testing.T) []float32 {
	t.Helper()
	c, err := audio.ReadFile(filepath.Join("testdata", "speech.wav"))
	if err != nil {
		t.Fatal(err)
	}
	return c.Samples
}

// batch cuts n clips of s samples from wave, evenly spaced.
func batch(wave []float32, n, s int) []float32 {
	out := make([]float32, 0, n*s)
	step := (len(wave) - s) / max(n-1, 1)
	for i := 0; i < n; i++ {
		out = append(out, wave[i*step:i*step+s]...)
	}
	return out
}

// trained returns a tiny trainer after steps steps on the test clip.
func trained(t *testing.T, steps int) (*Trainer, []float64) {
	t.Helper()
	return trainedCfg(t, Tiny(), steps)
}

// tinyHead is Tiny with the mel loss and a filterbank head.
func tinyHead() Config {
	c := Tiny()
	c.MelWeight, c.Head = 1, &HeadConfig{Hop: 10, Size: 40, Width: 8, Dilations: []int{1, 3}}
	return c
}

func trainedCfg(t *testing.T, cfg Config, steps int) (*Trainer, []float64) {
	t.Helper()
	tr, err := NewTrainer(cfg, TrainConfig{Batch: 2, Samples: 1600, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	opt := optim.NewAdamW(optim.DefaultAdamW(), tr.Params())
	x := batch(speech(t), 2, 1600)
	var losses []float64
	for i := 0; i < steps; i++ {
		loss, err := tr.Step(x)
		if err != nil {
			t.Fatal(err)
		}
		losses = append(losses, loss)
		opt.Step(3e-3, nil)
	}
	return tr, losses
}

func TestTrainerLearns(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{{"tiny", Tiny()}, {"mel loss, head", tinyHead()}} {
		t.Run(tc.name, func(t *testing.T) {
			_, losses := trainedCfg(t, tc.cfg, 60)
			first, last := mean(losses[:5]), mean(losses[len(losses)-5:])
			if !(last < 0.7*first) {
				t.Errorf("loss %.3f → %.3f in %d steps on a real clip", first, last, len(losses))
			}
		})
	}
}

// TestHeadTensors: a head decoder keeps SmallV1-style encoder tensors,
// the decoder's conv_in and coarsest unit, and replaces the rest; a
// config without a head (every codec trained before heads existed) has
// exactly its old tensors.
func TestHeadTensors(t *testing.T) {
	names := func(cfg Config) map[string]bool {
		b := nn.NewBuilder(0)
		newLayers(b, cfg, false)
		m := map[string]bool{}
		for _, p := range b.Params() {
			m[p.Name()] = true
		}
		return m
	}
	old, hd := names(Tiny()), names(tinyHead())
	for n := range old {
		if strings.Contains(n, "head") {
			t.Errorf("%s in a config without a head", n)
		}
		keep := strings.HasPrefix(n, "enc.") || strings.HasPrefix(n, "dec.conv_in.") || strings.HasPrefix(n, "dec.res.0.")
		if keep != hd[n] {
			t.Errorf("%s: in the head codec %v, want %v", n, hd[n], keep)
		}
	}
	for _, n := range []string{"dec.head.up.weight", "dec.head.res.1.conv1.weight", "dec.head.logspec.bias", "dec.head.synth.weight"} {
		if !hd[n] {
			t.Errorf("%s missing", n)
		}
	}
	if hd["dec.head.synth.bias"] || hd["dec.head.res.2.conv1.weight"] {
		t.Error("a synthesis bias or a third unit")
	}
}

// TestHeadGradient: the gradient of the loss with respect to the latent,
// through the head decoder (its log-magnitude and phase outputs and the
// synthesis), matches central differences along random directions.
func TestHeadGradient(t *testing.T) {
	cfg := tinyHead()
	b := nn.NewBuilder(4)
	z := b.Param("z", false, nn.Uniform(1), 2, cfg.Latent, 6)
	x := b.Input("x", 2, 6*cfg.Hop())
	if err := x.Set(batch(speech(t), 2, 6*cfg.Hop())); err != nil {
		t.Fatal(err)
	}
	l := newLayers(b.Sub("m"), cfg, true)
	y, err := l.decode(z.Node())
	if err != nil {
		t.Fatal(err)
	}
	if y, err = G.Reshape(y, []int{2, 6 * cfg.Hop()}); err != nil {
		t.Fatal(err)
	}
	loss, err := reconLoss(cfg, y, x.Node)
	if err != nil {
		t.Fatal(err)
	}
	checkDirectional(t, b, loss, z, 1e-2)
}

// checkDirectional compares the gradient of loss with respect to p with
// central differences of step eps along four random directions (the loss
// is float32: too small a step measures its rounding).
func checkDirectional(t *testing.T, b *nn.Builder, loss *G.Node, p *nn.Param, eps float64) {
	t.Helper()
	prog, err := nn.Compile(b.G, loss, []*nn.Param{p})
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	if _, err := prog.Run(); err != nil {
		t.Fatal(err)
	}
	p0, g := append([]float32(nil), p.Data()...), append([]float32(nil), p.Grad()...)
	at := func(v []float64, eps float64) float64 {
		for i := range p0 {
			p.Data()[i] = p0[i] + float32(eps*v[i])
		}
		l, err := prog.Run()
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for k := 0; k < 4; k++ {
		v := make([]float64, len(p0))
		var an float64
		for i := range v {
			v[i] = rng.NormFloat64() / math.Sqrt(float64(len(v)))
			an += v[i] * float64(g[i])
		}
		fd := (at(v, eps) - at(v, -eps)) / (2 * eps)
		t.Logf("direction %d: analytic %.5f, central difference %.5f", k, an, fd)
		if math.Abs(fd-an) > 0.03*math.Abs(an)+1e-3 {
			t.Errorf("direction %d: analytic %.5f, central difference %.5f", k, an, fd)
		}
	}
}

// TestReconLossGradient: the gradient of the training loss (waveform L1,
// STFT and log-mel terms) with respect to the decoded waveform matches
// central differences along random directions.
func TestReconLossGradient(t *testing.T) {
	cfg := Tiny()
	cfg.MelWeight = 2
	b := nn.NewBuilder(3)
	y := b.Param("y", false, nn.Uniform(0.3), 2, 256)
	x := b.Input("x", 2, 256)
	if err := x.Set(batch(speech(t), 2, 256)); err != nil {
		t.Fatal(err)
	}
	loss, err := reconLoss(cfg, y.Node(), x.Node)
	if err != nil {
		t.Fatal(err)
	}
	checkDirectional(t, b, loss, y, 1e-3)
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// TestRVQRoundTrip checks that summing the code vectors of the codes the
// graph chose gives exactly the graph's quantized latent, and that the
// inference encoder picks the same codes as the training graph.
func TestRVQRoundTrip(t *testing.T) {
	cfg := Tiny()
	tr, _ := trained(t, 5)
	w := tr.Weights()
	cdc, err := New(cfg, w)
	if err != nil {
		t.Fatal(err)
	}
	wave := speech(t)[:BucketFrames*2*cfg.Hop()] // a whole number of pass lengths: no padding
	b := nn.NewBuilder(0)
	x := b.Input("x", 1, 1, len(wave))
	l := newLayers(b, cfg, false)
	q := newRVQ(b, cfg, 0)
	z, err := l.encode(x.Node)
	if err != nil {
		t.Fatal(err)
	}
	out, err := q.forward(z)
	if err != nil {
		t.Fatal(err)
	}
	var sum G.Value
	G.Read(out.sum, &sum)
	if err := nn.LoadParams(b.Params(), w.Params); err != nil {
		t.Fatal(err)
	}
	cs := cfg.Codes * cfg.Latent
	for d := range q.books {
		copy(q.codebook(d), w.Codebooks[d*cs:(d+1)*cs])
	}
	if err := x.Set(wave); err != nil {
		t.Fatal(err)
	}
	vm := nn.CompileForward(b.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	codes := q.codes()
	lat, err := cdc.Latent(codes, cfg.Depths) // [Latent, T]
	if err != nil {
		t.Fatal(err)
	}
	rows := sum.Data().([]float32) // [T, Latent]
	nt := len(codes)
	for f := 0; f < nt; f++ {
		for j := 0; j < cfg.Latent; j++ {
			if lat[j*nt+f] != rows[f*cfg.Latent+j] {
				t.Fatalf("frame %d channel %d: latent from codes %g, graph %g", f, j, lat[j*nt+f], rows[f*cfg.Latent+j])
			}
		}
	}
	enc, err := cdc.Encode(wave)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(enc, codes) {
		t.Fatalf("Encode gave other codes than the graph:\n%v\n%v", enc, codes)
	}
}

// TestDepthPrefixes checks that every prefix of depths decodes to a
// full-length finite waveform, that the latent of d depths adds depth d's
// code vector to that of d−1, and that after training the full depth
// decodes no worse than the coarsest depth alone.
func TestDepthPrefixes(t *testing.T) {
	cfg := Tiny()
	tr, _ := trained(t, 80)
	cdc, err := New(cfg, tr.Weights())
	if err != nil {
		t.Fatal(err)
	}
	wave := speech(t)[:3000] // not a multiple of Hop: the last frame is padded
	codes, err := cdc.Encode(wave)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != cdc.Frames(len(wave)) || len(codes[0]) != cfg.Depths {
		t.Fatalf("codes %d×%d, want %d×%d", len(codes), len(codes[0]), cdc.Frames(len(wave)), cfg.Depths)
	}
	snrs := make([]float64, cfg.Depths+1)
	prev := make([]float32, cfg.Latent*len(codes))
	for d := 1; d <= cfg.Depths; d++ {
		y, err := cdc.Decode(codes, d)
		if err != nil {
			t.Fatal(err)
		}
		if len(y) != len(codes)*cfg.Hop() {
			t.Fatalf("depth %d: %d samples, want %d", d, len(y), len(codes)*cfg.Hop())
		}
		for _, v := range y {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("depth %d: non-finite sample", d)
			}
		}
		snrs[d] = snr(y[:len(wave)], wave)
		lat, err := cdc.Latent(codes, d)
		if err != nil {
			t.Fatal(err)
		}
		cs, nt := cfg.Codes*cfg.Latent, len(codes)
		for f, fr := range codes {
			for j := 0; j < cfg.Latent; j++ {
				want := prev[j*nt+f] + cdc.W.Codebooks[(d-1)*cs+fr[d-1]*cfg.Latent+j]
				if lat[j*nt+f] != want {
					t.Fatalf("depth %d frame %d: latent %g, want %g", d, f, lat[j*nt+f], want)
				}
			}
		}
		prev = lat
	}
	t.Logf("SNR by depths: %.2f", snrs[1:])
	if snrs[cfg.Depths] < snrs[1]-0.5 {
		t.Errorf("SNR with all %d depths %.2f dB < %.2f dB with one", cfg.Depths, snrs[cfg.Depths], snrs[1])
	}
	if _, err := cdc.Decode(codes, cfg.Depths+1); err == nil {
		t.Error("decode with too many depths: no error")
	}
	codes[1][0] = cfg.Codes
	if _, err := cdc.Decode(codes, 1); err == nil || !strings.Contains(err.Error(), "code") {
		t.Errorf("decode of an out-of-range code: %v", err)
	}
}

// TestSilenceIsCodeZero: the bias-free encoder maps silence to a zero
// latent, which takes the frozen zero code at every depth.
func TestSilenceIsCodeZero(t *testing.T) {
	tr, _ := trained(t, 10)
	cdc, err := New(Tiny(), tr.Weights())
	if err != nil {
		t.Fatal(err)
	}
	codes, err := cdc.Encode(make([]float32, 400))
	if err != nil {
		t.Fatal(err)
	}
	for f, fr := range codes {
		for d, k := range fr {
			if k != 0 {
				t.Fatalf("silence: frame %d depth %d has code %d", f, d, k)
			}
		}
	}
}

func TestChunkedEncodeDecode(t *testing.T) {
	tr, _ := trained(t, 3)
	cdc, err := New(Tiny(), tr.Weights())
	if err != nil {
		t.Fatal(err)
	}
	wave := make([]float32, (ChunkFrames+7)*cdc.Cfg.Hop())
	sp := speech(t)
	for i := range wave {
		wave[i] = sp[i%len(sp)]
	}
	codes, err := cdc.Encode(wave)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != ChunkFrames+7 {
		t.Fatalf("%d frames, want %d", len(codes), ChunkFrames+7)
	}
	// the second chunk is a pass of its own, padded with silence: its codes
	// are those of the same audio encoded alone (up to near-ties that the
	// different matrix sizes round differently)
	alone, err := cdc.Encode(wave[ChunkFrames*cdc.Cfg.Hop():])
	if err != nil {
		t.Fatal(err)
	}
	same, all := 0, 0
	for f, fr := range alone {
		for d, k := range fr {
			all++
			if codes[ChunkFrames+f][d] == k {
				same++
			}
		}
	}
	if same < all*9/10 {
		t.Fatalf("chunk 2: %v, alone %v", codes[ChunkFrames:], alone)
	}
	y, err := cdc.Decode(codes, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(y) != len(wave) {
		t.Fatalf("decoded %d samples, want %d", len(y), len(wave))
	}
}

// TestLatent: EncodeLatent gives Encode's codes and the latent they
// quantize, chunk by chunk, and DecodeLatent of the codes' latent is
// Decode.
func TestLatent(t *testing.T) {
	tr, _ := trained(t, 20)
	cfg := Tiny()
	cdc, err := New(cfg, tr.Weights())
	if err != nil {
		t.Fatal(err)
	}
	wave := make([]float32, (ChunkFrames+30)*cfg.Hop()-17)
	sp := speech(t)
	for i := range wave {
		wave[i] = sp[i%len(sp)]
	}
	codes, z, err := cdc.EncodeLatent(wave)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := cdc.Encode(wave)
	if err != nil {
		t.Fatal(err)
	}
	nf := len(codes)
	if !reflect.DeepEqual(enc, codes) || len(z) != cfg.Latent*nf {
		t.Fatalf("EncodeLatent: %d frames, %d latent values; Encode: %d frames", nf, len(z), len(enc))
	}
	// the nearest code of depth 0 is nearer to z than code 0 (the zero
	// vector) in every frame of both chunks
	cb := cdc.W.Codebooks
	for f := 0; f < nf; f++ {
		var dq, d0 float64
		for j := 0; j < cfg.Latent; j++ {
			v := float64(z[j*nf+f])
			e := v - float64(cb[codes[f][0]*cfg.Latent+j])
			dq, d0 = dq+e*e, d0+v*v
		}
		if dq > d0+1e-6 {
			t.Fatalf("frame %d: code %d is %.4g from the latent, code 0 %.4g", f, codes[f][0], dq, d0)
		}
	}
	lat, err := cdc.Latent(codes, cfg.Depths)
	if err != nil {
		t.Fatal(err)
	}
	a, err := cdc.DecodeLatent(lat, nf)
	if err != nil {
		t.Fatal(err)
	}
	b, err := cdc.Decode(codes, cfg.Depths)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("DecodeLatent of the codes' latent differs from Decode")
	}
	if _, err := cdc.DecodeLatent(lat[1:], nf); err == nil {
		t.Fatal("a latent of the wrong size was accepted")
	}
}

func TestWeightsAndTokFile(t *testing.T) {
	cfg := Tiny()
	tr, _ := trained(t, 3)
	dir := t.TempDir()
	path := filepath.Join(dir, "codec.safetensors")
	if err := SaveWeights(path, cfg, tr.Weights()); err != nil {
		t.Fatal(err)
	}
	cdc, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	orig, err := New(cfg, tr.Weights())
	if err != nil {
		t.Fatal(err)
	}
	if cdc.CodebookID() != orig.CodebookID() || !reflect.DeepEqual(cdc.Cfg, cfg) {
		t.Fatalf("reloaded codec differs: id %s vs %s", cdc.CodebookID(), orig.CodebookID())
	}
	wave := speech(t)[:1234]
	codes, err := cdc.Encode(wave)
	if err != nil {
		t.Fatal(err)
	}
	tp := filepath.Join(dir, "x.tok")
	if err := tokfile.Write(tp, cdc.ToFile(codes, len(wave))); err != nil {
		t.Fatal(err)
	}
	f, err := tokfile.Read(tp)
	if err != nil {
		t.Fatal(err)
	}
	back, n, err := cdc.FromFile(f)
	if err != nil || n != len(wave) || !reflect.DeepEqual(back, codes) {
		t.Fatalf("tok round trip: %v, %d samples", err, n)
	}
	// the first depth row holds frame 0..T-1 of depth 0: coarse first
	if int(f.Indices[1]) != codes[1][0] {
		t.Fatalf("index 1 is %d, want depth 0 of frame 1 (%d)", f.Indices[1], codes[1][0])
	}
	w := tr.Weights()
	w.Codebooks[len(w.Codebooks)-1] += 1e-3 // a retrained codec
	other, err := New(cfg, w)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := other.FromFile(f); err == nil || !strings.Contains(err.Error(), "codebook") {
		t.Fatalf("decoding with another codec's codebook: %v", err)
	}
	w = tr.Weights()
	delete(w.Params, "dec.conv_out.bias")
	if _, err := New(cfg, w); err == nil || !strings.Contains(err.Error(), "dec.conv_out.bias") {
		t.Fatalf("weights missing a tensor: %v", err)
	}
	// a configuration wider than the weights (as a damaged file could
	// carry) is rejected by tensor name before it is built
	wide := cfg
	wide.Channels = slices.Clone(cfg.Channels)
	for i := range wide.Channels {
		wide.Channels[i] *= 64
	}
	if _, err := New(wide, tr.Weights()); err == nil || !strings.Contains(err.Error(), "do not fit") {
		t.Fatalf("configuration wider than its weights: %v", err)
	}
}

func TestTrainerStateRoundTrip(t *testing.T) {
	tr, _ := trained(t, 4)
	b, err := tr.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	tr2, err := NewTrainer(Tiny(), TrainConfig{Batch: 2, Samples: 1600, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	defer tr2.Close()
	if err := tr2.UnmarshalState(b); err != nil {
		t.Fatal(err)
	}
	b2, err := tr2.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(b, b2) {
		t.Fatal("state differs after a round trip")
	}
	if err := tr2.UnmarshalState(b[:len(b)/2]); err == nil {
		t.Fatal("truncated state accepted")
	}
}

func TestConfigErrors(t *testing.T) {
	for _, mut := range []func(*Config){
		func(c *Config) { c.Channels = c.Channels[:2] },
		func(c *Config) { c.Codes = 1 },
		func(c *Config) { c.Decay = 1 },
		func(c *Config) { c.Strides[0] = 0 },
		func(c *Config) { c.FFTs = []int{4} },
		func(c *Config) { c.MelWeight = -1 },
		func(c *Config) { c.Head = &HeadConfig{Hop: 7, Size: 21, Width: 4} },
		func(c *Config) { c.Head = &HeadConfig{Hop: 10, Size: 15, Width: 4} },
		func(c *Config) { c.Head = &HeadConfig{Hop: 10, Size: 40, Width: 4, Dilations: []int{0}} },
	} {
		c := Tiny()
		c.Strides = append([]int(nil), c.Strides...)
		mut(&c)
		if c.Validate() == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
	if _, err := NewTrainer(Tiny(), TrainConfig{Batch: 1, Samples: 41}); err == nil {
		t.Error("a clip length that is not a multiple of the hop was accepted")
	}
}

// TestInitFrom: a head codec starts from a trained codec without a head:
// the tensors both have and the codebooks are copied (to F16 precision,
// as shipped), the replaced decoder stages are skipped, no code restarts
// at the first update, and a file whose tensors have other sizes or
// whose quantizer differs is refused.
func TestInitFrom(t *testing.T) {
	src, _ := trained(t, 5)
	path := filepath.Join(t.TempDir(), "v1.safetensors")
	if err := SaveWeights(path, Tiny(), src.Weights()); err != nil {
		t.Fatal(err)
	}
	dst, err := NewTrainer(tinyHead(), TrainConfig{Batch: 2, Samples: 1600, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	sw := src.Weights()
	shared := 0
	for name := range sw.Params {
		if _, ok := dst.Weights().Params[name]; ok {
			shared++
		}
	}
	n, err := dst.InitFrom(path)
	if err != nil {
		t.Fatal(err)
	}
	if n != shared || shared < len(sw.Params)/2 {
		t.Fatalf("copied %d tensors, %d of %d shared", n, shared, len(sw.Params))
	}
	near := func(a, b []float32) bool {
		for i := range a {
			if math.Abs(float64(a[i]-b[i])) > 1e-3*math.Max(1, math.Abs(float64(a[i]))) {
				return false
			}
		}
		return true
	}
	dw := dst.Weights()
	for name, v := range sw.Params {
		if w, ok := dw.Params[name]; ok && !near(v, w) {
			t.Fatalf("%s not copied", name)
		}
	}
	if !near(sw.Codebooks, dw.Codebooks) {
		t.Fatal("codebooks not copied")
	}
	if _, err := dst.Step(batch(speech(t), 2, 1600)); err != nil {
		t.Fatal(err)
	}
	if dst.Metrics.Restarted != 0 {
		t.Errorf("%d codes restarted at the first update", dst.Metrics.Restarted)
	}
	for _, tc := range []struct {
		name string
		mut  func(*Config)
		want string
	}{
		{"other widths", func(c *Config) { c.Channels = []int{4, 8, 8, 20} }, "architecture"},
		{"other depths", func(c *Config) { c.Depths = 2 }, "depths"},
	} {
		cfg := Tiny()
		tc.mut(&cfg)
		tr, err := NewTrainer(cfg, TrainConfig{Batch: 1, Samples: 400, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.InitFrom(path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("init from a codec of %s: %v", tc.name, err)
		}
		tr.Close()
	}
}

// TestSynthesisBasis: the head's initial synthesis weights turn a frame's
// real DFT back into the frame, Hann-windowed and scaled by √n.
func TestSynthesisBasis(t *testing.T) {
	for _, n := range []int{40, 320} {
		rng := rand.New(rand.NewPCG(uint64(n), 1))
		x := make([]float64, n)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		coef := fourier.NewFFT(n).Coefficients(nil, x)
		bins, basis := n/2+1, synthesisBasis(n)
		for i := 0; i < n; i++ {
			var y float64
			for k, c := range coef {
				y += real(c)*float64(basis[k*n+i]) + imag(c)*float64(basis[(bins+k)*n+i])
			}
			want := (0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n))) * math.Sqrt(float64(n)) * x[i]
			if math.Abs(y-want) > 1e-4*math.Sqrt(float64(n)) {
				t.Fatalf("n %d sample %d: %g, want %g", n, i, y, want)
			}
		}
	}
}

package codec

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

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
	tr, err := NewTrainer(Tiny(), TrainConfig{Batch: 2, Samples: 1600, Seed: 1})
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
	_, losses := trained(t, 60)
	first, last := mean(losses[:5]), mean(losses[len(losses)-5:])
	if !(last < 0.7*first) {
		t.Errorf("loss %.3f → %.3f in %d steps on a real clip", first, last, len(losses))
	}
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
	if err := load(b.Params(), w); err != nil {
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

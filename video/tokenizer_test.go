package video

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/omniar/omniar/internal/blas"
	"github.com/omniar/omniar/msvq"
	"github.com/omniar/omniar/nn"
	"github.com/omniar/omniar/nn/optim"
)

func TestMain(m *testing.M) {
	blas.Install()
	os.Exit(m.Run())
}

// squares renders b clips of a bright square moving one pixel a frame.
func squares(rng *rand.Rand, b, frames, size int) []uint8 {
	out := make([]uint8, b*frames*size*size)
	for i := 0; i < b; i++ {
		x0, y0, dx := rng.IntN(size/2), rng.IntN(size/2), 1-2*rng.IntN(2)
		for f := 0; f < frames; f++ {
			for y := y0; y < y0+size/4; y++ {
				for x := x0 + dx*f; x < x0+dx*f+size/4; x++ {
					if x >= 0 && x < size {
						out[((i*frames+f)*size+y)*size+x] = 255
					}
				}
			}
		}
	}
	return out
}

func TestTrainerLearns(t *testing.T) {
	cfg := Tiny()
	tr, err := NewTrainer(cfg, TrainConfig{Batch: 2, Frames: 5, PartialWeight: 0.5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	opt := optim.NewAdamW(optim.DefaultAdamW(), tr.Params())
	rng := rand.New(rand.NewPCG(1, 1))
	var first, last float64
	for step := 0; step < 40; step++ {
		loss, err := tr.Step(squares(rng, 2, 5, cfg.Size))
		if err != nil {
			t.Fatal(err)
		}
		if step == 0 {
			first = loss
		}
		last = loss
		opt.Step(3e-3, nil)
	}
	if last > 0.7*first {
		t.Errorf("loss %.3f → %.3f in 40 steps", first, last)
	}
}

// TestCausalAndImageIsOneFrame: changing frames after t leaves the codes of
// the latent frames that cover frames ≤ t unchanged, and a one-frame video
// (an image) has the codes of a longer clip's first latent frame.
func TestCausalAndImageIsOneFrame(t *testing.T) {
	for _, c := range []struct{ kernel, mix int }{{1, 0}, {3, 0}, {3, 2}} {
		t.Run(fmt.Sprintf("time_kernel_%d_mix_%d", c.kernel, c.mix), func(t *testing.T) { testCausal(t, c.kernel, c.mix) })
	}
}

func testCausal(t *testing.T, timeKernel, timeMix int) {
	cfg := Tiny()
	cfg.TimeKernel, cfg.TimeMix = timeKernel, timeMix
	tr, err := NewTrainer(cfg, TrainConfig{Batch: 1, Frames: 9, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	w := tr.Weights()
	tr.Close()
	// Random temporal weights: at init they pass one frame through, which
	// would hide a conv that looks ahead.
	wr := rand.New(rand.NewPCG(7, 7))
	for name, v := range w.Params {
		if strings.HasPrefix(name, "enc.time.") || strings.HasPrefix(name, "enc.mix.") {
			for i := range v {
				v[i] = float32(wr.NormFloat64()) * 0.3
			}
		}
	}
	enc9, err := NewEncoder(cfg, 9, w)
	if err != nil {
		t.Fatal(err)
	}
	defer enc9.Close()
	enc1, err := NewEncoder(cfg, 1, w)
	if err != nil {
		t.Fatal(err)
	}
	defer enc1.Close()
	rng := rand.New(rand.NewPCG(5, 5))
	clip := squares(rng, 1, 9, cfg.Size)
	a, err := enc9.Encode(clip)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 3 {
		t.Fatalf("9 frames gave %d latent frames, want 3", len(a))
	}
	frame := cfg.Size * cfg.Size
	changed := append([]uint8(nil), clip...)
	for i := 5 * frame; i < len(changed); i++ { // frames 5…8: latent frame 2
		changed[i] = uint8(rng.IntN(256))
	}
	b, err := enc9.Encode(changed)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a[:2], b[:2]) {
		t.Error("changing frames 5–8 changed the codes of latent frames 0–1")
	}
	img, err := enc1.Encode(clip[:frame])
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(img[0], a[0]) {
		t.Error("the one-frame video's codes differ from the clip's first latent frame")
	}
}

// TestBlackIsCodeZero: an all-black clip encodes to exactly zero and so to
// the frozen zero code at every scale of every latent frame.
func TestBlackIsCodeZero(t *testing.T) {
	cfg := Tiny()
	tr, err := NewTrainer(cfg, TrainConfig{Batch: 1, Frames: 5, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	w := tr.Weights()
	tr.Close()
	enc, err := NewEncoder(cfg, 5, w)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	maps, err := enc.Encode(make([]uint8, 5*cfg.Size*cfg.Size))
	if err != nil {
		t.Fatal(err)
	}
	for f, m := range maps {
		for s, codes := range m {
			for _, c := range codes {
				if c != 0 {
					t.Fatalf("latent frame %d scale %d: code %d for black", f, s, c)
				}
			}
		}
	}
}

// tinyClip is a Tiny tokenizer at initialisation and a 5-frame clip of
// squares for it.
func tinyClip(t *testing.T) (Config, Weights, []uint8) {
	t.Helper()
	cfg := Tiny()
	tr, err := NewTrainer(cfg, TrainConfig{Batch: 1, Frames: 5, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	return cfg, tr.Weights(), squares(rand.New(rand.NewPCG(6, 6)), 1, 5, cfg.Size)
}

// TestCodesDecodeLikeTheAutoencoder: codes → QuantDecoder latents →
// PixelDecoder (generation's path) gives the autoencoder's reconstruction.
func TestCodesDecodeLikeTheAutoencoder(t *testing.T) {
	cfg, w, clip := tinyClip(t)
	ae, err := NewAutoencoder(cfg, 1, 5, w, true)
	if err != nil {
		t.Fatal(err)
	}
	defer ae.Close()
	want, err := ae.Run(clip)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := NewEncoder(cfg, 5, w)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	maps, err := enc.Encode(clip)
	if err != nil {
		t.Fatal(err)
	}
	qd, err := w.QuantDecoder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var z []float32
	for _, m := range maps {
		lat, err := qd.Latent(m, len(m))
		if err != nil {
			t.Fatal(err)
		}
		z = append(z, lat...)
	}
	pd, err := NewPixelDecoder(cfg, len(maps), w)
	if err != nil {
		t.Fatal(err)
	}
	defer pd.Close()
	got, err := pd.Decode(z)
	if err != nil {
		t.Fatal(err)
	}
	if pd.Frames() != 5 || len(got) != len(want.Full) {
		t.Fatalf("decoded %d pixels (%d frames), want %d", len(got), pd.Frames(), len(want.Full))
	}
	for i := range got {
		if d := int(got[i]) - int(want.Full[i]); d > 1 || d < -1 {
			t.Fatalf("pixel %d: %d, autoencoder %d", i, got[i], want.Full[i])
		}
	}
}

// TestAutoencoderWithoutPartials: leaving the prefix decodes out changes
// nothing of the full reconstruction or the codes.
func TestAutoencoderWithoutPartials(t *testing.T) {
	cfg, w, clip := tinyClip(t)
	var res [2]Result
	for i, partials := range []bool{true, false} {
		ae, err := NewAutoencoder(cfg, 1, 5, w, partials)
		if err != nil {
			t.Fatal(err)
		}
		res[i], err = ae.Run(clip)
		ae.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(res[0].Partial) != len(cfg.Quant.Scales)-1 || res[1].Partial != nil {
		t.Errorf("%d and %d partial reconstructions, want %d and none", len(res[0].Partial), len(res[1].Partial), len(cfg.Quant.Scales)-1)
	}
	if !slices.Equal(res[0].Full, res[1].Full) {
		t.Error("the full reconstruction differs without the partial ones")
	}
	for s := range res[0].Codes {
		if !slices.Equal(res[0].Codes[s], res[1].Codes[s]) {
			t.Errorf("scale %d: codes differ without the partial reconstructions", s)
		}
	}
}

// TestEncoderGetsGradient: at initialisation the encoder's first layer gets
// a gradient within a few orders of magnitude of the decoder's last layer.
// With random temporal convs it was 1e-7 of it, below AdamW's ε, and the
// encoder did not train.
func TestEncoderGetsGradient(t *testing.T) {
	cfg := Small()
	tr, err := NewTrainer(cfg, TrainConfig{Batch: 2, Frames: 1, PartialWeight: 0.5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if _, err := tr.Step(squares(rand.New(rand.NewPCG(2, 2)), 2, 1, cfg.Size)); err != nil {
		t.Fatal(err)
	}
	rms := map[string]float64{}
	for _, p := range tr.params {
		var s float64
		for _, g := range p.Grad() {
			s += float64(g) * float64(g)
		}
		rms[p.Name()] = math.Sqrt(s / float64(len(p.Grad())))
	}
	for n, v := range rms {
		t.Logf("%-24s %.3g", n, v)
	}
	in, out := rms["enc.conv_in.weight"], rms["dec.conv_out.weight"]
	t.Logf("gradient rms: enc.conv_in %.3g, dec.conv_out %.3g", in, out)
	if !(in > 1e-4*out) {
		t.Fatalf("encoder gradient %.3g is %.2g of the decoder's %.3g", in, in/out, out)
	}
}

// TestGrow: residual blocks added after the temporal convs and latent-time
// blocks start as the identity and a temporal kernel widened in space keeps the old one at its
// centre, so a tokenizer grown from one without them reconstructs exactly
// as it did.
func TestGrow(t *testing.T) {
	small := Tiny()
	tr, err := NewTrainer(small, TrainConfig{Batch: 1, Frames: 5, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	w0 := tr.Weights()
	tr.Close()
	clip := squares(rand.New(rand.NewPCG(6, 6)), 1, 5, small.Size)
	run := func(cfg Config, w Weights) []uint8 {
		ae, err := NewAutoencoder(cfg, 1, 5, w, true)
		if err != nil {
			t.Fatal(err)
		}
		defer ae.Close()
		r, err := ae.Run(clip)
		if err != nil {
			t.Fatal(err)
		}
		return r.Full
	}
	want := run(small, w0)
	for _, tc := range []struct {
		name                       string
		resTime, timeKern, timeMix int
	}{{"res_time", 2, 0, 0}, {"time_kernel", 0, 3, 0}, {"time_mix", 0, 0, 2}, {"all", 2, 3, 2}} {
		t.Run(tc.name, func(t *testing.T) {
			big := small
			big.ResTime, big.TimeKernel, big.TimeMix = tc.resTime, tc.timeKern, tc.timeMix
			tr, err := NewTrainer(big, TrainConfig{Batch: 1, Frames: 5, Seed: 4})
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			bad := small
			bad.Res++
			if err := tr.InitFrom(bad, w0); err == nil {
				t.Error("InitFrom accepted a config that differs in more than the growing parts")
			}
			if err := tr.InitFrom(small, w0); err != nil {
				t.Fatal(err)
			}
			if got := run(big, tr.Weights()); !slices.Equal(got, want) {
				t.Error("grown tokenizer reconstructs differently at init")
			}
		})
	}
}

// TestLossWeights: ink adds InkWeight, frame 0 multiplies by 1 + FirstWeight.
func TestLossWeights(t *testing.T) {
	cfg := Tiny()
	tr, err := NewTrainer(cfg, TrainConfig{Batch: 2, Frames: 5, InkWeight: 1, FirstWeight: 3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	frame := cfg.Size * cfg.Size
	clips := make([]uint8, 2*5*frame)
	clips[0], clips[frame], clips[5*frame] = 200, 200, 200 // ink: frame 0 and 1 of clip 0, frame 0 of clip 1
	w := tr.weights(clips)
	for _, c := range []struct {
		i    int
		want float32
	}{{0, 8}, {1, 4}, {frame, 2}, {frame + 1, 1}, {5 * frame, 8}, {5*frame + 1, 4}, {6 * frame, 1}} {
		if w[c.i] != c.want {
			t.Errorf("weight of pixel %d: %g, want %g", c.i, w[c.i], c.want)
		}
	}
}

// TestDecoderOnly: decoder-only training changes the decoder and nothing
// that sets the codes — the encoder, phi, the codebook — so a clip's codes
// and the weights' ID stay those of the tokenizer it started from.
func TestDecoderOnly(t *testing.T) {
	cfg := Tiny()
	base, err := NewTrainer(cfg, TrainConfig{Batch: 2, Frames: 5, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	bopt := optim.NewAdamW(optim.DefaultAdamW(), base.Params())
	for range 5 { // a trained-ish start, with a codebook the EMA has moved
		if _, err := base.Step(squares(rng, 2, 5, cfg.Size)); err != nil {
			t.Fatal(err)
		}
		bopt.Step(3e-3, nil)
	}
	w0 := base.Weights()
	base.Close()

	zb := cfg
	zb.Quant.ZeroBias = 0.5
	other, err := NewTrainer(zb, TrainConfig{Batch: 2, Frames: 5, DecoderOnly: true, Seed: 6})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.InitFrom(cfg, w0); err == nil {
		t.Error("decoder-only init accepted another dead zone (other codes)")
	}
	other.Close()
	tr, err := NewTrainer(cfg, TrainConfig{Batch: 2, Frames: 5, PartialWeight: 0.5, DecoderOnly: true, Seed: 6})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if err := tr.InitFrom(cfg, w0); err != nil {
		t.Fatal(err)
	}
	for _, p := range tr.Params() {
		if n := p.Name(); !strings.HasPrefix(n, "dec.") {
			t.Fatalf("decoder-only trains %s", n)
		}
	}
	saved := map[string]bool{} // checkpoints hold Params and Frozen: the whole tokenizer
	for _, p := range append(tr.Params(), tr.Frozen()...) {
		saved[p.Name()] = true
	}
	if len(saved) != len(w0.Params) || len(saved) != len(tr.Params())+len(tr.Frozen()) {
		t.Errorf("params and frozen tensors: %d names, the tokenizer has %d", len(saved), len(w0.Params))
	}
	opt := optim.NewAdamW(optim.DefaultAdamW(), tr.Params())
	for range 5 {
		if _, err := tr.Step(squares(rng, 2, 5, cfg.Size)); err != nil {
			t.Fatal(err)
		}
		opt.Step(3e-3, nil)
	}
	w1 := tr.Weights()
	if w1.ID() != w0.ID() || !slices.Equal(w1.Codebook, w0.Codebook) {
		t.Error("decoder-only training changed the codebook or phi (the weights' ID)")
	}
	changed := false
	for name, v := range w0.Params {
		same := slices.Equal(v, w1.Params[name])
		if strings.HasPrefix(name, "dec.") {
			changed = changed || !same
		} else if !same {
			t.Errorf("decoder-only training changed %s", name)
		}
	}
	if !changed {
		t.Error("decoder-only training left the decoder as it was")
	}
	clip := squares(rand.New(rand.NewPCG(7, 7)), 1, 5, cfg.Size)
	codes := func(w Weights) []msvq.Maps {
		e, err := NewEncoder(cfg, 5, w)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		m, err := e.Encode(clip)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	if a, b := codes(w0), codes(w1); !reflect.DeepEqual(a, b) {
		t.Error("decoder-only training changed a clip's codes")
	}
}

// TestLoadChecksWeights saves a Tiny tokenizer and the same weights under
// configurations a damaged file could carry: the first loads, the others
// are rejected by name before anything of their size is built.
func TestLoadChecksWeights(t *testing.T) {
	cfg := Tiny()
	tr, err := NewTrainer(cfg, TrainConfig{Batch: 1, Frames: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	w := tr.Weights()
	tr.Close()
	wide := cfg
	wide.Widths = []int{}
	for _, x := range cfg.Widths {
		wide.Widths = append(wide.Widths, x*64)
	}
	deep := cfg
	deep.Res = 60
	huge := cfg
	huge.Res = 1 << 30
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{{"same", cfg, true}, {"wide", wide, false}, {"deep", deep, false}, {"huge", huge, false}} {
		path := filepath.Join(t.TempDir(), tc.name+".safetensors")
		if err := SaveWeights(path, tc.cfg, w); err != nil {
			t.Fatal(err)
		}
		_, _, err := LoadCheckpoint(path)
		if (err == nil) != tc.ok {
			t.Errorf("%s: load error %v, want ok %v", tc.name, err, tc.ok)
		} else if err != nil && !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v does not name the file", tc.name, err)
		}
	}
}

// TestPercept: the perceptual term adds PerceptWeight × the feature
// distance to the loss, reaches the decoder, and its frozen network is
// neither trained nor saved.
func TestPercept(t *testing.T) {
	cfg := Tiny()
	rng := rand.New(rand.NewPCG(3, 3))
	conv := func(in, out int, stride int) PerceptConv {
		c := PerceptConv{Cfg: nn.Conv3dConfig{In: in, Out: out, Kernel: [3]int{1, 3, 3}, Stride: [3]int{1, stride, stride}, Padding: [3]int{0, 1, 1}, Bias: true},
			W: make([]float32, out*in*9), B: make([]float32, out)}
		for i := range c.W {
			c.W[i] = float32(rng.NormFloat64()) / 3
		}
		return c
	}
	percept := []PerceptConv{conv(1, 4, 1), conv(4, 6, 2)}
	clips := squares(rng, 2, 5, cfg.Size)
	run := func(weight float64, on []bool) (*Trainer, float64) {
		tr, err := NewTrainer(cfg, TrainConfig{Batch: 2, Frames: 5, Percept: percept, PerceptWeight: weight, Seed: 4})
		if err != nil {
			t.Fatal(err)
		}
		loss, err := tr.StepSamples(clips, on)
		if err != nil {
			t.Fatal(err)
		}
		return tr, loss
	}
	plain, l0 := run(0, nil)
	defer plain.Close()
	tr, l1 := run(2, nil)
	defer tr.Close()
	if tr.Metrics.Percept <= 0 {
		t.Fatalf("perceptual term %g, want > 0", tr.Metrics.Percept)
	}
	if got, want := l1-l0, 2*tr.Metrics.Percept; math.Abs(got-want) > 1e-4*math.Abs(want) {
		t.Errorf("loss grew by %g with the perceptual term, want 2 × %g", got, tr.Metrics.Percept)
	}
	names := func(ps []optim.Param) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Name())
		}
		return out
	}
	if a, b := names(tr.Params()), names(plain.Params()); !slices.Equal(a, b) {
		t.Errorf("trained tensors with a perceptual net %v, without %v", a, b)
	}
	if len(tr.Weights().Params) != len(plain.Weights().Params) {
		t.Error("the perceptual net is saved with the tokenizer")
	}
	differs := false // the term's gradient reaches the decoder
	for i, p := range tr.Params() {
		if strings.HasPrefix(p.Name(), "dec.") && !slices.Equal(p.Grad(), plain.Params()[i].Grad()) {
			differs = true
		}
	}
	if !differs {
		t.Error("the perceptual term does not change the decoder's gradient")
	}
	for _, c := range []struct {
		name string
		on   []bool
		zero bool
	}{{"no clip", []bool{false, false}, true}, {"one clip", []bool{false, true}, false}} {
		masked, l := run(2, c.on)
		if c.zero != (masked.Metrics.Percept == 0) || c.zero && math.Abs(l-l0) > 1e-6 {
			t.Errorf("perceptual term on %s: %g", c.name, masked.Metrics.Percept)
		}
		masked.Close()
	}
}

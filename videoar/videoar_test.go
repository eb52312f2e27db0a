package videoar

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/omniar/omniar/internal/blas"
	"github.com/omniar/omniar/msvq"
	"github.com/omniar/omniar/nn"
	"github.com/omniar/omniar/nn/optim"
	"github.com/omniar/omniar/tokenizers"
	"github.com/omniar/omniar/unified"
)

func TestMain(m *testing.M) {
	blas.Install()
	os.Exit(m.Run())
}

func tinyQuant() msvq.Config {
	return msvq.Config{Codes: 16, Dim: 8, Scales: []int{1, 2, 4}, Beta: 0.25, Decay: 0.9, PhiRatio: 0.5}
}

// randomDecoder is a quantizer decoder with random codes (code 0 zero) and phi.
func randomDecoder(q msvq.Config, seed uint64) *msvq.Decoder {
	rng := rand.New(rand.NewPCG(seed, 1))
	d := &msvq.Decoder{Cfg: q, Codebook: make([]float32, q.Codes*q.Dim), PhiW: make([]float32, q.Dim*q.Dim*9)}
	for i := q.Dim; i < len(d.Codebook); i++ {
		d.Codebook[i] = float32(rng.NormFloat64())
	}
	for i := range d.PhiW {
		d.PhiW[i] = float32(rng.NormFloat64() * 0.1)
	}
	return d
}

// tinyThree is Tiny over three latent frames, enough for two earlier ones.
func tinyThree(q msvq.Config) Config {
	c := Tiny(q, 512)
	c.Frames = 3
	return c
}

func randomExample(rng *rand.Rand, l Layout, codes int) Example {
	ex := Example{Prompt: []int{300 + rng.IntN(50), 400 + rng.IntN(50)}}
	for range l.Frames {
		c := make([]int, l.PerFrame)
		for i := range c {
			c[i] = rng.IntN(codes)
		}
		ex.Codes = append(ex.Codes, c)
	}
	return ex
}

func TestLayout(t *testing.T) {
	l, err := NewLayout(4, 3, []int{1, 2, 4})
	if err != nil {
		t.Fatal(err)
	}
	if l.PerFrame != 21 || l.Visual() != 63 || len(l.Text) != 6 || l.Len() != 69 {
		t.Fatalf("per frame %d, visual %d, text %d, len %d; want 21, 63, 6 (prompt + <video> + </video>), 69", l.PerFrame, l.Visual(), len(l.Text), l.Len())
	}
	if c := l.Cell(l.Start(2, 1) + 3); c.Frame != 2 || c.Scale != 1 || c.Y != 1 || c.X != 1 {
		t.Fatalf("cell of frame 2, scale 1, index 3: %+v", c)
	}
	ids := l.TextIDs([]int{tokenizers.BOS, 500, tokenizers.Pad, tokenizers.Pad})
	if ids[4] != tokenizers.VideoOpen || ids[5] != tokenizers.VideoClose {
		t.Fatalf("grammar tokens %v", ids)
	}
	// Frame 0 hidden: frame 2 no longer sees it, but sees the prompt,
	// frame 1 and its own earlier scales; frame 0 still sees itself.
	allow := l.FrameMask([]bool{true, false, false})
	tt := l.Len()
	at := func(f, s, i int) int { return l.Vis[l.Start(f, s)+i] }
	cases := []struct {
		q, k int
		want bool
	}{
		{at(2, 2, 0), at(0, 0, 0), false},
		{at(2, 2, 0), at(1, 2, 5), true},
		{at(2, 2, 0), at(2, 1, 0), true},
		{at(2, 2, 0), 1, true},
		{at(0, 2, 0), at(0, 1, 2), true},
		{at(1, 0, 0), at(0, 2, 3), false},
		{at(1, 0, 0), at(1, 1, 0), false}, // a later scale stays invisible
	}
	for _, c := range cases {
		if allow[c.q*tt+c.k] != c.want {
			t.Errorf("query %d key %d: allowed %v, want %v", c.q, c.k, allow[c.q*tt+c.k], c.want)
		}
	}
	// Raster order: one step per cell, causal within a scale, and the
	// frame mask still hides frame 0.
	if n := len(l.steps(l.Frames)); n != len(l.Scales)*l.Frames {
		t.Fatalf("%d VideoAR steps", n)
	}
	l.Raster = true
	if n := len(l.steps(2)); n != 2*l.PerFrame {
		t.Fatalf("%d raster steps for 2 frames, want %d", n, 2*l.PerFrame)
	}
	allow = l.FrameMask([]bool{true, false, false})
	for _, c := range []struct {
		q, k int
		want bool
	}{
		{at(2, 2, 1), at(2, 2, 0), true},
		{at(2, 2, 0), at(2, 2, 1), false},
		{at(2, 2, 0), at(0, 0, 0), false},
		{at(2, 2, 0), at(1, 2, 15), true},
		{at(1, 0, 0), at(0, 2, 3), false},
	} {
		if allow[c.q*tt+c.k] != c.want {
			t.Errorf("raster: query %d key %d: allowed %v, want %v", c.q, c.k, allow[c.q*tt+c.k], c.want)
		}
	}
}

// TestRopeRelative: shifting every time position by a constant leaves
// the attention scores of the video layout's rotary positions unchanged.
func TestRopeRelative(t *testing.T) {
	l, err := NewLayout(3, 2, []int{1, 2, 4})
	if err != nil {
		t.Fatal(err)
	}
	const hd = 16
	split := []int{2, 2, 2, 2}
	pos, err := l.RopePositions(0, l.Len(), unified.NumAxes)
	if err != nil {
		t.Fatal(err)
	}
	shifted := append([]float64(nil), pos...)
	for i := 0; i < len(shifted); i += unified.NumAxes {
		shifted[i] += 7
	}
	rng := rand.New(rand.NewPCG(1, 2))
	qkv := make([]float32, l.Len()*3*hd)
	for i := range qkv {
		qkv[i] = float32(rng.NormFloat64())
	}
	scores := func(p []float64) []float64 {
		r, err := nn.NewRope(hd, split, 100, l.Len())
		if err != nil {
			t.Fatal(err)
		}
		if err := r.SetPositions(p); err != nil {
			t.Fatal(err)
		}
		g := G.NewGraph()
		x := G.NewMatrix(g, G.Float32, G.WithShape(l.Len(), 3*hd), G.WithValue(tensor.New(tensor.WithShape(l.Len(), 3*hd), tensor.WithBacking(append([]float32(nil), qkv...)))))
		y, err := nn.ApplyRopeQK(x, r)
		if err != nil {
			t.Fatal(err)
		}
		vm := G.NewTapeMachine(g)
		defer vm.Close()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		v := y.Value().Data().([]float32)
		var s []float64
		for i := range l.Len() {
			for j := range l.Len() {
				var dot float64
				for c := range hd {
					dot += float64(v[i*3*hd+c]) * float64(v[j*3*hd+hd+c])
				}
				s = append(s, dot)
			}
		}
		return s
	}
	a, b := scores(pos), scores(shifted)
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-4*(1+math.Abs(a[i])) {
			t.Fatalf("score %d: %g before the shift, %g after", i, a[i], b[i])
		}
	}
}

// TestTrainAndGenerate: the generator (VideoAR and the raster-order
// baseline) overfits two clips and then, greedy and guided by the prompt,
// reproduces the prompted clip's codes.
func TestTrainAndGenerate(t *testing.T) {
	q := tinyQuant()
	for _, cfg := range []Config{Tiny(q, 512), Tiny(q, 512).RasterOrder()} {
		t.Run(fmt.Sprintf("raster=%v", cfg.Raster), func(t *testing.T) { trainAndGenerate(t, cfg) })
	}
}

func trainAndGenerate(t *testing.T, cfg Config) {
	q := cfg.Quant
	dec := randomDecoder(q, 1)
	tr, err := NewTrainer(cfg, TrainConfig{Batch: 2, Frames: cfg.Frames, Seed: 1}, dec)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	rng := rand.New(rand.NewPCG(2, 2))
	batch := []Example{randomExample(rng, tr.inputs.L, q.Codes), randomExample(rng, tr.inputs.L, q.Codes)}
	opt := optim.NewAdamW(optim.DefaultAdamW(), tr.Params())
	var first, last float64
	for step := range 300 {
		if last, err = tr.Step(batch, rng); err != nil {
			t.Fatal(err)
		}
		if step == 0 {
			first = last
		}
		opt.Step(3e-3, nil)
	}
	t.Logf("cross-entropy %.3f → %.3f", first, last)
	if last > 0.1*first {
		t.Fatalf("cross-entropy %.3f → %.3f in 300 steps", first, last)
	}
	gen, err := NewGenerator(cfg, tr.Weights(), dec)
	if err != nil {
		t.Fatal(err)
	}
	greedy := Options{Sampling: unified.Sampling{Temperature: 0}, CFG: 1}
	codes, err := gen.Codes(context.Background(), batch[1].Prompt, greedy, nil)
	if err != nil {
		t.Fatal(err)
	}
	same, n := 0, 0
	for f := range codes {
		for i, c := range codes[f] {
			n++
			if c == batch[1].Codes[f][i] {
				same++
			}
		}
	}
	t.Logf("greedy generation reproduced %d of %d codes", same, n)
	if same < n*9/10 {
		t.Fatalf("greedy generation reproduced %d of %d codes", same, n)
	}
	if _, err := gen.Latents(codes); err != nil {
		t.Fatal(err)
	}
}

func TestFlipRamps(t *testing.T) {
	codes := make([][]int, 5)
	for f := range codes {
		codes[f] = make([]int, 4000)
	}
	out := Flip(codes, 256, 0.4, rand.New(rand.NewPCG(1, 1)))
	for f, c := range out {
		changed := 0
		for _, v := range c {
			if v != 0 {
				changed++
			}
		}
		want := 0.4 * float64(f) / 4 * 255 / 256
		if got := float64(changed) / 4000; math.Abs(got-want) > 0.03 {
			t.Errorf("frame %d: %.3f of codes flipped, want %.3f", f, got, want)
		}
	}
	if codes[4][0] != 0 {
		t.Fatal("Flip changed its input")
	}
}

// TestDecodeMatchesGraph: the KV-cache sampling path gives the training
// graph's logits, step by step, for the prompted and unprompted sequence,
// for VideoAR and for the raster-order baseline.
func TestDecodeMatchesGraph(t *testing.T) {
	q := tinyQuant()
	for _, cfg := range []Config{Tiny(q, 512), Tiny(q, 512).Rope1D(), Tiny(q, 512).RasterOrder(), tinyThree(q).WithPast(2)} {
		t.Run(fmt.Sprintf("%v raster=%v past=%d", cfg.Trunk.RopeSplit, cfg.Raster, cfg.PastFrames()), func(t *testing.T) { decodeMatchesGraph(t, cfg) })
	}
}

func decodeMatchesGraph(t *testing.T, cfg Config) {
	q := cfg.Quant
	cfg.Trunk.Capacity = 16 // no token dropped in the graph, as in Decode
	dec := randomDecoder(q, 3)
	b := nn.NewBuilder(5)
	m, err := newModel(b, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(4, 4))
	for _, p := range b.Params() { // the adaptive norms start at zero: make them matter
		for i := range p.Data() {
			p.Data()[i] += float32(rng.NormFloat64() * 0.05)
		}
	}
	ib, err := NewBuilder(cfg, cfg.Frames, dec)
	if err != nil {
		t.Fatal(err)
	}
	gr, err := m.build(b.G, b, 2, ib.L)
	if err != nil {
		t.Fatal(err)
	}
	ex := randomExample(rng, ib.L, q.Codes)
	xc, err := ib.Build(ex.Prompt, ex.Codes, ex.Codes)
	if err != nil {
		t.Fatal(err)
	}
	xu, err := ib.Build(nil, ex.Codes, ex.Codes)
	if err != nil {
		t.Fatal(err)
	}
	if err := gr.set([]Inputs{xc, xu}); err != nil {
		t.Fatal(err)
	}
	vm := nn.CompileForward(b.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	want := gr.logits.Value().Data().([]float32)
	g := &Generator{Cfg: cfg, m: m, inputs: ib}
	nc, l := q.Codes, ib.L
	passes := 0
	_, err = g.decode(context.Background(), ex.Prompt, cfg.Frames, func(st step, c, u []float32) ([]int, error) {
		passes++
		v0, n := l.v(st), st.n
		if e := relErr(c, want[v0*nc:(v0+n)*nc]); e > 1e-4 {
			t.Errorf("frame %d scale %d cell %d prompted: rel err %.2g", st.f, st.s, st.i, e)
		}
		if e := relErr(u, want[(l.Visual()+v0)*nc:(l.Visual()+v0+n)*nc]); e > 1e-4 {
			t.Errorf("frame %d scale %d cell %d unprompted: rel err %.2g", st.f, st.s, st.i, e)
		}
		return ex.Codes[st.f][v0-st.f*l.PerFrame : v0-st.f*l.PerFrame+n], nil
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := cfg.Passes(cfg.Frames); passes != want {
		t.Fatalf("%d decoder passes, want %d", passes, want)
	}
	// NLL is the cross-entropy of the graph's prompted logits.
	nll, err := g.NLL(context.Background(), ex.Prompt, ex.Codes)
	if err != nil {
		t.Fatal(err)
	}
	for f := range cfg.Frames {
		for s, k := range q.Scales {
			v0 := l.Start(f, s)
			if len(nll[f][s]) != k*k {
				t.Fatalf("NLL frame %d scale %d: %d cells, want %d", f, s, len(nll[f][s]), k*k)
			}
			for i, c := range ex.Codes[f][v0-f*l.PerFrame : v0-f*l.PerFrame+k*k] {
				if w := -logSoftmaxAt(want[(v0+i)*nc:(v0+i+1)*nc], c); math.Abs(nll[f][s][i]-w) > 1e-4*max(1, w) {
					t.Errorf("NLL frame %d scale %d cell %d: %.6f, graph %.6f", f, s, i, nll[f][s][i], w)
				}
			}
		}
	}
	if _, err := g.NLL(context.Background(), ex.Prompt, [][]int{{1, 2}}); err == nil {
		t.Error("NLL of a frame with too few codes: no error")
	}
}

func relErr(got, want []float32) float64 {
	var num, den float64
	for i := range got {
		d := float64(got[i] - want[i])
		num += d * d
		den += float64(want[i]) * float64(want[i])
	}
	return math.Sqrt(num / max(den, 1e-30))
}

// TestSamplingContract: a fixed seed gives the same clip, another seed
// another; guidance scale 1 is the prompted logits alone; given frames
// are kept and the clip length follows Frames; for VideoAR and the
// raster-order baseline.
func TestSamplingContract(t *testing.T) {
	q := tinyQuant()
	for _, cfg := range []Config{Tiny(q, 512), Tiny(q, 512).RasterOrder()} {
		t.Run(fmt.Sprintf("raster=%v", cfg.Raster), func(t *testing.T) { samplingContract(t, cfg) })
	}
}

func samplingContract(t *testing.T, cfg Config) {
	q := cfg.Quant
	dec := randomDecoder(q, 5)
	b := nn.NewBuilder(7)
	m, err := newModel(b, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(8, 8))
	for _, p := range b.Params() {
		for i := range p.Data() {
			p.Data()[i] += float32(rng.NormFloat64() * 0.3)
		}
	}
	ib, err := NewBuilder(cfg, cfg.Frames, dec)
	if err != nil {
		t.Fatal(err)
	}
	g := &Generator{Cfg: cfg, m: m, inputs: ib}
	ctx, prompt := context.Background(), []int{300, 301}
	opt := DefaultOptions()
	a, err := g.Codes(ctx, prompt, opt, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := g.Codes(ctx, prompt, opt, nil)
	opt.Seed++
	other, _ := g.Codes(ctx, prompt, opt, nil)
	if !reflect.DeepEqual(a, again) || reflect.DeepEqual(a, other) {
		t.Fatal("sampling is not a function of the seed")
	}
	greedy := Options{Sampling: unified.Sampling{Temperature: 0}, CFG: 1}
	got, err := g.Codes(ctx, prompt, greedy, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := g.decode(ctx, prompt, cfg.Frames, func(_ step, c, _ []float32) ([]int, error) {
		out := make([]int, len(c)/q.Codes)
		for i := range out {
			row := c[i*q.Codes : (i+1)*q.Codes]
			for j, v := range row {
				if v > row[out[i]] {
					out[i] = j
				}
			}
		}
		return out, nil
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("guidance scale 1 is not the prompted logits alone")
	}
	cont, err := g.Codes(ctx, prompt, Options{Sampling: opt.Sampling, CFG: 3, Given: a[:1]}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cont[0], a[0]) || len(cont) != cfg.Frames {
		t.Fatal("a given first frame was not kept")
	}
	img, err := g.Codes(ctx, prompt, Options{Sampling: opt.Sampling, CFG: 3, Frames: 1}, nil)
	if err != nil || len(img) != 1 {
		t.Fatalf("image: %d frames, %v", len(img), err)
	}
	for _, w := range []float64{math.NaN(), math.Inf(1)} {
		if _, err := g.Codes(ctx, prompt, Options{Sampling: opt.Sampling, CFG: w}, nil); err == nil {
			t.Fatalf("guidance scale %g accepted", w)
		}
	}
	if _, err := g.Codes(ctx, prompt, Options{Sampling: opt.Sampling, Frames: cfg.Frames + 1}, nil); err == nil {
		t.Fatal("too many frames accepted")
	}
}

// TestRasterCausal: in raster order the logits at visual position j do
// not depend on the codes at positions ≥ j (the input at j is code j−1),
// and those at j+1 do depend on code j.
func TestRasterCausal(t *testing.T) {
	q := tinyQuant()
	cfg := Tiny(q, 512).RasterOrder()
	b := nn.NewBuilder(11)
	m, err := newModel(b, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(12, 12))
	for _, p := range b.Params() { // the adaptive norms start at zero: make them matter
		for i := range p.Data() {
			p.Data()[i] += float32(rng.NormFloat64() * 0.05)
		}
	}
	ib, err := NewBuilder(cfg, cfg.Frames, randomDecoder(q, 13))
	if err != nil {
		t.Fatal(err)
	}
	l := ib.L
	gr, err := m.build(b.G, b, 1, l)
	if err != nil {
		t.Fatal(err)
	}
	vm := nn.CompileForward(b.G)
	defer vm.Close()
	ex := randomExample(rng, l, q.Codes)
	logits := func(codes [][]int) []float32 {
		x, err := ib.Build(ex.Prompt, codes, codes)
		if err != nil {
			t.Fatal(err)
		}
		if err := gr.set([]Inputs{x}); err != nil {
			t.Fatal(err)
		}
		vm.Reset()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		return append([]float32(nil), gr.logits.Value().Data().([]float32)...)
	}
	base := logits(ex.Codes)
	nc := q.Codes
	for _, j := range []int{0, 3, l.PerFrame - 1, l.PerFrame + 4} {
		f, i := j/l.PerFrame, j%l.PerFrame
		codes := [][]int{append([]int(nil), ex.Codes[0]...), append([]int(nil), ex.Codes[1]...)}
		codes[f][i] = (codes[f][i] + 1) % nc
		got := logits(codes)
		for v := 0; v <= j; v++ {
			if e := relErr(got[v*nc:(v+1)*nc], base[v*nc:(v+1)*nc]); e > 1e-6 {
				t.Errorf("code %d changed: logits at %d moved by %.2g", j, v, e)
			}
		}
		if e := relErr(got[(j+1)*nc:(j+2)*nc], base[(j+1)*nc:(j+2)*nc]); e < 1e-4 {
			t.Errorf("code %d changed: logits at %d moved only by %.2g", j, j+1, e)
		}
	}
}

// TestConfigRoundTrip: the raster flag survives the JSON metadata and a
// checkpoint; a VideoAR config's JSON does not mention it (its
// checkpoints keep their metadata) and only VideoAR has the ctx path.
func TestConfigRoundTrip(t *testing.T) {
	q := tinyQuant()
	for _, cfg := range []Config{Tiny(q, 512), Tiny(q, 512).RasterOrder(), Tiny(q, 512).Rope1D().RasterOrder(), tinyThree(q).WithPast(2)} {
		got, err := ParseConfig(cfg.JSON())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, cfg) {
			t.Fatalf("round trip %+v → %+v", cfg, got)
		}
		if strings.Contains(cfg.JSON(), `"raster"`) != cfg.Raster {
			t.Fatalf("raster %v, JSON %s", cfg.Raster, cfg.JSON())
		}
		if strings.Contains(cfg.WithPast(1).JSON(), `"past"`) { // as before Past existed
			t.Fatalf("past 1 in the JSON: %s", cfg.WithPast(1).JSON())
		}
		tr, err := NewTrainer(cfg, TrainConfig{Batch: 1, Frames: 1, Seed: 1}, randomDecoder(q, 1))
		if err != nil {
			t.Fatal(err)
		}
		w := tr.Weights()
		tr.Close()
		if _, ok := w["ctx_in.weight"]; ok == cfg.Raster {
			t.Fatalf("raster %v, ctx_in present %v", cfg.Raster, ok)
		}
		path := filepath.Join(t.TempDir(), "gen.safetensors")
		if err := SaveWeights(path, cfg, w); err != nil {
			t.Fatal(err)
		}
		lc, lw, err := LoadWeights(path)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(lc, cfg) || len(lw) != len(w) {
			t.Fatalf("checkpoint: config %+v, %d tensors; want %+v, %d", lc, len(lw), cfg, len(w))
		}
		if want := map[bool]int{false: 2 * len(q.Scales), true: 2 * q.Tokens()}[cfg.Raster]; cfg.Passes(2) != want {
			t.Fatalf("raster %v: %d passes for 2 latent frames, want %d", cfg.Raster, cfg.Passes(2), want)
		}
	}
}

// TestGeneratorChecksWeights gives NewGenerator weights of a Tiny model
// with configurations a damaged checkpoint could carry: each must be
// rejected by name before a model of that size is allocated (a 65,536-wide
// trunk would take tens of GB).
func TestGeneratorChecksWeights(t *testing.T) {
	q := tinyQuant()
	cfg := Tiny(q, 512)
	dec := randomDecoder(q, 1)
	w := initialWeights(t, cfg, dec)
	if _, err := NewGenerator(cfg, w, dec); err != nil {
		t.Fatalf("the model's own weights: %v", err)
	}
	wide := cfg
	wide.Trunk.Dim, wide.Trunk.CondDim = 1<<16, 1<<16
	long := cfg
	long.Frames = 4000
	deep := cfg
	deep.Trunk.Layers = 4000
	huge := cfg
	huge.Frames = 1 << 20
	for name, c := range map[string]Config{"wide": wide, "long": long, "deep": deep, "huge": huge} {
		if _, err := NewGenerator(c, w, dec); err == nil {
			t.Errorf("%s: weights of another configuration accepted", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// initialWeights are a freshly initialised model's weights.
func initialWeights(t *testing.T, cfg Config, dec *msvq.Decoder) map[string][]float32 {
	t.Helper()
	tr, err := NewTrainer(cfg, TrainConfig{Batch: 1, Frames: 1, Seed: 1}, dec)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	return tr.Weights()
}

// TestTiming: Codes adds its time to Generator.Time, split into the
// prompt pass, each scale's passes, sampling and inputs; NLL does not.
func TestTiming(t *testing.T) {
	q := tinyQuant()
	cfg := Tiny(q, 512)
	dec := randomDecoder(q, 1)
	g, err := NewGenerator(cfg, initialWeights(t, cfg, dec), dec)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := g.Codes(context.Background(), []int{300, 301}, DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	tm := g.Time
	if len(tm.Scales) != len(q.Scales) || tm.Prompt <= 0 || tm.Sample <= 0 || tm.Inputs <= 0 {
		t.Fatalf("timing %+v after one clip", tm)
	}
	for s, d := range tm.Scales {
		if d <= 0 {
			t.Errorf("scale %d: %v", s, d)
		}
	}
	if _, err := g.NLL(context.Background(), []int{300, 301}, codes); err != nil {
		t.Fatal(err)
	}
	if g.Time.Prompt != tm.Prompt || g.Time.Sample != tm.Sample {
		t.Errorf("NLL changed the timing: %+v → %+v", tm, g.Time)
	}
}

// TestSelfCorrect: at rate 0 the codes pass unchanged; otherwise the last
// scale is never flipped, the first scale's targets stay clean, and the
// re-quantized targets repair the flips: the latent drawn from the
// corrupted inputs and the last scale's targets is nearer the clean latent
// than the one the same inputs and the clean last scale give. Without phi
// (ratio 0) the last scale's code is the cell's own latent vector, so the
// nearest code can only do better, cell by cell.
func TestSelfCorrect(t *testing.T) {
	q := tinyQuant()
	q.PhiRatio = 0
	dec := randomDecoder(q, 3)
	b, err := NewBuilder(Tiny(q, 512), 2, dec)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(4, 4))
	last, per := len(q.Scales)-1, b.L.PerFrame
	lastAt := b.L.Start(0, last)
	// sqErr is ‖clean − latent of codes‖² for one frame's codes.
	sqErr := func(clean []float32, codes []int) float64 {
		z, err := dec.Latent(b.maps(codes), len(q.Scales))
		if err != nil {
			t.Fatal(err)
		}
		var e float64
		for i := range z {
			e += float64((z[i] - clean[i]) * (z[i] - clean[i]))
		}
		return e
	}
	var repaired, kept float64
	for range 50 {
		ex := randomExample(rng, b.L, q.Codes)
		in, tg, err := b.SelfCorrect(ex.Codes, 0, rng)
		if err != nil {
			t.Fatal(err)
		}
		for f := range ex.Codes {
			if !slices.Equal(in[f], ex.Codes[f]) || !slices.Equal(tg[f], ex.Codes[f]) {
				t.Fatalf("rate 0 changed frame %d's codes", f)
			}
		}
		if in, tg, err = b.SelfCorrect(ex.Codes, 0.3, rng); err != nil {
			t.Fatal(err)
		}
		for f, c := range ex.Codes {
			if !slices.Equal(in[f][lastAt:], tg[f][lastAt:]) {
				t.Fatalf("frame %d: the last scale's inputs differ from its targets", f)
			}
			if tg[f][0] != c[0] {
				t.Fatalf("frame %d: the first scale's target %d, clean %d", f, tg[f][0], c[0])
			}
			clean, err := dec.Latent(b.maps(c), len(q.Scales))
			if err != nil {
				t.Fatal(err)
			}
			repaired += sqErr(clean, in[f])
			kept += sqErr(clean, append(append([]int(nil), in[f][:lastAt]...), c[lastAt:per]...))
		}
	}
	t.Logf("squared error with repaired targets %.1f, with the clean last scale %.1f", repaired, kept)
	if repaired >= kept {
		t.Errorf("repaired targets leave squared error %.1f, the clean last scale %.1f: want less", repaired, kept)
	}
	if _, _, err := b.SelfCorrect([][]int{{1, 2}}, 0.3, rng); err == nil {
		t.Error("a frame of 2 codes: no error")
	}
	for _, c := range []struct {
		cfg  Config
		rate float64
	}{{Tiny(q, 512), -0.1}, {Tiny(q, 512), 1.5}, {Tiny(q, 512).RasterOrder(), 0.1}} {
		if tr, err := NewTrainer(c.cfg, TrainConfig{Batch: 1, Frames: 1, ScaleFlip: c.rate}, dec); err == nil {
			tr.Close()
			t.Errorf("self-correction rate %g (raster %v): no error", c.rate, c.cfg.Raster)
		}
	}
}

// TestPastContext: with Past 2 a position's local context holds the
// previous frame's neighbourhood (what Past 1 gives it) and then the one
// before it (what Past 1 gives the same cell a frame earlier), zeros
// where that frame does not exist.
func TestPastContext(t *testing.T) {
	q := tinyQuant()
	one := tinyThree(q)
	two := one.WithPast(2)
	dec := randomDecoder(q, 2)
	b1, err := NewBuilder(one, 3, dec)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := NewBuilder(two, 3, dec)
	if err != nil {
		t.Fatal(err)
	}
	ex := randomExample(rand.New(rand.NewPCG(1, 2)), b1.L, q.Codes)
	x1, err := b1.Build(ex.Prompt, ex.Codes, ex.Codes)
	if err != nil {
		t.Fatal(err)
	}
	x2, err := b2.Build(ex.Prompt, ex.Codes, ex.Codes)
	if err != nil {
		t.Fatal(err)
	}
	w := b1.ctxWidth()
	if b2.ctxWidth() != 2*w {
		t.Fatalf("ctx width %d, want %d", b2.ctxWidth(), 2*w)
	}
	per := b1.L.PerFrame
	for f := range 3 {
		for c := range per {
			v := f*per + c
			row := x2.Ctx[v*2*w : (v+1)*2*w]
			if !slices.Equal(row[:w], x1.Ctx[v*w:(v+1)*w]) {
				t.Fatalf("frame %d cell %d: first block is not the previous frame's neighbourhood", f, c)
			}
			want := make([]float32, w) // no frame two back
			if f == 2 {
				want = x1.Ctx[(v-per)*w : (v-per+1)*w]
			}
			if !slices.Equal(row[w:], want) {
				t.Fatalf("frame %d cell %d: second block is not the neighbourhood two frames back", f, c)
			}
		}
	}
	nonzero := false
	for _, v := range x2.Ctx[2*per*2*w:] {
		nonzero = nonzero || v != 0
	}
	if !nonzero {
		t.Fatal("frame 2's context is all zeros")
	}
}

// TestGrowPast: a generator grown to see two earlier frames scores clips
// exactly as the one it grew from, and growing anything else fails.
func TestGrowPast(t *testing.T) {
	q := tinyQuant()
	one := tinyThree(q)
	two := one.WithPast(2)
	dec := randomDecoder(q, 3)
	w := initialWeights(t, one, dec)
	rng := rand.New(rand.NewPCG(5, 5))
	for _, v := range w { // the adaptive norms start at zero: make them matter
		for i := range v {
			v[i] += float32(rng.NormFloat64() * 0.05)
		}
	}
	grown, err := GrowPast(one, two, w)
	if err != nil {
		t.Fatal(err)
	}
	g1, err := NewGenerator(one, w, dec)
	if err != nil {
		t.Fatal(err)
	}
	g2, err := NewGenerator(two, grown, dec)
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLayout(one.Prompt, 3, q.Scales)
	if err != nil {
		t.Fatal(err)
	}
	ex := randomExample(rng, l, q.Codes)
	n1, err := g1.NLL(context.Background(), ex.Prompt, ex.Codes)
	if err != nil {
		t.Fatal(err)
	}
	n2, err := g2.NLL(context.Background(), ex.Prompt, ex.Codes)
	if err != nil {
		t.Fatal(err)
	}
	for f := range n1 {
		for s := range n1[f] {
			for i := range n1[f][s] {
				if d := math.Abs(n1[f][s][i] - n2[f][s][i]); d > 1e-5 {
					t.Fatalf("frame %d scale %d cell %d: NLL %.6f grown, %.6f before", f, s, i, n2[f][s][i], n1[f][s][i])
				}
			}
		}
	}
	other := two
	other.Local = 5
	for _, c := range []struct {
		name     string
		from, to Config
	}{{"to fewer earlier frames", two, one}, {"another local side", one, other}} {
		if _, err := GrowPast(c.from, c.to, w); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

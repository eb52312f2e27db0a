package msvq

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/omniar/omniar/internal/blas"
	"github.com/omniar/omniar/nn"
)

func TestMain(m *testing.M) {
	blas.Install()
	os.Exit(m.Run())
}

func small() Config {
	return Config{Codes: 16, Dim: 4, Scales: []int{1, 2, 3, 4}, Beta: 0.25, Decay: 0.9, PhiRatio: 0.5}
}

// build quantizes a random latent batch and runs the graph once.
func build(t *testing.T, cfg Config, n int, fill func([]float32)) (*Quantizer, []float32, [][]float32) {
	t.Helper()
	b := nn.NewBuilder(3)
	f := b.Input("f", n, cfg.Dim, cfg.Side(), cfg.Side())
	data := make([]float32, n*cfg.Dim*cfg.Side()*cfg.Side())
	fill(data)
	if err := f.Set(data); err != nil {
		t.Fatal(err)
	}
	q, err := New(b, "q", cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	out, err := q.Forward(f.Node)
	if err != nil {
		t.Fatal(err)
	}
	var fhat G.Value
	G.Read(out.FHat, &fhat)
	partials := make([]G.Value, len(out.Partials))
	for i, p := range out.Partials {
		G.Read(p, &partials[i])
	}
	vm := nn.CompileForward(b.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	ps := make([][]float32, len(partials))
	for i, p := range partials {
		ps[i] = append([]float32(nil), p.Data().([]float32)...)
	}
	return q, append([]float32(nil), fhat.Data().([]float32)...), ps
}

// TestRoundTrip: decoding the codes up to each scale gives the graph's
// quantized latent, with and without a dead zone around code 0 (which must
// give code 0 to more vectors).
func TestRoundTrip(t *testing.T) {
	zeros := map[float32]int{}
	for _, zb := range []float32{0, 2} {
		cfg := small()
		cfg.ZeroBias = zb
		zeros[zb] = roundTrip(t, cfg)
	}
	t.Logf("code 0 taken %d times without a dead zone, %d with", zeros[0], zeros[2])
	if zeros[2] <= zeros[0] {
		t.Errorf("with the dead zone %d vectors took code 0, without it %d: want more with it", zeros[2], zeros[0])
	}
}

func roundTrip(t *testing.T, cfg Config) (zeros int) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 3
	var f []float32
	q, fhat, partials := build(t, cfg, n, func(d []float32) {
		for i := range d {
			d[i] = float32(rng.NormFloat64() * 0.3)
		}
		f = append(f, d...)
	})
	idx := q.Indices()
	for _, codes := range idx {
		for _, c := range codes {
			if c == 0 {
				zeros++
			}
		}
	}
	dec := q.Decoder()
	per := cfg.Dim * cfg.Side() * cfg.Side()
	all := make([]Maps, n)
	for img := 0; img < n; img++ {
		m := make(Maps, len(cfg.Scales))
		for s, k := range cfg.Scales {
			m[s] = idx[s][img*k*k : (img+1)*k*k]
		}
		all[img] = m
		// Quantize and subtract, scale by scale, is the graph's encoding.
		rest := append([]float32(nil), f[img*per:(img+1)*per]...)
		for s := range cfg.Scales {
			if got := dec.Quantize(rest, s); !slices.Equal(got, m[s]) {
				t.Fatalf("image %d scale %d: Quantize %v, graph %v", img, s, got, m[s])
			}
			z, err := dec.Contribution(s, m[s])
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range z {
				rest[i] -= v
			}
		}
		for upto := 1; upto <= len(cfg.Scales); upto++ {
			got, err := dec.Latent(m, upto)
			if err != nil {
				t.Fatal(err)
			}
			want := fhat[img*per : (img+1)*per]
			if upto < len(cfg.Scales) {
				want = partials[upto-1][img*per : (img+1)*per]
			}
			for i := range got {
				if math.Abs(float64(got[i]-want[i])) > 1e-5 {
					t.Fatalf("image %d after %d scales: element %d is %g, graph %g", img, upto, i, got[i], want[i])
				}
			}
		}
	}
	got, err := dec.Latents(all)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(fhat) {
		t.Fatalf("latents of %d maps: %d values, graph %d", n, len(got), len(fhat))
	}
	for i := range got {
		if math.Abs(float64(got[i]-fhat[i])) > 1e-5 {
			t.Fatalf("latents of %d maps: element %d is %g, graph %g", n, i, got[i], fhat[i])
		}
	}
	return zeros
}

// TestRepeatedScale: a side may repeat (a second depth at that side). The
// codes still decode to the graph's latent, and the repeat quantizes what
// the first pass left: with phi off (ratio 0) the nearest code, code 0
// included, never moves the latent away, so the error must drop. Sides that
// decrease are refused.
func TestRepeatedScale(t *testing.T) {
	cfg := small()
	cfg.Scales = []int{1, 2, 3, 4, 4}
	roundTrip(t, cfg)

	sqErr := func(scales []int) float64 {
		c := small()
		c.Scales, c.PhiRatio, c.Codes = scales, 0, 64
		var f []float32
		_, fhat, _ := build(t, c, 2, func(d []float32) {
			rng := rand.New(rand.NewPCG(5, 5))
			for i := range d {
				d[i] = float32(rng.NormFloat64() * 0.1)
			}
			f = d
		})
		var se float64
		for i, v := range fhat {
			se += float64((v - f[i]) * (v - f[i]))
		}
		return se
	}
	once, twice := sqErr([]int{1, 2, 3, 4}), sqErr([]int{1, 2, 3, 4, 4})
	if !(twice < once) {
		t.Errorf("squared error %g with the finest side twice, %g once: want less", twice, once)
	}
	bad := small()
	bad.Scales = []int{1, 3, 2, 4}
	if err := bad.Validate(); err == nil {
		t.Error("scales 1,3,2,4 accepted")
	}
}

// TestZeroLatentTakesCodeZero: an empty latent is all code 0 at every scale.
func TestZeroLatentTakesCodeZero(t *testing.T) {
	q, fhat, _ := build(t, small(), 2, func([]float32) {})
	for s, codes := range q.Indices() {
		for _, c := range codes {
			if c != 0 {
				t.Fatalf("scale %d: code %d for a zero latent", s, c)
			}
		}
	}
	_ = fhat
}

// quantizerGraph is a quantizer of cfg on an input latent of n maps,
// compiled for forward runs (the caller closes the VM).
func quantizerGraph(t *testing.T, cfg Config, n int) (*Quantizer, *nn.Input, G.VM) {
	t.Helper()
	b := nn.NewBuilder(3)
	f := b.Input("f", n, cfg.Dim, cfg.Side(), cfg.Side())
	q, err := New(b, "q", cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Forward(f.Node); err != nil {
		t.Fatal(err)
	}
	return q, f, nn.CompileForward(b.G)
}

func TestEMAUpdatesAndRestarts(t *testing.T) {
	cfg := small()
	rng := rand.New(rand.NewPCG(4, 4))
	q, f, vm := quantizerGraph(t, cfg, 8)
	defer vm.Close()
	q.Stats.On = true
	data := make([]float32, 8*cfg.Dim*cfg.Side()*cfg.Side())
	restarted := 0
	for step := 0; step < 30; step++ {
		for i := range data {
			data[i] = float32(rng.NormFloat64())
		}
		f.Set(data)
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		vm.Reset()
		restarted += q.UpdateCodebook()
	}
	cb := q.CodebookData()
	for j := 0; j < cfg.Dim; j++ {
		if cb[j] != 0 {
			t.Fatal("code 0 moved")
		}
	}
	used := map[int]bool{}
	for _, codes := range q.Indices() {
		for _, c := range codes {
			used[c] = true
		}
	}
	if len(used) < cfg.Codes/2 {
		t.Errorf("only %d of %d codes used after EMA with restarts (%d restarts)", len(used), cfg.Codes, restarted)
	}
}

// TestSeedCodes: with SeedCodes, a fresh quantizer's first update sets
// every code but 0 to a residual vector of that step (distinct while they
// last); a quantizer whose EMA state was restored is never seeded.
func TestSeedCodes(t *testing.T) {
	for _, restored := range []bool{false, true} {
		cfg := small()
		rng := rand.New(rand.NewPCG(5, 5))
		q, f, vm := quantizerGraph(t, cfg, 8)
		q.Stats.On, q.SeedCodes = true, true
		if restored {
			q.SetEMAState(q.EMAState())
		}
		data := make([]float32, 8*cfg.Dim*cfg.Side()*cfg.Side())
		for i := range data {
			data[i] = float32(rng.NormFloat64()) * 5 // far from the initial codes (σ 0.1)
		}
		f.Set(data)
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		sample := append([][]float32(nil), q.Stats.Sample...)
		set := q.UpdateCodebook()
		vm.Close()
		cb := q.CodebookData()
		distinct := map[string]bool{}
		inSample := 0
		for k := 1; k < cfg.Codes; k++ {
			code := cb[k*cfg.Dim : (k+1)*cfg.Dim]
			distinct[fmt.Sprint(code)] = true
			if slices.ContainsFunc(sample, func(r []float32) bool { return slices.Equal(r, code) }) {
				inSample++
			}
		}
		switch {
		case !restored && (set != cfg.Codes-1 || inSample != cfg.Codes-1 || len(distinct) != cfg.Codes-1):
			t.Errorf("fresh: %d codes set, %d of %d are sampled residuals, %d distinct", set, inSample, cfg.Codes-1, len(distinct))
		case restored && inSample > 0:
			t.Errorf("restored: %d codes were seeded", inSample)
		}
		if !slices.Equal(cb[:cfg.Dim], make([]float32, cfg.Dim)) {
			t.Error("code 0 moved")
		}
	}
}

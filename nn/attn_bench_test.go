package nn

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BenchmarkAttention is one forward pass of a VideoAR-sized attention:
// B 4, T 676 in groups of up to 64 (block-causal), 4 heads of 64.
func BenchmarkAttention(b *testing.B) {
	const bs, t, h, d = 4, 676, 4, 256
	group := make([]int, t)
	for i := range group {
		group[i] = i / 64
	}
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, bs*t*3*d)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	g := G.NewGraph()
	in := G.NewMatrix(g, G.Float32, G.WithShape(bs*t, 3*d), G.WithValue(tensor.New(tensor.WithShape(bs*t, 3*d), tensor.WithBacking(x))))
	if _, err := Attention(in, bs, t, h, BlockCausalMask(group)); err != nil {
		b.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	b.ResetTimer()
	for range b.N {
		if err := vm.RunAll(); err != nil {
			b.Fatal(err)
		}
		vm.Reset()
	}
	b.ReportMetric(float64(2*2*bs*h*t*t*(d/h))/2/1e9*float64(b.N)/b.Elapsed().Seconds(), "GFLOP/s")
}

// BenchmarkAttentionGrad is the backward pass of BenchmarkAttention's
// attention (the probabilities of one forward pass are reused).
func BenchmarkAttentionGrad(b *testing.B) {
	const bs, t, h, d = 4, 676, 4, 256
	group := make([]int, t)
	for i := range group {
		group[i] = i / 64
	}
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, bs*t*3*d)
	do := make([]float32, bs*t*d)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	for i := range do {
		do[i] = float32(rng.NormFloat64())
	}
	k := attnK{b: bs, t: t, h: h, mask: BlockCausalMask(group), probs: new([]float32), ds: new([]float32)}
	qkv := tensor.New(tensor.WithShape(bs*t, 3*d), tensor.WithBacking(x))
	dO := tensor.New(tensor.WithShape(bs*t, d), tensor.WithBacking(do))
	if err := k.forward(make([]float32, bs*t*d), []*tensor.Dense{qkv}); err != nil {
		b.Fatal(err)
	}
	out := make([]float32, bs*t*3*d)
	b.ResetTimer()
	for range b.N {
		if err := attnGradK(k).forward(out, []*tensor.Dense{qkv, dO}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(4*2*bs*h*t*t*(d/h))/2/1e9*float64(b.N)/b.Elapsed().Seconds(), "GFLOP/s")
}

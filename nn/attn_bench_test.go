package nn

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BenchmarkAttention is one forward pass of the benchmarks' attention.
func BenchmarkAttention(b *testing.B) {
	x, mask := attnBenchInput()
	g := G.NewGraph()
	in := G.NewMatrix(g, G.Float32, G.WithShape(benchB*benchT, 3*benchD), G.WithValue(tensor.New(tensor.WithShape(benchB*benchT, 3*benchD), tensor.WithBacking(x))))
	if _, err := Attention(in, benchB, benchT, benchH, mask); err != nil {
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
	reportAttnGFLOPs(b, 2)
}

// The benchmarks' VideoAR-sized attention: B 4, T 676 in groups of up to
// 64 (block-causal), 4 heads of 64.
const benchB, benchT, benchH, benchD = 4, 676, 4, 256

// attnBenchInput returns random packed qkv [B·T, 3·D] and the mask.
func attnBenchInput() ([]float32, *Mask) {
	group := make([]int, benchT)
	for i := range group {
		group[i] = i / 64
	}
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, benchB*benchT*3*benchD)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x, BlockCausalMask(group)
}

// reportAttnGFLOPs reports GFLOP/s for an op of matmuls attention-sized
// matmuls, counting half of each (the mask skips about half the work).
func reportAttnGFLOPs(b *testing.B, matmuls int) {
	b.ReportMetric(float64(matmuls*2*benchB*benchH*benchT*benchT*(benchD/benchH))/2/1e9*float64(b.N)/b.Elapsed().Seconds(), "GFLOP/s")
}

// BenchmarkAttentionGrad is the backward pass of BenchmarkAttention's
// attention (the probabilities of one forward pass are reused).
func BenchmarkAttentionGrad(b *testing.B) {
	x, mask := attnBenchInput()
	rng := rand.New(rand.NewPCG(2, 2))
	do := make([]float32, benchB*benchT*benchD)
	for i := range do {
		do[i] = float32(rng.NormFloat64())
	}
	k := attnK{b: benchB, t: benchT, h: benchH, mask: mask, probs: new([]float32), ds: new([]float32)}
	qkv := tensor.New(tensor.WithShape(benchB*benchT, 3*benchD), tensor.WithBacking(x))
	dO := tensor.New(tensor.WithShape(benchB*benchT, benchD), tensor.WithBacking(do))
	if err := k.forward(make([]float32, benchB*benchT*benchD), []*tensor.Dense{qkv}); err != nil {
		b.Fatal(err)
	}
	out := make([]float32, len(x))
	b.ResetTimer()
	for range b.N {
		if err := attnGradK(k).forward(out, []*tensor.Dense{qkv, dO}); err != nil {
			b.Fatal(err)
		}
	}
	reportAttnGFLOPs(b, 4)
}

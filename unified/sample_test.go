package unified

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestSamplingProbs(t *testing.T) {
	// softmax of these logits is (0.5, 0.25, 0.125, 0.125)
	l := []float32{float32(math.Log(4)), float32(math.Log(2)), 0, 0}
	for _, tc := range []struct {
		name string
		s    Sampling
		want []float64
	}{
		{"plain", Sampling{Temperature: 1}, []float64{0.5, 0.25, 0.125, 0.125}},
		{"greedy", Sampling{}, []float64{1, 0, 0, 0}},
		{"hot", Sampling{Temperature: 2}, []float64{2 / (2 + math.Sqrt2 + 2), math.Sqrt2 / (2 + math.Sqrt2 + 2), 1 / (2 + math.Sqrt2 + 2), 1 / (2 + math.Sqrt2 + 2)}},
		{"topk", Sampling{Temperature: 1, TopK: 2}, []float64{2.0 / 3, 1.0 / 3, 0, 0}},
		{"topp", Sampling{Temperature: 1, TopP: 0.7}, []float64{2.0 / 3, 1.0 / 3, 0, 0}},
		{"topp_exact", Sampling{Temperature: 1, TopP: 0.5}, []float64{1, 0, 0, 0}},
		{"topk_topp", Sampling{Temperature: 1, TopK: 3, TopP: 0.9}, []float64{4.0 / 7, 2.0 / 7, 1.0 / 7, 0}},
	} {
		p, err := tc.s.Probs(l)
		if err != nil {
			t.Fatal(err)
		}
		for i := range p {
			if math.Abs(p[i]-tc.want[i]) > 1e-6 {
				t.Errorf("%s: probs %v, want %v", tc.name, p, tc.want)
				break
			}
		}
	}
	// the empirical distribution of Sample follows Probs
	rng := rand.New(rand.NewPCG(1, 2))
	s := Sampling{Temperature: 1, TopK: 3}
	counts := make([]float64, 4)
	const n = 20000
	for i := 0; i < n; i++ {
		k, err := s.Sample(l, rng)
		if err != nil {
			t.Fatal(err)
		}
		counts[k]++
	}
	for i, w := range []float64{4.0 / 7, 2.0 / 7, 1.0 / 7, 0} {
		if math.Abs(counts[i]/n-w) > 0.015 {
			t.Errorf("token %d drawn %.3f of the time, want %.3f", i, counts[i]/n, w)
		}
	}
	for _, bad := range []Sampling{{Temperature: -1}, {TopP: 1.5}, {TopK: -2}} {
		if _, err := bad.Probs(l); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if _, err := (Sampling{Temperature: 1}).Probs([]float32{float32(math.NaN())}); err == nil {
		t.Error("NaN logits accepted")
	}
	if _, err := (Sampling{}).SampleGroup(l, 3, rng); err == nil {
		t.Error("ragged group accepted")
	}
}

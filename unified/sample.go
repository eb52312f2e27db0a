package unified

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Sampling says how a token is drawn from logits: softmax(logits / T),
// then only the TopK most likely (0 = all), then only the smallest set of
// most likely tokens whose mass reaches TopP (0 or 1 = all), renormalised.
// Temperature 0 is greedy decoding.
type Sampling struct {
	Temperature float64 `json:"temperature"`
	TopK        int     `json:"top_k"`
	TopP        float64 `json:"top_p"`
}

// Validate reports settings that select nothing.
func (s Sampling) Validate() error {
	if s.Temperature < 0 || s.TopK < 0 || s.TopP < 0 || s.TopP > 1 || math.IsNaN(s.Temperature) || math.IsNaN(s.TopP) {
		return fmt.Errorf("sampling: temperature %g, top-k %d, top-p %g: want T ≥ 0, k ≥ 0, p in [0, 1]", s.Temperature, s.TopK, s.TopP)
	}
	return nil
}

// Probs returns the distribution Sample draws from.
func (s Sampling) Probs(logits []float32) ([]float64, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if len(logits) == 0 {
		return nil, fmt.Errorf("sampling: no logits")
	}
	for i, l := range logits {
		if math.IsNaN(float64(l)) || math.IsInf(float64(l), 0) {
			return nil, fmt.Errorf("sampling: logit %d is %g", i, l)
		}
	}
	p := make([]float64, len(logits))
	order := make([]int, len(logits))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { // larger logit first, then lower id: a total order
		if c := cmp.Compare(logits[b], logits[a]); c != 0 {
			return c
		}
		return a - b
	})
	if s.Temperature == 0 {
		p[order[0]] = 1
		return p, nil
	}
	mx := float64(logits[order[0]])
	var z float64
	for i, l := range logits {
		p[i] = math.Exp((float64(l) - mx) / s.Temperature)
		z += p[i]
	}
	keep := len(order)
	if s.TopK > 0 && s.TopK < keep {
		keep = s.TopK
	}
	if s.TopP > 0 && s.TopP < 1 {
		var mass float64
		for i, o := range order[:keep] {
			mass += p[o] / z
			if mass >= s.TopP {
				keep = i + 1
				break
			}
		}
	}
	var kept float64
	for _, o := range order[:keep] {
		kept += p[o]
	}
	for _, o := range order[keep:] {
		p[o] = 0
	}
	for i := range p {
		p[i] /= kept
	}
	return p, nil
}

// Sample draws one token from logits.
func (s Sampling) Sample(logits []float32, rng *rand.Rand) (int, error) {
	p, err := s.Probs(logits)
	if err != nil {
		return 0, err
	}
	u := rng.Float64()
	last := 0
	for i, v := range p {
		if v > 0 {
			last = i
			if u -= v; u < 0 {
				return i, nil
			}
		}
	}
	return last, nil
}

// SampleGroup draws one token per row of logits [n, vocab]: a whole group
// decoded in parallel.
func (s Sampling) SampleGroup(logits []float32, vocab int, rng *rand.Rand) ([]int, error) {
	if vocab <= 0 || len(logits)%vocab != 0 {
		return nil, fmt.Errorf("sampling: %d logits are not rows of %d", len(logits), vocab)
	}
	out := make([]int, len(logits)/vocab)
	for i := range out {
		var err error
		if out[i], err = s.Sample(logits[i*vocab:(i+1)*vocab], rng); err != nil {
			return nil, fmt.Errorf("row %d: %w", i, err)
		}
	}
	return out, nil
}

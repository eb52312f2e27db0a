package unified

import (
	"fmt"
	"math/rand/v2"
)

// Elastic is the ERNIE 5.0-style training recipe: each step trains the
// full model with probability PFull, else a sub-model drawn uniformly
// from Family. Set the draw with Trunk.SetSub before the step.
type Elastic struct {
	PFull  float64 `json:"p_full"`
	Family []Sub   `json:"family"`
}

// DefaultElastic is a family of depth, width and top-k cuts of cfg: the
// first half of the layers, every other layer, half the experts, top-1,
// and their combinations; the full model half of the time.
func DefaultElastic(cfg Config) Elastic {
	half := make([]int, 0, cfg.Layers)
	alt := make([]int, 0, cfg.Layers)
	for l := 0; l < cfg.Layers; l++ {
		if l < (cfg.Layers+1)/2 {
			half = append(half, l)
		}
		if l%2 == 0 {
			alt = append(alt, l)
		}
	}
	fam := []Sub{{Layers: half}, {Layers: alt}}
	if cfg.Experts > 1 {
		e := max(cfg.Experts/2, cfg.TopK)
		fam = append(fam, Sub{Experts: e})
		if cfg.TopK > 1 {
			fam = append(fam, Sub{TopK: 1}, Sub{Experts: e, TopK: 1}, Sub{Layers: half, Experts: e, TopK: 1})
		}
	}
	return Elastic{PFull: 0.5, Family: fam}
}

// Validate checks the probability and every sub-model against cfg.
func (e Elastic) Validate(cfg Config) error {
	if e.PFull < 0 || e.PFull > 1 || (e.PFull < 1 && len(e.Family) == 0) {
		return fmt.Errorf("elastic: p_full %g with %d sub-models", e.PFull, len(e.Family))
	}
	for i, s := range e.Family {
		if err := s.Validate(cfg); err != nil {
			return fmt.Errorf("elastic: sub-model %d: %w", i, err)
		}
	}
	return nil
}

// Sample draws the sub-model of one training step (the zero Sub is the
// full model).
func (e Elastic) Sample(rng *rand.Rand) Sub {
	if len(e.Family) == 0 || rng.Float64() < e.PFull {
		return Sub{}
	}
	return e.Family[rng.IntN(len(e.Family))]
}

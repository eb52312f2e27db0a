package videoar

import (
	"fmt"
	"strings"

	"github.com/omniar/omniar/nn/ckpt"
)

// SaveWeights writes a generator as shipped: configuration and weights,
// F16 except the routed experts' matrices, which are 60 % of the weights
// and are stored as blockwise int8 (ckpt.Q8), so that assets/ stays within
// its 60 MB.
func SaveWeights(path string, cfg Config, w map[string][]float32) error {
	ts := make([]ckpt.Tensor, 0, len(w))
	for n, v := range w {
		t := ckpt.Tensor{Name: n, Shape: []int{len(v)}, Data: v}
		if strings.Contains(n, ".moe.experts.") {
			t.Store = ckpt.Q8
		}
		ts = append(ts, t)
	}
	return ckpt.Save(path, map[string]string{"config": cfg.JSON(), "kind": "videoar"}, ts, ckpt.F16)
}

// LoadWeights reads a generator from a training checkpoint (`omniar train
// videoar`) or a weights file (SaveWeights).
func LoadWeights(path string) (Config, map[string][]float32, error) {
	f, err := ckpt.Load(path)
	if err != nil {
		return Config{}, nil, err
	}
	cfg, err := ParseConfig(f.Meta["config"])
	if err != nil {
		return cfg, nil, fmt.Errorf("generator %s: %w", path, err)
	}
	w := map[string][]float32{}
	for _, n := range f.Names() {
		if strings.HasPrefix(n, "optim.") {
			continue
		}
		if w[n], err = f.Get(n); err != nil {
			return cfg, nil, err
		}
	}
	return cfg, w, nil
}

package videoar

import (
	"fmt"
	"strings"

	"github.com/omniar/omniar/nn/ckpt"
)

// SaveWeights writes a generator as shipped: configuration and weights.
func SaveWeights(path string, cfg Config, w map[string][]float32) error {
	ts := make([]ckpt.Tensor, 0, len(w))
	for n, v := range w {
		ts = append(ts, ckpt.Tensor{Name: n, Shape: []int{len(v)}, Data: v})
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

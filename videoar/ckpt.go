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

// GrowPast makes the weights of a generator of configuration from (seeing
// fewer earlier frames) the starting point of one of configuration to:
// the local context's input matrix gains zero columns for the frames
// added, so the grown model computes what the old one did until training
// gives the new columns weight.
func GrowPast(from, to Config, w map[string][]float32) (map[string][]float32, error) {
	if from.WithPast(to.PastFrames()).JSON() != to.JSON() || to.PastFrames() < from.PastFrames() {
		return nil, fmt.Errorf("videoar: a generator seeing %d earlier frames grows only into the same one seeing more, not %s", from.PastFrames(), to.JSON())
	}
	const name = "ctx_in.weight"
	old, out := w[name], to.Trunk.Dim
	oldIn := from.PastFrames() * from.Local * from.Local * from.Quant.Dim
	newIn := to.PastFrames() * to.Local * to.Local * to.Quant.Dim
	if len(old) != out*oldIn {
		return nil, fmt.Errorf("videoar: %s has %d values, want %d×%d", name, len(old), out, oldIn)
	}
	grown := make(map[string][]float32, len(w))
	for n, v := range w {
		grown[n] = v
	}
	g := make([]float32, out*newIn) // [out, in]: each row gains zeros at its end
	for r := range out {
		copy(g[r*newIn:], old[r*oldIn:(r+1)*oldIn])
	}
	grown[name] = g
	return grown, nil
}

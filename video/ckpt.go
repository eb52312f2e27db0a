package video

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/omniar/omniar/nn"
	"github.com/omniar/omniar/nn/ckpt"
)

// codebookName is the codebook's tensor in a weights file (training
// checkpoints keep it in the task state, with its EMA).
const codebookName = "quant.codebook"

// SaveWeights writes a tokenizer as shipped: its configuration, parameters
// and codebook, no optimizer state.
func SaveWeights(path string, cfg Config, w Weights) error {
	ts := []ckpt.Tensor{{Name: codebookName, Shape: []int{cfg.Quant.Codes, cfg.Quant.Dim}, Data: w.Codebook}}
	for n, v := range w.Params {
		ts = append(ts, ckpt.Tensor{Name: n, Shape: []int{len(v)}, Data: v})
	}
	return ckpt.Save(path, map[string]string{"config": cfg.JSON(), "kind": "video_tokenizer"}, ts, ckpt.F16)
}

// LoadCheckpoint reads a tokenizer from a training checkpoint (written by
// `omniar train tokenizer`) or a weights file (SaveWeights): its
// configuration, parameters and codebook.
func LoadCheckpoint(path string) (Config, Weights, error) {
	var cfg Config
	f, err := ckpt.Load(path)
	if err != nil {
		return cfg, Weights{}, err
	}
	if err := json.Unmarshal([]byte(f.Meta["config"]), &cfg); err != nil {
		return cfg, Weights{}, fmt.Errorf("tokenizer %s: config: %w", path, err)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, Weights{}, fmt.Errorf("tokenizer %s: %w", path, err)
	}
	w := Weights{Params: map[string][]float32{}}
	for _, n := range f.Names() {
		if strings.HasPrefix(n, "optim.") || n == codebookName {
			continue
		}
		if w.Params[n], err = f.Get(n); err != nil {
			return cfg, Weights{}, err
		}
	}
	if err := nn.CheckBuild(func(b *nn.Builder) error { newLayers(b, cfg); return nil }, nn.MapSizes(w.Params)); err != nil {
		return cfg, Weights{}, fmt.Errorf("tokenizer %s: %w", path, err)
	}
	if f.Has(codebookName) {
		if w.Codebook, err = f.Get(codebookName, cfg.Quant.Codes, cfg.Quant.Dim); err != nil {
			return cfg, Weights{}, err
		}
		return cfg, w, nil
	}
	raw, err := base64.StdEncoding.DecodeString(f.Meta["task_state"])
	if err != nil {
		return cfg, Weights{}, fmt.Errorf("tokenizer %s: state: %w", path, err)
	}
	st, err := decodeState(raw, cfg.Quant.Codes*cfg.Quant.Dim, cfg.Quant.Codes)
	if err != nil {
		return cfg, Weights{}, fmt.Errorf("tokenizer %s: %w", path, err)
	}
	w.Codebook = st.codebook
	return cfg, w, nil
}

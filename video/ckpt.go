package video

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/omniar/omniar/nn/ckpt"
)

// LoadCheckpoint reads a tokenizer from a training checkpoint (written by
// `omniar train tokenizer`): its configuration, parameters and codebook.
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
		if strings.HasPrefix(n, "optim.") {
			continue
		}
		if w.Params[n], err = f.Get(n); err != nil {
			return cfg, Weights{}, err
		}
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

package omni

import (
	"fmt"
	"strings"

	"github.com/omniar/omniar/msvq"
	"github.com/omniar/omniar/nn"
	"github.com/omniar/omniar/nn/ckpt"
	"github.com/omniar/omniar/unified"
)

// Names of the media tensors in a weights file.
const (
	mediaVisCodebook = "media.vis.codebook"
	mediaVisPhi      = "media.vis.phi"
	mediaAudio       = "media.audio.codebooks"
	balancePrefix    = "balance." // the trunk's bias-balancing state
)

// SaveWeights writes the model as shipped: configuration, parameters and
// the media code vectors, in half precision.
func SaveWeights(path string, m *Model, meta map[string]string) error {
	all := map[string]string{"config": m.Cfg.JSON(), "kind": "omni"}
	for k, v := range meta {
		all[k] = v
	}
	var ts []ckpt.Tensor
	for n, v := range m.Weights() {
		ts = append(ts, ckpt.Tensor{Name: n, Shape: []int{len(v)}, Data: v})
	}
	for n, v := range m.Trunk.BalanceState() {
		ts = append(ts, ckpt.Tensor{Name: balancePrefix + n, Shape: []int{len(v)}, Data: v})
	}
	for n, v := range map[string][]float32{mediaVisCodebook: m.Media.Vis.Codebook, mediaVisPhi: m.Media.Vis.PhiW, mediaAudio: m.Media.AudioBooks} {
		ts = append(ts, ckpt.Tensor{Name: n, Shape: []int{len(v)}, Data: v})
	}
	return ckpt.Save(path, all, ts, ckpt.F16)
}

// Load reads a weights file (SaveWeights) into a new model.
func Load(path string) (*Model, map[string]string, error) {
	f, err := ckpt.Load(path)
	if err != nil {
		return nil, nil, err
	}
	if f.Meta["kind"] != "omni" {
		return nil, nil, fmt.Errorf("%s is not a unified model weights file (kind %q)", path, f.Meta["kind"])
	}
	cfg, err := ParseConfig(f.Meta["config"])
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	md, w, bal, err := readWeights(f, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := md.Check(cfg); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := nn.CheckBuild(func(b *nn.Builder) error { _, err := build(cfg, md, b); return err }, nn.MapSizes(w)); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	m, err := New(cfg, md, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := m.Load(w); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if cfg.Trunk.Balance == unified.BalanceBias && cfg.Trunk.Experts > 0 {
		if err := m.Trunk.SetBalanceState(bal); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return m, f.Meta, nil
}

func readWeights(f *ckpt.File, cfg Config) (md Media, w, bal map[string][]float32, err error) {
	md = Media{Vis: &msvq.Decoder{Cfg: cfg.Quant}}
	if md.Vis.Codebook, err = f.Get(mediaVisCodebook); err != nil {
		return md, nil, nil, err
	}
	if md.Vis.PhiW, err = f.Get(mediaVisPhi); err != nil {
		return md, nil, nil, err
	}
	if md.AudioBooks, err = f.Get(mediaAudio); err != nil {
		return md, nil, nil, err
	}
	w, bal = map[string][]float32{}, map[string][]float32{}
	for _, n := range f.Names() {
		var v []float32
		switch {
		case strings.HasPrefix(n, "media."), strings.HasPrefix(n, "optim."):
			continue
		case strings.HasPrefix(n, balancePrefix):
			if v, err = f.Get(n); err != nil {
				return md, nil, nil, err
			}
			bal[strings.TrimPrefix(n, balancePrefix)] = v
		default:
			if w[n], err = f.Get(n); err != nil {
				return md, nil, nil, err
			}
		}
	}
	return md, w, bal, nil
}

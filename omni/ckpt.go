package omni

import (
	"fmt"
	"strings"

	"github.com/omniar/omniar/msvq"
	"github.com/omniar/omniar/nn/ckpt"
)

// Names of the media tensors in a weights file.
const (
	mediaVisCodebook = "media.vis.codebook"
	mediaVisPhi      = "media.vis.phi"
	mediaAudio       = "media.audio.codebooks"
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
	md, w, err := readWeights(f, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	m, err := New(cfg, md, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := m.Load(w); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, f.Meta, nil
}

func readWeights(f *ckpt.File, cfg Config) (Media, map[string][]float32, error) {
	md := Media{Vis: &msvq.Decoder{Cfg: cfg.Quant}}
	var err error
	if md.Vis.Codebook, err = f.Get(mediaVisCodebook); err != nil {
		return md, nil, err
	}
	if md.Vis.PhiW, err = f.Get(mediaVisPhi); err != nil {
		return md, nil, err
	}
	if md.AudioBooks, err = f.Get(mediaAudio); err != nil {
		return md, nil, err
	}
	w := map[string][]float32{}
	for _, n := range f.Names() {
		if strings.HasPrefix(n, "media.") || strings.HasPrefix(n, "optim.") {
			continue
		}
		if w[n], err = f.Get(n); err != nil {
			return md, nil, err
		}
	}
	return md, w, nil
}

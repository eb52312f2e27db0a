package omni

import (
	"testing"

	"github.com/omniar/omniar/msvq"
	"github.com/omniar/omniar/nn"
	"github.com/omniar/omniar/tokenizers"
)

// FuzzParseConfig: a unified model config read from a weights file's
// metadata that ParseConfig accepts builds (as shapes, as Load's check
// does) without a panic.
func FuzzParseConfig(f *testing.F) {
	q := msvq.Config{Codes: 16, Dim: 8, Scales: []int{1, 2, 4}, Beta: 0.25, Decay: 0.9, PhiRatio: 0.5}
	v := tokenizers.Config{TextSize: 300, VisualBooks: 1, VisualCodes: 16, AudioDepths: 3, AudioCodes: 16}
	qs := msvq.Default(32)
	vs := v
	vs.VisualCodes = qs.Codes
	for _, c := range []Config{Tiny(v, q, 8), Small(vs, qs, 32)} {
		if err := c.Validate(); err != nil {
			f.Fatal(err) // the seeds must reach the build
		}
	}
	f.Add(Tiny(v, q, 8).JSON())
	f.Add(Small(vs, qs, 32).JSON())
	f.Add(`{"trunk":{"dim":-1}}`)
	f.Fuzz(func(t *testing.T, s string) {
		cfg, err := ParseConfig(s)
		if err != nil || cfg.Validate() != nil {
			return
		}
		if _, err := build(cfg, Media{}, nn.NewShapeBuilder()); err != nil {
			t.Fatalf("config %s passed Validate but does not build: %v", s, err)
		}
	})
}

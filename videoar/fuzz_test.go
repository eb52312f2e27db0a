package videoar

import (
	"testing"

	"github.com/omniar/omniar/msvq"
	"github.com/omniar/omniar/nn"
)

// FuzzParseConfig feeds checkpoint config metadata to ParseConfig; a
// config it accepts must build as shapes (what NewGenerator checks a
// file's tensors against) without a panic.
func FuzzParseConfig(f *testing.F) {
	f.Add(Small(msvq.Default(32), 4096).JSON())
	f.Add(Tiny(tinyQuant(), 512).RasterOrder().JSON())
	f.Add(`{"trunk":{"dim":-1}}`)
	f.Add(`{"frames":4096,"prompt":4096}`)
	f.Fuzz(func(t *testing.T, s string) {
		cfg, err := ParseConfig(s)
		if err != nil {
			return
		}
		if _, err := newModel(nn.NewShapeBuilder(), cfg); err != nil {
			t.Fatalf("config %s passed Validate but does not build: %v", s, err)
		}
	})
}

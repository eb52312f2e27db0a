package codec

import (
	"encoding/json"
	"testing"

	"github.com/omniar/omniar/nn"
)

// FuzzConfig: a codec config read from a checkpoint's metadata that passes
// Validate builds (as shapes, as New's check does) without a panic.
func FuzzConfig(f *testing.F) {
	for _, c := range []Config{Small(), SmallV1(), Tiny()} {
		if err := c.Validate(); err != nil {
			f.Fatal(err) // the seeds must reach the build
		}
		b, _ := json.Marshal(c)
		f.Add(string(b))
	}
	f.Add(`{"rate":16000,"strides":[0],"channels":[1,1]}`)
	f.Fuzz(func(t *testing.T, s string) {
		var cfg Config
		if json.Unmarshal([]byte(s), &cfg) != nil || cfg.Validate() != nil {
			return
		}
		newLayers(nn.NewShapeBuilder(), cfg, false)
	})
}

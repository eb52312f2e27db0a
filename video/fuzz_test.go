package video

import (
	"encoding/json"
	"testing"

	"github.com/omniar/omniar/nn"
)

// FuzzConfig: a tokenizer config read from a checkpoint's metadata that
// passes Validate builds (as shapes, as LoadCheckpoint's check does)
// without a panic.
func FuzzConfig(f *testing.F) {
	for _, c := range []Config{Small(), Tiny()} {
		if err := c.Validate(); err != nil {
			f.Fatal(err) // the seeds must reach the build
		}
		b, _ := json.Marshal(c)
		f.Add(string(b))
	}
	f.Add(`{"size":64,"widths":[1,1],"down":1,"quant":{"scales":[1]}}`)
	f.Add(`{"size":1048576,"down":20}`)
	f.Fuzz(func(t *testing.T, s string) {
		var cfg Config
		if json.Unmarshal([]byte(s), &cfg) != nil || cfg.Validate() != nil {
			return
		}
		newLayers(nn.NewShapeBuilder(), cfg)
	})
}

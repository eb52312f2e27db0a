package metrics

import (
	"encoding/json"
	"testing"

	"github.com/omniar/omniar/nn"
)

// FuzzNetConfig: a metric network config read from a weights file's
// metadata that passes Validate builds (as shapes, as LoadWeights' check
// does) without a panic.
func FuzzNetConfig(f *testing.F) {
	if err := VideoNetConfig().Validate(); err != nil {
		f.Fatal(err) // the seed must reach the build
	}
	b, _ := json.Marshal(VideoNetConfig())
	f.Add(string(b))
	f.Add(`{"name":"x","input":[1,1,1,1],"features":1,"logits":1,"convs":[{"out":1,"kernel":[1,1,1],"stride":[1,1,1]}]}`)
	f.Add(`{"name":"x","input":[1,17,64,64],"features":4,"logits":2,"pool":"max-space","convs":[{"out":1,"kernel":[9,9,9],"stride":[1,1,1]}]}`)
	f.Fuzz(func(t *testing.T, s string) {
		var cfg NetConfig
		if json.Unmarshal([]byte(s), &cfg) != nil || cfg.Validate() != nil {
			return
		}
		if _, err := newNet(cfg, 1, nn.NewShapeBuilder()); err != nil {
			t.Fatalf("config %s passed Validate but does not build: %v", s, err)
		}
	})
}

package mm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseTrainConfig: any bytes give a configuration that passes Check
// or an error naming the file, never a panic.
func FuzzParseTrainConfig(f *testing.F) {
	for _, name := range []string{"tiny.json", "small.json", "continue_digits.json"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "configs", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"size":"tiny","clips":{"train":-1}}`))
	f.Add([]byte(`{"stages":[{"steps":1e99}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		const path = "fuzz.json"
		c, err := ParseTrainConfig(path, b)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if err := c.Check(); err != nil {
			t.Fatalf("accepted a configuration that fails Check: %v", err)
		}
	})
}

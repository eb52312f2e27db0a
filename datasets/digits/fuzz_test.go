package digits

import (
	"os"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the digits-sheet decoder: errors,
// never panics.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("testdata/digits20.png"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if s, err := Parse("fuzz.png", b); err == nil && len(s.Digits) != Count {
			t.Fatalf("parsed %d digits", len(s.Digits))
		}
	})
}

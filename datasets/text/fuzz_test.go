package text

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse: any fortunes file parses into valid UTF-8 quotes without
// overstrikes, and never panics.
func FuzzParse(f *testing.F) {
	f.Add([]byte("a quote\n%\nb\bbold\n%\n"))
	f.Add([]byte("\xff\xfe%\n\b\b\b"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, q := range Parse("fuzz", b) {
			if !utf8.ValidString(q.Text) || strings.ContainsRune(q.Text, '\b') || strings.TrimSpace(q.Text) == "" {
				t.Fatalf("bad quote %q", q.Text)
			}
		}
	})
}

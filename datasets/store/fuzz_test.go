package store

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func FuzzOpenStore(f *testing.F) {
	good := valid(f)
	f.Add(good)
	f.Add(good[:HeaderSize])
	f.Add(encodeHeader(Shape{N: 1 << 20, T: 17, H: 64, W: 64, C: 1}, 0))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		p := filepath.Join(dir, "f.store")
		if werr := os.WriteFile(p, data, 0o644); werr != nil {
			t.Fatal(werr)
		}
		s2, err2 := Open(p)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("Parse and Open disagree: %v / %v", err, err2)
		}
		if err != nil {
			return
		}
		sh := s.Shape()
		if sh != s2.Shape() || !bytes.Equal(s.Data(), s2.Data()) || !bytes.Equal(s.Index(), s2.Index()) {
			t.Fatal("Parse and Open differ")
		}
		if len(s.Data()) != sh.N*sh.ItemSize() {
			t.Fatalf("data %d bytes for shape %v", len(s.Data()), sh)
		}
		for i := 0; i < s.Len(); i++ {
			if len(s.Clip(i)) != sh.ItemSize() {
				t.Fatalf("clip %d has %d bytes", i, len(s.Clip(i)))
			}
		}
	})
}

package vio

import (
	"os"
	"path/filepath"
	"testing"
)

// fuzzDecode decodes data as name and checks that a success is a valid video.
func fuzzDecode(t *testing.T, name string, data []byte) {
	v, err := Decode(name, data)
	if err != nil {
		return
	}
	if err := v.Validate(); err != nil {
		t.Fatalf("Decode(%s) succeeded with an invalid video: %v", name, err)
	}
	if len(v.Frames)*v.W*v.H > MaxBytes {
		t.Fatalf("Decode(%s) returned %d×%d×%d, above MaxBytes", name, v.W, v.H, len(v.Frames))
	}
}

// addSeeds adds the testdata files with extension ext to the corpus.
func addSeeds(f *testing.F, ext string) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*"+ext))
	if len(paths) == 0 {
		f.Fatalf("no testdata/*%s seeds", ext)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzReadGIF(f *testing.F) {
	addSeeds(f, ".gif")
	f.Add(zeroGIF())
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, "fuzz.gif", data) })
}

func FuzzReadPNG(f *testing.F) {
	addSeeds(f, ".png")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, "fuzz.png", data) })
}

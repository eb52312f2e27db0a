package digits

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/omniar/omniar/datasets"
)

// sourceDir is where `make data-deps` extracts opencv-doc (or OMNIAR_OPENCV_DATA).
func sourceDir(t testing.TB) string {
	if d := os.Getenv("OMNIAR_OPENCV_DATA"); d != "" {
		return d
	}
	d := datasets.DefaultSources(filepath.Join("..", "..", ".cache", "src")).OpenCVData
	if _, err := os.Stat(filepath.Join(d, "digits.png")); err != nil {
		t.Skip("opencv-doc not extracted (make data-deps); set OMNIAR_OPENCV_DATA")
	}
	return d
}

func TestParseReal(t *testing.T) {
	dir := sourceDir(t)
	data, err := os.ReadFile(filepath.Join(dir, "digits.png"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse("digits.png", data)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string][10]int{}
	ink := 0
	for _, d := range s.Digits {
		c := count[d.Split]
		c[d.Label]++
		count[d.Split] = c
	}
	for _, v := range s.Pixels {
		if v > 128 {
			ink++
		}
	}
	for split, want := range map[string]int{"train": 400, "val": 50, "test": 50} {
		for label, n := range count[split] {
			if n != want {
				t.Errorf("%s has %d of digit %d, want %d", split, n, label, want)
			}
		}
	}
	if share := float64(ink) / float64(len(s.Pixels)); share < 0.05 || share > 0.4 {
		t.Errorf("%.2f of pixels are ink: not white digits on black?", share)
	}
}

func TestParseBad(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"garbage", []byte("not a png at all")},
	} {
		if _, err := Parse(c.name, c.data); err == nil {
			t.Errorf("%s: parsed", c.name)
		}
	}
}

func TestAugment(t *testing.T) {
	g := make([]uint8, Glyph*Glyph)
	for y := 8; y < 20; y++ {
		for x := 12; x < 16; x++ {
			g[y*Glyph+x] = 255 // a vertical bar: a "1"
		}
	}
	rng := rand.New(rand.NewPCG(1, 1))
	changed := 0
	for i := 0; i < 50; i++ {
		a := Augment(g, rng)
		if len(a) != len(g) {
			t.Fatal("augment changed the size")
		}
		var ink, inkG float64
		for k := range a {
			ink, inkG = ink+float64(a[k]), inkG+float64(g[k])
		}
		// rotation and scale keep the bar inside the glyph; contrast takes at most a quarter
		if ink < 0.6*inkG || ink > 1.3*inkG {
			t.Fatalf("view %d: ink %.0f of %.0f", i, ink, inkG)
		}
		if !slices.Equal(a, g) {
			changed++
		}
	}
	if changed < 30 || changed == 50 {
		t.Errorf("%d of 50 views changed, want about 40 (one in five kept)", changed)
	}
}

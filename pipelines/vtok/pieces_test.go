package vtok

import (
	"bytes"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/omniar/omniar/datasets/digits"
	"github.com/omniar/omniar/msvq"
	"github.com/omniar/omniar/video"
)

// square draws a size×size frame with a bright w×w square at (x0, y0).
func square(size, x0, y0, w int) []uint8 {
	f := make([]uint8, size*size)
	for y := y0; y < y0+w; y++ {
		for x := x0; x < x0+w; x++ {
			f[y*size+x] = 200
		}
	}
	return f
}

func TestLayoutScores(t *testing.T) {
	const size = 64
	black := make([]uint8, size*size)
	for _, tc := range []struct {
		name             string
		ref, rec         [][]uint8
		frames, empty    int
		within, meanDist float64
	}{
		{"same place", [][]uint8{square(size, 10, 10, 8)}, [][]uint8{square(size, 10, 10, 8)}, 1, 0, 1, 0},
		{"shift 3,0 is within", [][]uint8{square(size, 10, 10, 8)}, [][]uint8{square(size, 13, 10, 8)}, 1, 0, 1, 3},
		{"shift 3,4 is 5 px", [][]uint8{square(size, 10, 10, 8)}, [][]uint8{square(size, 13, 14, 8)}, 1, 0, 0, 5},
		{"blurred in place", [][]uint8{square(size, 20, 20, 8)}, [][]uint8{square(size, 16, 16, 16)}, 1, 0, 1, 0},
		{"black original skipped", [][]uint8{black, square(size, 5, 5, 4)}, [][]uint8{square(size, 40, 40, 4), square(size, 5, 5, 4)}, 1, 0, 1, 0},
		{"black decode is a miss", [][]uint8{square(size, 5, 5, 4), square(size, 5, 5, 4)}, [][]uint8{black, square(size, 6, 5, 4)}, 2, 1, 0.5, 1},
	} {
		var l LayoutScores
		l.add(tc.ref, tc.rec, size)
		l.finish()
		if l.Frames != tc.frames || l.EmptyRecs != tc.empty || l.Within != tc.within || math.Abs(l.MeanDist-tc.meanDist) > 1e-9 {
			t.Errorf("%s: got frames %d, black decodes %d, within %v, mean %v; want %d, %d, %v, %v",
				tc.name, l.Frames, l.EmptyRecs, l.Within, l.MeanDist, tc.frames, tc.empty, tc.within, tc.meanDist)
		}
	}
}

func TestLayoutScale(t *testing.T) {
	for _, tc := range []struct {
		scales []int
		want   int
		ok     bool
	}{{[]int{1, 2, 3, 4, 6, 8}, 4, true}, {[]int{1, 2, 4}, 3, true}, {[]int{1, 2, 8}, 0, false}} {
		got, err := layoutScale(msvq.Config{Scales: tc.scales})
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("scales %v: %d, %v; want %d, ok %v", tc.scales, got, err, tc.want, tc.ok)
		}
	}
	res := video.Result{Full: []uint8{9}, Partial: [][]uint8{{1}, {2}}}
	for s, want := range map[int]uint8{1: 1, 2: 2, 3: 9} {
		if got := decodeUpTo(res, s)[0]; got != want {
			t.Errorf("decodeUpTo(%d) = %d, want %d", s, got, want)
		}
	}
}

func TestPasteCropDigit(t *testing.T) {
	g := make([]uint8, digits.Glyph*digits.Glyph)
	for i := range g {
		g[i] = uint8(i%251 + 1)
	}
	for _, size := range []int{28, 64, 65} {
		frame := make([]uint8, size*size)
		for i := range frame {
			frame[i] = 7 // paste must clear the frame
		}
		pasteDigit(frame, g, size)
		if !bytes.Equal(cropDigit(frame, size), g) {
			t.Fatalf("size %d: crop(paste(g)) != g", size)
		}
		var outside int
		for _, v := range frame {
			if v != 0 {
				outside++
			}
		}
		if outside != len(g) {
			t.Errorf("size %d: %d non-black pixels, want the glyph's %d", size, outside, len(g))
		}
	}
	frame := make([]uint8, 64*64)
	pasteDigit(frame, g, 64)
	if frame[18*64+18] != g[0] || frame[45*64+45] != g[len(g)-1] {
		t.Error("a digit on 64×64 must sit at (18, 18) like the judge's accuracy canvas")
	}
}

func TestSpread(t *testing.T) {
	ids := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	if got := spread(ids, 5); !equalInts(got, []int{0, 2, 4, 6, 8}) {
		t.Errorf("spread 5 = %v", got)
	}
	if got := spread(ids, 0); len(got) != 10 {
		t.Errorf("spread 0 = %v, want all", got)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPicturesDecode(t *testing.T) {
	dir := t.TempDir()
	cfg := video.Tiny()
	size := cfg.Size
	frame := func(v uint8) []uint8 { return bytes.Repeat([]uint8{v}, size*size) }
	clip := func(n int) clipPicture {
		var c clipPicture
		for i := 0; i < n; i++ {
			c.orig, c.full, c.coarse = append(c.orig, frame(200)), append(c.full, frame(100)), append(c.coarse, frame(50))
		}
		return c
	}
	r := &Report{Frames: 17, Config: cfg}
	r.Moving.PSNRScales = []float64{15, 18, 25}
	r.Real.PSNRScales = []float64{12, 15, 20}
	g := bytes.Repeat([]uint8{255}, digits.Glyph*digits.Glyph)
	ds := &DigitScores{originals: [][]uint8{g, g, g}, reconstructed: [][]uint8{g, g, g}}
	files, err := writePictures(dir, r, []clipPicture{clip(17), clip(17)}, []clipPicture{clip(17)}, ds)
	if err != nil {
		t.Fatal(err)
	}
	// Sizes: tiles plus 2-pixel gaps; 9 of 17 frames across, 3 rows a clip.
	want := map[string][2]int{
		"tokenizer_digits.png":      {3*30 - 2, 2*30 - 2},
		"tokenizer_moving.png":      {9*(size+2) - 2, 6*(size+2) - 2},
		"tokenizer_real.png":        {9*(size+2) - 2, 3*(size+2) - 2},
		"tokenizer_psnr_scales.png": {0, 0},
	}
	if len(files) != len(want) {
		t.Fatalf("wrote %v, want %d files", files, len(want))
	}
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		w, ok := want[filepath.Base(p)]
		if !ok {
			t.Fatalf("unexpected file %s", p)
		}
		b := img.Bounds()
		if w[0] > 0 && (b.Dx() != w[0] || b.Dy() != w[1]) {
			t.Errorf("%s: %v, want %d×%d", p, b, w[0], w[1])
		}
		if b.Dx() < 10 || b.Dy() < 10 {
			t.Errorf("%s: %v is too small", p, b)
		}
	}
	// One-frame clips go across: one row per kind.
	rows := clipRows([]clipPicture{clip(1), clip(1), clip(1)})
	if len(rows) != 3 || len(rows[0]) != 3 {
		t.Errorf("images: %d rows of %d, want 3 of 3", len(rows), len(rows[0]))
	}
}

package vio

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGIFRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		v       *Video
		wantFPS float64
	}{
		{"one frame", ramp(5, 3, 1, 10), 10},
		{"17 frames 25fps", ramp(16, 16, 17, 25), 25},
		{"no fps uses default", ramp(7, 9, 4, 0), DefaultFPS},
		{"wide", ramp(300, 2, 3, 5), 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "v.gif")
			if err := Write(p, tc.v); err != nil {
				t.Fatal(err)
			}
			got, err := Read(p, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			sameFrames(t, got, tc.v)
			if math.Abs(got.FPS-tc.wantFPS) > 0.01*tc.wantFPS {
				t.Errorf("FPS %.3f, want %.3f", got.FPS, tc.wantFPS)
			}
		})
	}
}

func TestPNG(t *testing.T) {
	dir := t.TempDir()
	one := ramp(11, 6, 1, 0)
	p := filepath.Join(dir, "f.png")
	if err := Write(p, one); err != nil {
		t.Fatal(err)
	}
	got, err := Read(p, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sameFrames(t, got, one)
	err = Write(filepath.Join(dir, "g.png"), ramp(4, 4, 2, 0))
	if err == nil || !strings.Contains(err.Error(), "g.png") {
		t.Fatalf("two frames to PNG: got %v, want an error naming g.png", err)
	}
}

func TestReadOptions(t *testing.T) {
	p := filepath.Join(t.TempDir(), "v.gif")
	if err := Write(p, ramp(40, 30, 6, 10)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		opt          ReadOptions
		w, h, frames int
	}{
		{"as is", ReadOptions{}, 40, 30, 6},
		{"max frames", ReadOptions{MaxFrames: 2}, 40, 30, 2},
		{"square crop", ReadOptions{Geometry: Geometry{Square: true}}, 30, 30, 6},
		{"square 16 lanczos", ReadOptions{Geometry: Geometry{Square: true, Width: 16, Height: 16}}, 16, 16, 6},
		{"box 20x10", ReadOptions{Geometry: Geometry{Width: 20, Height: 10, Filter: Box}}, 20, 10, 6},
		{"width keeps aspect", ReadOptions{Geometry: Geometry{Width: 20}}, 20, 15, 6},
		{"height keeps aspect", ReadOptions{Geometry: Geometry{Height: 15}}, 20, 15, 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Read(p, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if err := v.Validate(); err != nil {
				t.Fatal(err)
			}
			if v.W != tc.w || v.H != tc.h || len(v.Frames) != tc.frames {
				t.Fatalf("got %d×%d×%d, want %d×%d×%d", v.W, v.H, len(v.Frames), tc.w, tc.h, tc.frames)
			}
		})
	}
}

func TestSquareCropIsCentred(t *testing.T) {
	// A 6×2 frame whose middle 2×2 is white: the square crop keeps only it.
	v := &Video{W: 6, H: 2, Frames: [][]uint8{{0, 0, 255, 255, 0, 0, 0, 0, 255, 255, 0, 0}}}
	p := filepath.Join(t.TempDir(), "c.png")
	if err := Write(p, v); err != nil {
		t.Fatal(err)
	}
	got, err := Read(p, ReadOptions{Geometry: Geometry{Square: true}})
	if err != nil {
		t.Fatal(err)
	}
	sameFrames(t, got, &Video{W: 2, H: 2, Frames: [][]uint8{{255, 255, 255, 255}}})
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path string
		opt        ReadOptions
		want       string
	}{
		{"missing", filepath.Join(dir, "nope.gif"), ReadOptions{}, "missing"},
		{"directory", dir, ReadOptions{}, "directory"},
		{"empty gif", write("empty.gif", nil), ReadOptions{}, "empty.gif"},
		{"garbage png", write("bad.png", []byte("not a png at all")), ReadOptions{}, "bad.png"},
		{"huge gif screen", write("huge.gif", hugeGIF(t)), ReadOptions{}, "exceeds"},
		{"negative size", write("ok.gif", gifBytes(t, ramp(4, 4, 1, 10))), ReadOptions{Geometry: Geometry{Width: -1}}, "negative"},
		{"bad filter", filepath.Join(dir, "ok.gif"), ReadOptions{Geometry: Geometry{Filter: 9}}, "filter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(tc.path, tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), filepath.Base(tc.path)) {
				t.Fatalf("got %v, want an error with %q naming the file", err, tc.want)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"unknown extension", []byte("x"), "only .gif and .png"},
		{"truncated gif", gifBytes(t, ramp(8, 8, 3, 10))[:40], "x.gif"},
		{"zero-size gif", zeroGIF(), "no pixels"},
		{"huge gif", hugeGIF(t), "exceeds"},
		{"many frames", manyFramesGIF(t), "exceed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := "x.gif"
			if tc.name == "unknown extension" {
				name = "x.avi"
			}
			if _, err := Decode(name, tc.data); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestGIFComposite(t *testing.T) {
	// Frame 0 fills a 4×1 screen; frame 1 paints pixel 1 and leaves the
	// others transparent, then restores the background (black); frame 2
	// paints nothing opaque.
	pal := color.Palette{color.Gray{Y: 10}, color.Gray{Y: 200}, color.RGBA{}}
	fr := func(x0, x1 int, pix ...uint8) *image.Paletted {
		return &image.Paletted{Pix: pix, Stride: x1 - x0, Rect: image.Rect(x0, 0, x1, 1), Palette: pal}
	}
	g := &gif.GIF{
		Image:    []*image.Paletted{fr(0, 4, 0, 0, 0, 0), fr(0, 2, 2, 1), fr(0, 4, 2, 2, 2, 2)},
		Delay:    []int{5, 5, 10},
		Disposal: []byte{gif.DisposalNone, gif.DisposalBackground, gif.DisposalNone},
		Config:   image.Config{ColorModel: pal, Width: 4, Height: 1},
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, g); err != nil {
		t.Fatal(err)
	}
	v, err := Decode("c.gif", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := &Video{W: 4, H: 1, Frames: [][]uint8{{10, 10, 10, 10}, {10, 200, 10, 10}, {0, 0, 10, 10}}}
	sameFrames(t, v, want)
	if math.Abs(v.FPS-15) > 1e-9 {
		t.Errorf("FPS %v, want 15 (mean delay 1/15 s)", v.FPS)
	}
}

func TestCountGIFFrames(t *testing.T) {
	for _, n := range []int{1, 2, 17} {
		b := gifBytes(t, ramp(9, 5, n, 10))
		if got := countGIFFrames(b); got != n {
			t.Errorf("countGIFFrames = %d, want %d", got, n)
		}
		if got := countGIFFrames(b[:len(b)/2]); got >= n && n > 1 {
			t.Errorf("truncated: countGIFFrames = %d, want < %d", got, n)
		}
	}
}

func TestValidateAndWriteErrors(t *testing.T) {
	dir := t.TempDir()
	keep := filepath.Join(dir, "keep.gif")
	if err := Write(keep, ramp(3, 3, 2, 10)); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(keep)
	tests := []struct {
		name string
		v    *Video
		path string
	}{
		{"nil", nil, keep},
		{"no frames", &Video{W: 2, H: 2}, keep},
		{"zero size", &Video{W: 0, H: 2, Frames: [][]uint8{{}}}, keep},
		{"short frame", &Video{W: 2, H: 2, Frames: [][]uint8{{1, 2, 3}}}, keep},
		{"overflow size", &Video{W: math.MaxInt / 2, H: 4, Frames: [][]uint8{{}}}, keep},
		{"unknown extension", ramp(2, 2, 1, 0), filepath.Join(dir, "x.webm")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := Write(tc.path, tc.v); err == nil || !strings.Contains(err.Error(), filepath.Base(tc.path)) {
				t.Fatalf("got %v, want an error naming the file", err)
			}
		})
	}
	after, _ := os.ReadFile(keep)
	if !bytes.Equal(before, after) {
		t.Error("a failed write changed the existing file")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("temporary files left behind: %v", ents)
	}
}

// gifBytes encodes v as a GIF in memory.
func gifBytes(t *testing.T, v *Video) []byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), "v.gif")
	if err := Write(p, v); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hugeGIF is a GIF header announcing a 65535×65535 screen.
func hugeGIF(t *testing.T) []byte {
	b := gifBytes(t, ramp(2, 2, 1, 10))
	b[6], b[7], b[8], b[9] = 0xff, 0xff, 0xff, 0xff
	return b
}

// zeroGIF is a GIF with a 0×0 screen.
func zeroGIF() []byte {
	return []byte("GIF89a\x00\x00\x00\x00\x00\x00\x00;")
}

// manyFramesGIF announces a 4096×4096 screen with more tiny frames than
// MaxBytes allows.
func manyFramesGIF(t *testing.T) []byte {
	b := gifBytes(t, ramp(1, 1, 1, 10))
	b[6], b[7], b[8], b[9] = 0x00, 0x10, 0x00, 0x10
	end := len(b) - 1 // before the trailer
	start := bytes.IndexByte(b[13+768:], 0x21) + 13 + 768
	frame := b[start:end]
	out := append([]byte(nil), b[:start]...)
	for i := 0; i < MaxBytes/(4096*4096)+1; i++ {
		out = append(out, frame...)
	}
	return append(out, ';')
}

func TestTargetTooLarge(t *testing.T) {
	p := filepath.Join(t.TempDir(), "v.gif")
	if err := Write(p, ramp(4, 4, 1, 10)); err != nil {
		t.Fatal(err)
	}
	_, err := Read(p, ReadOptions{Geometry: Geometry{Width: MaxPixels}})
	if err == nil || !strings.Contains(err.Error(), "exceeds") || !strings.Contains(err.Error(), "v.gif") {
		t.Fatalf("got %v, want a size error naming v.gif", err)
	}
}

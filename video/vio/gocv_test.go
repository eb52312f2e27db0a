//go:build cgo && !purego

package vio

import (
	"bytes"
	"flag"
	"image"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/ from the opencv-doc sample videos")

// smooth returns a moving gradient, which lossy codecs keep well.
func smooth(w, h, n int) *Video {
	v := &Video{W: w, H: h, FPS: 12}
	for k := 0; k < n; k++ {
		f := make([]uint8, w*h)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				f[y*w+x] = uint8(128 + 100*math.Sin(float64(x+2*k)/9)*math.Cos(float64(y)/11))
			}
		}
		v.Frames = append(v.Frames, f)
	}
	return v
}

func psnr(a, b []uint8) float64 {
	var se float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		se += d * d
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255*float64(len(a))/se)
}

func TestCVRoundTrip(t *testing.T) {
	for _, name := range []string{"v.avi", "v.mp4"} {
		t.Run(name, func(t *testing.T) {
			want := smooth(64, 48, 9)
			p := filepath.Join(t.TempDir(), name)
			if err := Write(p, want); err != nil {
				t.Fatal(err)
			}
			got, err := Read(p, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got.W != want.W || got.H != want.H || len(got.Frames) != len(want.Frames) {
				t.Fatalf("got %d×%d×%d, want %d×%d×%d", got.W, got.H, len(got.Frames), want.W, want.H, len(want.Frames))
			}
			if math.Abs(got.FPS-want.FPS) > 0.01 {
				t.Errorf("FPS %v, want %v", got.FPS, want.FPS)
			}
			for k := range want.Frames {
				if q := psnr(got.Frames[k], want.Frames[k]); q < 30 {
					t.Errorf("frame %d: PSNR %.1f dB < 30", k, q)
				}
			}
		})
	}
}

func TestReadRealVideos(t *testing.T) {
	dir := openCVData(t)
	tests := []struct {
		file       string
		max        int
		srcW, srcH int
		frames     int
	}{
		{"tree.avi", 0, 320, 240, 68},
		{"Megamind_bugy.avi", 0, 720, 528, 270},
		{"Megamind.avi", 20, 720, 528, 20},
		{"vtest.avi", 20, 768, 576, 20},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			opt := ReadOptions{MaxFrames: tc.max, Geometry: Geometry{Square: true, Width: 32, Height: 32}}
			v, err := Read(filepath.Join(dir, tc.file), opt)
			if err != nil {
				t.Fatal(err)
			}
			if v.W != 32 || v.H != 32 || len(v.Frames) != tc.frames || v.Damaged != 0 {
				t.Fatalf("got %d×%d×%d (%d damaged), want 32×32×%d", v.W, v.H, len(v.Frames), v.Damaged, tc.frames)
			}
			info, err := Scan(filepath.Join(dir, tc.file), ReadOptions{MaxFrames: 1}, func(int, *image.Gray) error { return nil })
			if err != nil || info.SrcW != tc.srcW || info.SrcH != tc.srcH || info.W != tc.srcW {
				t.Fatalf("Scan: %+v, %v; want source %d×%d", info, err, tc.srcW, tc.srcH)
			}
		})
	}
}

func TestCVUnreadable(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.avi")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("RIFF junk ", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.mp4")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{garbage, empty} {
		if _, err := Read(p, ReadOptions{}); err == nil || !strings.Contains(err.Error(), filepath.Base(p)) {
			t.Errorf("%s: got %v, want an error naming it", p, err)
		}
	}
}

func TestCVTruncatedRealFile(t *testing.T) {
	src := filepath.Join(openCVData(t), "tree.avi")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "half.avi")
	if err := os.WriteFile(p, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := Read(p, ReadOptions{})
	if err != nil {
		t.Logf("half of tree.avi: %v", err)
		return
	}
	if len(v.Frames) == 0 || len(v.Frames) >= 68 {
		t.Errorf("half of tree.avi gave %d frames", len(v.Frames))
	}
	t.Logf("half of tree.avi: %d frames, %d damaged", len(v.Frames), v.Damaged)
}

// TestUpdateFixtures rewrites the fuzz seeds in testdata/ from tree.avi:
// go test ./video/vio -run TestUpdateFixtures -update
func TestUpdateFixtures(t *testing.T) {
	if !*update {
		t.Skip("run with -update")
	}
	v, err := Read(filepath.Join(openCVData(t), "tree.avi"), ReadOptions{MaxFrames: 3, Geometry: Geometry{Square: true, Width: 16, Height: 16}})
	if err != nil {
		t.Fatal(err)
	}
	if err := Write("testdata/tree-3f-16.gif", v); err != nil {
		t.Fatal(err)
	}
	v.Frames = v.Frames[:1]
	if err := Write("testdata/tree-16.png", v); err != nil {
		t.Fatal(err)
	}
}

// corruptAVI writes a 10-frame MJPG AVI and wipes the start of the JPEG
// data of the given frames.
func corruptAVI(t *testing.T, frames ...int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "v.avi")
	if err := Write(p, smooth(64, 48, 10)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var soi []int // start of each frame's JPEG
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte{0xff, 0xd8, 0xff})
		if j < 0 {
			break
		}
		soi = append(soi, i+j)
		i += j + 3
	}
	if len(soi) != 10 {
		t.Fatalf("found %d JPEG frames, want 10", len(soi))
	}
	for _, f := range frames {
		clear(b[soi[f] : soi[f]+200])
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCVDamagedFrames(t *testing.T) {
	tests := []struct {
		name            string
		corrupt         []int
		frames, damaged int
	}{
		{"intact", nil, 10, 0},
		{"frame 4", []int{4}, 9, 1},
		{"frames 4 and 6", []int{4, 6}, 8, 2},
		{"frames 0 and 1", []int{0, 1}, 8, 2},
		{"last frame looks like the end", []int{9}, 9, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := corruptAVI(t, tc.corrupt...)
			v, err := Read(p, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(v.Frames) != tc.frames || v.Damaged != tc.damaged {
				t.Fatalf("got %d frames, %d damaged; want %d, %d", len(v.Frames), v.Damaged, tc.frames, tc.damaged)
			}
			_, err = Read(p, ReadOptions{Strict: true})
			if (err != nil) != (tc.damaged > 0) {
				t.Fatalf("strict read: %v", err)
			}
			if err != nil && !strings.Contains(err.Error(), "damaged") {
				t.Fatalf("strict read: %v does not say damaged", err)
			}
		})
	}
}

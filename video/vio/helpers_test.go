package vio

import (
	"os"
	"path/filepath"
	"testing"
)

// openCVData returns the opencv-doc sample directory, or skips the test.
func openCVData(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("OMNIAR_OPENCV_DATA")
	if dir == "" {
		dir = "/tmp/src/opencv-doc/usr/share/doc/opencv-doc/examples/data"
	}
	if _, err := os.Stat(filepath.Join(dir, "tree.avi")); err != nil {
		t.Skipf("no opencv-doc sample videos in %s (set OMNIAR_OPENCV_DATA or run make data-deps)", dir)
	}
	return dir
}

// ramp returns a w×h×n video whose pixels vary in space and time.
func ramp(w, h, n int, fps float64) *Video {
	v := &Video{W: w, H: h, FPS: fps}
	for k := 0; k < n; k++ {
		f := make([]uint8, w*h)
		for i := range f {
			f[i] = uint8(i*7 + k*31)
		}
		v.Frames = append(v.Frames, f)
	}
	return v
}

func sameFrames(t *testing.T, got, want *Video) {
	t.Helper()
	if got.W != want.W || got.H != want.H || len(got.Frames) != len(want.Frames) {
		t.Fatalf("got %d×%d×%d, want %d×%d×%d", got.W, got.H, len(got.Frames), want.W, want.H, len(want.Frames))
	}
	for k := range want.Frames {
		for i := range want.Frames[k] {
			if got.Frames[k][i] != want.Frames[k][i] {
				t.Fatalf("frame %d pixel %d: got %d, want %d", k, i, got.Frames[k][i], want.Frames[k][i])
			}
		}
	}
}

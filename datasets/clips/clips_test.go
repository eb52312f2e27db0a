package clips

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omniar/omniar/datasets"
	"github.com/omniar/omniar/video/vio"
)

var update = flag.Bool("update", false, "rewrite testdata/ from the opencv-doc sample videos")

const fixture = "testdata/tree-9f-32.gif"

// openCVData returns the opencv-doc sample directory, or skips the test.
func openCVData(t testing.TB) string {
	t.Helper()
	if !vio.HasOpenCV {
		t.Skip("this build has no OpenCV")
	}
	dir := os.Getenv("OMNIAR_OPENCV_DATA")
	if dir == "" {
		dir = "/tmp/src/opencv-doc/usr/share/doc/opencv-doc/examples/data"
	}
	if _, err := os.Stat(filepath.Join(dir, "vtest.avi")); err != nil {
		t.Skipf("no opencv-doc sample videos in %s (set OMNIAR_OPENCV_DATA or run make data-deps)", dir)
	}
	return dir
}

// fixtureSources copies the fixture into a source directory as a train
// file and a test file.
func fixtureSources(t *testing.T) (string, Config) {
	t.Helper()
	b, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"a.gif", "b.gif"} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := Config{Frames: 5, Sizes: []int{16, 32}, Sources: []Source{
		{File: "a.gif", Split: Train, Stride: 2},
		{File: "b.gif", Split: Test, Stride: 4},
	}}
	return dir, cfg
}

func TestFixture(t *testing.T) {
	v, err := vio.Read(fixture, vio.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v.W != 32 || v.H != 32 || len(v.Frames) != 9 {
		t.Fatalf("fixture is %d×%d×%d, want 32×32×9", v.W, v.H, len(v.Frames))
	}
}

func TestBuildFromFixture(t *testing.T) {
	src, cfg := fixtureSources(t)
	out := t.TempDir()
	entries, err := BuildWith(context.Background(), cfg, src, out, "fix it")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		path, split string
		clips       int
	}{
		{"clips/test_16.store", Test, 2},
		{"clips/test_32.store", Test, 2},
		{"clips/train_16.store", Train, 3},
		{"clips/train_32.store", Train, 3},
	}
	if len(entries) != len(want) {
		t.Fatalf("%d entries, want %d", len(entries), len(want))
	}
	fix, _ := vio.Read(fixture, vio.ReadOptions{})
	for i, w := range want {
		e := entries[i]
		if e.Path != w.path || e.Split != w.split || e.Kind != Kind {
			t.Fatalf("entry %d: %+v, want %s (%s)", i, e, w.path, w.split)
		}
		s, err := Open(filepath.Join(out, e.Path))
		if err != nil {
			t.Fatal(err)
		}
		if s.Len() != w.clips || e.Labels["clips"] != strconv.Itoa(w.clips) {
			t.Fatalf("%s: %d clips (label %s), want %d", e.Path, s.Len(), e.Labels["clips"], w.clips)
		}
		for _, c := range s.Index.Clips {
			if (w.split == Train) != (c.Source == "a.gif") {
				t.Fatalf("%s holds a clip of %s", e.Path, c.Source)
			}
		}
		if s.Index.Size == 32 { // same size as the fixture: frames are copied exactly
			for k, c := range s.Index.Clips {
				for f := 0; f < cfg.Frames; f++ {
					if !bytes.Equal(s.Frame(k, f), fix.Frames[c.Start+f]) {
						t.Fatalf("%s clip %d frame %d differs from the source", e.Path, k, f)
					}
				}
			}
		}
	}
	again, err := BuildWith(context.Background(), cfg, src, t.TempDir(), "fix it")
	if err != nil {
		t.Fatal(err)
	}
	for i := range entries {
		if entries[i].SHA256 != again[i].SHA256 {
			t.Errorf("%s: rebuild gave different bytes", entries[i].Path)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	src, cfg := fixtureSources(t)
	missing := cfg
	missing.Sources = append([]Source{{File: "gone.avi", Split: Train, Stride: 1}}, cfg.Sources...)
	long := cfg
	long.Frames = 10
	bad := cfg
	bad.Sources = []Source{{File: "a.gif", Split: "te_st", Stride: 1}}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		cfg  Config
		want string
	}{
		{"missing source", context.Background(), missing, "make data-deps"},
		{"too short", context.Background(), long, "fewer than"},
		{"bad split name", context.Background(), bad, "bad source"},
		{"no sizes", context.Background(), Config{Frames: 5, Sources: cfg.Sources}, "config"},
		{"cancelled", cancelled, cfg, "canceled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := BuildWith(tc.ctx, tc.cfg, src, t.TempDir(), datasets.Sources{}.FixOpenCV())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
			if tc.name == "cancelled" && !errors.Is(err, context.Canceled) {
				t.Fatalf("%v is not context.Canceled", err)
			}
		})
	}
}

func TestOpenRejectsMismatchedIndex(t *testing.T) {
	src, cfg := fixtureSources(t)
	out := t.TempDir()
	if _, err := BuildWith(context.Background(), cfg, src, out, ""); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(out, "clips", "train_16.store")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte(`"size":16`), []byte(`"size":17`), 1)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(p); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("got %v, want a mismatch error", err)
	}
}

// TestBuildReal builds the data set from the opencv-doc videos.
func TestBuildReal(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	src := datasets.Sources{OpenCVData: openCVData(t)}
	out := t.TempDir()
	t0 := time.Now()
	entries, err := Build(context.Background(), src, out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("build took %v", time.Since(t0).Round(time.Millisecond))
	want := map[string]int{"test_64": 30, "test_128": 30, "train_64": 105, "train_128": 105}
	m := datasets.Manifest{Entries: entries}
	trainFiles := map[string]bool{}
	for _, e := range m.Find(Kind, Train) {
		for _, f := range strings.Split(e.Labels["sources"], ",") {
			trainFiles[f] = true
		}
	}
	for _, e := range entries {
		t0 := time.Now()
		s, err := Open(filepath.Join(out, e.Path))
		if err != nil {
			t.Fatal(err)
		}
		load := time.Since(t0)
		name := strings.TrimSuffix(filepath.Base(e.Path), ".store")
		t.Logf("%s: %d clips, %d bytes, sha256 %.12s, opened in %v", e.Path, s.Len(), e.Size, e.SHA256, load.Round(time.Microsecond))
		if s.Len() != want[name] || load > 2*time.Second {
			t.Errorf("%s: %d clips in %v, want %d in < 2 s", e.Path, s.Len(), load, want[name])
		}
		if e.Split == Test {
			for _, c := range s.Index.Clips {
				if trainFiles[c.Source] {
					t.Errorf("test clip from %s, a train file", c.Source)
				}
			}
		}
	}
	if trainFiles["Megamind.avi"] || trainFiles["Megamind_bugy.avi"] || len(trainFiles) != 2 {
		t.Errorf("train sources %v", trainFiles)
	}
	again, err := Build(context.Background(), src, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for i := range entries {
		if entries[i].SHA256 != again[i].SHA256 {
			t.Errorf("%s: rebuild gave different bytes", entries[i].Path)
		}
	}
}

// TestUpdateFixture rewrites testdata/tree-9f-32.gif from tree.avi:
// go test ./datasets/clips -run TestUpdateFixture -update
func TestUpdateFixture(t *testing.T) {
	if !*update {
		t.Skip("run with -update")
	}
	opt := vio.ReadOptions{MaxFrames: 9, Geometry: vio.Geometry{Square: true, Width: 32, Height: 32}}
	v, err := vio.Read(filepath.Join(openCVData(t), "tree.avi"), opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := vio.Write(fixture, v); err != nil {
		t.Fatal(err)
	}
}

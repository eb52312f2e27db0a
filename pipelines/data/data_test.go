package data

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omniar/omniar/datasets"
	"github.com/omniar/omniar/datasets/clips"
	"github.com/omniar/omniar/datasets/digits"
	"github.com/omniar/omniar/datasets/qa"
)

// small prepares a reduced data directory from the real sources (opencv-doc
// as `make data-deps` unpacks it, or OMNIAR_OPENCV_DATA; fortunes).
func small(t *testing.T) (string, Options) {
	t.Helper()
	src := datasets.DefaultSources(filepath.Join(os.Getenv("HOME"), ".cache", "omniar", "src"))
	if d := os.Getenv("OMNIAR_OPENCV_DATA"); d != "" {
		src.OpenCVData = d
	}
	if _, err := os.Stat(filepath.Join(src.OpenCVData, "digits.png")); err != nil {
		t.Skip("opencv-doc not unpacked (make data-deps)")
	}
	if _, err := os.Stat(src.Fortunes); err != nil {
		t.Skip("fortunes not installed (make data-deps)")
	}
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("espeak-ng not installed (make data-deps)")
	}
	dir := t.TempDir()
	// the real recipe on the two short videos, at one size
	cc := clips.DefaultConfig()
	cc.Sizes = []int{64}
	cc.Sources = []clips.Source{{File: "tree.avi", Split: clips.Train, Stride: 17}, {File: "Megamind.avi", Split: clips.Test, Stride: 60}}
	return dir, Options{Dir: dir, Src: src, Moving: map[string]int{"train": 60, "val": 10, "test": 10}, Clips: &cc, Voices: 12}
}

func TestPrepareVerifyIdempotent(t *testing.T) {
	dir, opt := small(t)
	m, err := Prepare(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(dir); err != nil {
		t.Fatalf("fresh data does not verify: %v", err)
	}
	st, _ := os.Stat(filepath.Join(dir, datasets.ManifestName))
	again, err := Prepare(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	st2, _ := os.Stat(filepath.Join(dir, datasets.ManifestName))
	if !st2.ModTime().Equal(st.ModTime()) || len(again.Entries) != len(m.Entries) {
		t.Error("second prepare rewrote the data")
	}
	// a rebuild from scratch writes the same bytes
	opt2 := opt
	opt2.Dir = t.TempDir()
	m2, err := Prepare(context.Background(), opt2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.Entries {
		if m.Entries[i].SHA256 != m2.Entries[i].SHA256 {
			t.Errorf("%s differs between two builds", m.Entries[i].Path)
		}
	}
	// one flipped byte is caught, naming the file
	p := filepath.Join(dir, "moving", "test.u8")
	b, _ := os.ReadFile(p)
	b[len(b)/2] ^= 1
	os.WriteFile(p, b, 0o644)
	if _, err := Verify(dir); err == nil || !strings.Contains(err.Error(), "test.u8") {
		t.Errorf("flipped byte: verify says %v", err)
	}
}

func TestHeldOutCatchesLeak(t *testing.T) {
	dir, opt := small(t)
	m, err := Prepare(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckHeldOut(dir, m); err != nil {
		t.Fatal(err)
	}
	// put a test digit into a train clip's metadata
	set, _ := digits.Load(dir)
	testID := set.IDs("test")[0]
	mv, _ := digits.LoadMoving(dir, "train")
	mv.Clips[3].Movers[0].ID = testID
	var lines []string
	for _, c := range mv.Clips {
		b, _ := json.Marshal(c)
		lines = append(lines, string(b))
	}
	os.WriteFile(filepath.Join(dir, "moving", "train.jsonl"), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	if err := CheckHeldOut(dir, m); err == nil || !strings.Contains(err.Error(), "test split") {
		t.Errorf("leaked test digit: %v", err)
	}
	// and a voice in both splits
	m.Entries = append(m.Entries,
		datasets.Entry{Path: "a.wav", Split: "test", Labels: map[string]string{"voice": "en+m3"}},
		datasets.Entry{Path: "b.wav", Split: "train", Labels: map[string]string{"voice": "en+m3"}})
	if err := disjoint(m, "voice"); err == nil {
		t.Error("shared voice not caught")
	}
}

func TestMissingSources(t *testing.T) {
	opt := Options{Dir: t.TempDir(), Src: datasets.Sources{OpenCVData: "/nonexistent", Fortunes: "/nonexistent"}}
	_, err := Prepare(context.Background(), opt)
	if err == nil || !strings.Contains(err.Error(), "make data-deps") {
		t.Errorf("missing sources: %v, want a hint to run make data-deps", err)
	}
}

// Two-digit clips are answered in one order (ascending), whatever the
// order of their movers, so an exact-match answer is learnable.
func TestDigitsAnswerAscending(t *testing.T) {
	dir, opt := small(t)
	if _, err := Prepare(context.Background(), opt); err != nil {
		t.Fatal(err)
	}
	mv, err := digits.LoadMoving(dir, "train")
	if err != nil {
		t.Fatal(err)
	}
	pairs, err := qa.Load(dir, "train")
	if err != nil {
		t.Fatal(err)
	}
	answers := map[string]string{}
	for _, p := range pairs {
		if p.Task == "digits" {
			answers[p.Ref] = p.Answer
		}
	}
	two := 0
	for _, c := range mv.Clips {
		if len(c.Movers) != 2 {
			continue
		}
		two++
		lo, hi := c.Movers[0].Label, c.Movers[1].Label
		if lo > hi {
			lo, hi = hi, lo
		}
		want := digits.Names[lo] + " and " + digits.Names[hi]
		if got := answers[fmt.Sprintf("moving:train:%d", c.Index)]; got != want {
			t.Errorf("clip %d (labels %d, %d): answer %q, want %q", c.Index, c.Movers[0].Label, c.Movers[1].Label, got, want)
		}
	}
	if two == 0 {
		t.Fatal("no two-digit clip to check")
	}
}

package vgen

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/omniar/omniar/metrics"
)

// TestCeilingCache: readings come back equal after save and reopen, only
// for the same split, tokenizer file, judge and clip pixels; a corrupt
// file is ignored and rewritten; dir "" writes nothing.
func TestCeilingCache(t *testing.T) {
	dir := t.TempDir()
	tok := filepath.Join(dir, "tok.safetensors")
	if err := os.WriteFile(tok, []byte("weights v1"), 0o644); err != nil {
		t.Fatal(err)
	}
	cacheDir := filepath.Join(dir, "cache")
	c, err := openCeilingCache(cacheDir, "test", tok, "judge1")
	if err != nil {
		t.Fatal(err)
	}
	clip := []uint8{1, 2, 3}
	want := []metrics.Reading{{Digit: 7, Votes: [10]int{7: 15, 1: 2}, Dir: "up-left", Velocity: [2]float64{-1.2345678901234567, 0.1}, Frames: []int{7, 7, 1}}}
	c.put(3, clip, want)
	if err := c.save(); err != nil {
		t.Fatal(err)
	}
	reopen := func(split, judge string) *ceilingCache {
		t.Helper()
		c, err := openCeilingCache(cacheDir, split, tok, judge)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if got, ok := reopen("test", "judge1").get(3, clip); !ok || !reflect.DeepEqual(got, want) {
		t.Fatalf("reopened: %+v, %v; want %+v", got, ok, want)
	}
	if _, ok := reopen("test", "judge1").get(3, []uint8{1, 2, 4}); ok {
		t.Error("reading found for other pixels")
	}
	for _, c := range []struct{ split, judge string }{{"val", "judge1"}, {"test", "judge2"}} {
		if _, ok := reopen(c.split, c.judge).get(3, clip); ok {
			t.Errorf("split %s judge %s: reading found in another's cache", c.split, c.judge)
		}
	}
	if err := os.WriteFile(tok, []byte("weights v2"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := reopen("test", "judge1").get(3, clip); ok {
		t.Error("reading found after the tokenizer file changed")
	}
	files, err := filepath.Glob(filepath.Join(cacheDir, "ceiling-*.json"))
	if err != nil || len(files) != 1 {
		t.Fatalf("cache files %v (%v), want 1", files, err)
	}
	if err := os.WriteFile(tok, []byte("weights v1"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(files[0], []byte(`{"key": "moving-digits:test`), 0o644); err != nil {
		t.Fatal(err)
	}
	c = reopen("test", "judge1")
	if _, ok := c.get(3, clip); ok {
		t.Fatal("reading found in a truncated cache file")
	}
	c.put(4, clip, want)
	if err := c.save(); err != nil {
		t.Fatal(err)
	}
	if _, ok := reopen("test", "judge1").get(4, clip); !ok {
		t.Error("a truncated cache file was not rewritten")
	}
	none, err := openCeilingCache("", "test", tok, "judge1")
	if err != nil {
		t.Fatal(err)
	}
	none.put(1, clip, want)
	if err := none.save(); err != nil {
		t.Fatal(err)
	}
	if _, err := openCeilingCache(cacheDir, "test", filepath.Join(dir, "missing"), "judge1"); err == nil {
		t.Error("a missing tokenizer file gave no error")
	}
}

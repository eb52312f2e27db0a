package vgen

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/omniar/omniar/datasets"
	"github.com/omniar/omniar/internal/atomicfile"
	"github.com/omniar/omniar/metrics"
)

// ceilingCache keeps the judge's readings of the tokenizer's
// reconstructions of real clips, by clip index, for one split, tokenizer
// file, judge weights and program. Reconstructing and judging the real
// clips took about 40 % of a 1,000-prompt `omniar eval videoar` and gives
// the same readings every time for the same clip, tokenizer, judge and
// code, so they are read back instead of recomputed. The program is part
// of the key because the judge's rules and the tokenizer's code live in
// it (a rebuilt binary starts a new cache); each entry also keeps its
// clip's pixel hash, so re-prepared data is never read against old
// readings.
type ceilingCache struct {
	path  string
	dirty bool
	Key   string               `json:"key"`
	Clips map[int]ceilingEntry `json:"clips"`
}

type ceilingEntry struct {
	Pixels   string            `json:"pixels"` // SHA-256 of the clip's pixels
	Readings []metrics.Reading `json:"readings"`
}

// openCeilingCache opens the cache in dir for (split, tokenizer file, judge
// weights' SHA-256, this executable). A cache file that cannot be read or belongs to
// other weights is ignored with a warning (and rewritten by save): it only
// costs the time it was meant to save. dir "" gives a cache that keeps
// nothing.
func openCeilingCache(dir, split, tokenizer, judge string) (*ceilingCache, error) {
	c := &ceilingCache{Clips: map[int]ceilingEntry{}}
	if dir == "" {
		return c, nil
	}
	tok, _, err := datasets.HashFile(tokenizer)
	if err != nil {
		return nil, fmt.Errorf("ceiling cache: %w", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("ceiling cache: %w", err)
	}
	prog, _, err := datasets.HashFile(exe)
	if err != nil {
		return nil, fmt.Errorf("ceiling cache: %w", err)
	}
	c.Key = fmt.Sprintf("moving-digits:%s tokenizer:%s judge:%s program:%s", split, tok, judge, prog)
	sum := sha256.Sum256([]byte(c.Key))
	c.path = filepath.Join(dir, "ceiling-"+hex.EncodeToString(sum[:8])+".json")
	b, err := os.ReadFile(c.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return c, nil
	case err != nil:
		slog.Warn("eval videoar: ceiling cache unreadable, recomputing", "file", c.path, "err", err)
		return c, nil
	}
	var old ceilingCache
	if err := json.Unmarshal(b, &old); err != nil || old.Key != c.Key || old.Clips == nil {
		slog.Warn("eval videoar: ceiling cache is corrupt or of other weights, recomputing", "file", c.path, "err", err)
		return c, nil
	}
	c.Clips = old.Clips
	return c, nil
}

// get returns the readings of clip i if its pixels are those cached.
func (c *ceilingCache) get(i int, pixels []uint8) ([]metrics.Reading, bool) {
	e, ok := c.Clips[i]
	if !ok || e.Pixels != pixelSum(pixels) {
		return nil, false
	}
	return e.Readings, true
}

func (c *ceilingCache) put(i int, pixels []uint8, r []metrics.Reading) {
	c.Clips[i] = ceilingEntry{Pixels: pixelSum(pixels), Readings: r}
	c.dirty = true
}

func pixelSum(p []uint8) string {
	s := sha256.Sum256(p)
	return hex.EncodeToString(s[:])
}

// save writes the cache atomically if it gained readings.
func (c *ceilingCache) save() error {
	if c.path == "" || !c.dirty {
		return nil
	}
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("ceiling cache %s: %w", c.path, err)
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o755); err != nil {
		return fmt.Errorf("ceiling cache: %w", err)
	}
	if err := atomicfile.WriteBytes(c.path, b); err != nil {
		return fmt.Errorf("ceiling cache: %w", err)
	}
	c.dirty = false
	return nil
}

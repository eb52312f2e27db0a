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
// file and judge. Reconstructing and judging the real clips took about 40 %
// of a 1,000-prompt `omniar eval videoar` and gives the same readings every
// time for the same three, so they are read back instead of recomputed.
type ceilingCache struct {
	path  string
	dirty bool
	Key   string                    `json:"key"`
	Clips map[int][]metrics.Reading `json:"clips"`
}

// openCeilingCache opens the cache in dir for (split, tokenizer file, judge
// weights' SHA-256). A cache file that cannot be read or belongs to
// other weights is ignored with a warning (and rewritten by save): it only
// costs the time it was meant to save. dir "" gives a cache that keeps
// nothing.
func openCeilingCache(dir, split, tokenizer, judge string) (*ceilingCache, error) {
	c := &ceilingCache{Clips: map[int][]metrics.Reading{}}
	if dir == "" {
		return c, nil
	}
	tok, _, err := datasets.HashFile(tokenizer)
	if err != nil {
		return nil, fmt.Errorf("ceiling cache: %w", err)
	}
	c.Key = fmt.Sprintf("moving-digits:%s tokenizer:%s judge:%s", split, tok, judge)
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

func (c *ceilingCache) get(i int) ([]metrics.Reading, bool) {
	r, ok := c.Clips[i]
	return r, ok
}

func (c *ceilingCache) put(i int, r []metrics.Reading) {
	c.Clips[i] = r
	c.dirty = true
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

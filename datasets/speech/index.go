package speech

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/omniar/omniar/audio"
	"github.com/omniar/omniar/datasets"
)

// IndexPath is the index's path relative to the data directory.
const IndexPath = "speech/index.json"

// index is the content of speech/index.json.
type index struct {
	Recipe string           `json:"recipe"`
	Items  []datasets.Entry `json:"items"`
}

// writeIndex writes the index of entries (sorted by path) and returns its
// own entry.
func writeIndex(dir, recipe string, entries []datasets.Entry) (datasets.Entry, error) {
	items := append([]datasets.Entry(nil), entries...)
	sort.Slice(items, func(i, j int) bool { return items[i].Path < items[j].Path })
	b, err := json.MarshalIndent(index{Recipe: recipe, Items: items}, "", " ")
	if err != nil {
		return datasets.Entry{}, fmt.Errorf("speech: index: %w", err)
	}
	return datasets.WriteFile(dir, IndexPath, append(b, '\n'), "all", KindIndex, nil)
}

// readIndex reads dir's speech index.
func readIndex(dir string) (*index, error) {
	p := filepath.Join(dir, filepath.FromSlash(IndexPath))
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("speech: no index %s (run `make data` or `omniar data prepare`)", p)
	}
	if err != nil {
		return nil, fmt.Errorf("speech: %w", err)
	}
	var idx index
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("speech: index %s is corrupt (rerun `omniar data prepare`): %w", p, err)
	}
	return &idx, nil
}

// reuse returns the entries of an existing build when its index has the
// same recipe and every file it lists matches its size and SHA-256.
func reuse(dir, recipe string) ([]datasets.Entry, bool) {
	idx, err := readIndex(dir)
	if err != nil || idx.Recipe != recipe || len(idx.Items) == 0 {
		return nil, false
	}
	if err := (&datasets.Manifest{Entries: idx.Items}).Verify(dir); err != nil {
		return nil, false
	}
	self, err := datasets.AddFile(dir, IndexPath, "all", KindIndex, nil)
	if err != nil {
		return nil, false
	}
	return append(idx.Items, self), true
}

// Item is one clip of the data set.
type Item struct {
	Path   string            // relative to the data directory, '/'-separated
	Split  string            // train, val or test
	Kind   string            // KindWAV or KindMP3
	Labels map[string]string // text, voice, accent, variant, digit, speed, pitch, source, …
	SHA256 string
	root   string
}

// Audio reads the clip as 16 kHz mono.
func (it *Item) Audio() (*audio.Clip, error) {
	c, err := audio.ReadFile(filepath.Join(it.root, filepath.FromSlash(it.Path)))
	if err != nil {
		return nil, fmt.Errorf("speech: %w", err)
	}
	if c.Rate != audio.ModelRate {
		c = audio.ToMono16k(c)
	}
	return c, nil
}

// Load returns the clips of a split ("train", "val", "test", or "" for
// all) from dir's speech index, in path order.
func Load(dir, split string) ([]Item, error) {
	switch split {
	case "", "train", "val", "test":
	default:
		return nil, fmt.Errorf("speech: unknown split %q (want train, val, test or \"\")", split)
	}
	idx, err := readIndex(dir)
	if err != nil {
		return nil, err
	}
	var out []Item
	for _, e := range idx.Items {
		if split == "" || e.Split == split {
			out = append(out, Item{Path: e.Path, Split: e.Split, Kind: e.Kind, Labels: e.Labels, SHA256: e.SHA256, root: dir})
		}
	}
	return out, nil
}

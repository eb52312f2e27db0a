// Package datasets builds, verifies and loads the project's real data sets
// (DESIGN.md, "Data"): handwritten digits, Moving-digits clips, real video
// clips, spoken words, quotations and the understanding pairs made from
// them. Everything is derived from Debian packages, deterministically, into
// one directory that ends with a manifest of every file.
package datasets

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/omniar/omniar/internal/atomicfile"
)

// Splits are the held-out splits every data set is cut into (by source
// instance: digit image, voice, video file, quotation).
var Splits = []string{"train", "val", "test"}

// Entry is one file of the data set.
type Entry struct {
	Path   string            `json:"path"` // relative to the data directory, '/'-separated
	SHA256 string            `json:"sha256"`
	Size   int64             `json:"size"`
	Split  string            `json:"split"` // train, val, test, or all
	Kind   string            `json:"kind"`  // digits, moving, clips, speech, text, qa, …
	Labels map[string]string `json:"labels,omitempty"`
}

// Manifest lists every file of a prepared data directory.
type Manifest struct {
	// Recipe identifies the builders' version: a directory prepared by an
	// older recipe is rebuilt.
	Recipe  string  `json:"recipe"`
	Entries []Entry `json:"entries"`
}

// ManifestName is the manifest's file name in the data directory.
const ManifestName = "manifest.json"

// WriteFile writes data to dir/rel atomically (creating directories) and
// returns its entry.
func WriteFile(dir, rel string, data []byte, split, kind string, labels map[string]string) (Entry, error) {
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return Entry{}, fmt.Errorf("write %s: %w", p, err)
	}
	if err := atomicfile.WriteBytes(p, data); err != nil {
		return Entry{}, fmt.Errorf("write %s: %w", p, err)
	}
	sum := sha256.Sum256(data)
	return Entry{Path: rel, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data)), Split: split, Kind: kind, Labels: labels}, nil
}

// AddFile makes the entry of a file a builder wrote itself (atomically).
func AddFile(dir, rel, split, kind string, labels map[string]string) (Entry, error) {
	sum, size, err := HashFile(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		return Entry{}, err
	}
	return Entry{Path: rel, SHA256: sum, Size: size, Split: split, Kind: kind, Labels: labels}, nil
}

// HashFile returns the hex SHA-256 and the size of a file.
func HashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// Save writes the manifest (entries sorted by path) to dir.
func (m *Manifest) Save(dir string) error {
	sort.Slice(m.Entries, func(i, j int) bool { return m.Entries[i].Path < m.Entries[j].Path })
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return err
	}
	p := filepath.Join(dir, ManifestName)
	if err := atomicfile.WriteBytes(p, append(b, '\n')); err != nil {
		return fmt.Errorf("write manifest %s: %w", p, err)
	}
	return nil
}

// ErrNoManifest means the directory was never prepared.
var ErrNoManifest = errors.New("no manifest (run `make data` or `omniar data prepare`)")

// LoadManifest reads dir's manifest.
func LoadManifest(dir string) (*Manifest, error) {
	p := filepath.Join(dir, ManifestName)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("data %s: %w", dir, ErrNoManifest)
	}
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("manifest %s is corrupt (rerun `omniar data prepare`): %w", p, err)
	}
	return &m, nil
}

// Verify checks that every file exists with its size and SHA-256; the error
// names the first file that does not and says how to repair it.
func (m *Manifest) Verify(dir string) error {
	for _, e := range m.Entries {
		p := filepath.Join(dir, filepath.FromSlash(e.Path))
		sum, size, err := HashFile(p)
		switch {
		case err != nil:
			return fmt.Errorf("data file %s: %w (rerun `omniar data prepare`)", p, err)
		case size != e.Size:
			return fmt.Errorf("data file %s has %d bytes, the manifest says %d (truncated? rerun `omniar data prepare`)", p, size, e.Size)
		case sum != e.SHA256:
			return fmt.Errorf("data file %s does not match its SHA-256 in the manifest (corrupt? rerun `omniar data prepare`)", p)
		}
	}
	return nil
}

// Find returns the entries of a kind (and split, if not empty).
func (m *Manifest) Find(kind, split string) []Entry {
	var out []Entry
	for _, e := range m.Entries {
		if e.Kind == kind && (split == "" || e.Split == split) {
			out = append(out, e)
		}
	}
	return out
}

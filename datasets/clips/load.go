package clips

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/omniar/omniar/datasets/store"
)

// Set is an opened clip store with its index.
type Set struct {
	*store.Store
	Index Index
}

// Open loads a clip store and checks its index against its shape.
func Open(path string) (*Set, error) {
	st, err := store.Open(path)
	if err != nil {
		return nil, fmt.Errorf("clips: %w", err)
	}
	s := &Set{Store: st}
	if err := st.DecodeIndex(&s.Index); err != nil {
		return nil, fmt.Errorf("clips %s: index: %w", path, err)
	}
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("clips %s: %w", path, err)
	}
	return s, nil
}

// check compares the index with the store's shape.
func (s *Set) check() error {
	sh := s.Shape()
	switch {
	case sh.C != 1:
		return fmt.Errorf("%d channels, clips are grey", sh.C)
	case sh.T != s.Index.Frames || sh.H != s.Index.Size || sh.W != s.Index.Size:
		return fmt.Errorf("shape %v does not match the index (%d frames of %d×%d)", sh, s.Index.Frames, s.Index.Size, s.Index.Size)
	case len(s.Index.Clips) != sh.N:
		return fmt.Errorf("%d clips but the index lists %d", sh.N, len(s.Index.Clips))
	}
	return nil
}

// Frame returns frame t of clip i (Size×Size grey), or nil if out of range.
func (s *Set) Frame(i, t int) []uint8 {
	c := s.Clip(i)
	n := s.Index.Size * s.Index.Size
	if c == nil || t < 0 || t >= s.Index.Frames {
		return nil
	}
	return c[t*n : (t+1)*n : (t+1)*n]
}

// mkdirFor creates the directory of path.
func mkdirFor(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("clips: %w", err)
	}
	return nil
}

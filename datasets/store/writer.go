package store

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Writer streams items into a new store file. The file appears at its path
// only when Close succeeds (temporary file, sync, rename); Abort or a
// failed Close leaves any previous file untouched.
type Writer struct {
	path  string
	f     *os.File
	w     *bufio.Writer
	shape Shape // N counts the items appended so far
	err   error
}

// Create starts a store at path whose items have item's T, H, W and C
// (item.N is ignored).
func Create(path string, item Shape) (*Writer, error) {
	item.N = 0
	if _, err := item.check(); err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	w := &Writer{path: path, f: f, w: bufio.NewWriterSize(f, 1<<20), shape: item}
	if _, err := w.w.Write(make([]byte, HeaderSize)); err != nil {
		w.Abort()
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	return w, nil
}

// Append adds one item of exactly T·H·W·C bytes.
func (w *Writer) Append(item []uint8) error {
	if w.err != nil {
		return w.err
	}
	if len(item) != w.shape.ItemSize() {
		return fmt.Errorf("store %s: item of %d bytes, want %d", w.path, len(item), w.shape.ItemSize())
	}
	next := w.shape
	next.N++
	if _, err := next.check(); err != nil {
		w.err = fmt.Errorf("store %s: %w", w.path, err)
		return w.err
	}
	if _, err := w.w.Write(item); err != nil {
		w.err = fmt.Errorf("store %s: %w", w.path, err)
		return w.err
	}
	w.shape = next
	return nil
}

// Len is the number of items appended so far.
func (w *Writer) Len() int { return w.shape.N }

// Close writes index as the JSON index (nil for none), fills in the header
// and moves the file into place.
func (w *Writer) Close(index any) error {
	if err := w.finish(index); err != nil {
		w.Abort()
		return fmt.Errorf("store %s: %w", w.path, err)
	}
	return nil
}

func (w *Writer) finish(index any) error {
	if w.err != nil {
		return w.err
	}
	if w.f == nil {
		return errors.New("writer already closed")
	}
	b, err := marshalIndex(index)
	if err != nil {
		return err
	}
	if _, err := w.w.Write(b); err != nil {
		return err
	}
	if err := w.w.Flush(); err != nil {
		return err
	}
	if _, err := w.f.WriteAt(encodeHeader(w.shape, len(b)), 0); err != nil {
		return err
	}
	if err := w.f.Chmod(0o644); err != nil {
		return err
	}
	if err := w.f.Sync(); err != nil {
		return err
	}
	if err := w.f.Close(); err != nil {
		return err
	}
	tmp := w.f.Name()
	w.f = nil
	if err := os.Rename(tmp, w.path); err != nil {
		os.Remove(tmp)
		return err
	}
	syncDir(filepath.Dir(w.path))
	return nil
}

// Abort discards the temporary file.
func (w *Writer) Abort() {
	if w.f == nil {
		return
	}
	w.f.Close()
	os.Remove(w.f.Name())
	w.f = nil
}

// syncDir makes a rename durable; the file is in place either way, so a
// failure is not reported.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// Write stores data, a whole number of items of item's T, H, W and C, with
// its index at path atomically.
func Write(path string, item Shape, data []uint8, index any) error {
	w, err := Create(path, item)
	if err != nil {
		return err
	}
	n := w.shape.ItemSize()
	if len(data)%n != 0 {
		w.Abort()
		return fmt.Errorf("store %s: %d bytes is not a whole number of %d-byte items", path, len(data), n)
	}
	for i := 0; i < len(data); i += n {
		if err := w.Append(data[i : i+n]); err != nil {
			w.Abort()
			return err
		}
	}
	return w.Close(index)
}

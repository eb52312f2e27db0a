//go:build !cgo || purego

package vio

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNoOpenCV(t *testing.T) {
	p := filepath.Join(t.TempDir(), "v.avi")
	if err := os.WriteFile(p, []byte("RIFF"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(p, ReadOptions{}); err == nil || !strings.Contains(err.Error(), "make deps") {
		t.Errorf("Read: got %v, want the make deps hint", err)
	}
	if err := Write(p, ramp(2, 2, 1, 0)); err == nil || !strings.Contains(err.Error(), "make deps") {
		t.Errorf("Write: got %v, want the make deps hint", err)
	}
}

package audio

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/omniar/omniar/internal/atomicfile"
)

// ReadFile decodes a .wav or .mp3 file (by extension, any case) to a mono
// clip at the file's rate. Errors name the file.
func ReadFile(path string) (*Clip, error) {
	var decode func([]byte) (*Clip, error)
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".wav", ".wave":
		decode = func(b []byte) (*Clip, error) { return DecodeWAV(bytes.NewReader(b)) }
	case ".mp3":
		decode = func(b []byte) (*Clip, error) { return DecodeMP3(bytes.NewReader(b)) }
	default:
		return nil, fmt.Errorf("decode %s: %w: extension %q (want .wav or .mp3)", path, ErrUnsupported, ext)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	c, err := decode(b)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return c, nil
}

// WriteFile writes c to path as a 16-bit PCM mono WAV, atomically (a
// temporary file renamed into place). The extension must be .wav.
func WriteFile(path string, c *Clip) error {
	if ext := strings.ToLower(filepath.Ext(path)); ext != ".wav" {
		return fmt.Errorf("write %s: %w: can only write .wav, not %q", path, ErrUnsupported, ext)
	}
	err := atomicfile.Write(path, func(w io.Writer) error { return WriteWAV(w, c) })
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// EncodeWAV returns c as the bytes of a 16-bit PCM mono WAV file.
func EncodeWAV(c *Clip) ([]byte, error) {
	var buf bytes.Buffer
	if err := WriteWAV(&buf, c); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Package tokfile reads and writes .tok files: the token indices of one
// image, video or audio clip together with what a decoder needs to turn
// them back into media, shared by every codec tokenizer.
//
// Layout (all integers little-endian):
//
//	offset      size     field
//	0           8        magic "OMNIATOK"
//	8           2        version (uint16, currently 1)
//	10          4        header length H (uint32, 2 ≤ H ≤ 65536)
//	14          H        header: one JSON object (UTF-8), see Header
//	14+H        2·N      indices (uint16 each), N = Header.Count
//	14+H+2·N    4        CRC-32 (IEEE) of every preceding byte
//
// The header is generic so visual and audio tokenizers share it:
//
//	{"modality":"audio",
//	 "dims":[{"name":"frames","size":250},{"name":"depths","size":8},
//	         {"name":"sample_rate","size":16000},{"name":"frame_size","size":320},
//	         {"name":"samples","size":80000}],
//	 "scales":[1,2,3,4,5,6,7,8],
//	 "codebook_id":"3f2a9c0d1e4b5a67","codebook_size":256,"count":2000}
//
// modality is image, video or audio; dims are named sizes (the layout of
// the indices and whatever else the decoder needs, each name once); scales
// is the scale schedule of a visual tokenizer or the depth list of an audio
// codec, may be empty; codebook_id identifies the tokenizer weights (see
// CodebookID) so a file is never decoded by a tokenizer it was not made
// with; every index is < codebook_size. How the N indices are ordered is
// the tokenizer's contract (audio: frame-major, depth-minor, coarse depth
// first), which it states with its dims.
//
// Readers are strict: an unknown header field, a wrong magic, version,
// length or checksum, trailing bytes or an index out of range is an error
// that names the file.
package tokfile

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"

	"github.com/omniar/omniar/internal/atomicfile"
	"github.com/omniar/omniar/nn/ckpt"
)

// Magic starts every .tok file.
const Magic = "OMNIATOK"

// Version is the layout version this package writes and reads.
const Version = 1

const (
	prefixLen    = len(Magic) + 2 + 4
	maxHeaderLen = 1 << 16
	// maxCount bounds the index count so a corrupt header cannot ask for a
	// huge allocation; 2^26 indices is far beyond any clip here.
	maxCount = 1 << 26
	idLen    = 16
)

// Modalities a .tok file may hold.
var Modalities = []string{"image", "video", "audio"}

// Dim is a named size.
type Dim struct {
	Name string `json:"name"`
	Size int    `json:"size"`
}

// Header describes the indices of a .tok file.
type Header struct {
	Modality     string `json:"modality"`
	Dims         []Dim  `json:"dims"`
	Scales       []int  `json:"scales"`
	CodebookID   string `json:"codebook_id"`
	CodebookSize int    `json:"codebook_size"`
	Count        int    `json:"count"`
}

// File is a decoded .tok file.
type File struct {
	Header
	Indices []uint16 // Header.Count of them
}

// Dim returns the size of the named dim.
func (h *Header) Dim(name string) (int, bool) {
	for _, d := range h.Dims {
		if d.Name == name {
			return d.Size, true
		}
	}
	return 0, false
}

// MustDims returns the sizes of the named dims, or an error naming the
// first one missing.
func (h *Header) MustDims(names ...string) ([]int, error) {
	out := make([]int, len(names))
	for i, n := range names {
		v, ok := h.Dim(n)
		if !ok {
			return nil, fmt.Errorf("%s tokens have no %q dim", h.Modality, n)
		}
		out[i] = v
	}
	return out, nil
}

// Check reports whether the file was made by the tokenizer with the given
// modality and codebook id.
func (h *Header) Check(modality, codebookID string) error {
	if h.Modality != modality {
		return fmt.Errorf("holds %s tokens, not %s", h.Modality, modality)
	}
	if h.CodebookID != codebookID {
		return fmt.Errorf("was made by a tokenizer with codebook %s, this one is %s (use the checkpoint that encoded it)", h.CodebookID, codebookID)
	}
	return nil
}

// validate checks the header on its own.
func (h *Header) validate() error {
	known := false
	for _, m := range Modalities {
		known = known || h.Modality == m
	}
	if !known {
		return fmt.Errorf("modality %q is not one of %v", h.Modality, Modalities)
	}
	seen := map[string]bool{}
	for _, d := range h.Dims {
		if d.Name == "" {
			return errors.New("a dim has an empty name")
		}
		if seen[d.Name] {
			return fmt.Errorf("dim %q appears twice", d.Name)
		}
		seen[d.Name] = true
		if d.Size < 0 || d.Size > math.MaxInt32 {
			return fmt.Errorf("dim %q has size %d", d.Name, d.Size)
		}
	}
	for _, s := range h.Scales {
		if s <= 0 || s > math.MaxInt32 {
			return fmt.Errorf("scale %d is not positive", s)
		}
	}
	if len(h.CodebookID) != idLen {
		return fmt.Errorf("codebook id %q is not %d hex digits", h.CodebookID, idLen)
	}
	if _, err := hex.DecodeString(h.CodebookID); err != nil {
		return fmt.Errorf("codebook id %q is not hex", h.CodebookID)
	}
	if h.CodebookSize < 1 || h.CodebookSize > 1<<16 {
		return fmt.Errorf("codebook size %d is not in [1, 65536]", h.CodebookSize)
	}
	if h.Count < 0 || h.Count > maxCount {
		return fmt.Errorf("index count %d is not in [0, %d]", h.Count, maxCount)
	}
	return nil
}

// validate checks the header and the indices against it.
func (f *File) validate() error {
	if err := f.Header.validate(); err != nil {
		return err
	}
	if len(f.Indices) != f.Count {
		return fmt.Errorf("has %d indices, header says %d", len(f.Indices), f.Count)
	}
	for i, v := range f.Indices {
		if int(v) >= f.CodebookSize {
			return fmt.Errorf("index %d is %d, codebook has %d codes", i, v, f.CodebookSize)
		}
	}
	return nil
}

// Encode writes f in the .tok layout.
func (f *File) Encode(w io.Writer) error {
	if err := f.validate(); err != nil {
		return err
	}
	hdr, err := json.Marshal(&f.Header)
	if err != nil {
		return err
	}
	if len(hdr) > maxHeaderLen {
		return fmt.Errorf("header is %d bytes, more than %d", len(hdr), maxHeaderLen)
	}
	buf := make([]byte, 0, prefixLen+len(hdr)+2*len(f.Indices)+4)
	buf = append(buf, Magic...)
	buf = binary.LittleEndian.AppendUint16(buf, Version)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(hdr)))
	buf = append(buf, hdr...)
	for _, v := range f.Indices {
		buf = binary.LittleEndian.AppendUint16(buf, v)
	}
	buf = binary.LittleEndian.AppendUint32(buf, crc32.ChecksumIEEE(buf))
	_, err = w.Write(buf)
	return err
}

// Decode parses a .tok file held in b.
func Decode(b []byte) (*File, error) {
	if len(b) < prefixLen+4 {
		return nil, fmt.Errorf("is %d bytes, too short for a .tok file", len(b))
	}
	if string(b[:len(Magic)]) != Magic {
		return nil, errors.New("is not a .tok file (bad magic)")
	}
	if v := binary.LittleEndian.Uint16(b[len(Magic):]); v != Version {
		return nil, fmt.Errorf("has .tok version %d, this build reads %d", v, Version)
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	hlen := int(binary.LittleEndian.Uint32(b[len(Magic)+2:]))
	if hlen < 2 || hlen > maxHeaderLen || prefixLen+hlen > len(body) {
		return nil, fmt.Errorf("header length %d does not fit the file (%d bytes)", hlen, len(b))
	}
	if crc32.ChecksumIEEE(body) != sum {
		return nil, errors.New("is corrupt (checksum mismatch)")
	}
	f := &File{}
	dec := json.NewDecoder(bytes.NewReader(b[prefixLen : prefixLen+hlen]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f.Header); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if dec.More() {
		return nil, errors.New("header: trailing data after the JSON object")
	}
	if err := f.Header.validate(); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	idx := body[prefixLen+hlen:]
	if len(idx) != 2*f.Count {
		return nil, fmt.Errorf("holds %d bytes of indices, header says %d indices (%d bytes)", len(idx), f.Count, 2*f.Count)
	}
	f.Indices = make([]uint16, f.Count)
	for i := range f.Indices {
		f.Indices[i] = binary.LittleEndian.Uint16(idx[2*i:])
	}
	if err := f.validate(); err != nil {
		return nil, err
	}
	return f, nil
}

// Read loads and validates the .tok file at path.
func Read(path string) (*File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() > int64(prefixLen+maxHeaderLen+2*maxCount+4) {
		return nil, fmt.Errorf("%s: is %d bytes, too large for a .tok file", path, st.Size())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Write validates f and writes it to path atomically.
func Write(path string, f *File) error {
	if err := f.validate(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := atomicfile.Write(path, f.Encode); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// CodebookID is the first 16 hex digits of the SHA-256 of the tensors'
// values rounded to float16 (little-endian, in order): a tokenizer passes
// its codebook tensors so that a retrained or different tokenizer gets a
// different id, while its training checkpoint (F32) and its shipped
// half-precision export share one.
func CodebookID(tensors ...[]float32) string {
	h := sha256.New()
	var b [4]byte
	for _, t := range tensors {
		for _, v := range t {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(ckpt.RoundF16(v)))
			h.Write(b[:])
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:idLen]
}

// Package store is the project's compact file of equally shaped uint8
// items — video clips, images — for data sets that must load in well under
// a second: one read, no decoding. Real video clips and Moving-digits use it.
//
// Format (version 1, little-endian):
//
//	offset  size  field
//	0       8     magic "OMNISTOR"
//	8       4     version (1)
//	12      4     dtype (1 = uint8)
//	16      40    dims N, T, H, W, C as uint64 (N items of T×H×W×C)
//	56      8     index length L in bytes
//	64      D     the items back to back, D = N·T·H·W·C bytes, row-major
//	64+D    L     the index: JSON (one value) describing the items, or empty
//
// The file is exactly 64 + D + L bytes. Readers reject a wrong magic,
// version or dtype, a zero dimension (N may be 0), sizes whose product
// overflows, a size that does not match the file, and an index that is
// not valid JSON.
package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
)

// Format constants.
const (
	Magic      = "OMNISTOR"
	Version    = 1
	DTypeUint8 = 1
	HeaderSize = 64
)

// MaxBytes bounds data plus index, far above any data set here.
const MaxBytes = 1 << 40

// Shape is N items of T frames of H×W pixels with C channels.
type Shape struct{ N, T, H, W, C int }

// ItemSize is the bytes of one item, T·H·W·C.
func (s Shape) ItemSize() int { return s.T * s.H * s.W * s.C }

func (s Shape) String() string { return fmt.Sprintf("[%d %d %d %d %d]", s.N, s.T, s.H, s.W, s.C) }

// check checks the dimensions and that N items fit in MaxBytes;
// it returns the data size.
func (s Shape) check() (int64, error) {
	if s.N < 0 || s.T < 1 || s.H < 1 || s.W < 1 || s.C < 1 {
		return 0, fmt.Errorf("dims %v: T, H, W, C must be positive and N not negative", s)
	}
	total := uint64(1)
	for _, d := range []int{s.N, s.T, s.H, s.W, s.C} {
		hi, lo := bits.Mul64(total, uint64(d))
		if hi != 0 || lo > MaxBytes {
			return 0, fmt.Errorf("dims %v: %w", s, errTooLarge)
		}
		total = lo
	}
	return int64(total), nil
}

var errTooLarge = fmt.Errorf("more than %d bytes", MaxBytes)

// Store is an opened store file held in memory.
type Store struct {
	shape Shape
	data  []byte
	index []byte
}

// Len is the number of items.
func (s *Store) Len() int { return s.shape.N }

// Shape is the store's dimensions.
func (s *Store) Shape() Shape { return s.shape }

// Clip returns item i (T·H·W·C bytes, row-major), or nil if i is out of
// range. The slice shares the store's memory.
func (s *Store) Clip(i int) []uint8 {
	if i < 0 || i >= s.shape.N {
		return nil
	}
	n := s.shape.ItemSize()
	return s.data[i*n : (i+1)*n : (i+1)*n]
}

// Data is all items back to back (shared, not copied).
func (s *Store) Data() []uint8 { return s.data }

// Index is the raw JSON index (empty if none).
func (s *Store) Index() []byte { return s.index }

// DecodeIndex unmarshals the JSON index into v.
func (s *Store) DecodeIndex(v any) error {
	if len(s.index) == 0 {
		return errors.New("store has no index")
	}
	return json.Unmarshal(s.index, v)
}

// header is the parsed fixed header.
type header struct {
	shape    Shape
	dataLen  int64
	indexLen int64
}

// size is the file size the header announces.
func (h header) size() int64 { return HeaderSize + h.dataLen + h.indexLen }

// parseHeader checks the first HeaderSize bytes.
func parseHeader(b []byte) (header, error) {
	if len(b) < HeaderSize {
		return header{}, fmt.Errorf("%d bytes is shorter than the %d-byte header (truncated?)", len(b), HeaderSize)
	}
	if string(b[:8]) != Magic {
		return header{}, fmt.Errorf("bad magic %q, not a store file", b[:8])
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != Version {
		return header{}, fmt.Errorf("version %d, this reader knows %d", v, Version)
	}
	if d := binary.LittleEndian.Uint32(b[12:]); d != DTypeUint8 {
		return header{}, fmt.Errorf("dtype %d, this reader knows %d (uint8)", d, DTypeUint8)
	}
	var dims [5]int
	for i := range dims {
		d := binary.LittleEndian.Uint64(b[16+8*i:])
		if d > math.MaxInt32 {
			return header{}, fmt.Errorf("dimension %d is %d: %w", i, d, errTooLarge)
		}
		dims[i] = int(d)
	}
	h := header{shape: Shape{dims[0], dims[1], dims[2], dims[3], dims[4]}}
	var err error
	if h.dataLen, err = h.shape.check(); err != nil {
		return header{}, err
	}
	il := binary.LittleEndian.Uint64(b[56:])
	if il > MaxBytes || uint64(h.dataLen)+il > MaxBytes {
		return header{}, fmt.Errorf("index of %d bytes: %w", il, errTooLarge)
	}
	h.indexLen = int64(il)
	return h, nil
}

// Parse checks and wraps a whole store file held in b (not copied).
func Parse(b []byte) (*Store, error) {
	s, err := parse(b)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return s, nil
}

func parse(b []byte) (*Store, error) {
	h, err := parseHeader(b)
	if err != nil {
		return nil, err
	}
	if err := checkSize(h, int64(len(b))); err != nil {
		return nil, err
	}
	end := HeaderSize + h.dataLen
	s := &Store{shape: h.shape, data: b[HeaderSize:end:end], index: b[end:]}
	if len(s.index) > 0 && !json.Valid(s.index) {
		return nil, errors.New("the index is not valid JSON")
	}
	return s, nil
}

// checkSize compares the announced and actual file sizes.
func checkSize(h header, size int64) error {
	switch want := h.size(); {
	case size < want:
		return fmt.Errorf("%d bytes, the header of dims %v needs %d (truncated?)", size, h.shape, want)
	case size > want:
		return fmt.Errorf("%d bytes, the header of dims %v needs %d (trailing bytes)", size, h.shape, want)
	}
	return nil
}

// Open reads and checks the store file at path. The size is checked
// against the header before anything large is allocated.
func Open(path string) (*Store, error) {
	s, err := open(path)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	return s, nil
}

// Stat reads and checks only the header of the store file at path: the
// shape of its items and how many there are, without reading them.
func Stat(path string) (Shape, error) {
	f, err := os.Open(path)
	if err != nil {
		return Shape{}, fmt.Errorf("store %s: %w", path, err)
	}
	defer f.Close()
	h, _, err := readHeader(f)
	if err != nil {
		return Shape{}, fmt.Errorf("store %s: %w", path, err)
	}
	return h.shape, nil
}

// readHeader reads the header of an open store file and checks the file's
// size against it; it returns the header's bytes too.
func readHeader(f *os.File) (header, []byte, error) {
	st, err := f.Stat()
	if err != nil {
		return header{}, nil, err
	}
	var hb [HeaderSize]byte
	n, err := io.ReadFull(f, hb[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return header{}, nil, err
	}
	h, err := parseHeader(hb[:n])
	if err != nil {
		return header{}, nil, err
	}
	return h, hb[:], checkSize(h, st.Size())
}

func open(path string) (*Store, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h, hb, err := readHeader(f)
	if err != nil {
		return nil, err
	}
	b := make([]byte, h.size())
	copy(b, hb[:])
	if _, err := io.ReadFull(f, b[HeaderSize:]); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	return parse(b)
}

// encodeHeader returns the header of a store of shape with an index of
// indexLen bytes.
func encodeHeader(shape Shape, indexLen int) []byte {
	b := make([]byte, HeaderSize)
	copy(b, Magic)
	binary.LittleEndian.PutUint32(b[8:], Version)
	binary.LittleEndian.PutUint32(b[12:], DTypeUint8)
	for i, d := range []int{shape.N, shape.T, shape.H, shape.W, shape.C} {
		binary.LittleEndian.PutUint64(b[16+8*i:], uint64(d))
	}
	binary.LittleEndian.PutUint64(b[56:], uint64(indexLen))
	return b
}

// marshalIndex encodes index as compact JSON (nil gives no index).
func marshalIndex(index any) ([]byte, error) {
	if index == nil {
		return nil, nil
	}
	b, err := json.Marshal(index)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	if bytes.Equal(b, []byte("null")) {
		return nil, nil
	}
	return b, nil
}

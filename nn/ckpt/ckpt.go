// Package ckpt reads and writes model checkpoints in the safetensors format,
// so that OmniAR weights can be exchanged with Python / Hugging Face tools.
//
// A checkpoint is a set of named float tensors (names follow module paths,
// such as "layers.3.moe.experts.5.w_up") plus string metadata (the model
// config as JSON, for example). [Save] writes one atomically; [Load] reads
// one and validates the whole file up front, so that a truncated or corrupt
// file is reported with a one-line error naming the file and the tensor
// instead of failing later. Floats can be stored as F32, F16 or BF16, or as
// blockwise int8 ([Q8]), and are always handed back as float32.
//
// File layout (https://github.com/huggingface/safetensors): an 8-byte
// little-endian header length N, N bytes of JSON header
//
//	{"__metadata__": {"key": "value"}, "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}}
//
// padded with spaces to a multiple of 8, then the tensors' bytes, which must
// cover the rest of the file exactly, without holes or overlaps.
//
// This package has its own reader and writer rather than using
// github.com/nlpodyssey/safetensors: that reader is bounds-safe, but its
// errors don't say which tensor, offsets or sizes are wrong (a truncated file
// gives "metadata incomplete buffer"), so we would have to re-validate
// everything ourselves anyway, and the format is small.
package ckpt

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
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/omniar/omniar/internal/atomicfile"
)

// DType is a safetensors element type, as spelled in the header.
type DType string

// Float types: Save can write them and Get converts them to float32.
const (
	F32  DType = "F32"
	F16  DType = "F16"
	BF16 DType = "BF16"
)

// Other standard safetensors types: Load accepts them and Raw returns their
// bytes, but Get refuses them.
const (
	F64    DType = "F64"
	I64    DType = "I64"
	I32    DType = "I32"
	I16    DType = "I16"
	I8     DType = "I8"
	U64    DType = "U64"
	U32    DType = "U32"
	U16    DType = "U16"
	U8     DType = "U8"
	Bool   DType = "BOOL"
	F8E4M3 DType = "F8_E4M3"
	F8E5M2 DType = "F8_E5M2"
)

// Size returns the size of one element in bytes, or 0 for an unknown type.
func (d DType) Size() int {
	switch d {
	case F64, I64, U64:
		return 8
	case F32, I32, U32:
		return 4
	case F16, BF16, I16, U16:
		return 2
	case I8, U8, Bool, F8E4M3, F8E5M2:
		return 1
	}
	return 0
}

// IsFloat reports whether Get can convert elements of type d to float32.
func (d DType) IsFloat() bool { return d == F32 || d == F16 || d == BF16 }

// Tensor is a named float tensor in row-major order; len(Data) must be the
// product of Shape (1 for an empty Shape, a scalar).
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
	// Store overrides Save's dtype for this tensor: "" keeps it, Q8 stores
	// blockwise int8 (see Q8).
	Store DType
}

const (
	metadataKey   = "__metadata__"
	maxHeaderSize = 100_000_000 // same limit as the reference implementation
)

// Save writes tensors and meta to path as a safetensors file, storing floats
// as dtype (F32, F16 or BF16; F16 and BF16 round to nearest even). The
// header lists tensors sorted by name and the data follows in that order.
//
// The write is atomic: the file is written to a temporary file in the same
// directory, synced, and renamed over path. On error the temporary file is
// removed and an existing file at path is left untouched. The new file has
// mode 0644.
func Save(path string, meta map[string]string, tensors []Tensor, dtype DType) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("save ckpt %s: %w", path, err)
		}
	}()
	if !dtype.IsFloat() {
		return fmt.Errorf("unsupported dtype %q (want F32, F16 or BF16)", dtype)
	}
	var stored []Tensor
	var q8 map[string][]byte // int8 bytes of Q8 tensors, by name
	for _, t := range tensors {
		switch t.Store {
		case "":
			t.Store = dtype
			stored = append(stored, t)
		case Q8:
			if q8 == nil {
				q8 = map[string][]byte{}
			}
			codes, scales := quantizeQ8(t.Data)
			q8[t.Name] = codes
			stored = append(stored, Tensor{Name: t.Name, Shape: t.Shape, Data: t.Data, Store: I8},
				Tensor{Name: t.Name + Q8ScaleSuffix, Shape: []int{len(scales)}, Data: scales, Store: F16})
		default:
			if !t.Store.IsFloat() {
				return fmt.Errorf("tensor %q: unsupported dtype %q (want F32, F16, BF16 or Q8)", t.Name, t.Store)
			}
			stored = append(stored, t)
		}
	}
	sort.Slice(stored, func(i, j int) bool { return stored[i].Name < stored[j].Name })
	header, err := encodeHeader(meta, stored)
	if err != nil {
		return err
	}

	return atomicfile.Write(path, func(w io.Writer) error {
		if _, err := w.Write(header); err != nil {
			return err
		}
		buf := make([]byte, 0, 64<<10)
		for _, t := range stored {
			if t.Store == I8 {
				if _, err := w.Write(q8[t.Name]); err != nil {
					return err
				}
				continue
			}
			for data := t.Data; len(data) > 0; {
				n := min(len(data), cap(buf)/4)
				buf = encodeFloats(buf[:0], data[:n], t.Store)
				if _, err := w.Write(buf); err != nil {
					return err
				}
				data = data[n:]
			}
		}
		return nil
	})
}

// encodeHeader validates the tensors (sorted by name, each with its
// stored dtype) and returns the 8-byte length prefix followed by the
// space-padded JSON header.
func encodeHeader(meta map[string]string, tensors []Tensor) ([]byte, error) {
	var h strings.Builder
	h.WriteByte('{')
	first := true
	sep := func() {
		if !first {
			h.WriteByte(',')
		}
		first = false
	}
	if len(meta) > 0 {
		sep()
		h.WriteString(`"` + metadataKey + `":{`)
		keys := make([]string, 0, len(meta))
		for k := range meta {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			if i > 0 {
				h.WriteByte(',')
			}
			h.Write(jsonString(k))
			h.WriteByte(':')
			h.Write(jsonString(meta[k]))
		}
		h.WriteByte('}')
	}
	var offset uint64
	for i, t := range tensors {
		if t.Name == metadataKey {
			return nil, fmt.Errorf("tensor name %q is reserved", t.Name)
		}
		if i > 0 && tensors[i-1].Name == t.Name {
			return nil, fmt.Errorf("duplicate tensor %q", t.Name)
		}
		n, ok := numElements(t.Shape)
		if !ok {
			return nil, fmt.Errorf("tensor %q has invalid shape %v", t.Name, t.Shape)
		}
		if n != uint64(len(t.Data)) {
			return nil, fmt.Errorf("tensor %q has shape %v (%d elements) but %d values", t.Name, t.Shape, n, len(t.Data))
		}
		size := n * uint64(t.Store.Size())
		sep()
		h.Write(jsonString(t.Name))
		fmt.Fprintf(&h, `:{"dtype":"%s","shape":[`, t.Store)
		for j, d := range t.Shape {
			if j > 0 {
				h.WriteByte(',')
			}
			h.WriteString(strconv.Itoa(d))
		}
		fmt.Fprintf(&h, `],"data_offsets":[%d,%d]}`, offset, offset+size)
		offset += size
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	if h.Len() > maxHeaderSize {
		return nil, fmt.Errorf("header of %d bytes exceeds the format's limit of %d", h.Len(), maxHeaderSize)
	}
	out := binary.LittleEndian.AppendUint64(make([]byte, 0, 8+h.Len()), uint64(h.Len()))
	return append(out, h.String()...), nil
}

// jsonString returns s as a JSON string literal.
func jsonString(s string) []byte {
	b, err := json.Marshal(s)
	if err != nil { // cannot happen for a string
		return []byte(`""`)
	}
	return b
}

// numElements returns the product of shape, and false if a dimension is
// negative or the product (or its size in bytes, at up to 8 bytes an
// element) overflows.
func numElements(shape []int) (uint64, bool) {
	n := uint64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt64/8 {
			return 0, false
		}
		n = lo
	}
	return n, true
}

func encodeFloats(dst []byte, src []float32, dtype DType) []byte {
	switch dtype {
	case F16:
		for _, v := range src {
			dst = binary.LittleEndian.AppendUint16(dst, f32ToF16(v))
		}
	case BF16:
		for _, v := range src {
			dst = binary.LittleEndian.AppendUint16(dst, f32ToBF16(v))
		}
	default:
		for _, v := range src {
			dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(v))
		}
	}
	return dst
}

// File is a loaded checkpoint. Its methods are safe for concurrent use.
type File struct {
	Path string            // the path or name it was loaded from
	Meta map[string]string // the header's __metadata__; never nil

	names   []string // sorted
	tensors map[string]tensorInfo
}

type tensorInfo struct {
	dtype DType
	shape []int
	data  []byte // a slice of the file's buffer
}

// Load reads the safetensors file at path and validates it (see [Decode]).
func Load(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load ckpt: %w", err)
	}
	return Decode(path, b)
}

// Decode parses a safetensors file held in b; name identifies it in errors
// and becomes File.Path. It checks the header length, that the header is a
// JSON object of tensor entries with known dtypes, non-negative shapes and
// data_offsets matching dtype size × element count, that the tensors cover
// the data buffer exactly (no holes, overlaps or bytes past the end), and
// that the metadata maps strings to strings. The File keeps references into
// b, which must not be modified afterwards.
func Decode(name string, b []byte) (*File, error) {
	f, err := decode(name, b)
	if err != nil {
		return nil, fmt.Errorf("load ckpt %s: %w", name, err)
	}
	return f, nil
}

func decode(name string, b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("file has %d bytes, fewer than the 8-byte header length (empty or truncated file?)", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > maxHeaderSize {
		return nil, fmt.Errorf("header length %d exceeds the limit of %d bytes (not a safetensors file?)", n, maxHeaderSize)
	}
	if n > uint64(len(b)-8) {
		return nil, fmt.Errorf("header length %d exceeds the %d bytes after the length prefix (truncated file?)", n, len(b)-8)
	}
	header, buf := b[8:8+n], b[8+n:]
	entries, err := parseHeader(header)
	if err != nil {
		return nil, err
	}

	f := &File{Path: name, Meta: map[string]string{}, tensors: map[string]tensorInfo{}}
	type span struct {
		name       string
		begin, end uint64
	}
	var spans []span
	for _, e := range entries {
		if e.key == metadataKey {
			if f.Meta, err = parseMetadata(e.value); err != nil {
				return nil, err
			}
			continue
		}
		info, begin, end, err := parseTensor(e.key, e.value, uint64(len(buf)))
		if err != nil {
			return nil, err
		}
		info.data = buf[begin:end]
		f.tensors[e.key] = info
		f.names = append(f.names, e.key)
		spans = append(spans, span{e.key, begin, end})
	}
	sort.Strings(f.names)

	// The spec requires the tensors to cover the buffer exactly.
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].begin != spans[j].begin {
			return spans[i].begin < spans[j].begin
		}
		return spans[i].end < spans[j].end
	})
	var pos uint64
	for i, s := range spans {
		if s.begin < pos {
			p := spans[i-1]
			return nil, fmt.Errorf("tensor %q data_offsets [%d %d] overlap tensor %q [%d %d]", s.name, s.begin, s.end, p.name, p.begin, p.end)
		}
		if s.begin > pos {
			return nil, fmt.Errorf("bytes [%d %d] of the buffer before tensor %q belong to no tensor (the spec forbids holes)", pos, s.begin, s.name)
		}
		pos = s.end
	}
	if pos != uint64(len(buf)) {
		return nil, fmt.Errorf("buffer has %d bytes but the tensors cover only %d (trailing garbage?)", len(buf), pos)
	}
	return f, nil
}

type headerEntry struct {
	key   string
	value json.RawMessage
}

// parseHeader returns the top-level entries of the JSON header in order,
// rejecting anything that is not a UTF-8 JSON object with distinct keys.
func parseHeader(header []byte) ([]headerEntry, error) {
	if !utf8.Valid(header) {
		return nil, errors.New("header is not valid UTF-8 (not a safetensors file?)")
	}
	if !json.Valid(header) {
		var v any
		err := json.Unmarshal(header, &v)
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return nil, fmt.Errorf("header is not valid JSON: %v at byte %d", syn, syn.Offset)
		}
		return nil, fmt.Errorf("header is not valid JSON: %v", err)
	}
	notObject := errors.New("header is not a JSON object")
	dec := json.NewDecoder(bytes.NewReader(header))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, notObject
	}
	var entries []headerEntry
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, notObject
		}
		key, ok := tok.(string)
		if !ok {
			return nil, notObject
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, notObject
		}
		// encoding/json would silently keep the last of duplicate keys.
		if seen[key] {
			return nil, fmt.Errorf("header has duplicate key %q", key)
		}
		seen[key] = true
		entries = append(entries, headerEntry{key, value})
	}
	return entries, nil
}

func parseMetadata(v json.RawMessage) (map[string]string, error) {
	meta := map[string]string{}
	if string(v) == "null" {
		return meta, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(v, &raw); err != nil {
		return nil, fmt.Errorf("__metadata__ is not a JSON object of strings: %s", abbrev(v))
	}
	for k, rv := range raw {
		var s string
		if len(rv) == 0 || rv[0] != '"' || json.Unmarshal(rv, &s) != nil {
			return nil, fmt.Errorf("__metadata__ key %q has value %s, want a string", k, abbrev(rv))
		}
		meta[k] = s
	}
	return meta, nil
}

// parseTensor parses one tensor entry and checks it against a data buffer of
// bufLen bytes, returning its byte range in the buffer.
func parseTensor(name string, v json.RawMessage, bufLen uint64) (info tensorInfo, begin, end uint64, err error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(v, &fields); err != nil {
		return info, 0, 0, fmt.Errorf("tensor %q: entry is not a JSON object: %s", name, abbrev(v))
	}
	for _, k := range []string{"dtype", "shape", "data_offsets"} {
		if _, ok := fields[k]; !ok {
			return info, 0, 0, fmt.Errorf("tensor %q: entry has no %q", name, k)
		}
	}

	var dt string
	if err := json.Unmarshal(fields["dtype"], &dt); err != nil {
		return info, 0, 0, fmt.Errorf("tensor %q: dtype %s is not a string", name, abbrev(fields["dtype"]))
	}
	info.dtype = DType(dt)
	if info.dtype.Size() == 0 {
		return info, 0, 0, fmt.Errorf("tensor %q has unknown dtype %q", name, dt)
	}

	dims, err := parseInts(fields["shape"])
	if err != nil {
		return info, 0, 0, fmt.Errorf("tensor %q: shape %s is not a list of integers", name, abbrev(fields["shape"]))
	}
	info.shape = make([]int, len(dims))
	for i, d := range dims {
		x, err := strconv.ParseInt(d, 10, 0)
		if err != nil || x < 0 {
			return info, 0, 0, fmt.Errorf("tensor %q: shape %s has invalid dimension %s", name, abbrev(fields["shape"]), d)
		}
		info.shape[i] = int(x)
	}
	count, ok := numElements(info.shape)
	if !ok {
		return info, 0, 0, fmt.Errorf("tensor %q: shape %v has too many elements", name, info.shape)
	}

	offs, err := parseInts(fields["data_offsets"])
	if err != nil || len(offs) != 2 {
		return info, 0, 0, fmt.Errorf("tensor %q: data_offsets %s is not a pair of integers", name, abbrev(fields["data_offsets"]))
	}
	if begin, err = strconv.ParseUint(offs[0], 10, 64); err == nil {
		end, err = strconv.ParseUint(offs[1], 10, 64)
	}
	if err != nil {
		return info, 0, 0, fmt.Errorf("tensor %q: data_offsets %s are not non-negative integers", name, abbrev(fields["data_offsets"]))
	}
	if begin > end {
		return info, 0, 0, fmt.Errorf("tensor %q data_offsets [%d %d] end before they begin", name, begin, end)
	}
	if want := count * uint64(info.dtype.Size()); end-begin != want {
		return info, 0, 0, fmt.Errorf("tensor %q data_offsets [%d %d] span %d bytes, but %s × shape %v needs %d", name, begin, end, end-begin, info.dtype, info.shape, want)
	}
	if end > bufLen {
		return info, 0, 0, fmt.Errorf("tensor %q data_offsets [%d %d] exceed buffer of %d bytes (truncated file?)", name, begin, end, bufLen)
	}
	return info, begin, end, nil
}

// parseInts parses a JSON array of numbers, returning their literal text.
func parseInts(v json.RawMessage) ([]string, error) {
	var nums []json.RawMessage
	if err := json.Unmarshal(v, &nums); err != nil {
		return nil, err
	}
	out := make([]string, len(nums))
	for i, n := range nums {
		var num json.Number
		if len(n) == 0 || (n[0] != '-' && (n[0] < '0' || n[0] > '9')) || json.Unmarshal(n, &num) != nil {
			return nil, errors.New("not a number")
		}
		out[i] = num.String()
	}
	return out, nil
}

// abbrev shortens a JSON value to one short line for an error message.
func abbrev(v []byte) string {
	s := strings.Join(strings.Fields(string(v)), " ")
	if r := []rune(s); len(r) > 60 {
		s = string(r[:60]) + "..."
	}
	return s
}

// Names returns the tensor names, sorted; the scales of a Q8 tensor are
// part of it and not listed.
func (f *File) Names() []string {
	return slices.DeleteFunc(slices.Clone(f.names), func(n string) bool { return f.isQ8Scale(n) })
}

// Has reports whether the file holds a tensor called name.
func (f *File) Has(name string) bool {
	_, ok := f.tensors[name]
	return ok
}

// Shape returns the shape of tensor name.
func (f *File) Shape(name string) ([]int, bool) {
	t, ok := f.tensors[name]
	if !ok {
		return nil, false
	}
	return slices.Clone(t.shape), true
}

// Size returns the number of values of tensor name.
func (f *File) Size(name string) (int, bool) {
	t, ok := f.tensors[name]
	if !ok {
		return 0, false
	}
	n := 1
	for _, d := range t.shape {
		n *= d
	}
	return n, true
}

// DType returns the stored element type of tensor name.
func (f *File) DType(name string) (DType, bool) {
	t, ok := f.tensors[name]
	return t.dtype, ok
}

// Raw returns the dtype and a copy of the little-endian bytes of tensor
// name, for any dtype (integer tensors such as a step counter or RNG state).
func (f *File) Raw(name string) (DType, []byte, error) {
	t, ok := f.tensors[name]
	if !ok {
		return "", nil, fmt.Errorf("ckpt %s: no tensor %q", f.Path, name)
	}
	return t.dtype, slices.Clone(t.data), nil
}

// Get returns the values of float tensor name (stored as F32, F16 or BF16)
// as float32. If shape is given, it must equal the tensor's shape exactly.
func (f *File) Get(name string, shape ...int) ([]float32, error) {
	t, err := f.lookup(name, shape)
	if err != nil {
		return nil, err
	}
	dst := make([]float32, len(t.data)/t.dtype.Size())
	f.decode(dst, name, t)
	return dst, nil
}

// Into is like Get but stores the values in dst, whose length must equal
// the tensor's element count.
func (f *File) Into(name string, dst []float32, shape ...int) error {
	t, err := f.lookup(name, shape)
	if err != nil {
		return err
	}
	if n := len(t.data) / t.dtype.Size(); len(dst) != n {
		return fmt.Errorf("ckpt %s: tensor %q has %d elements, dst has %d", f.Path, name, n, len(dst))
	}
	f.decode(dst, name, t)
	return nil
}

// decode converts tensor t (checked by lookup) to float32.
func (f *File) decode(dst []float32, name string, t tensorInfo) {
	if t.dtype == I8 {
		sc := f.tensors[name+Q8ScaleSuffix]
		scales := make([]float32, len(sc.data)/sc.dtype.Size())
		decodeFloats(scales, sc.data, sc.dtype)
		dequantizeQ8(dst, t.data, scales)
		return
	}
	decodeFloats(dst, t.data, t.dtype)
}

func (f *File) lookup(name string, shape []int) (tensorInfo, error) {
	t, ok := f.tensors[name]
	if !ok {
		return t, fmt.Errorf("ckpt %s: no tensor %q", f.Path, name)
	}
	if t.dtype == I8 {
		if err := f.checkQ8(name, t); err != nil {
			return t, err
		}
	} else if !t.dtype.IsFloat() {
		return t, fmt.Errorf("ckpt %s: tensor %q has dtype %s, not a float type (use Raw)", f.Path, name, t.dtype)
	}
	if shape != nil && !slices.Equal(shape, t.shape) {
		return t, fmt.Errorf("ckpt %s: tensor %q has shape %v, want %v", f.Path, name, t.shape, shape)
	}
	return t, nil
}

func decodeFloats(dst []float32, src []byte, dtype DType) {
	switch dtype {
	case F16:
		for i := range dst {
			dst[i] = f16ToF32(binary.LittleEndian.Uint16(src[2*i:]))
		}
	case BF16:
		for i := range dst {
			dst[i] = bf16ToF32(binary.LittleEndian.Uint16(src[2*i:]))
		}
	default:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	}
}

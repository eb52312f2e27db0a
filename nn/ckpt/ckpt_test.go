package ckpt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// testTensors returns a mix of shapes: matrix, vector, scalar, empty.
func testTensors() []Tensor {
	r := rand.New(rand.NewSource(1))
	mat := make([]float32, 6*5)
	for i := range mat {
		mat[i] = float32(r.NormFloat64())
	}
	return []Tensor{
		{Name: "layers.1.w_up", Shape: []int{6, 5}, Data: mat},
		{Name: "layers.0.norm", Shape: []int{4}, Data: []float32{1, -0.5, 1e-6, 70000}},
		{Name: "scale", Shape: []int{}, Data: []float32{0.125}},
		{Name: "empty", Shape: []int{0, 3}, Data: nil},
	}
}

var testMeta = map[string]string{
	"config": `{"dim": 64, "layers": 2}`,
	"step":   "1200",
	"weird":  "quotes \" backslash \\ newline \n tab \t <html> & ünïcode ✓",
}

// roundTo returns v as stored in dtype and read back.
func roundTo(v float32, dtype DType) float32 {
	switch dtype {
	case F16:
		return f16ToF32(f32ToF16(v))
	case BF16:
		return bf16ToF32(f32ToBF16(v))
	}
	return v
}

func TestRoundTrip(t *testing.T) {
	for _, dtype := range []DType{F32, F16, BF16} {
		t.Run(string(dtype), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "model.safetensors")
			tensors := testTensors()
			if err := Save(path, testMeta, tensors, dtype); err != nil {
				t.Fatal(err)
			}
			f, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if f.Path != path {
				t.Errorf("Path = %q, want %q", f.Path, path)
			}
			if !mapsEqual(f.Meta, testMeta) {
				t.Errorf("Meta = %q, want %q", f.Meta, testMeta)
			}
			wantNames := []string{"empty", "layers.0.norm", "layers.1.w_up", "scale"}
			if got := f.Names(); !slices.Equal(got, wantNames) {
				t.Errorf("Names() = %q, want %q", got, wantNames)
			}
			for _, tt := range tensors {
				if !f.Has(tt.Name) {
					t.Fatalf("Has(%q) = false", tt.Name)
				}
				if shape, ok := f.Shape(tt.Name); !ok || !slices.Equal(shape, tt.Shape) {
					t.Errorf("Shape(%q) = %v, %v; want %v", tt.Name, shape, ok, tt.Shape)
				}
				if dt, _ := f.DType(tt.Name); dt != dtype {
					t.Errorf("DType(%q) = %s, want %s", tt.Name, dt, dtype)
				}
				got, err := f.Get(tt.Name, tt.Shape...)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(tt.Data) {
					t.Fatalf("Get(%q) has %d values, want %d", tt.Name, len(got), len(tt.Data))
				}
				for i, v := range tt.Data {
					if want := roundTo(v, dtype); math.Float32bits(got[i]) != math.Float32bits(want) {
						t.Errorf("%s[%d] = %g, want %g (saved %g)", tt.Name, i, got[i], want, v)
					}
				}
				dst := make([]float32, len(tt.Data))
				if err := f.Into(tt.Name, dst, tt.Shape...); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(dst, got) {
					t.Errorf("Into(%q) = %v, Get gave %v", tt.Name, dst, got)
				}
			}
			if f.Has("missing") {
				t.Error(`Has("missing") = true`)
			}
			if _, ok := f.Shape("missing"); ok {
				t.Error(`Shape("missing") ok`)
			}
			checkLayout(t, path, wantNames)
		})
	}
}

// checkLayout checks the byte layout the reference implementation writes:
// 8-byte aligned header padded with spaces, tensors in name order.
func checkLayout(t *testing.T, path string, names []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(b)
	if n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}
	header := b[8 : 8+n]
	trimmed := bytes.TrimRight(header, " ")
	if !bytes.HasSuffix(trimmed, []byte("}")) || len(header)-len(trimmed) >= 8 {
		t.Errorf("header is not padded with < 8 spaces: %q", header)
	}
	var h map[string]struct {
		DataOffsets [2]int `json:"data_offsets"`
	}
	if err := json.Unmarshal(header, &h); err != nil {
		t.Fatal(err)
	}
	pos := 0
	for _, name := range names {
		if h[name].DataOffsets[0] != pos {
			t.Errorf("tensor %q starts at %d, want %d (name order)", name, h[name].DataOffsets[0], pos)
		}
		pos = h[name].DataOffsets[1]
		if i := bytes.Index(header, []byte(`"`+name+`"`)); i < 0 {
			t.Errorf("tensor %q not in header", name)
		}
	}
	if pos != len(b)-8-int(n) {
		t.Errorf("tensors cover %d bytes, buffer has %d", pos, len(b)-8-int(n))
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestSaveEmpty(t *testing.T) {
	tests := []struct {
		name string
		meta map[string]string
	}{
		{"no metadata", nil},
		{"metadata", map[string]string{"format": "pt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "empty.safetensors")
			if err := Save(path, tt.meta, nil, F32); err != nil {
				t.Fatal(err)
			}
			f, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Names()) != 0 || !mapsEqual(f.Meta, tt.meta) || f.Meta == nil {
				t.Errorf("got names %q meta %q, want none and %q", f.Names(), f.Meta, tt.meta)
			}
			if tt.meta == nil {
				b, _ := os.ReadFile(path)
				if want := "\x08\x00\x00\x00\x00\x00\x00\x00{}      "; string(b) != want {
					t.Errorf("file = %q, want %q", b, want)
				}
			}
		})
	}
}

// tempFiles lists files in dir other than keep.
func tempFiles(t *testing.T, dir string, keep ...string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var extra []string
	for _, e := range entries {
		if !slices.Contains(keep, e.Name()) {
			extra = append(extra, e.Name())
		}
	}
	return extra
}

func TestSaveAtomic(t *testing.T) {
	one := []Tensor{{Name: "w", Shape: []int{2}, Data: []float32{1, 2}}}
	two := []Tensor{{Name: "w", Shape: []int{3}, Data: []float32{3, 4, 5}}}

	t.Run("missing directory", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "nope", "model.safetensors")
		err := Save(path, nil, one, F32)
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Fatalf("Save into missing dir: err = %v, want an error naming %s", err, path)
		}
		if extra := tempFiles(t, dir); len(extra) != 0 {
			t.Errorf("files left behind: %q", extra)
		}
	})

	t.Run("replace existing", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "model.safetensors")
		if err := Save(path, map[string]string{"v": "1"}, one, F32); err != nil {
			t.Fatal(err)
		}
		if err := Save(path, map[string]string{"v": "2"}, two, F16); err != nil {
			t.Fatal(err)
		}
		f, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.Get("w", 3)
		if err != nil || f.Meta["v"] != "2" || !slices.Equal(got, []float32{3, 4, 5}) {
			t.Errorf("after replace: meta %q, w = %v, %v", f.Meta, got, err)
		}
		if extra := tempFiles(t, dir, "model.safetensors"); len(extra) != 0 {
			t.Errorf("files left behind: %q", extra)
		}
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
			t.Errorf("mode = %v, %v; want 0644", st.Mode(), err)
		}
	})

	t.Run("failed save leaves existing file", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "model.safetensors")
		if err := Save(path, nil, one, F32); err != nil {
			t.Fatal(err)
		}
		before, _ := os.ReadFile(path)
		bad := []Tensor{{Name: "w", Shape: []int{5}, Data: []float32{1}}}
		if err := Save(path, nil, bad, F32); err == nil {
			t.Fatal("Save with bad tensor succeeded")
		}
		after, _ := os.ReadFile(path)
		if !bytes.Equal(before, after) {
			t.Error("failed Save changed the existing file")
		}
		if extra := tempFiles(t, dir, "model.safetensors"); len(extra) != 0 {
			t.Errorf("files left behind: %q", extra)
		}
	})

	t.Run("rename fails", func(t *testing.T) {
		// The target is a non-empty directory, so the final rename fails
		// after the temp file was written.
		dir := t.TempDir()
		path := filepath.Join(dir, "model.safetensors")
		if err := os.MkdirAll(filepath.Join(path, "keep"), 0o755); err != nil {
			t.Fatal(err)
		}
		err := Save(path, nil, one, F32)
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Fatalf("Save over a directory: err = %v, want an error naming %s", err, path)
		}
		if extra := tempFiles(t, dir, "model.safetensors"); len(extra) != 0 {
			t.Errorf("files left behind: %q", extra)
		}
		if _, err := os.Stat(filepath.Join(path, "keep")); err != nil {
			t.Errorf("directory at path was disturbed: %v", err)
		}
	})
}

func TestSaveErrors(t *testing.T) {
	tests := []struct {
		name    string
		tensors []Tensor
		dtype   DType
		want    string
	}{
		{"unsupported dtype", nil, I32, `unsupported dtype "I32"`},
		{"duplicate", []Tensor{{Name: "a", Shape: []int{1}, Data: []float32{1}}, {Name: "a", Shape: []int{1}, Data: []float32{2}}}, F32, `duplicate tensor "a"`},
		{"reserved name", []Tensor{{Name: "__metadata__", Shape: []int{1}, Data: []float32{1}}}, F32, `reserved`},
		{"negative dim", []Tensor{{Name: "a", Shape: []int{-1}}}, F32, `tensor "a" has invalid shape [-1]`},
		{"overflow", []Tensor{{Name: "a", Shape: []int{1 << 40, 1 << 40}}}, F32, `tensor "a" has invalid shape`},
		{"wrong length", []Tensor{{Name: "a", Shape: []int{2, 2}, Data: []float32{1, 2, 3}}}, F32, `tensor "a" has shape [2 2] (4 elements) but 3 values`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "x.safetensors")
			err := Save(path, nil, tt.tensors, tt.dtype)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("err = %v, want one naming %s and containing %q", err, path, tt.want)
			}
			if extra := tempFiles(t, dir); len(extra) != 0 {
				t.Errorf("files left behind: %q", extra)
			}
		})
	}
}

// rawFile builds a safetensors file from a literal header and data.
func rawFile(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

func withLength(n uint64, rest string) []byte {
	return append(binary.LittleEndian.AppendUint64(nil, n), rest...)
}

func TestDecodeCorrupt(t *testing.T) {
	f32x := func(n int) string { return fmt.Sprintf(`"dtype":"F32","shape":[%d]`, n) }
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"empty file", nil, "file has 0 bytes, fewer than the 8-byte header length"},
		{"short file", []byte{1, 2, 3}, "file has 3 bytes"},
		{"absurd header length", withLength(1<<40, "{}"), "header length 1099511627776 exceeds the limit"},
		{"header past end", withLength(100, "{}"), "header length 100 exceeds the 2 bytes after the length prefix (truncated file?)"},
		{"header not JSON", rawFile(`{"a":`, nil), "header is not valid JSON"},
		{"header trailing garbage", rawFile(`{} x`, nil), "header is not valid JSON"},
		{"header not UTF-8", rawFile("{\"\xff\":1}", nil), "not valid UTF-8"},
		{"header array", rawFile(`[1,2]`, nil), "header is not a JSON object"},
		{"header null", rawFile(`null`, nil), "header is not a JSON object"},
		{"duplicate tensor", rawFile(`{"a":{`+f32x(1)+`,"data_offsets":[0,4]},"a":{`+f32x(1)+`,"data_offsets":[0,4]}}`, make([]byte, 4)), `duplicate key "a"`},
		{"entry not object", rawFile(`{"a":[1]}`, nil), `tensor "a": entry is not a JSON object`},
		{"missing dtype", rawFile(`{"a":{"shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "a": entry has no "dtype"`},
		{"missing offsets", rawFile(`{"a":{`+f32x(1)+`}}`, make([]byte, 4)), `tensor "a": entry has no "data_offsets"`},
		{"unknown dtype", rawFile(`{"a":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}`, make([]byte, 16)), `tensor "a" has unknown dtype "F128"`},
		{"dtype not string", rawFile(`{"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "a": dtype 4 is not a string`},
		{"negative dim", rawFile(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "a": shape [-1] has invalid dimension -1`},
		{"fractional dim", rawFile(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, make([]byte, 4)), `invalid dimension 1.5`},
		{"string dim", rawFile(`{"a":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "a": shape ["1"] is not a list of integers`},
		{"huge dim", rawFile(`{"a":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,4]}}`, make([]byte, 4)), `invalid dimension 99999999999999999999`},
		{"element count overflow", rawFile(`{"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,0]}}`, nil), `tensor "a": shape [4294967296 4294967296 16] has too many elements`},
		{"byte count overflow", rawFile(`{"a":{"dtype":"I64","shape":[2305843009213693952],"data_offsets":[0,0]}}`, nil), `has too many elements`},
		{"offsets size mismatch", rawFile(`{"a":{`+f32x(3)+`,"data_offsets":[0,8]}}`, make([]byte, 8)), `tensor "a" data_offsets [0 8] span 8 bytes, but F32 × shape [3] needs 12`},
		{"offsets reversed", rawFile(`{"a":{`+f32x(0)+`,"data_offsets":[8,0]}}`, make([]byte, 8)), `tensor "a" data_offsets [8 0] end before they begin`},
		{"offsets not pair", rawFile(`{"a":{`+f32x(1)+`,"data_offsets":[0,4,8]}}`, make([]byte, 8)), `tensor "a": data_offsets [0,4,8] is not a pair of integers`},
		{"offsets negative", rawFile(`{"a":{`+f32x(1)+`,"data_offsets":[-4,0]}}`, make([]byte, 8)), `are not non-negative integers`},
		{"offsets out of bounds", rawFile(`{"layers.0.w":{`+f32x(1024)+`,"data_offsets":[0,4096]}}`, make([]byte, 100)), `tensor "layers.0.w" data_offsets [0 4096] exceed buffer of 100 bytes (truncated file?)`},
		{"overlap", rawFile(`{"a":{`+f32x(2)+`,"data_offsets":[0,8]},"b":{`+f32x(2)+`,"data_offsets":[4,12]}}`, make([]byte, 12)), `tensor "b" data_offsets [4 12] overlap tensor "a" [0 8]`},
		{"same offsets", rawFile(`{"a":{`+f32x(2)+`,"data_offsets":[0,8]},"b":{`+f32x(2)+`,"data_offsets":[0,8]}}`, make([]byte, 8)), `overlap`},
		{"hole", rawFile(`{"a":{`+f32x(1)+`,"data_offsets":[0,4]},"b":{`+f32x(1)+`,"data_offsets":[8,12]}}`, make([]byte, 12)), `bytes [4 8] of the buffer before tensor "b" belong to no tensor`},
		{"hole at start", rawFile(`{"a":{`+f32x(1)+`,"data_offsets":[4,8]}}`, make([]byte, 8)), `bytes [0 4] of the buffer before tensor "a"`},
		{"trailing bytes", rawFile(`{"a":{`+f32x(1)+`,"data_offsets":[0,4]}}`, make([]byte, 8)), `buffer has 8 bytes but the tensors cover only 4`},
		{"metadata value not string", rawFile(`{"__metadata__":{"k":1}}`, nil), `__metadata__ key "k" has value 1, want a string`},
		{"metadata nested", rawFile(`{"__metadata__":{"k":{"x":"y"}}}`, nil), `__metadata__ key "k" has value {"x":"y"}, want a string`},
		{"metadata not object", rawFile(`{"__metadata__":["k"]}`, nil), `__metadata__ is not a JSON object of strings`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Decode("bad.safetensors", tt.file)
			if err == nil {
				t.Fatalf("Decode succeeded (%q), want error %q", f.Names(), tt.want)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "load ckpt bad.safetensors: ") || !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("err = %q\nwant one line starting %q containing %q", msg, "load ckpt bad.safetensors: ", tt.want)
			}
		})
	}
}

func TestDecodeAccepts(t *testing.T) {
	tests := []struct {
		name string
		file []byte
	}{
		{"null metadata", rawFile(`{"__metadata__":null}`, nil)},
		{"unpadded header", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4))},
		{"zero-size tensors share offsets", rawFile(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"F16","shape":[2,0],"data_offsets":[0,0]},"c":{"dtype":"U8","shape":[3],"data_offsets":[0,3]}}`, make([]byte, 3))},
		{"data out of name order", rawFile(`{"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]}}`, make([]byte, 8))},
		{"extra fields ignored", rawFile(`{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4],"note":"x"}}`, make([]byte, 4))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Decode("ok.safetensors", tt.file)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range f.Names() {
				if dt, _ := f.DType(name); dt.IsFloat() {
					if _, err := f.Get(name); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
}

func TestLoadErrorsNamePath(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	if err := os.WriteFile(path, []byte("not a checkpoint at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, filepath.Join(dir, "missing.safetensors")} {
		if _, err := Load(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("Load(%s): err = %v, want one naming the file", p, err)
		}
	}
}

func TestGetErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.safetensors")
	tensors := []Tensor{{Name: "w", Shape: []int{2, 3}, Data: make([]float32, 6)}}
	if err := Save(path, nil, tensors, F32); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"Get shape mismatch", func() error { _, err := f.Get("w", 3, 2); return err },
			fmt.Sprintf(`ckpt %s: tensor "w" has shape [2 3], want [3 2]`, path)},
		{"Get rank mismatch", func() error { _, err := f.Get("w", 6); return err },
			fmt.Sprintf(`ckpt %s: tensor "w" has shape [2 3], want [6]`, path)},
		{"Get missing", func() error { _, err := f.Get("v"); return err },
			fmt.Sprintf(`ckpt %s: no tensor "v"`, path)},
		{"Into shape mismatch", func() error { return f.Into("w", make([]float32, 6), 1, 6) },
			fmt.Sprintf(`ckpt %s: tensor "w" has shape [2 3], want [1 6]`, path)},
		{"Into wrong dst", func() error { return f.Into("w", make([]float32, 5)) },
			fmt.Sprintf(`ckpt %s: tensor "w" has 6 elements, dst has 5`, path)},
		{"Into missing", func() error { return f.Into("v", nil) },
			fmt.Sprintf(`ckpt %s: no tensor "v"`, path)},
		{"Raw missing", func() error { _, _, err := f.Raw("v"); return err },
			fmt.Sprintf(`ckpt %s: no tensor "v"`, path)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); err == nil || err.Error() != tt.want {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestRawIntegers(t *testing.T) {
	data := binary.LittleEndian.AppendUint64(nil, 1200)
	data = binary.LittleEndian.AppendUint32(data, 0xdeadbeef)
	data = append(data, 7, 0, 0, 0)
	file := rawFile(`{"step":{"dtype":"I64","shape":[],"data_offsets":[0,8]},"rng":{"dtype":"I32","shape":[1],"data_offsets":[8,12]},"flag":{"dtype":"U8","shape":[4],"data_offsets":[12,16]}}`, data)
	f, err := Decode("state.safetensors", file)
	if err != nil {
		t.Fatal(err)
	}
	dt, raw, err := f.Raw("step")
	if err != nil || dt != I64 || binary.LittleEndian.Uint64(raw) != 1200 {
		t.Errorf("Raw(step) = %s, %v, %v", dt, raw, err)
	}
	if dt, raw, err := f.Raw("flag"); err != nil || dt != U8 || !bytes.Equal(raw, []byte{7, 0, 0, 0}) {
		t.Errorf("Raw(flag) = %s, %v, %v", dt, raw, err)
	}
	raw[0] = 99 // Raw returns a copy
	if _, again, _ := f.Raw("step"); binary.LittleEndian.Uint64(again) != 1200 {
		t.Error("Raw returned a slice aliasing the file")
	}
	want := `ckpt state.safetensors: tensor "rng" has dtype I32, not a float type (use Raw)`
	if _, err := f.Get("rng"); err == nil || err.Error() != want {
		t.Errorf("Get(rng) err = %v, want %q", err, want)
	}
}

// TestGolden loads a file written by Python (testdata/gen_golden.py, by hand
// with struct + json because the safetensors package is not installed).
func TestGolden(t *testing.T) {
	f, err := Load(filepath.Join("testdata", "golden.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	wantMeta := map[string]string{"format": "pt", "config": `{"dim": 3, "name": "golden"}`}
	if !mapsEqual(f.Meta, wantMeta) {
		t.Errorf("Meta = %q, want %q", f.Meta, wantMeta)
	}
	tests := []struct {
		name  string
		dtype DType
		shape []int
		bits  []uint32 // exact float32 bits, printed by gen_golden.py
	}{
		{"emb.weight", F32, []int{2, 3}, []uint32{1056964608, 3214934016, 1077936128, 981668463, 2147483648, 1199562752}},
		{"norm.scale", F16, []int{4}, []uint32{1065353216, 3223322624, 1036828672, 947912704}},
	}
	if got := f.Names(); !slices.Equal(got, []string{"emb.weight", "norm.scale"}) {
		t.Errorf("Names() = %q", got)
	}
	for _, tt := range tests {
		if dt, _ := f.DType(tt.name); dt != tt.dtype {
			t.Errorf("DType(%q) = %s, want %s", tt.name, dt, tt.dtype)
		}
		got, err := f.Get(tt.name, tt.shape...)
		if err != nil {
			t.Fatal(err)
		}
		for i, b := range tt.bits {
			if math.Float32bits(got[i]) != b {
				t.Errorf("%s[%d] = %g, want %g", tt.name, i, got[i], math.Float32frombits(b))
			}
		}
	}
}

// TestPythonReadsSave checks that a plain Python reader (testdata/read_ckpt.py,
// struct + json) parses what Save writes and sees the same values.
func TestPythonReadsSave(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found")
	}
	for _, dtype := range []DType{F32, F16, BF16} {
		t.Run(string(dtype), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "model.safetensors")
			tensors := testTensors()
			if err := Save(path, testMeta, tensors, dtype); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(python, filepath.Join("testdata", "read_ckpt.py"), path).Output()
			if err != nil {
				t.Fatalf("read_ckpt.py: %v\n%s", err, out)
			}
			var got struct {
				Meta    map[string]string
				Tensors map[string]struct {
					DType string
					Shape []int
					Bits  []uint32
				}
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if !mapsEqual(got.Meta, testMeta) {
				t.Errorf("python meta = %q, want %q", got.Meta, testMeta)
			}
			for _, tt := range tensors {
				p := got.Tensors[tt.Name]
				if p.DType != string(dtype) || !slices.Equal(p.Shape, tt.Shape) || len(p.Bits) != len(tt.Data) {
					t.Fatalf("python sees %q as %s %v with %d values", tt.Name, p.DType, p.Shape, len(p.Bits))
				}
				for i, v := range tt.Data {
					if want := math.Float32bits(roundTo(v, dtype)); p.Bits[i] != want {
						t.Errorf("python %s[%d] = %#08x, want %#08x", tt.Name, i, p.Bits[i], want)
					}
				}
			}
		})
	}
}

// validFile returns a checkpoint with several tensors and metadata.
func validFile(t testing.TB, dtype DType) []byte {
	path := filepath.Join(t.TempDir(), "v.safetensors")
	if err := Save(path, testMeta, testTensors(), dtype); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkDecoded asserts the fuzz invariant: a file Decode accepts can be
// read in full.
func checkDecoded(t testing.TB, f *File) {
	for _, name := range f.Names() {
		shape, ok := f.Shape(name)
		if !ok {
			t.Fatalf("Shape(%q) missing", name)
		}
		dt, _ := f.DType(name)
		if !dt.IsFloat() {
			if _, _, err := f.Raw(name); err != nil {
				t.Fatal(err)
			}
			continue
		}
		v, err := f.Get(name, shape...)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Into(name, make([]float32, len(v)), shape...); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTruncatedAndFlipped(t *testing.T) {
	for _, dtype := range []DType{F32, BF16} {
		b := validFile(t, dtype)
		for n := 0; n < len(b); n++ {
			_, err := Decode("cut.safetensors", b[:n])
			if err == nil || !strings.Contains(err.Error(), "cut.safetensors") {
				t.Fatalf("%s truncated to %d of %d bytes: err = %v", dtype, n, len(b), err)
			}
		}
		hlen := 8 + int(binary.LittleEndian.Uint64(b))
		for i := 0; i < hlen; i++ {
			for _, mask := range []byte{0x01, 0x20, 0x80, 0xff} {
				c := slices.Clone(b)
				c[i] ^= mask
				f, err := Decode("flip.safetensors", c)
				if err != nil {
					if !strings.Contains(err.Error(), "flip.safetensors") {
						t.Fatalf("error does not name the file: %v", err)
					}
					continue
				}
				checkDecoded(t, f)
			}
		}
	}
}

func FuzzLoad(f *testing.F) {
	for _, dtype := range []DType{F32, F16, BF16} {
		f.Add(validFile(f, dtype))
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "golden.safetensors"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add(rawFile(`{}`, nil))
	f.Add(rawFile(`{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[0],"data_offsets":[8,8]}}`, make([]byte, 8)))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Decode("fuzz.safetensors", b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "load ckpt fuzz.safetensors: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		checkDecoded(t, file)
	})
}

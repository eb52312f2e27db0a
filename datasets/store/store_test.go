package store

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type testIndex struct {
	Source []string `json:"source"`
	Start  []int    `json:"start"`
}

// items returns n items of shape's size with distinct contents.
func items(shape Shape, n int) []uint8 {
	b := make([]uint8, n*shape.ItemSize())
	for i := range b {
		b[i] = uint8(i*13 + i/7)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		item  Shape
		n     int
		index any
	}{
		{"clips", Shape{T: 17, H: 8, W: 8, C: 1}, 5, testIndex{Source: []string{"a.avi"}, Start: []int{0, 17, 34, 51, 68}}},
		{"rgb images", Shape{T: 1, H: 3, W: 2, C: 3}, 4, map[string]int{"x": 1}},
		{"no index", Shape{T: 2, H: 2, W: 2, C: 1}, 3, nil},
		{"empty", Shape{T: 17, H: 64, W: 64, C: 1}, 0, []int{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "s.store")
			data := items(tc.item, tc.n)
			if err := Write(p, tc.item, data, tc.index); err != nil {
				t.Fatal(err)
			}
			s, err := Open(p)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.item
			want.N = tc.n
			if s.Shape() != want || s.Len() != tc.n {
				t.Fatalf("shape %v, want %v", s.Shape(), want)
			}
			if sh, err := Stat(p); err != nil || sh != want {
				t.Fatalf("Stat: %v, %v; want %v", sh, err, want)
			}
			for i := 0; i < tc.n; i++ {
				n := tc.item.ItemSize()
				if !bytes.Equal(s.Clip(i), data[i*n:(i+1)*n]) {
					t.Fatalf("clip %d differs", i)
				}
			}
			if s.Clip(-1) != nil || s.Clip(tc.n) != nil {
				t.Error("out-of-range Clip is not nil")
			}
			if tc.index == nil {
				if len(s.Index()) != 0 || s.DecodeIndex(&testIndex{}) == nil {
					t.Error("want no index")
				}
			} else if err := s.DecodeIndex(&testIndex{}); err != nil && tc.name == "clips" {
				t.Error(err)
			}
			b, _ := os.ReadFile(p)
			if err := Write(p, tc.item, data, tc.index); err != nil {
				t.Fatal(err)
			}
			if b2, _ := os.ReadFile(p); !bytes.Equal(b, b2) {
				t.Error("rewriting gave different bytes")
			}
		})
	}
}

// valid returns a small valid store file.
func valid(t testing.TB) []byte {
	p := filepath.Join(t.TempDir(), "v.store")
	item := Shape{T: 3, H: 4, W: 4, C: 1}
	if err := Write(p, item, items(item, 2), testIndex{Source: []string{"x"}, Start: []int{0, 3}}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCorrupt(t *testing.T) {
	good := valid(t)
	with := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	put := func(off int, v uint64) []byte {
		return with(func(b []byte) []byte { binary.LittleEndian.PutUint64(b[off:], v); return b })
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "shorter than"},
		{"header only part", good[:40], "shorter than"},
		{"truncated data", good[:len(good)-30], "truncated"},
		{"truncated one byte", good[:len(good)-1], "truncated"},
		{"trailing bytes", append(append([]byte(nil), good...), 0), "trailing"},
		{"wrong magic", with(func(b []byte) []byte { b[0] = 'X'; return b }), "magic"},
		{"wrong version", with(func(b []byte) []byte { b[8] = 2; return b }), "version"},
		{"wrong dtype", with(func(b []byte) []byte { b[12] = 4; return b }), "dtype"},
		{"zero dim", put(32, 0), "must be positive"},
		{"dims too large", put(24, 1<<31-1), "truncated"},
		{"dims overflow", with(func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[24:], 1<<31-1)
			binary.LittleEndian.PutUint64(b[32:], 1<<31-1)
			return b
		}), "more than"},
		{"dim above int32", put(16, 1<<40), "more than"},
		{"product overflows uint64", with(func(b []byte) []byte {
			for i := 16; i < 56; i += 8 {
				binary.LittleEndian.PutUint64(b[i:], 1<<31-1)
			}
			return b
		}), "more than"},
		{"huge index", put(56, 1<<62), "more than"},
		{"index longer than file", put(56, 1000), "truncated"},
		{"index not JSON", with(func(b []byte) []byte { b[len(b)-1] = '{'; return b }), "JSON"},
	}
	dir := t.TempDir()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse(tc.data); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse: got %v, want an error with %q", err, tc.want)
			}
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".store")
			if err := os.WriteFile(p, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Open(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("Open: got %v, want an error with %q naming the file", err, tc.want)
			}
			if tc.want == "JSON" {
				return // Stat does not read the index
			}
			if _, err := Stat(p); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("Stat: got %v, want an error with %q naming the file", err, tc.want)
			}
		})
	}
	if _, err := Open(filepath.Join(dir, "missing.store")); err == nil || !strings.Contains(err.Error(), "missing.store") {
		t.Errorf("missing file: %v", err)
	}
}

func TestWriterErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "w.store")
	item := Shape{T: 1, H: 2, W: 2, C: 1}
	if _, err := Create(p, Shape{T: 0, H: 2, W: 2, C: 1}); err == nil {
		t.Error("Create accepted a zero dimension")
	}
	if err := Write(p, item, make([]byte, 5), nil); err == nil {
		t.Error("Write accepted 5 bytes of 4-byte items")
	}
	w, err := Create(p, item)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append(make([]byte, 3)); err == nil {
		t.Error("Append accepted a short item")
	}
	if err := w.Close(func() {}); err == nil {
		t.Error("Close accepted an index that is not JSON-encodable")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("files left behind: %v", ents)
	}
}

package tokfile

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func sample() *File {
	return &File{
		Header: Header{Modality: "audio",
			Dims:       []Dim{{"frames", 3}, {"depths", 2}, {"sample_rate", 16000}},
			Scales:     []int{1, 2},
			CodebookID: CodebookID([]float32{1, 2, 3}), CodebookSize: 256, Count: 6},
		Indices: []uint16{0, 255, 7, 8, 9, 10},
	}
}

func encode(t *testing.T, f *File) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := f.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// reseal recomputes the checksum so a test reaches the check after it.
func reseal(b []byte) []byte {
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.ChecksumIEEE(b[:len(b)-4]))
	return b
}

func TestRoundTrip(t *testing.T) {
	for _, f := range []*File{
		sample(),
		{Header: Header{Modality: "video", Dims: []Dim{{"frames", 2}}, Scales: []int{1, 2},
			CodebookID: "0123456789abcdef", CodebookSize: 1 << 16, Count: 10},
			Indices: []uint16{0, 1, 2, 3, 4, 65535, 6, 7, 8, 9}},
		{Header: Header{Modality: "image", CodebookID: "ffffffffffffffff", CodebookSize: 1}, Indices: []uint16{}},
	} {
		path := filepath.Join(t.TempDir(), "x.tok")
		if err := Write(path, f); err != nil {
			t.Fatal(err)
		}
		g, err := Read(path)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(f.Indices, g.Indices) || f.Modality != g.Modality || f.CodebookID != g.CodebookID ||
			f.Count != g.Count || len(f.Dims) != len(g.Dims) || len(f.Scales) != len(g.Scales) {
			t.Fatalf("round trip: wrote %+v, read %+v", f, g)
		}
	}
	g, err := Decode(encode(t, sample()))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := g.Dim("sample_rate"); !ok || v != 16000 {
		t.Fatalf("Dim(sample_rate) = %d, %v", v, ok)
	}
	if _, err := g.MustDims("frames", "nope"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("MustDims with a missing dim: %v", err)
	}
	if err := g.Check("audio", g.CodebookID); err != nil {
		t.Fatal(err)
	}
	if err := g.Check("audio", "0000000000000000"); err == nil {
		t.Fatal("a foreign codebook id was accepted")
	}
	if err := g.Check("video", g.CodebookID); err == nil {
		t.Fatal("a wrong modality was accepted")
	}
}

func TestCorrupt(t *testing.T) {
	good := encode(t, sample())
	hdrEnd := prefixLen + int(binary.LittleEndian.Uint32(good[len(Magic)+2:]))
	withHeader := func(h string) []byte {
		b := append([]byte(nil), good[:len(Magic)+2]...)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(h)))
		b = append(b, h...)
		b = append(b, good[hdrEnd:]...)
		return reseal(b)
	}
	mod := func(fn func(b []byte)) []byte {
		b := append([]byte(nil), good...)
		fn(b)
		return b
	}
	hdr := `"dims":[],"scales":[],"codebook_id":"0123456789abcdef","codebook_size":256,"count":6`
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"magic", mod(func(b []byte) { b[0] = 'X' }), "bad magic"},
		{"version", reseal(mod(func(b []byte) { b[8] = 9 })), "version 9"},
		{"checksum", mod(func(b []byte) { b[len(b)-6] ^= 1 }), "checksum"},
		{"truncated", good[:len(good)-3], "checksum"},
		{"header length", reseal(mod(func(b []byte) { binary.LittleEndian.PutUint32(b[10:], 1<<30) })), "header length"},
		{"trailing", reseal(append(append([]byte(nil), good[:len(good)-4]...), 0, 0, 0, 0, 0, 0)), "indices"},
		{"index range", reseal(mod(func(b []byte) { b[hdrEnd] = 255; b[hdrEnd+1] = 1 })), "codebook has 256"},
		{"unknown field", withHeader(`{"modality":"audio",` + hdr + `,"x":1}`), "unknown field"},
		{"modality", withHeader(`{"modality":"smell",` + hdr + `}`), "modality"},
		{"not json", withHeader(`{"modality":`), "header"},
		{"two objects", withHeader(`{"modality":"audio",` + hdr + `}{}`), "trailing"},
		{"codebook id", withHeader(`{"modality":"audio","codebook_id":"xyz","codebook_size":256,"count":6}`), "codebook id"},
		{"codebook size", withHeader(`{"modality":"audio","codebook_id":"0123456789abcdef","codebook_size":0,"count":6}`), "codebook size"},
		{"count", withHeader(`{"modality":"audio","codebook_id":"0123456789abcdef","codebook_size":256,"count":-1}`), "count"},
		{"count mismatch", withHeader(`{"modality":"audio","codebook_id":"0123456789abcdef","codebook_size":256,"count":7}`), "header says 7"},
		{"dup dim", withHeader(`{"modality":"audio","dims":[{"name":"a","size":1},{"name":"a","size":2}],"codebook_id":"0123456789abcdef","codebook_size":256,"count":6}`), "twice"},
		{"bad scale", withHeader(`{"modality":"audio","scales":[0],"codebook_id":"0123456789abcdef","codebook_size":256,"count":6}`), "scale"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.tok")
			if err := os.WriteFile(path, c.b, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Read(path)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("Read = %v, want an error naming %s and containing %q", err, path, c.want)
			}
		})
	}
}

func TestWriteRejectsInvalid(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.tok")
	f := sample()
	f.Indices[2] = 300
	if err := Write(path, f); err == nil || !strings.Contains(err.Error(), "index 2") {
		t.Fatalf("Write with an index out of range: %v", err)
	}
	f = sample()
	f.Count = 5
	if err := Write(path, f); err == nil {
		t.Fatal("Write with a wrong count succeeded")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("a failed Write left %s behind (%v)", path, err)
	}
}

func TestCodebookID(t *testing.T) {
	a, b := CodebookID([]float32{1, 2}), CodebookID([]float32{1, 2.01})
	if len(a) != 16 || a == b || a != CodebookID([]float32{1}, []float32{2}) {
		t.Fatalf("CodebookID: %s %s", a, b)
	}
	// an F16 export keeps the id of its F32 checkpoint
	if c := CodebookID([]float32{1, 2.0001}); c != a {
		t.Fatalf("CodebookID differs below float16 precision: %s %s", a, c)
	}
}

// FuzzRead checks that arbitrary bytes fail cleanly and that whatever
// decodes re-encodes to the same bytes.
func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	if err := sample().Encode(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(Magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := Decode(b)
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := g.Encode(&out); err != nil {
			t.Fatalf("re-encode of a decoded file: %v", err)
		}
		if _, err := Decode(out.Bytes()); err != nil {
			t.Fatalf("decode of a re-encoded file: %v", err)
		}
	})
}

package bpe

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

var (
	fuzzOnce sync.Once
	fuzzTok  *Tokenizer
)

// FuzzRoundTrip checks Decode(Encode(b)) == b for arbitrary bytes.
func FuzzRoundTrip(f *testing.F) {
	for _, s := range []string{"", " ", sampleText, "a\xffb\xc3", "'ll 've\r\n\t\t", "\x00\x01\x80"} {
		f.Add([]byte(s))
	}
	fuzzOnce.Do(func() { fuzzTok = trainSmall(f, 700) })
	f.Fuzz(func(t *testing.T, b []byte) {
		ids, err := fuzzTok.Encode(b)
		if err != nil {
			t.Fatalf("encode %q: %v", b, err)
		}
		back, err := fuzzTok.Decode(ids)
		if err != nil || !bytes.Equal(back, b) {
			t.Fatalf("round trip %q → %v → %q, %v", b, ids, back, err)
		}
	})
}

// FuzzRead checks that arbitrary tokenizer.json input fails cleanly, and that
// whatever loads can encode and decode without panicking.
func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	if err := trainSmall(f, 300).Write(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(hfJSON(`"vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]`, byteLevel)))
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		ids, err := tok.EncodeString(strings.ToLower(sampleText))
		if err != nil {
			return
		}
		if _, err := tok.Decode(ids); err != nil {
			t.Fatalf("decode of encoded ids: %v", err)
		}
	})
}

package bpe

import (
	"bytes"
	"reflect"
	"testing"
)

// The expected splits are those of GPT2Pattern (checked with Python's regex
// module, which has the look-ahead Go's regexp lacks); invalid UTF-8 bytes
// split as punctuation.
func TestSplitWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{" ", []string{" "}},
		{"Hello world", []string{"Hello", " world"}},
		{"I'm here", []string{"I", "'m", " here"}},
		{"don't you'll we've they're she'd", []string{"don", "'t", " you", "'ll", " we", "'ve", " they", "'re", " she", "'d"}},
		{"'S 's", []string{"'", "S", " '", "s"}},
		{"  two spaces", []string{" ", " two", " spaces"}},
		{"a\n\nb", []string{"a", "\n", "\n", "b"}},
		{"end   ", []string{"end", "   "}},
		{"x  \ty", []string{"x", "  ", "\t", "y"}},
		{"3.14 apples", []string{"3", ".", "14", " apples"}},
		{"hello!!! ok?", []string{"hello", "!!!", " ok", "?"}},
		{"?'s", []string{"?'", "s"}},
		{"café 42€", []string{"café", " 42", "€"}},
		{"日本語 テキスト", []string{"日本語", " テキスト"}},
		{"x½3", []string{"x", "½3"}},
		{"\t-- Robert", []string{"\t", "--", " Robert"}},
		{"a\xffb", []string{"a", "\xff", "b"}},
		{"\xff\xfe!", []string{"\xff\xfe!"}},
		{"a \xff", []string{"a", " \xff"}},
		{"\xe2\x82", []string{"\xe2\x82"}},
	}
	for _, tc := range tests {
		var got []string
		splitWords([]byte(tc.in), func(w []byte) { got = append(got, string(w)) })
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("split %q = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSplitWordsCoversInput(t *testing.T) {
	inputs := []string{"a  b\n\n\tc", "\xc3(\xa0\xa1 'll", "   \n", "x'", "'"}
	for _, in := range inputs {
		var joined []byte
		splitWords([]byte(in), func(w []byte) {
			if len(w) == 0 {
				t.Fatalf("split %q: empty piece", in)
			}
			joined = append(joined, w...)
		})
		if !bytes.Equal(joined, []byte(in)) {
			t.Errorf("split %q joins to %q", in, joined)
		}
	}
}

package bpe

import (
	"bytes"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const sampleText = `The quick brown fox jumps over the lazy dog. The dog didn't care;
it'd seen foxes before, and they'll come again.	-- A. Nonymous, 1999

"Never put off till tomorrow what you can do the day after tomorrow."
		-- Mark Twain  
Café crème, naïve résumé: 3.14159 × 2 = 6.28318!  日本語のテキスト。
`

var testSpecials = []string{"<bos>", "<eos>"}

func trainSmall(t testing.TB, vocab int) *Tokenizer {
	t.Helper()
	tok, err := Train([]string{sampleText, strings.ToUpper(sampleText)}, TrainConfig{VocabSize: vocab, MinFrequency: 1, Specials: testSpecials})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestTrainClassic(t *testing.T) {
	tok, err := Train([]string{"aaabdaaabac"}, TrainConfig{VocabSize: 1000, Specials: testSpecials})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range tok.merges {
		got = append(got, string(tok.tokens[p.left])+"+"+string(tok.tokens[p.right]))
	}
	want := []string{"a+a", "a+b", "aa+ab"} // then no pair occurs twice
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merges %q, want %q", got, want)
	}
	if tok.VocabSize() != 2+256+3 {
		t.Errorf("vocab size %d", tok.VocabSize())
	}
	if ids, _ := tok.EncodeString("aaabdaaabac"); len(ids) != 5 {
		t.Errorf("encode: %v, want 5 tokens", ids)
	}
}

func TestTrainLayout(t *testing.T) {
	tok := trainSmall(t, 400)
	if tok.VocabSize() != 400 {
		t.Fatalf("vocab size %d, want 400", tok.VocabSize())
	}
	for i, s := range testSpecials {
		if b, _ := tok.Token(i); string(b) != s || !tok.IsSpecial(i) {
			t.Errorf("id %d = %q, want special %q", i, b, s)
		}
	}
	for b := 0; b < 256; b++ {
		if got, _ := tok.Token(len(testSpecials) + b); !bytes.Equal(got, []byte{byte(b)}) {
			t.Errorf("id %d = %q, want byte %d", len(testSpecials)+b, got, b)
		}
	}
}

func TestTrainConfigErrors(t *testing.T) {
	tests := []TrainConfig{
		{VocabSize: 100},
		{VocabSize: 257, Specials: []string{"<a>", "<b>"}},
		{MinFrequency: -1},
		{Specials: []string{"<a>", "<a>"}},
		{Specials: []string{""}},
	}
	for _, cfg := range tests {
		if _, err := Train([]string{"abc"}, cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}

// The incremental pair counts must equal a recount from scratch.
func TestTrainerCountsIncremental(t *testing.T) {
	tokens, _ := initialTokens(testSpecials)
	tr := newTrainer(countWords([]string{sampleText, "aaaa aaaaa abab"}), len(testSpecials))
	tr.run(&tokens, TrainConfig{VocabSize: 330, MinFrequency: 2, Specials: testSpecials})
	want := map[uint64]int64{}
	for i, w := range tr.words {
		for j := 0; j+1 < len(w); j++ {
			want[pair{w[j], w[j+1]}.key()] += tr.counts[i]
		}
	}
	for k, c := range tr.pairs {
		if c != want[k] {
			t.Errorf("pair %x: incremental %d, recount %d", k, c, want[k])
		}
	}
	for k, c := range want {
		if tr.pairs[k] != c {
			t.Errorf("pair %x: incremental %d, recount %d", k, tr.pairs[k], c)
		}
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	tok := trainSmall(t, 450)
	path := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := tok.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.tokens, tok.tokens) || !reflect.DeepEqual(back.merges, tok.merges) ||
		!reflect.DeepEqual(back.specials, tok.specials) {
		t.Fatal("loaded tokenizer differs from the saved one")
	}
	var a, b bytes.Buffer
	if err := tok.Write(&a); err != nil {
		t.Fatal(err)
	}
	if err := back.Write(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("re-saved file differs")
	}
	want, _ := tok.EncodeString(sampleText)
	got, _ := back.EncodeString(sampleText)
	if !reflect.DeepEqual(got, want) {
		t.Error("loaded tokenizer encodes differently")
	}
}

func TestTrainDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	if err := trainSmall(t, 420).Write(&a); err != nil {
		t.Fatal(err)
	}
	if err := trainSmall(t, 420).Write(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two trainings on the same text differ")
	}
}

func TestSaveBadPath(t *testing.T) {
	tok := trainSmall(t, 300)
	if err := tok.Save(filepath.Join(t.TempDir(), "missing", "tokenizer.json")); err == nil {
		t.Error("save into a missing directory: no error")
	}
	if _, err := Load(filepath.Join(t.TempDir(), "none.json")); err == nil {
		t.Error("load of a missing file: no error")
	}
}

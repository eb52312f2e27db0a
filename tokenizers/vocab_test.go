package tokenizers

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/omniar/omniar/tokenizers/bpe"
)

func TestSpecialTokens(t *testing.T) {
	names := SpecialTokens()
	if len(names) != NumSpecial {
		t.Fatalf("%d specials, want %d", len(names), NumSpecial)
	}
	tests := []struct {
		id   int
		name string
	}{
		{Pad, "<pad>"}, {BOS, "<bos>"}, {EOS, "<eos>"}, {TextOpen, "<text>"}, {TextClose, "</text>"},
		{ImageOpen, "<image>"}, {ImageClose, "</image>"}, {VideoOpen, "<video>"}, {VideoClose, "</video>"},
		{AudioOpen, "<audio>"}, {AudioClose, "</audio>"}, {Answer, "<answer>"}, {Frame, "<frame>"},
		{Scale, "<scale>"}, {14, "<reserved_14>"}, {NumSpecial - 1, "<reserved_31>"},
	}
	for _, tc := range tests {
		if names[tc.id] != tc.name {
			t.Errorf("special %d = %q, want %q", tc.id, names[tc.id], tc.name)
		}
		if id, err := SpecialID(tc.name); err != nil || id != tc.id {
			t.Errorf("SpecialID(%q) = %d, %v", tc.name, id, err)
		}
		if n, err := SpecialName(tc.id); err != nil || n != tc.name {
			t.Errorf("SpecialName(%d) = %q, %v", tc.id, n, err)
		}
	}
	if _, err := SpecialID("<nope>"); err == nil {
		t.Error("SpecialID of an unknown name: no error")
	}
	if _, err := SpecialName(NumSpecial); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("SpecialName(NumSpecial) err %v", err)
	}
}

func testVocab(t *testing.T, shared bool) Vocab {
	t.Helper()
	v, err := New(Config{TextSize: 1000, VisualBooks: 2, VisualCodes: 100, AudioDepths: 4, AudioCodes: 50, AudioShared: shared})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestLayoutBoundaries(t *testing.T) {
	v := testVocab(t, false)
	if v.Size() != 1000+200+200 {
		t.Fatalf("size %d", v.Size())
	}
	tests := []struct {
		id   int
		m    Modality
		book int
		code int
	}{
		{0, Special, 0, 0},
		{NumSpecial - 1, Special, 0, NumSpecial - 1},
		{NumSpecial, Text, 0, NumSpecial},
		{999, Text, 0, 999},
		{1000, Visual, 0, 0},
		{1099, Visual, 0, 99},
		{1100, Visual, 1, 0},
		{1199, Visual, 1, 99},
		{1200, Audio, 0, 0},
		{1250, Audio, 1, 0},
		{1399, Audio, 3, 49},
	}
	for _, tc := range tests {
		m, book, code, err := v.Local(tc.id)
		if err != nil || m != tc.m || book != tc.book || code != tc.code {
			t.Errorf("Local(%d) = %v %d %d %v, want %v %d %d", tc.id, m, book, code, err, tc.m, tc.book, tc.code)
		}
		id, err := v.Global(tc.m, tc.book, tc.code)
		if err != nil || id != tc.id {
			t.Errorf("Global(%v, %d, %d) = %d, %v; want %d", tc.m, tc.book, tc.code, id, err, tc.id)
		}
	}
	for _, id := range []int{-1, 1400, 1 << 40} {
		if _, err := v.ModalityOf(id); !errors.Is(err, ErrOutOfRange) {
			t.Errorf("ModalityOf(%d) err %v", id, err)
		}
		if _, _, _, err := v.Local(id); !errors.Is(err, ErrOutOfRange) {
			t.Errorf("Local(%d) err %v", id, err)
		}
	}
}

func TestGlobalErrors(t *testing.T) {
	v := testVocab(t, false)
	tests := []struct {
		m          Modality
		book, code int
	}{
		{Visual, 2, 0}, {Visual, 0, 100}, {Visual, -1, 0}, {Visual, 0, -1},
		{Audio, 4, 0}, {Audio, 0, 50}, {Text, 0, 1000}, {Text, 1, 0}, {Special, 0, NumSpecial},
		{Modality(9), 0, 0},
	}
	for _, tc := range tests {
		if _, err := v.Global(tc.m, tc.book, tc.code); err == nil {
			t.Errorf("Global(%v, %d, %d): no error", tc.m, tc.book, tc.code)
		}
	}
}

func TestSharedAudio(t *testing.T) {
	v := testVocab(t, true)
	if v.Size() != 1000+200+50 {
		t.Fatalf("size %d", v.Size())
	}
	for depth := 0; depth < 4; depth++ {
		id, err := v.Global(Audio, depth, 7)
		if err != nil || id != 1207 {
			t.Errorf("depth %d: Global = %d, %v; want 1207", depth, id, err)
		}
	}
	if _, err := v.Global(Audio, 4, 0); err == nil {
		t.Error("depth 4 of 4: no error")
	}
	if m, book, code, err := v.Local(1249); err != nil || m != Audio || book != 0 || code != 49 {
		t.Errorf("Local(1249) = %v %d %d %v", m, book, code, err)
	}
}

func TestCodesRoundTrip(t *testing.T) {
	v := testVocab(t, false)
	codes := []int{0, 5, 99, 42}
	ids, err := v.GlobalCodes(nil, Visual, 1, codes)
	if err != nil {
		t.Fatal(err)
	}
	back, err := v.LocalCodes(nil, Visual, 1, ids)
	if err != nil || len(back) != len(codes) {
		t.Fatalf("LocalCodes = %v, %v", back, err)
	}
	for i := range codes {
		if back[i] != codes[i] {
			t.Errorf("code %d: %d → %d → %d", i, codes[i], ids[i], back[i])
		}
	}
	if _, err := v.GlobalCodes(nil, Visual, 1, []int{1, 100}); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("GlobalCodes out of range: %v", err)
	}
	if _, err := v.LocalCodes(nil, Visual, 0, ids); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("LocalCodes of book 1 ids as book 0: %v", err)
	}
}

func TestRanges(t *testing.T) {
	v := testVocab(t, false)
	prev := 0
	for _, m := range []Modality{Special, Text, Visual, Audio} {
		lo, hi := v.Range(m)
		if lo != prev || hi < lo {
			t.Errorf("%v range [%d, %d) does not follow %d", m, lo, hi, prev)
		}
		prev = hi
	}
	if prev != v.Size() {
		t.Errorf("ranges end at %d, size %d", prev, v.Size())
	}
}

func TestNewErrors(t *testing.T) {
	tests := []Config{
		{TextSize: 100},
		{TextSize: 4096, VisualBooks: -1},
		{TextSize: 4096, AudioCodes: -3},
		{TextSize: 4096, VisualBooks: 1 << 20, VisualCodes: 1 << 20},
		{TextSize: 4096, AudioDepths: 1 << 40, AudioCodes: 1},
	}
	for _, cfg := range tests {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v): no error", cfg)
		}
	}
	if _, err := New(DefaultConfig()); err != nil {
		t.Errorf("default config: %v", err)
	}
}

func TestModalityString(t *testing.T) {
	for m, want := range map[Modality]string{Special: "special", Text: "text", Visual: "visual", Audio: "audio", 7: "Modality(7)"} {
		if m.String() != want {
			t.Errorf("%d.String() = %q", int(m), m.String())
		}
	}
}

func TestTrainAndLoadText(t *testing.T) {
	tok, err := TrainText([]string{"a 7 moves left", "what digit was said? seven"}, 400)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := tok.Save(path); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadText(path); err != nil {
		t.Fatal(err)
	}
	other, err := bpe.Train([]string{"abc"}, bpe.TrainConfig{VocabSize: 300, Specials: []string{"<s>"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Save(path); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadText(path); err == nil {
		t.Error("a tokenizer with other specials loaded as text tokenizer")
	}
}

package textcorpus

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/omniar/omniar/datasets/digits"
	"github.com/omniar/omniar/tokenizers"
)

// writeFile writes lines (JSON values) to dir/rel.
func writeFile(t *testing.T, dir, rel string, values ...any) {
	t.Helper()
	var b strings.Builder
	for _, v := range values {
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(j)
		b.WriteByte('\n')
	}
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fakeData writes a data directory with a few items of each source.
func fakeData(t *testing.T) string {
	dir := t.TempDir()
	writeFile(t, dir, "text/fortunes_train.jsonl",
		map[string]string{"category": "art", "text": "Art is long.", "split": "train"})
	writeFile(t, dir, "text/fortunes_test.jsonl",
		map[string]string{"category": "art", "text": "Life is short.", "split": "test"})
	ds := make([]digits.Digit, digits.Count)
	for i := range ds {
		ds[i] = digits.Digit{ID: i, Label: i % 10, Split: "test", Caption: "held out"}
	}
	ds[0].Split, ds[0].Caption = "train", "a handwritten 0"
	writeFile(t, dir, "digits/digits.json", ds)
	if err := os.WriteFile(filepath.Join(dir, "digits", "pixels.u8"), make([]byte, digits.Count*digits.Size*digits.Size), 0o644); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "moving/train.jsonl",
		digits.Clip{Split: "train", Captions: []string{"a 2 moves right", "two going right"}})
	writeFile(t, dir, "speech/index.json", map[string]any{"items": []map[string]any{
		{"path": "speech/a.wav", "split": "train", "labels": map[string]string{"text": "seven"}},
		{"path": "speech/b.wav", "split": "test", "labels": map[string]string{"text": "held out"}},
	}})
	writeFile(t, dir, "qa/train.jsonl",
		map[string]string{"question": "what digit is this?", "answer": "zero"})
	return dir
}

func TestTraining(t *testing.T) {
	srcs, err := Training(fakeData(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []Source{
		{"fortunes/train", []string{"Art is long."}},
		{"digits/captions", []string{"a handwritten 0"}},
		{"moving/captions", []string{"a 2 moves right", "two going right"}},
		{"speech/texts", []string{"seven"}},
		{"qa/train", []string{"what digit is this?", "zero"}},
	}
	if !reflect.DeepEqual(srcs, want) {
		t.Errorf("sources\n%v\nwant\n%v", srcs, want)
	}
	if n := len(Docs(srcs)); n != 7 {
		t.Errorf("%d docs, want 7", n)
	}
	if srcs[0].Bytes() != len("Art is long.") {
		t.Errorf("bytes %d", srcs[0].Bytes())
	}
}

func TestTrainingMissing(t *testing.T) {
	dir := fakeData(t)
	for _, rel := range []string{"text/fortunes_train.jsonl", "digits/digits.json", "moving/train.jsonl", "speech/index.json", "qa/train.jsonl"} {
		tmp := t.TempDir()
		if err := os.CopyFS(tmp, os.DirFS(dir)); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(filepath.Join(tmp, rel)); err != nil {
			t.Fatal(err)
		}
		if _, err := Training(tmp); err == nil {
			t.Errorf("without %s: no error", rel)
		}
	}
}

func TestMovingCorrupt(t *testing.T) {
	dir := fakeData(t)
	if err := os.WriteFile(filepath.Join(dir, "moving", "train.jsonl"), []byte(`{"captions": [1]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := movingCaptions(dir); err == nil {
		t.Error("corrupt captions: no error")
	}
}

func TestMeasure(t *testing.T) {
	dir := fakeData(t)
	test, err := Fortunes(dir, "test")
	if err != nil {
		t.Fatal(err)
	}
	srcs, err := Training(dir)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizers.TrainText(Docs(srcs), 400)
	if err != nil {
		t.Fatal(err)
	}
	st, err := Measure(tok, test.Docs, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if st.Bytes != len("Life is short.") || st.Tokens < 2 || st.Tokens > st.Bytes {
		t.Errorf("stats %+v", st)
	}
	if st.BytesPerToken() <= 1 || st.ColdMBps() <= 0 || st.WarmMBps() <= 0 {
		t.Errorf("bytes/token %.2f, MB/s %.2f %.2f", st.BytesPerToken(), st.ColdMBps(), st.WarmMBps())
	}
}

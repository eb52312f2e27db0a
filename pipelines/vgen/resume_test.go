package vgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omniar/omniar/datasets/digits"
	"github.com/omniar/omniar/internal/blas"
	"github.com/omniar/omniar/metrics"
	"github.com/omniar/omniar/videoar"
)

// TestEvalResume: an evaluation that reads some of its clips back from
// the saved directory (--resume) writes the report of one that generated
// them all, regenerates a missing clip byte for byte, and names a damaged
// saved clip; --from skips the prompts before it; clips of another set-up,
// or of an unknown one, are not mixed in; a cancelled run stops even
// when it only reads clips back.
func TestEvalResume(t *testing.T) {
	blas.Install()
	asset := func(name string) string { return filepath.Join("..", "..", "assets", name) }
	// Three test clips of white squares: they give the prompts (from their
	// metadata) and the ceiling; the generated clips are what is judged.
	set := &digits.Set{Pixels: bytes.Repeat([]byte{255}, digits.Count*digits.Size*digits.Size), Digits: make([]digits.Digit, digits.Count)}
	for id := range set.Digits {
		set.Digits[id] = digits.Digit{ID: id, Label: id / digits.PerClass, Split: "test"}
	}
	data := t.TempDir()
	if _, _, err := digits.BuildMoving(context.Background(), set, data, "test", 3); err != nil {
		t.Fatal(err)
	}
	p, err := Load(asset("videoar.safetensors"), asset("video_tokenizer.safetensors"), asset("tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	judge, err := metrics.LoadJudgeWeights(asset("metrics/digits.safetensors"), asset("metrics/pairs.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	save := t.TempDir()
	eo := EvalOptions{Tokenizer: asset("video_tokenizer.safetensors"), Data: data, Split: "test", N: 3,
		Gen: videoar.DefaultOptions(), Judge: judge, Save: save}
	ctx := context.Background()
	full, err := Eval(ctx, p, eo)
	if err != nil {
		t.Fatal(err)
	}
	second := filepath.Join(save, "00001.gif")
	want, err := os.ReadFile(second)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(second)
	eo.Resume = true
	eo.Verdicts = filepath.Join(t.TempDir(), "verdicts.jsonl")
	again, err := Eval(ctx, p, eo)
	if err != nil {
		t.Fatal(err)
	}
	checkVerdicts(t, eo.Verdicts, again)
	eo.Verdicts = ""
	if again.Resumed != 2 || full.Resumed != 0 {
		t.Errorf("resumed %d clips (first run %d), want 2 (0)", again.Resumed, full.Resumed)
	}
	if again.Generated.Clips != 3 || again.Generated.Match != full.Generated.Match || again.Generated.Digit != full.Generated.Digit ||
		again.Generated.Direction != full.Generated.Direction || again.Ceiling.Match != full.Ceiling.Match {
		t.Errorf("resumed run %+v / %+v, want %+v / %+v", again.Generated, again.Ceiling, full.Generated, full.Ceiling)
	}
	if got, err := os.ReadFile(second); err != nil || !bytes.Equal(got, want) {
		t.Errorf("the missing clip was not regenerated as it was (%d vs %d bytes, %v)", len(got), len(want), err)
	}
	other := eo
	other.Gen.CFG = 2
	if _, err := Eval(ctx, p, other); err == nil || !strings.Contains(err.Error(), "were made with") {
		t.Errorf("resuming with another guidance scale: %v, want a refusal", err)
	}
	other.Gen.CFG, other.Resume, other.From = eo.Gen.CFG, false, 1
	os.Remove(filepath.Join(save, "clips.json"))
	if _, err := Eval(ctx, p, other); err == nil || !strings.Contains(err.Error(), "no clips.json") {
		t.Errorf("sharing clips with no record of what made them: %v, want a refusal", err)
	}
	other.From = 0
	if _, err := Eval(ctx, p, other); err == nil || !strings.Contains(err.Error(), "no clips.json") {
		t.Errorf("a new run into clips with no record of what made them: %v, want a refusal", err)
	}
	gifs, _ := filepath.Glob(filepath.Join(save, "0*.gif"))
	for _, f := range gifs {
		os.Remove(f)
	}
	if _, err := Eval(ctx, p, other); err != nil { // a new run: records its set-up again
		t.Fatal(err)
	}
	eo.From = 2
	if part, err := Eval(ctx, p, eo); err != nil || part.Generated.Clips != 1 || part.From != 2 || part.Resumed != 1 {
		t.Errorf("from prompt 2: %d clips from %d, %d read back, %v; want 1 from 2, 1", part.Generated.Clips, part.From, part.Resumed, err)
	}
	eo.From = 3
	if _, err := Eval(ctx, p, eo); err == nil {
		t.Error("first prompt 3 of 3 accepted")
	}
	eo.From = 0
	stopped, cancel := context.WithCancel(ctx)
	cancel() // every clip is saved: the run would only read them back
	if _, err := Eval(stopped, p, eo); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled resumed run: %v, want %v", err, context.Canceled)
	}

	if err := os.WriteFile(filepath.Join(save, "00002.gif"), []byte("GIF89a cut"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Eval(ctx, p, eo); err == nil || !strings.Contains(err.Error(), "00002.gif") {
		t.Errorf("damaged saved clip: %v, want an error naming it", err)
	}
	eo.Save = ""
	if _, err := Eval(ctx, p, eo); err == nil {
		t.Error("resume without a directory of saved clips accepted")
	}
}

// TestMarkSavedClears: a new run into the directory of an earlier, longer
// evaluation removes that run's numbered clips (and nothing else); numbered
// clips that no evaluation recorded are refused and kept; a shared run
// keeps them.
func TestMarkSavedClears(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"00000.gif", "00007.gif", "grid.gif", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := savedSet{Generator: "g", Split: "test", CFG: 3}
	if err := markSaved(dir, s, false); err == nil || !strings.Contains(err.Error(), "no clips.json") {
		t.Errorf("numbered clips of no evaluation: %v, want a refusal", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "00007.gif")); err != nil {
		t.Fatalf("a refused run removed a clip: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "clips.json"), []byte(`{"split":"val"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := markSaved(dir, s, false); err != nil {
		t.Fatal(err)
	}
	for f, want := range map[string]bool{"00000.gif": false, "00007.gif": false, "grid.gif": true, "notes.txt": true, "clips.json": true} {
		if _, err := os.Stat(filepath.Join(dir, f)); (err == nil) != want {
			t.Errorf("%s there: %v, want %v", f, err == nil, want)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "00001.gif"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := markSaved(dir, s, true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "00001.gif")); err != nil {
		t.Errorf("a shared run removed a clip: %v", err)
	}
}

// checkVerdicts: the --verdicts file has a line per prompt, in order, whose
// verdicts add up to the report's shares.
func checkVerdicts(t *testing.T, path string, rep EvalReport) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != rep.Generated.Clips {
		t.Fatalf("%d verdict lines for %d clips", len(lines), rep.Generated.Clips)
	}
	var tl metrics.Tally
	for i, l := range lines {
		var v clipVerdict
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if v.Index != i || v.Prompt == "" || len(v.Readings) != len(v.Targets) || len(v.Ceiling) != len(v.Targets) {
			t.Fatalf("line %d: %+v", i, v)
		}
		tl.Add(v.Verdict, v.Readings, v.Targets)
	}
	if got := tl.Fidelity(); got.Match != rep.Generated.Match || got.Digit != rep.Generated.Digit || got.Direction != rep.Generated.Direction {
		t.Errorf("verdicts add up to %+v, the report says %+v", got, rep.Generated)
	}
}

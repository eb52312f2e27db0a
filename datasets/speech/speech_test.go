package speech

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omniar/omniar/audio"
	"github.com/omniar/omniar/datasets"
)

// needTools skips the test when the Debian packages are not installed.
func needTools(t *testing.T) datasets.Sources {
	t.Helper()
	src := datasets.DefaultSources(t.TempDir())
	for _, p := range []string{src.Espeak, src.Lame} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s is not installed (run `make data-deps`)", p)
		}
	}
	if _, err := os.Stat(filepath.Join(src.AlsaSounds, "Front_Left.wav")); err != nil {
		t.Skip("alsa-utils recordings are not installed (run `make data-deps`)")
	}
	return src
}

// smallOptions: 5 voices (3 train, 1 val, 1 test) × 3 texts.
func smallOptions() options {
	return options{
		voices:        5,
		wordsPerVoice: 1,
		digits:        []string{"three", "seven"},
		words:         []string{"turn left"},
		mp3Voices:     2,
		workers:       2,
	}
}

func TestSmallBuild(t *testing.T) {
	src := needTools(t)
	ctx := context.Background()
	dir := t.TempDir()
	entries, err := build(ctx, src, dir, smallOptions())
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, e := range entries {
		count[e.Kind+"/"+e.Split]++
	}
	want := map[string]int{"speech/train": 9, "speech/val": 3, "speech/test": 3 + len(alsaRecordings), "speech-mp3/test": 2, "speech-index/all": 1}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("%d files of %s, want %d (all: %v)", count[k], k, n, count)
		}
	}
	checkVoiceSplits(t, entries)
	checkFiles(t, dir, entries)
	checkLoad(t, dir, entries)

	// Another directory gets the same bytes (espeak-ng, the resampler and
	// lame are deterministic).
	again, err := build(ctx, src, t.TempDir(), smallOptions())
	if err != nil {
		t.Fatal(err)
	}
	if a, b := hashes(entries), hashes(again); a != b {
		t.Errorf("a rebuild differs:\n%s\nvs\n%s", a, b)
	}

	// The same directory is reused as it is; a damaged file is rebuilt.
	idx := filepath.Join(dir, filepath.FromSlash(IndexPath))
	before, err := os.Stat(idx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := build(ctx, src, dir, smallOptions()); err != nil {
		t.Fatal(err)
	}
	if after, err := os.Stat(idx); err != nil || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("an up-to-date directory was rebuilt (%v)", err)
	}
	victim := filepath.Join(dir, filepath.FromSlash(entries[0].Path))
	if err := os.WriteFile(victim, []byte("damaged"), 0o644); err != nil {
		t.Fatal(err)
	}
	repaired, err := build(ctx, src, dir, smallOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := (&datasets.Manifest{Entries: repaired}).Verify(dir); err != nil || hashes(repaired) != hashes(entries) {
		t.Errorf("rebuild after damage: %v", err)
	}
}

// checkVoiceSplits asserts that every voice is in one split only and
// that MP3 copies come from test voices.
func checkVoiceSplits(t *testing.T, entries []datasets.Entry) {
	t.Helper()
	splitOf := map[string]string{}
	for _, e := range entries {
		if e.Kind != KindWAV || e.Labels["source"] != "espeak-ng" {
			continue
		}
		v := e.Labels["voice"]
		if s, ok := splitOf[v]; ok && s != e.Split {
			t.Errorf("voice %s is in %s and %s", v, s, e.Split)
		}
		splitOf[v] = e.Split
	}
	for _, e := range entries {
		if e.Kind == KindMP3 && (e.Split != "test" || splitOf[e.Labels["voice"]] != "test") {
			t.Errorf("MP3 %s of voice %s (split %s) is not from a test voice", e.Path, e.Labels["voice"], splitOf[e.Labels["voice"]])
		}
	}
}

// checkFiles decodes every clip and checks its labels.
func checkFiles(t *testing.T, dir string, entries []datasets.Entry) {
	t.Helper()
	if err := (&datasets.Manifest{Entries: entries}).Verify(dir); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Kind == KindIndex {
			continue
		}
		c, err := audio.ReadFile(filepath.Join(dir, filepath.FromSlash(e.Path)))
		if err != nil {
			t.Fatal(err)
		}
		if c.Rate != audio.ModelRate || c.Duration().Seconds() < 0.2 {
			t.Errorf("%s: %d Hz, %v", e.Path, c.Rate, c.Duration())
		}
		l := e.Labels
		if l["voice"] == "" || l["source"] == "" || l["text"] == "" && l["noise"] != "true" {
			t.Errorf("%s: labels %v", e.Path, l)
		}
		if d, ok := l["digit"]; ok && digitWords[d[0]-'0'] != l["text"] {
			t.Errorf("%s: digit %s for text %q", e.Path, d, l["text"])
		}
	}
}

// checkLoad reads the index back with Load and decodes one WAV and one MP3.
func checkLoad(t *testing.T, dir string, entries []datasets.Entry) {
	t.Helper()
	all, err := Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(entries)-1 {
		t.Errorf("Load: %d items, want %d", len(all), len(entries)-1)
	}
	test, err := Load(dir, "test")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, it := range test {
		if it.Split != "test" {
			t.Errorf("Load(test) returned %s in %s", it.Path, it.Split)
		}
		if kinds[it.Kind] {
			continue
		}
		kinds[it.Kind] = true
		c, err := it.Audio()
		if err != nil || c.Rate != audio.ModelRate || len(c.Samples) == 0 {
			t.Errorf("%s: Audio() = %v", it.Path, err)
		}
	}
	if !kinds[KindWAV] || !kinds[KindMP3] {
		t.Errorf("test split kinds %v, want WAV and MP3", kinds)
	}
}

// hashes lists path and SHA-256 of every entry.
func hashes(entries []datasets.Entry) string {
	var b strings.Builder
	for _, e := range entries {
		b.WriteString(e.Path + " " + e.SHA256 + "\n")
	}
	return b.String()
}

func TestMissingSources(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		src  datasets.Sources
		want string
	}{
		{"espeak", datasets.Sources{Espeak: "no-such-espeak-ng", Lame: "true", AlsaSounds: dir}, "Debian package espeak-ng"},
		{"lame", datasets.Sources{Espeak: "true", Lame: "no-such-lame", AlsaSounds: dir}, "Debian package lame"},
		{"alsa", datasets.Sources{Espeak: "true", Lame: "true", AlsaSounds: dir}, "Debian package alsa-utils"},
	} {
		_, err := Build(context.Background(), tc.src, t.TempDir())
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "make data-deps") {
			t.Errorf("%s missing: error %v, want one naming %q and `make data-deps`", tc.name, err, tc.want)
		}
	}
}

func TestWordLists(t *testing.T) {
	seen := map[string]bool{}
	for _, text := range append(append([]string(nil), digitWords...), otherTexts...) {
		s := slug(text)
		switch {
		case seen[s]:
			t.Errorf("%q repeats (file name %s)", text, s)
		case strings.HasPrefix(text, "-") || s == "":
			t.Errorf("%q cannot be spoken safely", text)
		}
		seen[s] = true
	}
	if n := len(otherTexts); n < 250 {
		t.Errorf("%d words and phrases, want a few hundred", n)
	}
}

func TestAssignSplits(t *testing.T) {
	for _, tc := range []struct{ n, train, val, test int }{
		{320, 256, 32, 32},
		{5, 3, 1, 1},
		{3, 1, 1, 1},
		{1, 1, 0, 0},
	} {
		var vs []voice
		for i := range tc.n {
			vs = append(vs, voice{accent: "en", file: "gmw/en", variant: "v" + string(rune('a'+i%26)) + string(rune('a'+i/26))})
		}
		count := map[string]int{}
		first := assignSplits(vs)
		for name, s := range first {
			count[s]++
			if assignSplits(vs)[name] != s {
				t.Fatalf("split of %s is not deterministic", name)
			}
		}
		if count["train"] != tc.train || count["val"] != tc.val || count["test"] != tc.test {
			t.Errorf("%d voices: %v, want %d/%d/%d", tc.n, count, tc.train, tc.val, tc.test)
		}
	}
}

func TestParseVoiceTable(t *testing.T) {
	const listing = `Pty Language       Age/Gender VoiceName          File                 Other Languages
 2  en-gb           --/M      English_(Great_Britain) gmw/en               (en 2)
 3  en-uk           --/M      english-mb-en1     mb/mb-en1            (en-gb 3)(en 2)
 5  variant         --/M      Mr_Serious         !v/Mr serious
 5  variant         --/M      Storm              !v/Storm             (en-us 5)
 5  variant         --/M      male3              !v/m3
`
	got := parseVoiceTable(listing)
	want := [][2]string{{"en-gb", "gmw/en"}, {"en-uk", "mb/mb-en1"}, {"variant", "!v/Storm"}, {"variant", "!v/m3"}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, split, want string
	}{
		{"no index", "train", "omniar data prepare"},
		{"bad split", "dev", "unknown split"},
	} {
		if _, err := Load(dir, tc.split); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "speech"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(IndexPath)), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir, ""); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("corrupt index: error %v", err)
	}
}

// TestFullBuild builds the whole data set into $OMNIAR_SPEECH_FULL (a
// directory) when that is set: go test -run FullBuild -v ./datasets/speech/
func TestFullBuild(t *testing.T) {
	dir := os.Getenv("OMNIAR_SPEECH_FULL")
	if dir == "" {
		t.Skip("set OMNIAR_SPEECH_FULL=<dir> to build the full speech data set")
	}
	start := time.Now()
	entries, err := Build(context.Background(), datasets.DefaultSources(t.TempDir()), dir)
	if err != nil {
		t.Fatal(err)
	}
	files, voices := map[string]int{}, map[string]map[string]bool{}
	var size int64
	for _, e := range entries {
		files[e.Kind+"/"+e.Split]++
		size += e.Size
		if e.Labels["source"] == "espeak-ng" && e.Kind == KindWAV {
			if voices[e.Split] == nil {
				voices[e.Split] = map[string]bool{}
			}
			voices[e.Split][e.Labels["voice"]] = true
		}
	}
	t.Logf("%d files, %.1f MB, %v; files %v; voices train %d val %d test %d", len(entries), float64(size)/1e6,
		time.Since(start).Round(time.Second), files, len(voices["train"]), len(voices["val"]), len(voices["test"]))
	checkVoiceSplits(t, entries)
}

func TestBuildCanceled(t *testing.T) {
	src := needTools(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := build(ctx, src, t.TempDir(), smallOptions()); err == nil {
		t.Error("a canceled build succeeded")
	}
}

// Package speech builds and loads the spoken-word data set (DESIGN.md,
// "Data"; issue 4, item 4): digits and a few hundred words and phrases
// synthesised by espeak-ng in hundreds of voices, split by voice so that
// no test voice is heard in training; the real recorded speech of
// alsa-utils as an extra test set; and MP3 copies of part of the test set
// made with lame. Everything is 16 kHz mono (audio.ModelRate), 1 dB below
// the source's level, and deterministic: the same tools give the same
// bytes on every run.
//
// Layout under the data directory:
//
//	speech/espeak/<split>/<accent>+<variant>/<text>.wav
//	speech/alsa/<name>.wav                 split "test"
//	speech/mp3/<accent>+<variant>/<text>.mp3 split "test", kind "speech-mp3"
//	speech/index.json                      every clip with its labels
package speech

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/omniar/omniar/datasets"
)

// Kinds of the manifest entries.
const (
	KindWAV   = "speech"
	KindMP3   = "speech-mp3"
	KindIndex = "speech-index"
)

// Recipe names this builder's version; a change of it, of the plan or of
// the tools' versions makes Build rebuild instead of reusing files.
const Recipe = "speech/3"

// seed salts every deterministic choice (voices, splits, speeds, pitches).
const seed = "omniar-speech-1"

// Speeds (words per minute) and pitches (0–99) an utterance is drawn from.
var (
	speeds  = []int{130, 155, 175, 200, 225}
	pitches = []int{25, 38, 50, 62, 75}
)

// options shape a build; Build uses defaultOptions, tests shrink them.
type options struct {
	voices        int      // voices drawn from all (accent, variant) pairs; 0: all
	wordsPerVoice int      // texts from otherTexts each voice says
	digits        []string // texts every voice says
	words         []string // the other texts
	mp3Voices     int      // test voices whose digit words get MP3 copies
	workers       int      // parallel espeak-ng + conversion workers
}

func defaultOptions() options {
	return options{
		voices:        320,
		wordsPerVoice: 8,
		digits:        digitWords,
		words:         otherTexts,
		mp3Voices:     2,
		workers:       min(runtime.GOMAXPROCS(0), 4),
	}
}

// Build writes the speech data set under dir/speech/ and returns one entry
// per file (paths relative to dir), the index included, sorted by path. If
// dir/speech/index.json was written by the same recipe, plan and tools and
// every file it lists still matches its SHA-256, nothing is rebuilt.
// Missing tools or recordings give an error naming the Debian package and
// `make data-deps`.
func Build(ctx context.Context, src datasets.Sources, dir string) ([]datasets.Entry, error) {
	return build(ctx, src, dir, defaultOptions())
}

// BuildVoices is Build with only the first n voices (by rank), each saying
// the digits and two other texts: a quick build of the same recipe.
func BuildVoices(ctx context.Context, src datasets.Sources, dir string, n int) ([]datasets.Entry, error) {
	o := defaultOptions()
	o.voices, o.wordsPerVoice = n, 2
	return build(ctx, src, dir, o)
}

func build(ctx context.Context, src datasets.Sources, dir string, o options) ([]datasets.Entry, error) {
	t0 := time.Now()
	tools, err := checkSources(src)
	if err != nil {
		return nil, err
	}
	p, err := makePlan(ctx, tools, o)
	if err != nil {
		return nil, err
	}
	if entries, ok := reuse(dir, p.recipe); ok {
		slog.Info("speech: up to date", "dir", filepath.Join(dir, "speech"), "files", len(entries))
		return entries, nil
	}
	slog.Info("speech: building", "dir", filepath.Join(dir, "speech"), "voices", len(p.voices),
		"clips", len(p.jobs), "workers", o.workers)
	// A stale or damaged build is replaced whole, so that the directory
	// holds exactly what the index lists.
	if err := os.RemoveAll(filepath.Join(dir, "speech")); err != nil {
		return nil, fmt.Errorf("speech: clear %s: %w", filepath.Join(dir, "speech"), err)
	}
	entries, err := p.run(ctx, dir, tools, o.workers)
	if err != nil {
		return nil, err
	}
	idx, err := writeIndex(dir, p.recipe, entries)
	if err != nil {
		return nil, err
	}
	entries = append(entries, idx)
	logDone(entries, time.Since(t0))
	return entries, nil
}

// tools are the resolved programs and recordings a build uses.
type tools struct {
	espeak, lame string
	alsa         string // directory of the ALSA recordings
}

// checkSources finds espeak-ng, lame and the ALSA recordings.
func checkSources(src datasets.Sources) (tools, error) {
	var t tools
	var err error
	if t.espeak, err = datasets.NeedProgram(src.Espeak, src.FixApt()); err != nil {
		return t, fmt.Errorf("speech: Debian package espeak-ng: %w", err)
	}
	if t.lame, err = datasets.NeedProgram(src.Lame, src.FixApt()); err != nil {
		return t, fmt.Errorf("speech: Debian package lame: %w", err)
	}
	for _, r := range alsaRecordings {
		if err := datasets.NeedFile(filepath.Join(src.AlsaSounds, r.file), src.FixApt()); err != nil {
			return t, fmt.Errorf("speech: Debian package alsa-utils: %w", err)
		}
	}
	t.alsa = src.AlsaSounds
	return t, nil
}

// logDone logs the counts per split and the total size.
func logDone(entries []datasets.Entry, took time.Duration) {
	counts := map[string]int{}
	var size int64
	for _, e := range entries {
		counts[e.Kind+"/"+e.Split]++
		size += e.Size
	}
	slog.Info("speech: built", "files", len(entries), "bytes", size, "took", took.Round(time.Millisecond),
		"train", counts[KindWAV+"/train"], "val", counts[KindWAV+"/val"], "test", counts[KindWAV+"/test"],
		"mp3", counts[KindMP3+"/test"])
}

// slug turns a text into a file name: lower case, words joined by '-'.
func slug(text string) string {
	var b strings.Builder
	for _, w := range strings.Fields(strings.ToLower(text)) {
		if b.Len() > 0 {
			b.WriteByte('-')
		}
		for _, r := range w {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// tempDir makes a scratch directory for tool outputs.
func tempDir() (string, func(), error) {
	d, err := os.MkdirTemp("", "omniar-speech-*")
	if err != nil {
		return "", nil, fmt.Errorf("speech: scratch directory: %w", err)
	}
	return d, func() { os.RemoveAll(d) }, nil
}

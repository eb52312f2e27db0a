package speech

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os/exec"
	"sort"
	"strconv"
	"strings"

	"github.com/omniar/omniar/datasets"
)

// utterance is one espeak-ng clip to make.
type utterance struct {
	voice        voice
	text         string
	digit        int // 0–9, or -1
	speed, pitch int
	split        string
	rel          string // output path relative to the data directory
}

// labels are the utterance's manifest labels.
func (u utterance) labels() map[string]string {
	l := map[string]string{
		"text":    u.text,
		"voice":   u.voice.name(),
		"accent":  u.voice.accent,
		"variant": u.voice.variant,
		"speed":   strconv.Itoa(u.speed),
		"pitch":   strconv.Itoa(u.pitch),
		"source":  "espeak-ng",
	}
	if u.digit >= 0 {
		l["digit"] = strconv.Itoa(u.digit)
	}
	return l
}

// plan is everything a build makes, decided before anything runs.
type plan struct {
	voices []voice
	jobs   []utterance
	mp3    []utterance // utterances (of test voices) that get MP3 copies
	recipe string      // Recipe + a hash of the plan and the tools' versions
}

// makePlan lists the voices and decides every utterance.
func makePlan(ctx context.Context, t tools, o options) (*plan, error) {
	all, err := listVoices(ctx, t.espeak)
	if err != nil {
		return nil, fmt.Errorf("speech: %w", err)
	}
	voices := byRank(all, "select")
	if o.voices > 0 && o.voices < len(voices) {
		voices = voices[:o.voices]
	}
	p := &plan{voices: voices}
	splits := assignSplits(voices)
	for i, v := range voices {
		for _, text := range o.digits {
			p.jobs = append(p.jobs, newUtterance(v, text, digitOf(text), splits[v.name()]))
		}
		for j := 0; j < o.wordsPerVoice && len(o.words) > 0; j++ {
			text := o.words[(i*o.wordsPerVoice+j)%len(o.words)]
			p.jobs = append(p.jobs, newUtterance(v, text, -1, splits[v.name()]))
		}
	}
	p.jobs = dedupe(p.jobs)
	p.mp3 = pickMP3(p.jobs, o.mp3Voices)
	if p.recipe, err = recipeOf(ctx, t, p); err != nil {
		return nil, err
	}
	return p, nil
}

// digitOf is the digit a text says (its index in digitWords), or -1.
func digitOf(text string) int {
	for d, w := range digitWords {
		if w == text {
			return d
		}
	}
	return -1
}

func newUtterance(v voice, text string, digit int, split string) utterance {
	return utterance{
		voice: v, text: text, digit: digit, split: split,
		speed: speeds[rank("speed", v.name(), text)%uint64(len(speeds))],
		pitch: pitches[rank("pitch", v.name(), text)%uint64(len(pitches))],
		rel:   "speech/espeak/" + split + "/" + v.name() + "/" + slug(text) + ".wav",
	}
}

// dedupe drops repeated output paths (a text listed twice for a voice).
func dedupe(us []utterance) []utterance {
	seen := map[string]bool{}
	out := us[:0]
	for _, u := range us {
		if !seen[u.rel] {
			seen[u.rel] = true
			out = append(out, u)
		}
	}
	return out
}

// pickMP3 returns the digit utterances of the first n test voices (in
// voice-name order).
func pickMP3(jobs []utterance, n int) []utterance {
	var names []string
	byVoice := map[string][]utterance{}
	for _, u := range jobs {
		if u.split != "test" || u.digit < 0 {
			continue
		}
		if byVoice[u.voice.name()] == nil {
			names = append(names, u.voice.name())
		}
		byVoice[u.voice.name()] = append(byVoice[u.voice.name()], u)
	}
	sort.Strings(names)
	var out []utterance
	for _, name := range names[:min(n, len(names))] {
		out = append(out, byVoice[name]...)
	}
	return out
}

// recipeOf hashes the plan and the tools' versions into the recipe.
func recipeOf(ctx context.Context, t tools, p *plan) (string, error) {
	h := sha256.New()
	for _, prog := range []string{t.espeak, t.lame} {
		out, err := exec.CommandContext(ctx, prog, "--version").Output()
		if err != nil {
			return "", fmt.Errorf("speech: %s --version: %w", prog, err)
		}
		first, _, _ := strings.Cut(string(out), "\n")
		fmt.Fprintf(h, "%s\n", first)
	}
	for _, u := range p.jobs {
		fmt.Fprintf(h, "%s|%s|%d|%d|%s\n", u.rel, u.voice.arg(), u.speed, u.pitch, u.text)
	}
	for _, u := range p.mp3 {
		fmt.Fprintf(h, "mp3 %s %v\n", u.rel, lameArgs)
	}
	for _, r := range alsaRecordings {
		fmt.Fprintf(h, "alsa %s\n", r.file)
	}
	return Recipe + " " + hex.EncodeToString(h.Sum(nil))[:16], nil
}

// run makes every file of the plan and returns their entries by path.
func (p *plan) run(ctx context.Context, dir string, t tools, workers int) ([]datasets.Entry, error) {
	entries, err := synthesise(ctx, dir, t.espeak, p.jobs, workers)
	if err != nil {
		return nil, err
	}
	alsa, err := copyAlsa(ctx, dir, t.alsa)
	if err != nil {
		return nil, err
	}
	mp3s, err := encodeMP3s(ctx, dir, t.lame, p.mp3)
	if err != nil {
		return nil, err
	}
	entries = append(append(entries, alsa...), mp3s...)
	sort.Slice(entries, func(i, j int) bool { return entries[i].Path < entries[j].Path })
	return entries, nil
}

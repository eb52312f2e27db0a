// Package qa builds the understanding pairs: a question about an image,
// a clip, a recording or a quotation, and its short answer, in several
// phrasings per question and per split.
package qa

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/omniar/omniar/datasets"
	"github.com/omniar/omniar/datasets/digits"
)

// Pair is one question about one item.
type Pair struct {
	Modality string `json:"modality"` // image, video, audio, text
	Ref      string `json:"ref"`      // which item: "digits:<id>", "moving:<split>:<i>", "speech:<path>", "text:<split>:<i>"
	Question string `json:"question"`
	Answer   string `json:"answer"`
	Task     string `json:"task"` // digit, direction, digits, spoken, word, category
}

// Phrasings of each task's question; {d} is a digit word.
var Phrasings = map[string][]string{
	"digit":     {"what digit is this?", "which number is written here?", "what is the handwritten digit?", "name the digit in the picture."},
	"direction": {"which way does the {d} move?", "in which direction is the {d} moving?", "where is the {d} going?"},
	"digits":    {"which digits are in the video?", "what digits do you see?", "name the digits in this clip."},
	"spoken":    {"what number was said?", "which digit is spoken?", "what number do you hear?"},
	"word":      {"what was said?", "transcribe the audio.", "which words do you hear?"},
	"category":  {"which category is this quote from?", "what kind of fortune is this?", "name the category of this quotation."},
}

// DigitsAnswer is the answer to a "digits" question about clip c: its
// movers' digits named in ascending order ("four and eight"). In the
// movers' (random) order an exact-match answer to a two-digit clip would
// be a coin toss (data recipe v1 did that).
func DigitsAnswer(c digits.Clip) string {
	var labels []int
	for _, m := range c.Movers {
		labels = append(labels, m.Label)
	}
	slices.Sort(labels)
	var names []string
	for _, l := range labels {
		names = append(names, digits.Names[l])
	}
	return joinAnd(names)
}

func joinAnd(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	s := words[0]
	for _, w := range words[1 : len(words)-1] {
		s += ", " + w
	}
	return s + " and " + words[len(words)-1]
}

// Builder collects pairs with phrasings drawn from a generator seeded by
// each pair's ref, so a pair does not depend on the others.
type Builder struct{ pairs map[string][]Pair }

// NewBuilder starts an empty set.
func NewBuilder() *Builder { return &Builder{pairs: map[string][]Pair{}} }

// Add adds a question of task about ref to split.
func (b *Builder) Add(split, modality, ref, task, answer string, vars map[string]string) {
	h := fnv.New64a()
	h.Write([]byte(ref + "/" + task))
	rng := rand.New(rand.NewPCG(h.Sum64(), 7))
	ph := Phrasings[task]
	q := ph[rng.IntN(len(ph))]
	for k, v := range vars {
		q = strings.ReplaceAll(q, "{"+k+"}", v)
	}
	b.pairs[split] = append(b.pairs[split], Pair{Modality: modality, Ref: ref, Question: q, Answer: answer, Task: task})
}

// Write stores qa/<split>.jsonl for every split.
func (b *Builder) Write(dir string) ([]datasets.Entry, error) {
	var out []datasets.Entry
	for _, s := range datasets.Splits {
		var buf bytes.Buffer
		for _, p := range b.pairs[s] {
			line, _ := json.Marshal(p)
			buf.Write(append(line, '\n'))
		}
		e, err := datasets.WriteFile(dir, "qa/"+s+".jsonl", buf.Bytes(), s, "qa", nil)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// Count is the number of pairs of a split.
func (b *Builder) Count(split string) int { return len(b.pairs[split]) }

// Load reads the pairs of a split.
func Load(dir, split string) ([]Pair, error) {
	p := filepath.Join(dir, "qa", split+".jsonl")
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("load qa: %w", err)
	}
	var out []Pair
	for i, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var q Pair
		if err := json.Unmarshal(line, &q); err != nil {
			return nil, fmt.Errorf("%s line %d: %w (rerun `omniar data prepare`)", p, i+1, err)
		}
		out = append(out, q)
	}
	return out, nil
}

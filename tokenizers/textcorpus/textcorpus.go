// Package textcorpus gathers the project's text for the BPE tokenizer —
// quotations, captions, spoken-word texts, questions and answers — from a
// prepared data directory (`make data`), and measures a tokenizer on it.
package textcorpus

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/omniar/omniar/datasets/digits"
	"github.com/omniar/omniar/datasets/qa"
	"github.com/omniar/omniar/datasets/speech"
	"github.com/omniar/omniar/datasets/text"
	"github.com/omniar/omniar/tokenizers"
)

// Source is the documents of one data set.
type Source struct {
	Name string
	Docs []string
}

// Bytes is the total size of the documents.
func (s Source) Bytes() int {
	n := 0
	for _, d := range s.Docs {
		n += len(d)
	}
	return n
}

// Training returns the training text: the train split of the quotations,
// of every caption set (digit images, Moving-digits clips, spoken words) and
// of the questions and answers. Validation and test splits stay held out.
func Training(dir string) ([]Source, error) {
	loaders := []func(string) (Source, error){fortunesTrain, digitCaptions, movingCaptions, speechTexts, qaTrain}
	out := make([]Source, 0, len(loaders))
	for _, load := range loaders {
		start := time.Now()
		s, err := load(dir)
		if err != nil {
			return nil, fmt.Errorf("text corpus: %w", err)
		}
		slog.Debug("text corpus", "source", s.Name, "documents", len(s.Docs), "took", time.Since(start))
		out = append(out, s)
	}
	return out, nil
}

// Docs concatenates the documents of sources.
func Docs(sources []Source) []string {
	var out []string
	for _, s := range sources {
		out = append(out, s.Docs...)
	}
	return out
}

// Fortunes returns the quotations of a split ("train", "val" or "test").
func Fortunes(dir, split string) (Source, error) {
	qs, err := text.Load(dir, split)
	if err != nil {
		return Source{}, err
	}
	s := Source{Name: "fortunes/" + split}
	for _, q := range qs {
		s.Docs = append(s.Docs, q.Text)
	}
	return s, nil
}

func fortunesTrain(dir string) (Source, error) { return Fortunes(dir, "train") }

func digitCaptions(dir string) (Source, error) {
	set, err := digits.Load(dir)
	if err != nil {
		return Source{}, err
	}
	s := Source{Name: "digits/captions"}
	for _, d := range set.Digits {
		if d.Split == "train" {
			s.Docs = append(s.Docs, d.Caption)
		}
	}
	return s, nil
}

// movingCaptions reads the captions of the clip metadata only:
// digits.LoadMoving would also read the 1.4 GB pixel store, and decoding the
// trajectories would triple the time.
func movingCaptions(dir string) (Source, error) {
	p := filepath.Join(dir, "moving", "train.jsonl")
	f, err := os.Open(p)
	if err != nil {
		return Source{}, fmt.Errorf("moving captions: %w", err)
	}
	defer f.Close()
	s := Source{Name: "moving/captions"}
	dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<20))
	for dec.More() {
		var c struct {
			Captions []string `json:"captions"`
		}
		if err := dec.Decode(&c); err != nil {
			return Source{}, fmt.Errorf("moving captions %s: %w", p, err)
		}
		s.Docs = append(s.Docs, c.Captions...)
	}
	return s, nil
}

func speechTexts(dir string) (Source, error) {
	items, err := speech.Load(dir, "train")
	if err != nil {
		return Source{}, err
	}
	s := Source{Name: "speech/texts"}
	for _, it := range items {
		if t := it.Labels["text"]; t != "" {
			s.Docs = append(s.Docs, t)
		}
	}
	return s, nil
}

func qaTrain(dir string) (Source, error) {
	pairs, err := qa.Load(dir, "train")
	if err != nil {
		return Source{}, err
	}
	s := Source{Name: "qa/train"}
	for _, p := range pairs {
		s.Docs = append(s.Docs, p.Question, p.Answer)
	}
	return s, nil
}

// Stats is a measurement of a tokenizer on documents.
type Stats struct {
	Bytes, Tokens int
	Cold          time.Duration // first pass, filling the per-word cache
	Warm          time.Duration // later passes, per pass
	ColdCPU       time.Duration // process CPU time of the first pass (0 if unknown)
	WarmCPU       time.Duration // process CPU time per later pass
}

// BytesPerToken is the compression.
func (s Stats) BytesPerToken() float64 { return float64(s.Bytes) / float64(max(s.Tokens, 1)) }

// ColdMBps and WarmMBps are the encoding throughputs in MB/s (10^6 bytes)
// of wall-clock time.
func (s Stats) ColdMBps() float64 { return mbps(s.Bytes, s.Cold) }
func (s Stats) WarmMBps() float64 { return mbps(s.Bytes, s.Warm) }

// ColdCPUMBps and WarmCPUMBps are the throughputs in MB per CPU second,
// which a busy machine does not lower.
func (s Stats) ColdCPUMBps() float64 { return mbps(s.Bytes, s.ColdCPU) }
func (s Stats) WarmCPUMBps() float64 { return mbps(s.Bytes, s.WarmCPU) }

func mbps(n int, d time.Duration) float64 { return float64(n) / 1e6 / max(d.Seconds(), 1e-9) }

// Measure encodes docs once (cold cache) and then again for at least
// minWarm, checks that every document decodes back exactly, and returns
// the compression and timings.
func Measure(tok tokenizers.TextTokenizer, docs []string, minWarm time.Duration) (Stats, error) {
	bufs := make([][]byte, len(docs))
	var st Stats
	for i, d := range docs {
		bufs[i] = []byte(d)
		st.Bytes += len(d)
	}
	start, cpu := time.Now(), CPUTime()
	for i, b := range bufs {
		ids, err := tok.Encode(b)
		if err != nil {
			return st, fmt.Errorf("document %d: %w", i, err)
		}
		st.Tokens += len(ids)
	}
	st.Cold, st.ColdCPU = time.Since(start), CPUTime()-cpu
	passes := 0
	start, cpu = time.Now(), CPUTime()
	for passes == 0 || time.Since(start) < minWarm {
		for _, b := range bufs {
			_, _ = tok.Encode(b) // errors were caught in the cold pass
		}
		passes++
	}
	st.Warm = time.Since(start) / time.Duration(passes)
	st.WarmCPU = (CPUTime() - cpu) / time.Duration(passes)
	return st, checkRoundTrip(tok, bufs)
}

func checkRoundTrip(tok tokenizers.TextTokenizer, bufs [][]byte) error {
	for i, b := range bufs {
		ids, err := tok.Encode(b)
		if err != nil {
			return fmt.Errorf("document %d: %w", i, err)
		}
		back, err := tok.Decode(ids)
		if err != nil {
			return fmt.Errorf("document %d: %w", i, err)
		}
		if string(back) != string(b) {
			return fmt.Errorf("document %d does not decode back to itself", i)
		}
	}
	return nil
}

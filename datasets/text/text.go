// Package text builds the quotation corpus from Debian's fortunes package:
// every quotation with its category (the file it comes from), cleaned and
// split 90/5/5 with a fixed seed. It is the text of language modelling and
// of the "which category is this quote from?" understanding task.
package text

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/omniar/omniar/datasets"
)

// Quote is one quotation.
type Quote struct {
	Category string `json:"category"`
	Text     string `json:"text"`
	Split    string `json:"split"`
}

// Categories are the fortunes files used: every file of the package's
// default (inoffensive) collection.
func Categories(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("fortunes %s: %w", dir, err)
	}
	var cats []string
	for _, e := range ents {
		n := e.Name()
		if e.Type().IsRegular() && !strings.Contains(n, ".") {
			cats = append(cats, n)
		}
	}
	sort.Strings(cats)
	if len(cats) == 0 {
		return nil, fmt.Errorf("fortunes %s has no quotation files", dir)
	}
	return cats, nil
}

// Parse splits a fortunes file ("%" lines between entries) into cleaned
// quotations: valid UTF-8, backspace overstrikes removed, trailing spaces
// trimmed, tabs kept; empty entries dropped.
func Parse(category string, data []byte) []Quote {
	var out []Quote
	var cur []string
	flush := func() {
		t := strings.Trim(strings.Join(cur, "\n"), "\n")
		if strings.TrimSpace(t) != "" {
			out = append(out, Quote{Category: category, Text: t})
		}
		cur = cur[:0]
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "%" {
			flush()
			continue
		}
		cur = append(cur, clean(line))
	}
	flush()
	return out
}

// clean removes overstrikes ("_\bx" underlining, "x\bx" bold) and invalid
// UTF-8, and trims trailing white space.
func clean(line string) string {
	if !utf8.ValidString(line) {
		line = strings.ToValidUTF8(line, "")
	}
	if strings.ContainsRune(line, '\b') {
		var b []rune
		for _, r := range line {
			if r == '\b' {
				if len(b) > 0 {
					b = b[:len(b)-1]
				}
				continue
			}
			b = append(b, r)
		}
		line = string(b)
	}
	return strings.TrimRight(line, " \t\r")
}

// split assigns 90/5/5 by a hash of the text, so a quote's split does not
// depend on the rest of the corpus.
func split(q Quote) string {
	h := fnv.New64a()
	h.Write([]byte(q.Category + "\x00" + q.Text))
	switch v := h.Sum64() % 100; {
	case v < 90:
		return "train"
	case v < 95:
		return "val"
	}
	return "test"
}

// Build writes text/fortunes_<split>.jsonl.
func Build(src datasets.Sources, dir string) ([]Quote, []datasets.Entry, error) {
	cats, err := Categories(src.Fortunes)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s", err, src.FixApt())
	}
	var all []Quote
	seen := map[string]bool{}
	for _, c := range cats {
		b, err := os.ReadFile(filepath.Join(src.Fortunes, c))
		if err != nil {
			return nil, nil, fmt.Errorf("read fortunes: %w", err)
		}
		for _, q := range Parse(c, b) {
			if seen[q.Text] { // a few quotes are in two files
				continue
			}
			seen[q.Text] = true
			q.Split = split(q)
			all = append(all, q)
		}
	}
	var entries []datasets.Entry
	for _, s := range datasets.Splits {
		var buf bytes.Buffer
		for _, q := range all {
			if q.Split == s {
				b, _ := json.Marshal(q)
				buf.Write(append(b, '\n'))
			}
		}
		e, err := datasets.WriteFile(dir, "text/fortunes_"+s+".jsonl", buf.Bytes(), s, "text", nil)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	return all, entries, nil
}

// Load reads the quotations of a split.
func Load(dir, splitName string) ([]Quote, error) {
	p := filepath.Join(dir, "text", "fortunes_"+splitName+".jsonl")
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("load quotes: %w", err)
	}
	var out []Quote
	for i, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var q Quote
		if err := json.Unmarshal(line, &q); err != nil {
			return nil, fmt.Errorf("%s line %d: %w (rerun `omniar data prepare`)", p, i+1, err)
		}
		out = append(out, q)
	}
	return out, nil
}

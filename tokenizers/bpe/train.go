package bpe

import (
	"errors"
	"fmt"
	"sort"
)

// DefaultVocabSize is the default number of ids: special tokens, the 256
// byte tokens and the learned merges.
const DefaultVocabSize = 4096

// TrainConfig configures Train.
type TrainConfig struct {
	// VocabSize is the total number of ids (default DefaultVocabSize).
	// Training stops earlier when no pair occurs MinFrequency times.
	VocabSize int
	// MinFrequency is how often a pair must occur to be merged (default 2).
	MinFrequency int
	// Specials are the special tokens; they get ids 0..len(Specials)-1, the
	// byte b gets id len(Specials)+b, and merges follow.
	Specials []string
}

// Train learns a byte-level BPE vocabulary from docs (arbitrary bytes).
func Train(docs []string, cfg TrainConfig) (*Tokenizer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("train bpe: %w", err)
	}
	tokens, specials := initialTokens(cfg.Specials)
	tr := newTrainer(countWords(docs), len(specials))
	merges := tr.run(&tokens, cfg)
	t, err := newTokenizer(tokens, specials, merges, options{regex: true})
	if err != nil {
		return nil, fmt.Errorf("train bpe: %w", err)
	}
	return t, nil
}

func (c TrainConfig) withDefaults() (TrainConfig, error) {
	if c.VocabSize == 0 {
		c.VocabSize = DefaultVocabSize
	}
	if c.MinFrequency == 0 {
		c.MinFrequency = 2
	}
	if c.VocabSize < len(c.Specials)+256 {
		return c, fmt.Errorf("vocabulary size %d is below %d special + 256 byte tokens", c.VocabSize, len(c.Specials))
	}
	if c.MinFrequency < 1 {
		return c, fmt.Errorf("minimum frequency %d is below 1", c.MinFrequency)
	}
	seen := map[string]bool{}
	for _, s := range c.Specials {
		if s == "" || seen[s] {
			return c, errors.New("special tokens must be distinct and non-empty")
		}
		seen[s] = true
	}
	return c, nil
}

// initialTokens returns the specials followed by the 256 byte tokens.
func initialTokens(names []string) ([][]byte, []Special) {
	tokens := make([][]byte, 0, len(names)+256)
	specials := make([]Special, len(names))
	for i, s := range names {
		tokens = append(tokens, []byte(s))
		specials[i] = Special{ID: i, Content: s}
	}
	for b := 0; b < 256; b++ {
		tokens = append(tokens, []byte{byte(b)})
	}
	return tokens, specials
}

// countWords counts the pre-tokens of docs.
func countWords(docs []string) map[string]int64 {
	counts := map[string]int64{}
	for _, d := range docs {
		splitWords([]byte(d), func(w []byte) { counts[string(w)]++ })
	}
	return counts
}

// trainer holds the words being merged and the pair statistics.
type trainer struct {
	words  [][]int32          // distinct pre-tokens as current token ids
	counts []int64            // occurrences of each word
	pairs  map[uint64]int64   // pair key → occurrences in the corpus
	where  map[uint64][]int32 // pair key → words that contained it (may be stale)
	stamp  []int              // last step that visited each word
	heap   *heap[heapEntry]
}

// newTrainer spells every distinct word in byte tokens (byte b has id
// offset+b) and counts its pairs. Words are sorted so training is
// deterministic.
func newTrainer(counts map[string]int64, offset int) *trainer {
	keys := make([]string, 0, len(counts))
	for w := range counts {
		if len(w) > 1 {
			keys = append(keys, w)
		}
	}
	sort.Strings(keys)
	tr := &trainer{pairs: map[uint64]int64{}, where: map[uint64][]int32{}, stamp: make([]int, len(keys)),
		heap: &heap[heapEntry]{before: entryBefore}}
	for i, w := range keys {
		syms := make([]int32, len(w))
		for j := 0; j < len(w); j++ {
			syms[j] = int32(offset) + int32(w[j])
		}
		tr.words = append(tr.words, syms)
		tr.counts = append(tr.counts, counts[w])
		tr.addPairs(int32(i), -1)
	}
	for k, c := range tr.pairs {
		tr.heap.push(heapEntry{count: c, key: k})
	}
	return tr
}

// addPairs adds word wi's pairs to the counts and to the word lists of the
// pairs that contain id (every pair when id is -1).
func (tr *trainer) addPairs(wi int32, id int32) []uint64 {
	var added []uint64
	w, c := tr.words[wi], tr.counts[wi]
	for j := 0; j+1 < len(w); j++ {
		k := pair{w[j], w[j+1]}.key()
		tr.pairs[k] += c
		if id < 0 || w[j] == id || w[j+1] == id {
			tr.where[k] = append(tr.where[k], wi)
			added = append(added, k)
		}
	}
	return added
}

// removePairs subtracts word wi's pairs from the counts.
func (tr *trainer) removePairs(wi int32) {
	w, c := tr.words[wi], tr.counts[wi]
	for j := 0; j+1 < len(w); j++ {
		tr.pairs[pair{w[j], w[j+1]}.key()] -= c
	}
}

// run merges the most frequent pair until the vocabulary is full, appending
// the new tokens, and returns the merges in rank order.
func (tr *trainer) run(tokens *[][]byte, cfg TrainConfig) []pair {
	ids := map[string]int32{}
	for id, tok := range *tokens {
		if id >= len(cfg.Specials) {
			ids[string(tok)] = int32(id)
		}
	}
	var merges []pair
	for step := 1; len(*tokens) < cfg.VocabSize; step++ {
		k, ok := tr.best(int64(cfg.MinFrequency))
		if !ok {
			break
		}
		p := pair{int32(k >> 32), int32(uint32(k))}
		joined := append(append([]byte{}, (*tokens)[p.left]...), (*tokens)[p.right]...)
		id, exists := ids[string(joined)]
		if !exists {
			id = int32(len(*tokens))
			ids[string(joined)] = id
			*tokens = append(*tokens, joined)
		}
		merges = append(merges, p)
		tr.apply(p, id, step)
	}
	return merges
}

// best pops the most frequent pair (the smallest key among equals) whose
// count is at least min. Entries are lazy: a count that changed since the
// push is pushed again with its current value.
func (tr *trainer) best(min int64) (uint64, bool) {
	for tr.heap.len() > 0 {
		e := tr.heap.pop()
		c := tr.pairs[e.key]
		if c != e.count {
			if c > 0 {
				tr.heap.push(heapEntry{count: c, key: e.key})
			}
			continue
		}
		if c < min {
			return 0, false
		}
		return e.key, true
	}
	return 0, false
}

// apply merges pair p into id in every word that contains it and updates
// the pair statistics; pairs that gained occurrences are pushed again.
func (tr *trainer) apply(p pair, id int32, step int) {
	gained := map[uint64]bool{}
	for _, wi := range tr.where[p.key()] {
		if tr.stamp[wi] == step || !contains(tr.words[wi], p) {
			continue
		}
		tr.stamp[wi] = step
		tr.removePairs(wi)
		tr.words[wi] = mergeInPlace(tr.words[wi], p, id)
		for _, k := range tr.addPairs(wi, id) {
			gained[k] = true
		}
	}
	delete(tr.where, p.key())
	delete(tr.pairs, p.key())
	for k := range gained {
		if c := tr.pairs[k]; c > 0 {
			tr.heap.push(heapEntry{count: c, key: k})
		}
	}
}

func contains(w []int32, p pair) bool {
	for j := 0; j+1 < len(w); j++ {
		if w[j] == p.left && w[j+1] == p.right {
			return true
		}
	}
	return false
}

// mergeInPlace replaces each non-overlapping occurrence of p, left to right,
// by id.
func mergeInPlace(w []int32, p pair, id int32) []int32 {
	j := 0
	for i := 0; i < len(w); j++ {
		if i+1 < len(w) && w[i] == p.left && w[i+1] == p.right {
			w[j] = id
			i += 2
			continue
		}
		w[j] = w[i]
		i++
	}
	return w[:j]
}

// heapEntry is a pair and its count when pushed.
type heapEntry struct {
	count int64
	key   uint64
}

// entryBefore orders by count (descending), then key (ascending).
func entryBefore(a, b heapEntry) bool {
	return a.count > b.count || (a.count == b.count && a.key < b.key)
}

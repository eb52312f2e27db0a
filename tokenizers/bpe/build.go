package bpe

import "fmt"

// options are the pre-tokenizer and model flags of a tokenizer.json.
type options struct {
	regex          bool
	addPrefixSpace bool
	ignoreMerges   bool
}

// newTokenizer assembles a tokenizer from its id → bytes table (nil for
// holes), its special tokens and its merges in rank order. Every merge's
// parts and result must be ordinary tokens.
func newTokenizer(tokens [][]byte, specials []Special, merges []pair, o options) (*Tokenizer, error) {
	t := &Tokenizer{
		tokens:         tokens,
		ids:            make(map[string]int32, len(tokens)),
		specials:       specials,
		isSpec:         make([]bool, len(tokens)),
		ranks:          make(map[uint64]merge, len(merges)),
		regex:          o.regex,
		addPrefixSpace: o.addPrefixSpace,
		ignoreMerges:   o.ignoreMerges,
		cache:          map[string][]int{},
	}
	for _, s := range specials {
		if s.ID < 0 || s.ID >= len(tokens) || tokens[s.ID] == nil {
			return nil, fmt.Errorf("special token %q: id %d has no entry", s.Content, s.ID)
		}
		t.isSpec[s.ID] = true
	}
	if err := t.indexTokens(); err != nil {
		return nil, err
	}
	for i, p := range merges {
		if err := t.addMerge(i, p); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// indexTokens fills ids and byteID from the ordinary tokens.
func (t *Tokenizer) indexTokens() error {
	for b := range t.byteID {
		t.byteID[b] = -1
	}
	for id, tok := range t.tokens {
		if tok == nil || t.isSpec[id] {
			continue
		}
		if len(tok) == 0 {
			return fmt.Errorf("token %d is empty", id)
		}
		if prev, dup := t.ids[string(tok)]; dup {
			return fmt.Errorf("tokens %d and %d are both %q", prev, id, tok)
		}
		t.ids[string(tok)] = int32(id)
		if len(tok) == 1 {
			t.byteID[tok[0]] = int32(id)
		}
	}
	return nil
}

// addMerge records merge rule number rank; a repeated pair keeps its first
// (lowest) rank.
func (t *Tokenizer) addMerge(rank int, p pair) error {
	for _, id := range []int32{p.left, p.right} {
		if id < 0 || int(id) >= len(t.tokens) || t.tokens[id] == nil || t.isSpec[id] {
			return fmt.Errorf("merge %d: id %d is not an ordinary token", rank, id)
		}
	}
	joined := string(t.tokens[p.left]) + string(t.tokens[p.right])
	id, ok := t.ids[joined]
	if !ok {
		return fmt.Errorf("merge %d: result %q is not in the vocabulary", rank, joined)
	}
	t.merges = append(t.merges, p)
	if _, seen := t.ranks[p.key()]; !seen {
		t.ranks[p.key()] = merge{rank: int32(rank), id: id}
	}
	return nil
}

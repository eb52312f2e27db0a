// Package bpe is a byte-level byte-pair-encoding text tokenizer in the style
// of GPT-2: text is split into pre-tokens by GPT-2's regular expression, each
// pre-token's bytes start as 256 byte tokens, and learned merges join
// adjacent tokens in priority order. Files are Hugging Face tokenizer.json
// files (model type BPE, ByteLevel pre-tokenizer and decoder, special tokens
// as added_tokens), so other tools read them, and byte-level BPE files made
// by other tools load here.
//
// Decode(Encode(b)) == b for every byte string b, valid UTF-8 or not: tokens
// are raw bytes internally, and bytes that are not UTF-8 are pre-tokenized as
// punctuation. Special tokens are never produced from input text (a literal
// "<bos>" in the text is encoded as ordinary bytes), so user text cannot
// inject them; Decode writes a special token's content.
//
// Why not a library: github.com/sugarme/tokenizer (v0.3.0) ports the Hugging
// Face API, but its BPE trainer (model/bpe/trainer.go) replaces the map that
// holds the special tokens with the alphabet, writes stale heap counts back
// into the live pair counts, breaks count ties by wall-clock time, and prints
// to stdout. github.com/daulet/tokenizers binds the Rust library through
// cgo. So the trainer and encoder are written here. Training
// keeps incremental pair counts, the words each pair occurs in, and a lazy
// max-heap of pairs, so a merge costs time in proportion to the words that
// contain the merged pair, not to the corpus; encoding caches each
// pre-token's ids and merges a word with a min-heap of pair ranks.
package bpe

import (
	"errors"
	"fmt"
	"sync"
)

// ErrUnknownByte is returned when a loaded vocabulary has no token for a
// byte of the input (files trained here always have all 256).
var ErrUnknownByte = errors.New("byte has no token in the vocabulary")

// ErrBadID is returned for token ids outside the vocabulary.
var ErrBadID = errors.New("token id not in the vocabulary")

// Special is a special (added) token: an id whose content is never matched
// in input text.
type Special struct {
	ID      int
	Content string
}

// Tokenizer encodes bytes to token ids and back. It is safe for concurrent
// use.
type Tokenizer struct {
	tokens   [][]byte         // id → raw bytes; nil for holes in the id space
	ids      map[string]int32 // raw bytes → id of the ordinary tokens
	specials []Special
	isSpec   []bool           // id → is a special token
	merges   []pair           // rank → pair of ids
	ranks    map[uint64]merge // pair key → rank and resulting id
	byteID   [256]int32       // -1 when a byte has no token

	regex          bool // split pre-tokens with GPT2Pattern
	addPrefixSpace bool // prepend a space to text that does not start with one
	ignoreMerges   bool // a pre-token that is a whole token is not merged

	mu    sync.RWMutex
	cache map[string][]int
}

type pair struct{ left, right int32 }

func (p pair) key() uint64 { return uint64(uint32(p.left))<<32 | uint64(uint32(p.right)) }

type merge struct{ rank, id int32 }

// cacheLimit bounds the per-word cache; it is cleared when full.
const (
	cacheLimit   = 1 << 16
	cacheWordMax = 64 // longer pre-tokens are not cached
)

// VocabSize is the number of ids (one past the largest id).
func (t *Tokenizer) VocabSize() int { return len(t.tokens) }

// NumMerges is the number of merge rules.
func (t *Tokenizer) NumMerges() int { return len(t.merges) }

// Specials returns the special tokens in id order.
func (t *Tokenizer) Specials() []Special { return append([]Special(nil), t.specials...) }

// Token returns the bytes of id (a special token's content for specials).
func (t *Tokenizer) Token(id int) ([]byte, error) {
	if id < 0 || id >= len(t.tokens) || t.tokens[id] == nil {
		return nil, fmt.Errorf("%w: %d (vocabulary size %d)", ErrBadID, id, len(t.tokens))
	}
	return append([]byte(nil), t.tokens[id]...), nil
}

// ID returns the id of an ordinary token given by its raw bytes, or of a
// special token given by its content.
func (t *Tokenizer) ID(token string) (int, bool) {
	for _, s := range t.specials {
		if s.Content == token {
			return s.ID, true
		}
	}
	id, ok := t.ids[token]
	return int(id), ok
}

// IsSpecial reports whether id is a special token.
func (t *Tokenizer) IsSpecial(id int) bool { return id >= 0 && id < len(t.isSpec) && t.isSpec[id] }

// Decode returns the bytes of ids; special tokens give their content.
func (t *Tokenizer) Decode(ids []int) ([]byte, error) {
	n := 0
	for _, id := range ids {
		if id < 0 || id >= len(t.tokens) || t.tokens[id] == nil {
			return nil, fmt.Errorf("decode: %w: %d (vocabulary size %d)", ErrBadID, id, len(t.tokens))
		}
		n += len(t.tokens[id])
	}
	out := make([]byte, 0, n)
	for _, id := range ids {
		out = append(out, t.tokens[id]...)
	}
	return out, nil
}

// Encode returns the token ids of text. It fails only when a loaded
// vocabulary lacks a byte of text.
func (t *Tokenizer) Encode(text []byte) ([]int, error) {
	return t.AppendEncode(make([]int, 0, len(text)/2+8), text)
}

// EncodeString is Encode for a string.
func (t *Tokenizer) EncodeString(s string) ([]int, error) { return t.Encode([]byte(s)) }

// AppendEncode appends the token ids of text to dst.
func (t *Tokenizer) AppendEncode(dst []int, text []byte) ([]int, error) {
	if len(text) == 0 {
		return dst, nil
	}
	if t.addPrefixSpace && text[0] != ' ' {
		text = append([]byte{' '}, text...)
	}
	if !t.regex {
		return t.appendWord(dst, text)
	}
	for i := 0; i < len(text); {
		j := nextWord(text, i)
		var err error
		if dst, err = t.appendWord(dst, text[i:j]); err != nil {
			return dst, err
		}
		i = j
	}
	return dst, nil
}

// appendWord appends the tokens of one pre-token, using the cache.
func (t *Tokenizer) appendWord(dst []int, w []byte) ([]int, error) {
	if len(w) <= cacheWordMax {
		t.mu.RLock()
		ids, ok := t.cache[string(w)]
		t.mu.RUnlock()
		if ok {
			return append(dst, ids...), nil
		}
	}
	ids, err := t.encodeWord(w)
	if err != nil {
		return dst, err
	}
	if len(w) <= cacheWordMax {
		t.mu.Lock()
		if len(t.cache) >= cacheLimit {
			clear(t.cache)
		}
		t.cache[string(w)] = ids
		t.mu.Unlock()
	}
	return append(dst, ids...), nil
}

// encodeWord turns one pre-token into byte tokens and applies the merges.
func (t *Tokenizer) encodeWord(w []byte) ([]int, error) {
	if t.ignoreMerges {
		if id, ok := t.ids[string(w)]; ok {
			return []int{int(id)}, nil
		}
	}
	syms := make([]int32, len(w))
	for i, b := range w {
		id := t.byteID[b]
		if id < 0 {
			return nil, fmt.Errorf("encode: %w: 0x%02x", ErrUnknownByte, b)
		}
		syms[i] = id
	}
	syms = t.applyMerges(syms)
	out := make([]int, len(syms))
	for i, id := range syms {
		out[i] = int(id)
	}
	return out, nil
}

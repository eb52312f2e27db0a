package bpe

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// hfFile is the part of a Hugging Face tokenizer.json that a byte-level BPE
// tokenizer uses.
type hfFile struct {
	Version       string          `json:"version"`
	Truncation    json.RawMessage `json:"truncation"`
	Padding       json.RawMessage `json:"padding"`
	AddedTokens   []hfAddedToken  `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Model         hfModel         `json:"model"`
}

type hfAddedToken struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

type hfModel struct {
	Type                    string          `json:"type"`
	Dropout                 *float64        `json:"dropout"`
	UnkToken                *string         `json:"unk_token"`
	ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string         `json:"end_of_word_suffix"`
	FuseUnk                 bool            `json:"fuse_unk"`
	ByteFallback            bool            `json:"byte_fallback"`
	IgnoreMerges            bool            `json:"ignore_merges"`
	Vocab                   orderedVocab    `json:"vocab"`
	Merges                  json.RawMessage `json:"merges"`
}

// hfByteLevel is a ByteLevel pre-tokenizer, post-processor or decoder.
type hfByteLevel struct {
	Type           string `json:"type"`
	AddPrefixSpace bool   `json:"add_prefix_space"`
	TrimOffsets    bool   `json:"trim_offsets"`
	UseRegex       *bool  `json:"use_regex,omitempty"`
}

// hfComponent is any pre-tokenizer or decoder: its type and, for a
// Sequence, its parts.
type hfComponent struct {
	Type          string            `json:"type"`
	AddPrefix     bool              `json:"add_prefix_space"`
	UseRegex      *bool             `json:"use_regex"`
	PreTokenizers []json.RawMessage `json:"pretokenizers"`
	Decoders      []json.RawMessage `json:"decoders"`
}

// orderedVocab is model.vocab: token string → id, written in id order.
type orderedVocab struct {
	byID []string       // for writing; "" for holes
	m    map[string]int // for reading
}

func (v orderedVocab) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	for id, tok := range v.byID {
		if tok == "" {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		k, err := marshalNoHTMLEscape(tok)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "%s:%d", k, id)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshalNoHTMLEscape is json.Marshal without escaping <, > and &, so
// special tokens stay readable.
func marshalNoHTMLEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func (v *orderedVocab) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, &v.m) }

// Load reads a tokenizer.json file.
func Load(path string) (*Tokenizer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	defer f.Close()
	t, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer %s: %w", path, err)
	}
	return t, nil
}

// Read reads a Hugging Face tokenizer.json with a byte-level BPE model: model
// type BPE without dropout, unknown token, byte fallback or word affixes; a
// ByteLevel pre-tokenizer (alone or in a Sequence); no normalizer. Merges may
// be "a b" strings or ["a", "b"] pairs. Every added token becomes a special
// token (decoded to its content, never matched in text); the post-processor
// is ignored.
func Read(r io.Reader) (*Tokenizer, error) {
	var f hfFile
	if err := json.NewDecoder(r).Decode(&f); err != nil {
		return nil, fmt.Errorf("parse tokenizer.json: %w", err)
	}
	o, err := f.options()
	if err != nil {
		return nil, err
	}
	tokens, specials, err := f.tokens()
	if err != nil {
		return nil, err
	}
	merges, err := f.merges(tokens, specials)
	if err != nil {
		return nil, err
	}
	return newTokenizer(tokens, specials, merges, o)
}

// options checks the components and returns the encoding flags.
func (f *hfFile) options() (options, error) {
	m := f.Model
	switch {
	case m.Type != "" && m.Type != "BPE":
		return options{}, fmt.Errorf("model type %q is not supported (want BPE)", m.Type)
	case m.Dropout != nil && *m.Dropout != 0:
		return options{}, errors.New("BPE dropout is not supported")
	case m.UnkToken != nil, m.ByteFallback:
		return options{}, errors.New("unk_token and byte_fallback are not supported (byte-level BPE has no unknown bytes)")
	case m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "",
		m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "":
		return options{}, errors.New("continuing_subword_prefix and end_of_word_suffix are not supported")
	case !isNull(f.Normalizer):
		return options{}, errors.New("normalizers are not supported")
	}
	o := options{ignoreMerges: m.IgnoreMerges}
	found, err := parsePreTokenizer(f.PreTokenizer, &o)
	if err != nil {
		return options{}, err
	}
	if !found {
		return options{}, errors.New("pre_tokenizer has no ByteLevel step: not a byte-level BPE")
	}
	if err := checkDecoder(f.Decoder); err != nil {
		return options{}, err
	}
	return o, nil
}

func isNull(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "" || s == "null"
}

// parsePreTokenizer accepts ByteLevel, or a Sequence of ByteLevel steps.
func parsePreTokenizer(raw json.RawMessage, o *options) (bool, error) {
	if isNull(raw) {
		return false, nil
	}
	var c hfComponent
	if err := json.Unmarshal(raw, &c); err != nil {
		return false, fmt.Errorf("pre_tokenizer: %w", err)
	}
	switch c.Type {
	case "ByteLevel":
		o.regex = o.regex || c.UseRegex == nil || *c.UseRegex
		o.addPrefixSpace = o.addPrefixSpace || c.AddPrefix
		return true, nil
	case "Sequence":
		found := false
		for _, p := range c.PreTokenizers {
			ok, err := parsePreTokenizer(p, o)
			if err != nil {
				return false, err
			}
			found = found || ok
		}
		return found, nil
	}
	return false, fmt.Errorf("pre_tokenizer %q is not supported (want ByteLevel)", c.Type)
}

// checkDecoder accepts no decoder, ByteLevel, or a Sequence of ByteLevel.
func checkDecoder(raw json.RawMessage) error {
	if isNull(raw) {
		return nil
	}
	var c hfComponent
	if err := json.Unmarshal(raw, &c); err != nil {
		return fmt.Errorf("decoder: %w", err)
	}
	switch c.Type {
	case "ByteLevel":
		return nil
	case "Sequence":
		for _, d := range c.Decoders {
			if err := checkDecoder(d); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("decoder %q is not supported (want ByteLevel)", c.Type)
}

// maxVocab bounds the ids a file may use (the largest published
// vocabularies have about 262k), so a corrupt file cannot make Read
// allocate without limit.
const maxVocab = 1 << 20

// tokens builds the id → bytes table from model.vocab and added_tokens.
func (f *hfFile) tokens() ([][]byte, []Special, error) {
	n := 0
	for _, id := range f.Model.Vocab.m {
		n = max(n, id+1)
	}
	for _, a := range f.AddedTokens {
		n = max(n, a.ID+1)
	}
	if n > maxVocab {
		return nil, nil, fmt.Errorf("token id %d is above the limit %d", n-1, maxVocab-1)
	}
	tokens := make([][]byte, n)
	specials, err := f.addedTokens(tokens)
	if err != nil {
		return nil, nil, err
	}
	for s, id := range f.Model.Vocab.m {
		if err := setVocabToken(tokens, s, id); err != nil {
			return nil, nil, err
		}
	}
	return tokens, specials, nil
}

// addedTokens places the added tokens in tokens and returns them sorted by id.
func (f *hfFile) addedTokens(tokens [][]byte) ([]Special, error) {
	specials := make([]Special, 0, len(f.AddedTokens))
	for _, a := range f.AddedTokens {
		if a.ID < 0 || a.Content == "" {
			return nil, fmt.Errorf("added token %q has id %d", a.Content, a.ID)
		}
		if tokens[a.ID] != nil {
			return nil, fmt.Errorf("added tokens share id %d", a.ID)
		}
		tokens[a.ID] = []byte(a.Content)
		specials = append(specials, Special{ID: a.ID, Content: a.Content})
	}
	sortSpecials(specials)
	return specials, nil
}

func sortSpecials(s []Special) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].ID < s[j-1].ID; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// setVocabToken puts vocabulary entry s at id; an added token may repeat
// its own entry.
func setVocabToken(tokens [][]byte, s string, id int) error {
	if id < 0 {
		return fmt.Errorf("vocab entry %q has id %d", s, id)
	}
	if tokens[id] != nil {
		if string(tokens[id]) == s {
			return nil // an added token listed in the vocabulary too
		}
		return fmt.Errorf("vocab entries %q and %q share id %d", tokens[id], s, id)
	}
	raw, err := fromUnicode(s)
	if err != nil {
		return fmt.Errorf("vocab: %w", err)
	}
	tokens[id] = raw
	return nil
}

// merges parses model.merges in either layout and maps the parts to ids.
func (f *hfFile) merges(tokens [][]byte, specials []Special) ([]pair, error) {
	parts, err := mergeParts(f.Model.Merges)
	if err != nil {
		return nil, err
	}
	ids := make(map[string]int32, len(tokens))
	spec := map[int]bool{}
	for _, s := range specials {
		spec[s.ID] = true
	}
	for id, tok := range tokens {
		if tok != nil && !spec[id] {
			ids[toUnicode(tok)] = int32(id)
		}
	}
	out := make([]pair, len(parts))
	for i, p := range parts {
		l, okl := ids[p[0]]
		r, okr := ids[p[1]]
		if !okl || !okr {
			return nil, fmt.Errorf("merge %d (%q %q): part not in the vocabulary", i, p[0], p[1])
		}
		out[i] = pair{l, r}
	}
	return out, nil
}

// mergeParts accepts ["a b", …] (tokenizers < 0.20) or [["a","b"], …].
func mergeParts(raw json.RawMessage) ([][2]string, error) {
	if isNull(raw) {
		return nil, nil
	}
	var pairs [][2]string
	if err := json.Unmarshal(raw, &pairs); err == nil {
		return pairs, nil
	}
	var lines []string
	if err := json.Unmarshal(raw, &lines); err != nil {
		return nil, fmt.Errorf("merges: want [\"a b\", …] or [[\"a\", \"b\"], …]: %w", err)
	}
	pairs = make([][2]string, len(lines))
	for i, l := range lines {
		a, b, ok := strings.Cut(l, " ")
		if !ok || a == "" || b == "" || strings.Contains(b, " ") {
			return nil, fmt.Errorf("merge %d %q: want two tokens separated by one space", i, l)
		}
		pairs[i] = [2]string{a, b}
	}
	return pairs, nil
}

// Save writes the tokenizer as tokenizer.json to path, through a temporary
// file renamed into place.
func (t *Tokenizer) Save(path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("save tokenizer: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("save tokenizer: %w", err)
	}
	if err := t.Write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("save tokenizer %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save tokenizer %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save tokenizer: %w", err)
	}
	return nil
}

// Write writes the tokenizer as a Hugging Face tokenizer.json: model.vocab
// in id order (special tokens included, as the Hugging Face trainer does),
// merges as "a b" strings (readable by every tokenizers version), special
// tokens as added_tokens, ByteLevel pre-tokenizer, post-processor and
// decoder.
func (t *Tokenizer) Write(w io.Writer) error {
	f, err := t.hfFile()
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return fmt.Errorf("write tokenizer.json: %w", err)
	}
	return nil
}

func (t *Tokenizer) hfFile() (*hfFile, error) {
	vocab, err := t.vocabStrings()
	if err != nil {
		return nil, err
	}
	merges := make([]string, len(t.merges))
	for i, p := range t.merges {
		merges[i] = vocab[p.left] + " " + vocab[p.right]
	}
	mergesJSON, err := json.Marshal(merges)
	if err != nil {
		return nil, err
	}
	useRegex := t.regex
	pre, _ := json.Marshal(hfByteLevel{Type: "ByteLevel", AddPrefixSpace: t.addPrefixSpace, TrimOffsets: true, UseRegex: &useRegex})
	post, _ := json.Marshal(hfByteLevel{Type: "ByteLevel", AddPrefixSpace: t.addPrefixSpace, TrimOffsets: false, UseRegex: &useRegex})
	dec, _ := json.Marshal(hfByteLevel{Type: "ByteLevel", AddPrefixSpace: t.addPrefixSpace, TrimOffsets: true, UseRegex: &useRegex})
	added := make([]hfAddedToken, len(t.specials))
	for i, s := range t.specials {
		added[i] = hfAddedToken{ID: s.ID, Content: s.Content, Special: true}
	}
	null := json.RawMessage("null")
	return &hfFile{
		Version: "1.0", Truncation: null, Padding: null, AddedTokens: added,
		Normalizer: null, PreTokenizer: pre, PostProcessor: post, Decoder: dec,
		Model: hfModel{Type: "BPE", IgnoreMerges: t.ignoreMerges, Vocab: orderedVocab{byID: vocab}, Merges: mergesJSON},
	}, nil
}

// vocabStrings spells every id as model.vocab does: byte-level unicode for
// ordinary tokens, the content for special tokens.
func (t *Tokenizer) vocabStrings() ([]string, error) {
	out := make([]string, len(t.tokens))
	seen := make(map[string]int, len(t.tokens))
	for id, tok := range t.tokens {
		if tok == nil {
			continue
		}
		s := string(tok)
		if !t.isSpec[id] {
			s = toUnicode(tok)
		}
		if prev, dup := seen[s]; dup {
			return nil, fmt.Errorf("write tokenizer.json: ids %d and %d are both spelled %q", prev, id, s)
		}
		seen[s] = id
		out[id] = s
	}
	return out, nil
}

package tokenizers

import (
	"fmt"

	"github.com/omniar/omniar/tokenizers/bpe"
)

// DefaultTextPath is the shipped text tokenizer, relative to the module root.
const DefaultTextPath = "assets/tokenizer.json"

// TextTokenizer is a text tokenizer whose ids are global ids of the text range.
type TextTokenizer interface {
	Encode(text []byte) ([]int, error)
	Decode(ids []int) ([]byte, error)
	VocabSize() int
}

var _ TextTokenizer = (*bpe.Tokenizer)(nil)

// LoadText loads a tokenizer.json and checks that its ids 0..NumSpecial-1
// are this package's special tokens, so its ids are global ids.
func LoadText(path string) (*bpe.Tokenizer, error) {
	tok, err := bpe.Load(path)
	if err != nil {
		return nil, err
	}
	if err := CheckText(tok); err != nil {
		return nil, fmt.Errorf("text tokenizer %s: %w", path, err)
	}
	return tok, nil
}

// CheckText reports whether tok's special tokens are exactly SpecialTokens,
// at ids 0..NumSpecial-1.
func CheckText(tok *bpe.Tokenizer) error {
	sp := tok.Specials()
	if len(sp) != NumSpecial {
		return fmt.Errorf("has %d special tokens, want %d (retrain with `omniar tokenizer train --modality text`)", len(sp), NumSpecial)
	}
	for i, s := range sp {
		if s.ID != i || s.Content != specialName(i) {
			return fmt.Errorf("special token %q has id %d, want %q at %d", s.Content, s.ID, specialName(i), i)
		}
	}
	return nil
}

// TrainText trains a text tokenizer with the unified special tokens.
func TrainText(docs []string, vocabSize int) (*bpe.Tokenizer, error) {
	return bpe.Train(docs, bpe.TrainConfig{VocabSize: vocabSize, Specials: SpecialTokens()})
}

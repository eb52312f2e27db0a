// Package tokenizers defines the unified vocabulary of OmniAR's token
// sequences — the special tokens and the id ranges of text, visual and audio
// codes — and loads the text tokenizer (package tokenizers/bpe) that fills
// the text range.
//
// Global ids are laid out as
//
//	[0, NumSpecial)                      special tokens (Pad, BOS, EOS, …)
//	[NumSpecial, TextSize)               text tokens: 256 bytes, then BPE merges
//	[TextSize, TextSize+VisualBooks*VisualCodes)
//	                                     visual codes, codebook by codebook
//	[…, Size)                            audio codes, depth by depth (one
//	                                     range for all depths when shared)
//
// The special tokens are ids 0..NumSpecial-1 of the text tokenizer too, so a
// text token id is its global id.
package tokenizers

import (
	"errors"
	"fmt"
)

// Special token ids. They are fixed: the text tokenizer stores the same ids.
const (
	Pad        = iota // padding
	BOS               // start of a sequence
	EOS               // end of a sequence
	TextOpen          // <text>
	TextClose         // </text>
	ImageOpen         // <image>
	ImageClose        // </image>
	VideoOpen         // <video>
	VideoClose        // </video>
	AudioOpen         // <audio>
	AudioClose        // </audio>
	Answer            // <answer>: the answer to a question follows
	Frame             // <frame>: a video frame's scales follow
	Scale             // <scale>: separates the scales of a frame
	numNamed
)

// NumSpecial is the number of ids reserved for special tokens: the named
// ones and spares named <reserved_N>, so new specials keep every other id
// stable.
const NumSpecial = 32

var specialNames = [numNamed]string{
	"<pad>", "<bos>", "<eos>", "<text>", "</text>", "<image>", "</image>",
	"<video>", "</video>", "<audio>", "</audio>", "<answer>", "<frame>", "<scale>",
}

// SpecialTokens returns the contents of ids 0..NumSpecial-1.
func SpecialTokens() []string {
	out := make([]string, NumSpecial)
	for i := range out {
		out[i] = specialName(i)
	}
	return out
}

func specialName(id int) string {
	if id < numNamed {
		return specialNames[id]
	}
	return fmt.Sprintf("<reserved_%d>", id)
}

// SpecialID returns the id of a special token such as "<bos>".
func SpecialID(name string) (int, error) {
	for id := 0; id < NumSpecial; id++ {
		if specialName(id) == name {
			return id, nil
		}
	}
	return 0, fmt.Errorf("no special token %q", name)
}

// SpecialName returns the content of special id.
func SpecialName(id int) (string, error) {
	if id < 0 || id >= NumSpecial {
		return "", fmt.Errorf("%w: %d is not a special id [0, %d)", ErrOutOfRange, id, NumSpecial)
	}
	return specialName(id), nil
}

// ErrOutOfRange is returned for ids or codes outside their range.
var ErrOutOfRange = errors.New("id out of range")

// Modality is the kind of a global id.
type Modality int

// Modalities in id order.
const (
	Special Modality = iota
	Text
	Visual
	Audio
)

func (m Modality) String() string {
	switch m {
	case Special:
		return "special"
	case Text:
		return "text"
	case Visual:
		return "visual"
	case Audio:
		return "audio"
	}
	return fmt.Sprintf("Modality(%d)", int(m))
}

// Config sizes the vocabulary.
type Config struct {
	TextSize    int  `json:"text_size"`    // text tokenizer's vocabulary, specials included
	VisualBooks int  `json:"visual_books"` // visual codebooks (1 = one shared codebook)
	VisualCodes int  `json:"visual_codes"` // codes per visual codebook
	AudioDepths int  `json:"audio_depths"` // residual VQ depths
	AudioCodes  int  `json:"audio_codes"`  // codes per audio codebook
	AudioShared bool `json:"audio_shared"` // all depths share one codebook (one id range)
}

// DefaultConfig is the layout of the shipped models: a 4096-id text
// tokenizer, one shared visual codebook of 256 codes, and 8 audio depths of
// 256 codes each.
func DefaultConfig() Config {
	return Config{TextSize: 4096, VisualBooks: 1, VisualCodes: 256, AudioDepths: 8, AudioCodes: 256}
}

// Vocab maps modality-local codes to global ids and back.
type Vocab struct {
	cfg                     Config
	visualStart, audioStart int
	size                    int
}

// maxSize keeps every id within int32 (the samplers and files use it).
const maxSize = 1 << 31

// New checks cfg and lays out the id ranges.
func New(cfg Config) (Vocab, error) {
	switch {
	case cfg.TextSize < NumSpecial+256:
		return Vocab{}, fmt.Errorf("vocab: text size %d is below %d specials + 256 bytes", cfg.TextSize, NumSpecial)
	case cfg.VisualBooks < 0, cfg.VisualCodes < 0, cfg.AudioDepths < 0, cfg.AudioCodes < 0:
		return Vocab{}, fmt.Errorf("vocab: negative size in %+v", cfg)
	case cfg.VisualBooks > maxSize || cfg.VisualCodes > maxSize || cfg.AudioDepths > maxSize || cfg.AudioCodes > maxSize:
		return Vocab{}, fmt.Errorf("vocab: size above %d in %+v", maxSize, cfg)
	}
	v := Vocab{cfg: cfg, visualStart: cfg.TextSize}
	v.audioStart = v.visualStart + cfg.VisualBooks*cfg.VisualCodes
	v.size = v.audioStart + v.audioBooks()*cfg.AudioCodes
	if v.size > maxSize {
		return Vocab{}, fmt.Errorf("vocab: %d ids do not fit in int32", v.size)
	}
	return v, nil
}

// audioBooks is the number of audio id blocks.
func (v Vocab) audioBooks() int {
	if v.cfg.AudioShared && v.cfg.AudioDepths > 0 {
		return 1
	}
	return v.cfg.AudioDepths
}

// Config returns the configuration the vocabulary was built from.
func (v Vocab) Config() Config { return v.cfg }

// Size is the number of global ids (the embedding and output size).
func (v Vocab) Size() int { return v.size }

// Range returns the ids [lo, hi) of modality m.
func (v Vocab) Range(m Modality) (lo, hi int) {
	switch m {
	case Special:
		return 0, NumSpecial
	case Text:
		return NumSpecial, v.cfg.TextSize
	case Visual:
		return v.visualStart, v.audioStart
	case Audio:
		return v.audioStart, v.size
	}
	return 0, 0
}

// ModalityOf returns the modality of a global id.
func (v Vocab) ModalityOf(id int) (Modality, error) {
	for _, m := range []Modality{Special, Text, Visual, Audio} {
		if lo, hi := v.Range(m); id >= lo && id < hi {
			return m, nil
		}
	}
	return 0, fmt.Errorf("%w: %d is not in [0, %d)", ErrOutOfRange, id, v.size)
}

// layout returns the first id, the number of books and the codes per book
// of modality m. Special and text ids are one book whose codes are the ids.
func (v Vocab) layout(m Modality) (start, books, codes int, err error) {
	switch m {
	case Special:
		return 0, 1, NumSpecial, nil
	case Text:
		return 0, 1, v.cfg.TextSize, nil
	case Visual:
		return v.visualStart, v.cfg.VisualBooks, v.cfg.VisualCodes, nil
	case Audio:
		return v.audioStart, v.cfg.AudioDepths, v.cfg.AudioCodes, nil
	}
	return 0, 0, 0, fmt.Errorf("vocab: unknown modality %d", int(m))
}

// Global returns the global id of code in codebook book of modality m.
// Books are visual codebooks or audio depths (with a shared audio codebook
// every depth maps to the same ids); special and text use book 0 and code =
// id.
func (v Vocab) Global(m Modality, book, code int) (int, error) {
	start, books, codes, err := v.layout(m)
	if err != nil {
		return 0, err
	}
	if book < 0 || book >= books || code < 0 || code >= codes {
		return 0, fmt.Errorf("%w: %s book %d code %d (have %d books of %d codes)", ErrOutOfRange, m, book, code, books, codes)
	}
	if m == Audio && v.cfg.AudioShared {
		book = 0
	}
	return start + book*codes + code, nil
}

// Local returns the modality, codebook and code of a global id. With a
// shared audio codebook the depth is not in the id and book is 0.
func (v Vocab) Local(id int) (m Modality, book, code int, err error) {
	m, err = v.ModalityOf(id)
	if err != nil {
		return 0, 0, 0, err
	}
	start, _, codes, _ := v.layout(m)
	return m, (id - start) / codes, (id - start) % codes, nil
}

// GlobalCodes appends the global ids of codes (all in one book) to dst.
func (v Vocab) GlobalCodes(dst []int, m Modality, book int, codes []int) ([]int, error) {
	for i, c := range codes {
		id, err := v.Global(m, book, c)
		if err != nil {
			return dst, fmt.Errorf("code %d: %w", i, err)
		}
		dst = append(dst, id)
	}
	return dst, nil
}

// LocalCodes appends the codes of ids to dst; every id must belong to book
// of modality m.
func (v Vocab) LocalCodes(dst []int, m Modality, book int, ids []int) ([]int, error) {
	want, err := v.Global(m, book, 0)
	if err != nil {
		return dst, err
	}
	_, _, codes, _ := v.layout(m)
	for i, id := range ids {
		if id < want || id >= want+codes {
			return dst, fmt.Errorf("id %d (position %d): %w: not in %s book %d [%d, %d)", id, i, ErrOutOfRange, m, book, want, want+codes)
		}
		dst = append(dst, id-want)
	}
	return dst, nil
}

package bpe

import (
	"unicode"
	"unicode/utf8"
)

// GPT2Pattern is the pre-tokenisation regular expression of GPT-2 (and of the
// Hugging Face ByteLevel pre-tokenizer with use_regex). Go's regexp has no
// look-ahead, so splitWords implements it by hand; the tests check it against
// the pattern's behaviour case by case.
const GPT2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

// Character classes of the pattern. Bytes that are not valid UTF-8 count as
// "other" (the [^\s\p{L}\p{N}] class), so any byte string splits into pieces
// that concatenate back to it.
const (
	classLetter = iota
	classNumber
	classSpace
	classOther
)

// classAt returns the class of the rune starting at b[i] and its length.
func classAt(b []byte, i int) (int, int) {
	c := b[i]
	if c < utf8.RuneSelf {
		return asciiClass[c], 1
	}
	r, n := utf8.DecodeRune(b[i:])
	switch {
	case r == utf8.RuneError && n == 1:
		return classOther, 1
	case unicode.IsLetter(r):
		return classLetter, n
	case unicode.IsNumber(r):
		return classNumber, n
	case unicode.IsSpace(r):
		return classSpace, n
	}
	return classOther, n
}

var asciiClass = func() (t [utf8.RuneSelf]int) {
	for c := range t {
		r := rune(c)
		switch {
		case unicode.IsLetter(r):
			t[c] = classLetter
		case unicode.IsNumber(r):
			t[c] = classNumber
		case unicode.IsSpace(r):
			t[c] = classSpace
		default:
			t[c] = classOther
		}
	}
	return t
}()

// splitWords calls fn with each pre-token of b, in order, as GPT2Pattern
// would split it. The pieces are sub-slices of b and cover it exactly.
func splitWords(b []byte, fn func(word []byte)) {
	for i := 0; i < len(b); {
		j := nextWord(b, i)
		fn(b[i:j])
		i = j
	}
}

// nextWord returns the end of the pre-token that starts at b[i].
func nextWord(b []byte, i int) int {
	if n := contraction(b[i:]); n > 0 {
		return i + n
	}
	start := i
	if b[i] == ' ' && i+1 < len(b) {
		if c, _ := classAt(b, i+1); c != classSpace {
			start = i + 1 // " ?" prefix of a letter, number or other run
		}
	}
	c, n := classAt(b, start)
	if c == classSpace {
		return spaceRun(b, i)
	}
	return sameClassRun(b, start+n, c)
}

// contraction matches 's 't 're 've 'm 'll 'd at the start of b.
func contraction(b []byte) int {
	if len(b) < 2 || b[0] != '\'' {
		return 0
	}
	switch b[1] {
	case 's', 't', 'm', 'd':
		return 2
	}
	if len(b) >= 3 {
		switch string(b[1:3]) {
		case "re", "ve", "ll":
			return 3
		}
	}
	return 0
}

// sameClassRun returns the end of the run of class c that continues at i.
func sameClassRun(b []byte, i, c int) int {
	for i < len(b) {
		ci, n := classAt(b, i)
		if ci != c {
			break
		}
		i += n
	}
	return i
}

// spaceRun implements `\s+(?!\S)|\s+` at i: a whitespace run at the end of
// the input is taken whole; before a non-space it leaves its last rune to
// prefix the next word, unless that rune is the whole run.
func spaceRun(b []byte, i int) int {
	end, last := i, i
	for end < len(b) {
		c, n := classAt(b, end)
		if c != classSpace {
			break
		}
		last = end
		end += n
	}
	if end == len(b) || last == i {
		return end
	}
	return last
}

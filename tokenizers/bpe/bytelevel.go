package bpe

import (
	"fmt"
	"unicode/utf8"
)

// The GPT-2 byte-to-unicode mapping: every byte gets a printable rune so that
// tokens can be stored as JSON strings. Printable Latin-1 bytes map to
// themselves; the other 68 (controls, space, DEL, NBSP, soft hyphen) map to
// U+0100 upwards in byte order, so the space byte is 'Ġ' (U+0120).
var (
	byteToRune [256]rune
	runeToByte = map[rune]byte{}
)

func init() {
	n := rune(0)
	for b := 0; b < 256; b++ {
		if printableByte(byte(b)) {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = 256 + n
			n++
		}
		runeToByte[byteToRune[b]] = byte(b)
	}
}

// printableByte reports whether GPT-2 maps b to itself: '!'..'~', '¡'..'¬'
// and '®'..'ÿ'.
func printableByte(b byte) bool {
	return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE
}

// toUnicode spells raw token bytes in the byte-level alphabet.
func toUnicode(raw []byte) string {
	out := make([]byte, 0, 2*len(raw))
	for _, b := range raw {
		out = utf8.AppendRune(out, byteToRune[b])
	}
	return string(out)
}

// fromUnicode turns a byte-level spelling back into raw bytes; it fails on
// runes outside the 256-rune alphabet.
func fromUnicode(s string) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		b, ok := runeToByte[r]
		if !ok {
			return nil, fmt.Errorf("token %q: rune %U is not in the byte-level alphabet", s, r)
		}
		out = append(out, b)
	}
	return out, nil
}

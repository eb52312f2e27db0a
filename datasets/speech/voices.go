package speech

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os/exec"
	"regexp"
	"sort"
	"strings"
)

// voice is one speaker of the data set: an espeak-ng English accent
// combined with a voice variant. Splits are held out by voice.
type voice struct {
	accent  string // language code, e.g. "en-gb-scotland"
	file    string // voice file for -v, e.g. "gmw/en-GB-scotland"
	variant string // variant file name, e.g. "m3"
}

// name is the voice's label and directory name, e.g. "en-us+m3".
func (v voice) name() string { return v.accent + "+" + v.variant }

// arg is the -v argument, e.g. "gmw/en-US+m3".
func (v voice) arg() string { return v.file + "+" + v.variant }

// safeName matches voice and variant file names usable in -v and paths.
var safeName = regexp.MustCompile(`^[A-Za-z0-9_/-]+$`)

// listVoices returns every (accent, variant) pair espeak-ng offers: the
// English voices that are not mbrola voices (those need packages the
// project does not install) and the variants whose file names have no
// spaces, sorted by name.
func listVoices(ctx context.Context, espeak string) ([]voice, error) {
	accents, err := voiceTable(ctx, espeak, "en")
	if err != nil {
		return nil, err
	}
	variants, err := voiceTable(ctx, espeak, "variant")
	if err != nil {
		return nil, err
	}
	var out []voice
	for _, a := range accents {
		if !strings.HasPrefix(a[0], "en") || strings.HasPrefix(a[1], "mb/") || strings.HasPrefix(a[1], "!v/") {
			continue
		}
		for _, v := range variants {
			if name, ok := strings.CutPrefix(v[1], "!v/"); ok {
				out = append(out, voice{accent: a[0], file: a[1], variant: name})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name() < out[j].name() })
	if len(out) == 0 {
		return nil, fmt.Errorf("`%s --voices=en` lists no English voices with variants", espeak)
	}
	return out, nil
}

// voiceTable runs `espeak-ng --voices=<lang>` and returns the (language,
// file) pairs of its rows, skipping files whose names contain spaces.
func voiceTable(ctx context.Context, espeak, lang string) ([][2]string, error) {
	out, err := exec.CommandContext(ctx, espeak, "--voices="+lang).Output()
	if err != nil {
		return nil, fmt.Errorf("%s --voices=%s: %w", espeak, lang, err)
	}
	return parseVoiceTable(string(out)), nil
}

// parseVoiceTable reads the (language, file) pairs of a voice listing.
func parseVoiceTable(out string) [][2]string {
	var rows [][2]string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// Pty Language Age/Gender VoiceName File [(Other Languages)...]
		if len(f) < 5 || f[0] == "Pty" || len(f) > 5 && !strings.HasPrefix(f[5], "(") || !safeName.MatchString(strings.TrimPrefix(f[4], "!v/")) {
			continue
		}
		rows = append(rows, [2]string{f[1], f[4]})
	}
	return rows
}

// rank is a deterministic pseudo-random key of its parts: SHA-256 of the
// seed and the parts, so orders and choices never depend on a library's
// random number generator.
func rank(parts ...string) uint64 {
	h := sha256.Sum256([]byte(seed + "\x00" + strings.Join(parts, "\x00")))
	return binary.BigEndian.Uint64(h[:8])
}

// byRank sorts voices by rank under a salt (ties by name).
func byRank(vs []voice, salt string) []voice {
	out := append([]voice(nil), vs...)
	sort.Slice(out, func(i, j int) bool {
		ri, rj := rank(salt, out[i].name()), rank(salt, out[j].name())
		if ri != rj {
			return ri < rj
		}
		return out[i].name() < out[j].name()
	})
	return out
}

// assignSplits maps each voice to train, val or test by its variant (the
// speaker timbre): 10% of variants test, 10% val (at least one each when
// there are three or more), by rank, so no test speaker is heard in
// training under any accent.
func assignSplits(vs []voice) map[string]string {
	seen := map[string]bool{}
	var variants []voice
	for _, v := range vs {
		if !seen[v.variant] {
			seen[v.variant] = true
			variants = append(variants, voice{variant: v.variant})
		}
	}
	n := len(variants)
	nTest, nVal := (n+5)/10, (n+5)/10
	if n >= 3 {
		nTest, nVal = max(nTest, 1), max(nVal, 1)
	}
	byVariant := make(map[string]string, n)
	for i, v := range byRank(variants, "split") {
		switch {
		case i < nTest:
			byVariant[v.variant] = "test"
		case i < nTest+nVal:
			byVariant[v.variant] = "val"
		default:
			byVariant[v.variant] = "train"
		}
	}
	split := make(map[string]string, len(vs))
	for _, v := range vs {
		split[v.name()] = byVariant[v.variant]
	}
	return split
}

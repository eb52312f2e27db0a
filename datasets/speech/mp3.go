package speech

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/omniar/omniar/audio"
	"github.com/omniar/omniar/datasets"
)

// lameArgs make a mono 64 kbit/s MP3 (MPEG-2 layer III at 16 kHz). lame's
// output is deterministic (two runs give identical bytes; the build test
// checks it), and at 64 kbit/s the first frame holds the LAME tag, so
// audio.DecodeMP3 trims the encoder delay and padding exactly.
var lameArgs = []string{"--quiet", "--nohist", "-m", "m", "-b", "64"}

// encodeMP3s makes an MP3 of each utterance's WAV with lame, checks that
// it decodes in Go to as many samples as the WAV has, and writes it under
// speech/mp3/ in the test split.
func encodeMP3s(ctx context.Context, dir, lame string, us []utterance) ([]datasets.Entry, error) {
	scratch, cleanup, err := tempDir()
	if err != nil {
		return nil, err
	}
	defer cleanup()
	var out []datasets.Entry
	for _, u := range us {
		e, err := encodeMP3(ctx, dir, lame, filepath.Join(scratch, "out.mp3"), u)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func encodeMP3(ctx context.Context, dir, lame, tmp string, u utterance) (datasets.Entry, error) {
	wavPath := filepath.Join(dir, filepath.FromSlash(u.rel))
	args := append(append([]string(nil), lameArgs...), wavPath, tmp)
	if out, err := exec.CommandContext(ctx, lame, args...).CombinedOutput(); err != nil {
		return datasets.Entry{}, fmt.Errorf("speech: %s %s: %w: %s", lame, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	data, err := os.ReadFile(tmp)
	if err != nil {
		return datasets.Entry{}, fmt.Errorf("speech: lame output %s: %w", tmp, err)
	}
	if err := checkMP3(data, wavPath); err != nil {
		return datasets.Entry{}, err
	}
	labels := maps.Clone(u.labels())
	labels["wav"] = u.rel
	rel := "speech/mp3/" + u.voice.name() + "/" + slug(u.text) + ".mp3"
	return datasets.WriteFile(dir, rel, data, "test", KindMP3, labels)
}

// checkMP3 decodes an MP3 made from wavPath and compares the lengths.
func checkMP3(data []byte, wavPath string) error {
	m, err := audio.DecodeMP3(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("speech: MP3 of %s: %w", wavPath, err)
	}
	w, err := audio.ReadFile(wavPath)
	if err != nil {
		return fmt.Errorf("speech: %w", err)
	}
	if m.Rate != w.Rate || len(m.Samples) != len(w.Samples) {
		return fmt.Errorf("speech: MP3 of %s decodes to %d Hz × %d samples, the WAV has %d Hz × %d",
			wavPath, m.Rate, len(m.Samples), w.Rate, len(w.Samples))
	}
	return nil
}

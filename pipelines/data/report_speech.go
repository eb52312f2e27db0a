package data

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/omniar/omniar/audio"
	"github.com/omniar/omniar/datasets"
	"github.com/omniar/omniar/datasets/speech"
)

// speechSection counts clips and voices per split and draws the log-mel
// spectrogram of a spoken digit of a test voice.
func speechSection(dir, pics string) (string, error) {
	var b strings.Builder
	b.WriteString("## Speech\n\nSpoken digits and words by espeak-ng (16 kHz mono), split by speaker variant, plus the real recordings of alsa-utils as an extra test set and MP3 copies (lame) of part of the test set:\n\n| split | clips | voices | digit clips | seconds |\n|---|---:|---:|---:|---:|\n")
	var example *speech.Item
	for _, split := range datasets.Splits {
		items, err := speech.Load(dir, split)
		if err != nil {
			return "", err
		}
		voices := map[string]bool{}
		digits, n := 0, 0
		var secs float64
		for i, it := range items {
			if it.Kind != speech.KindWAV {
				continue
			}
			n++
			voices[it.Labels["voice"]] = true
			if _, ok := it.Labels["digit"]; ok {
				digits++
				if split == "test" && example == nil && it.Labels["source"] == "espeak-ng" {
					example = &items[i]
				}
			}
			if st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(it.Path))); err == nil {
				secs += float64(st.Size()-44) / 2 / audio.ModelRate // 16-bit PCM after a 44-byte header
			}
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %.0f |\n", split, n, len(voices), digits, secs)
	}
	if example == nil {
		return b.String() + "\n", nil
	}
	clip, err := example.Audio()
	if err != nil {
		return "", err
	}
	mel := audio.MelSpectrogram(clip, audio.DefaultMelConfig())
	if err := plotMel(filepath.Join(pics, "spectrogram.png"), mel, fmt.Sprintf("“%s”, test voice %s", example.Labels["text"], example.Labels["voice"])); err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "\nLog-mel spectrogram (80 mels, 10 ms hop) of “%s” by the test voice %s:\n\n![spectrogram](data/spectrogram.png)\n\n", example.Labels["text"], example.Labels["voice"])
	return b.String(), nil
}

// melGrid adapts a [frames][mels] spectrogram to plotter.GridXYZ.
type melGrid [][]float32

func (g melGrid) Dims() (c, r int)   { return len(g), len(g[0]) }
func (g melGrid) Z(c, r int) float64 { return float64(g[c][r]) }
func (g melGrid) X(c int) float64    { return float64(c) * 0.01 }
func (g melGrid) Y(r int) float64    { return float64(r) }

func plotMel(path string, mel [][]float32, title string) error {
	if len(mel) == 0 {
		return fmt.Errorf("plot %s: empty spectrogram", path)
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "seconds"
	p.Y.Label.Text = "mel bin"
	p.Add(plotter.NewHeatMap(melGrid(mel), moreland.SmoothBlueRed().Palette(64)))
	return p.Save(6*vg.Inch, 3*vg.Inch, path)
}

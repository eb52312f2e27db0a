package data

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/omniar/omniar/datasets"
	"github.com/omniar/omniar/datasets/clips"
	"github.com/omniar/omniar/datasets/digits"
)

// digitsSection draws ten test digits of every class.
func digitsSection(dir, pics string) (string, error) {
	set, err := digits.Load(dir)
	if err != nil {
		return "", err
	}
	rows := make([][][]uint8, 10)
	for _, d := range set.Digits {
		if d.Split == "test" && len(rows[d.Label]) < 10 {
			rows[d.Label] = append(rows[d.Label], set.Image(d.ID))
		}
	}
	if err := writePNG(filepath.Join(pics, "digits.png"), grid(rows, digits.Size, digits.Size)); err != nil {
		return "", err
	}
	n := map[string]int{}
	for _, d := range set.Digits {
		n[d.Split]++
	}
	return fmt.Sprintf("## Digits\n\n%d real handwritten digits (opencv-doc `digits.png`, 20×20), split by instance, stratified: %d train, %d val, %d test. Ten test digits of each class:\n\n![test digits](data/digits.png)\n\n",
		len(set.Digits), n["train"], n["val"], n["test"]), nil
}

// movingSection draws frames 0, 4, 8, 12 and 16 of the first test clips
// with their captions.
func movingSection(dir, pics string) (string, error) {
	var b strings.Builder
	b.WriteString("## Moving-digits\n\n")
	for _, split := range datasets.Splits {
		mv, err := digits.LoadMoving(dir, split)
		if err != nil {
			return "", err
		}
		one, touch, half := 0, 0, 0 // two-digit clips whose glyph boxes overlap in frame 0, by more than half
		for _, c := range mv.Clips {
			switch o := c.Overlap(0); {
			case len(c.Movers) == 1:
				one++
			case o > 0.5:
				half++
				fallthrough
			case o > 0:
				touch++
			}
		}
		two := max(len(mv.Clips)-one, 1)
		fmt.Fprintf(&b, "- %s: %d clips of %d×%d×%d (%d with one digit, %d with two; in %.1f %% of these the two %d-px glyph boxes overlap in frame 0, by more than half in %.1f %%), digits of the %s split only\n",
			split, len(mv.Clips), digits.Frames, digits.Canvas, digits.Canvas, one, len(mv.Clips)-one, 100*float64(touch)/float64(two), digits.Glyph, 100*float64(half)/float64(two), split)
	}
	mv, err := digits.LoadMoving(dir, "test")
	if err != nil {
		return "", err
	}
	var rows [][][]uint8
	b.WriteString("\nTest clips, frames 0, 4, 8, 12, 16 (one row a clip), with their captions:\n\n![Moving-digits test clips](data/moving.png)\n\n")
	for i := 0; i < 6 && i < len(mv.Clips); i++ {
		clip := mv.Store.Clip(i)
		var row [][]uint8
		for f := 0; f < digits.Frames; f += 4 {
			row = append(row, clip[f*digits.Canvas*digits.Canvas:(f+1)*digits.Canvas*digits.Canvas])
		}
		rows = append(rows, row)
		fmt.Fprintf(&b, "%d. %s\n", i+1, strings.Join(quoteAll(mv.Clips[i].Captions), " · "))
	}
	b.WriteString("\n")
	return b.String(), writePNG(filepath.Join(pics, "moving.png"), grid(rows, digits.Canvas, digits.Canvas))
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = "“" + v + "”"
	}
	return out
}

// clipsSection draws frames of real test and train clips.
func clipsSection(dir, pics string) (string, error) {
	var b strings.Builder
	b.WriteString("## Real video clips\n\n17-frame grey clips from the opencv-doc sample videos, centre-cropped and resized to 64×64 and 128×128, split by source file:\n\n| split | size | clips | sources |\n|---|---:|---:|---|\n")
	var rows [][][]uint8
	for _, split := range []string{"train", "test"} {
		for _, size := range []int{64, 128} {
			s, err := clips.Open(filepath.Join(dir, filepath.FromSlash(clips.FileName(split, size))))
			if errors.Is(err, fs.ErrNotExist) {
				continue // a reduced recipe
			}
			if err != nil {
				return "", err
			}
			var names []string
			for _, src := range s.Index.Sources {
				names = append(names, src.File)
			}
			fmt.Fprintf(&b, "| %s | %d | %d | %s |\n", split, size, s.Len(), strings.Join(names, ", "))
			if size == 64 {
				for _, i := range []int{s.Len() / 4, s.Len() * 3 / 4} {
					var row [][]uint8
					for f := 0; f < s.Shape().T; f += 4 {
						row = append(row, s.Frame(i, f))
					}
					rows = append(rows, row)
				}
			}
		}
	}
	b.WriteString("\nTwo train clips, then two test clips, frames 0, 4, 8, 12, 16 at 64×64:\n\n![real clips](data/clips.png)\n\n")
	return b.String(), writePNG(filepath.Join(pics, "clips.png"), grid(rows, 64, 64))
}

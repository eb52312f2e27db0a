package digits

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/omniar/omniar/datasets"
	"github.com/omniar/omniar/datasets/store"
)

// ClipBytes is the size of one rendered clip.
const ClipBytes = Frames * Canvas * Canvas

// BuildMoving renders n clips of a split from that split's digit instances
// into moving/<split>.u8 (a store of [n, Frames, Canvas, Canvas] uint8) and
// their metadata into moving/<split>.jsonl (one Clip per line).
func BuildMoving(ctx context.Context, s *Set, dir, split string, n int) ([]Clip, []datasets.Entry, error) {
	ids := s.IDs(split)
	if len(ids) == 0 || n <= 0 {
		return nil, nil, fmt.Errorf("moving-digits %s: %d clips from %d digits", split, n, len(ids))
	}
	glyphs := s.Glyphs()
	clips := make([]Clip, n)
	pixels := make([]uint8, n*ClipBytes)
	var meta bytes.Buffer
	for i := range clips {
		if i%1000 == 0 && ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		clips[i] = NewClip(s, split, i, ids)
		Render(clips[i], glyphs, pixels[i*ClipBytes:(i+1)*ClipBytes])
		line, _ := json.Marshal(clips[i])
		meta.Write(append(line, '\n'))
	}
	rel := "moving/" + split + ".u8"
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, nil, fmt.Errorf("moving-digits: %w", err)
	}
	if err := store.Write(p, store.Shape{T: Frames, H: Canvas, W: Canvas, C: 1}, pixels, nil); err != nil {
		return nil, nil, err
	}
	e1, err := datasets.AddFile(dir, rel, split, "moving", map[string]string{"clips": fmt.Sprint(n), "shape": fmt.Sprintf("%dx%dx%dx%d", n, Frames, Canvas, Canvas)})
	if err != nil {
		return nil, nil, err
	}
	e2, err := datasets.WriteFile(dir, "moving/"+split+".jsonl", meta.Bytes(), split, "moving", nil)
	if err != nil {
		return nil, nil, err
	}
	return clips, []datasets.Entry{e1, e2}, nil
}

// Moving is a split of Moving-digits: the clip store and its metadata.
type Moving struct {
	Store *store.Store
	Clips []Clip
}

// LoadMoving opens a split of a prepared directory.
func LoadMoving(dir, split string) (*Moving, error) {
	st, err := store.Open(filepath.Join(dir, "moving", split+".u8"))
	if err != nil {
		return nil, err
	}
	d := st.Shape()
	if d.T != Frames || d.H != Canvas || d.W != Canvas || d.C != 1 {
		return nil, fmt.Errorf("moving-digits %s: store has clips of %+v, want %d×%d×%d grey", split, d, Frames, Canvas, Canvas)
	}
	p := filepath.Join(dir, "moving", split+".jsonl")
	var clips []Clip
	if err := readLines(p, func(b []byte) error {
		var c Clip
		if err := json.Unmarshal(b, &c); err != nil {
			return err
		}
		clips = append(clips, c)
		return nil
	}); err != nil {
		return nil, err
	}
	if len(clips) != st.Len() {
		return nil, fmt.Errorf("moving-digits %s: %d clips in %s but %d in the store (rerun `omniar data prepare`)", split, len(clips), p, st.Len())
	}
	return &Moving{Store: st, Clips: clips}, nil
}

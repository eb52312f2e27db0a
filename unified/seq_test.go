package unified

import (
	"testing"

	"github.com/omniar/omniar/nn"
	tk "github.com/omniar/omniar/tokenizers"
)

// TestLayoutMixed lays out text, a two-frame video and an audio chunk and
// checks groups, targets, rope positions and the mask.
func TestLayoutMixed(t *testing.T) {
	v, err := tk.New(tk.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	vis := func(c int) int { id, _ := v.Global(tk.Visual, 0, c); return id }
	aud := func(d, c int) int { id, _ := v.Global(tk.Audio, d, c); return id }
	l, err := BuildLayout(v,
		Text(tk.BOS, tk.TextOpen, 40, 41, tk.TextClose),
		Segment{Scales: []int{1, 2}, Frames: [][][]int{{{7}, {1, 2, 3, 4}}, {{8}, {5, 6, 7, 9}}}},
		Segment{ChunkLen: 2, Chunks: [][][]int{{{10, 11}, {12, 13}}}},
		Text(tk.EOS))
	if err != nil {
		t.Fatal(err)
	}
	ig := nn.IgnoreIndex
	want := []struct {
		kind          Kind
		group, target int
		rope          [NumAxes]float64
	}{
		{KindToken, 0, tk.TextOpen, [4]float64{0}},
		{KindToken, 1, 40, [4]float64{1}},
		{KindToken, 2, 41, [4]float64{2}},
		{KindToken, 3, tk.TextClose, [4]float64{3}},
		{KindToken, 4, tk.VideoOpen, [4]float64{4}},
		{KindToken, 5, ig, [4]float64{5}}, // <video>: the first scale is predicted at its own position
		{KindVector, 6, vis(7), [4]float64{6, 0, 0.5, 0.5}},
		{KindVector, 7, vis(1), [4]float64{6, 1, 0, 0}},
		{KindVector, 7, vis(2), [4]float64{6, 1, 0, 1}},
		{KindVector, 7, vis(3), [4]float64{6, 1, 1, 0}},
		{KindVector, 7, vis(4), [4]float64{6, 1, 1, 1}},
		{KindVector, 8, vis(8), [4]float64{7, 0, 0.5, 0.5}},
		{KindVector, 9, vis(5), [4]float64{7, 1, 0, 0}},
		{KindVector, 9, vis(6), [4]float64{7, 1, 0, 1}},
		{KindVector, 9, vis(7), [4]float64{7, 1, 1, 0}},
		{KindVector, 9, vis(9), [4]float64{7, 1, 1, 1}},
		{KindToken, 10, tk.AudioOpen, [4]float64{8}},
		{KindToken, 11, ig, [4]float64{9}},
		{KindVector, 12, aud(0, 10), [4]float64{10, 0, 0, 0}},
		{KindVector, 12, aud(0, 11), [4]float64{10, 0, 1, 0}},
		{KindVector, 13, aud(1, 12), [4]float64{10, 1, 0, 0}},
		{KindVector, 13, aud(1, 13), [4]float64{10, 1, 1, 0}},
		{KindToken, 14, tk.EOS, [4]float64{11}},
		{KindToken, 15, ig, [4]float64{12}},
	}
	if l.Len() != len(want) || l.Groups != 16 {
		t.Fatalf("%d positions in %d groups, want %d in 16", l.Len(), l.Groups, len(want))
	}
	for i, w := range want {
		p := l.Pos[i]
		if p.Kind != w.kind || p.Group != w.group || p.Target != w.target || p.Rope != w.rope {
			t.Errorf("position %d: kind %d group %d target %d rope %v, want %d %d %d %v", i, p.Kind, p.Group, p.Target, p.Rope, w.kind, w.group, w.target, w.rope)
		}
	}
	m := l.Mask()
	for i := 0; i < l.Len(); i++ {
		for j := 0; j < l.Len(); j++ {
			if got, ok := m.Allow[i*l.Len()+j], want[j].group <= want[i].group; got != ok {
				t.Fatalf("mask[%d][%d] = %v, want %v", i, j, got, ok)
			}
		}
	}
	if lo, hi := l.Span(9); lo != 12 || hi != 16 {
		t.Errorf("span of group 9 = [%d, %d), want [12, 16)", lo, hi)
	}
	pos, err := l.RopePositions(6, 8, 2)
	if err != nil || len(pos) != 4 || pos[0] != 6 || pos[1] != 0 || pos[3] != 1 {
		t.Errorf("rope positions %v %v", pos, err)
	}
	tags := l.Tags()
	if tags[0] != int(tk.Special) || tags[2] != int(tk.Text) || tags[6] != int(tk.Visual) || tags[18] != int(tk.Audio) {
		t.Errorf("tags %v", tags)
	}
}

func TestLayoutErrors(t *testing.T) {
	v, err := tk.New(tk.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	vis, _ := v.Global(tk.Visual, 0, 1)
	for name, segs := range map[string][]Segment{
		"visual id as text": {Text(vis)},
		"empty segment":     {{}},
		"two forms":         {{Tokens: []int{1}, ChunkLen: 1, Chunks: [][][]int{{{1}}}}},
		"scales decrease":   {{Scales: []int{2, 1}, Frames: [][][]int{{nil, nil}}}},
		"wrong code count":  {{Scales: []int{1, 2}, Frames: [][][]int{{{1}, {1, 2}}}}},
		"code out of range": {{Scales: []int{1}, Frames: [][][]int{{{256}}}}},
		"image of 2 frames": {{Image: true, Scales: []int{1}, Frames: [][][]int{{nil}, {nil}}}},
		"audio chunk len":   {{ChunkLen: 0, Chunks: [][][]int{{{1}}}}},
	} {
		if _, err := BuildLayout(v, segs...); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A side may repeat (a second quantizer depth at that side).
	if _, err := BuildLayout(v, Segment{Scales: []int{1, 2, 2}, Frames: [][][]int{{{1}, {1, 2, 3, 4}, {5, 6, 7, 8}}}}); err != nil {
		t.Errorf("scales 1,2,2: %v", err)
	}
}

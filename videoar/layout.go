package videoar

import (
	"fmt"

	"github.com/omniar/omniar/nn"
	"github.com/omniar/omniar/tokenizers"
	"github.com/omniar/omniar/unified"
)

// Layout is the token sequence of one sample, laid out by the unified
// grammar (unified.BuildLayout): Prompt text positions (<bos>, the prompt,
// <pad>s), <video>, the cells of every scale of every latent frame, and
// </video>. A text token is a group of its own; a scale of a frame is one
// group (next-group-of-tokens). With Raster every position is a group of
// its own (Config.Raster).
type Layout struct {
	*unified.Layout
	Prompt, Frames int
	Scales         []int
	PerFrame       int   // visual positions per frame
	Text           []int // sequence rows of the token positions, in order
	Vis            []int // sequence rows of the visual positions, in order
	Raster         bool  // one code per step, a causal mask
	scaleStart     []int // offset of each scale within a frame
}

// NewLayout lays out a prompt of prompt tokens and frames latent frames.
func NewLayout(prompt, frames int, scales []int) (Layout, error) {
	l := Layout{Prompt: prompt, Frames: frames, Scales: scales}
	for _, k := range scales {
		l.scaleStart = append(l.scaleStart, l.PerFrame)
		l.PerFrame += k * k
	}
	text := make([]int, prompt) // the ids are per sample; the layout needs only their count
	vid := unified.Segment{Scales: scales, Frames: make([][][]int, frames)}
	for f := range vid.Frames {
		vid.Frames[f] = make([][]int, len(scales))
	}
	v, err := tokenizers.New(tokenizers.DefaultConfig()) // only the grammar's special ids are looked up
	if err != nil {
		return l, err
	}
	if l.Layout, err = unified.BuildLayout(v, unified.Text(text...), vid); err != nil {
		return l, fmt.Errorf("videoar layout: %w", err)
	}
	for i, p := range l.Pos {
		if p.Kind == unified.KindToken {
			l.Text = append(l.Text, i)
		} else {
			l.Vis = append(l.Vis, i)
		}
	}
	return l, nil
}

// TextIDs is the id of every token position: the prompt ids (PromptIDs)
// and the grammar's own tokens (<video>, </video>).
func (l Layout) TextIDs(prompt []int) []int {
	ids := make([]int, len(l.Text))
	copy(ids, prompt)
	for i := len(prompt); i < len(ids); i++ {
		ids[i] = l.Pos[l.Text[i]].Token
	}
	return ids
}

// Positions are the rotary positions of rows [lo, hi) for a split of axes
// axes: the four of multi-scale temporal RoPE, or for one axis the row
// itself (Config.Rope1D).
func (l Layout) Positions(lo, hi, axes int) ([]float64, error) {
	if axes != 1 {
		return l.RopePositions(lo, hi, axes)
	}
	if lo < 0 || hi > l.Len() || lo > hi {
		return nil, fmt.Errorf("videoar layout: rows [%d, %d) outside [0, %d)", lo, hi, l.Len())
	}
	out := make([]float64, 0, hi-lo)
	for r := lo; r < hi; r++ {
		out = append(out, float64(r))
	}
	return out, nil
}

// Visual is the number of visual positions.
func (l Layout) Visual() int { return len(l.Vis) }

// Start is the visual index of the first cell of (frame, scale).
func (l Layout) Start(frame, scale int) int { return frame*l.PerFrame + l.scaleStart[scale] }

// Cell is the position of visual index v.
func (l Layout) Cell(v int) unified.Position { return l.Pos[l.Vis[v]] }

// Mask is the attention mask: block-causal over the groups, or causal in
// raster order.
func (l Layout) Mask() *nn.Mask {
	if l.Raster {
		return nn.CausalMask(l.Len())
	}
	return l.Layout.Mask()
}

// step is what one decoder pass produces: cells [i, i+n) of scale s of
// latent frame f.
type step struct{ f, s, i, n int }

// v is the visual index of the step's first cell.
func (l Layout) v(st step) int { return l.Start(st.f, st.s) + st.i }

// steps are the decoder passes over the first frames latent frames, in
// order: one per scale of a frame, or one per cell in raster order.
func (l Layout) steps(frames int) []step {
	var out []step
	for f := range frames {
		for s, k := range l.Scales {
			if !l.Raster {
				out = append(out, step{f, s, 0, k * k})
				continue
			}
			for i := range k * k {
				out = append(out, step{f, s, i, 1})
			}
		}
	}
	return out
}

// FrameMask is the mask (Mask) with attention from later frames to
// the hidden frames removed (the prompt and a frame's own positions stay
// visible): training's random frame mask.
func (l Layout) FrameMask(hidden []bool) []bool {
	t := l.Len()
	allow := append([]bool(nil), l.Mask().Allow...)
	for _, i := range l.Vis {
		fi := l.Pos[i].Frame
		for _, j := range l.Vis {
			if fj := l.Pos[j].Frame; j < i && fj < fi && hidden[fj] {
				allow[i*t+j] = false
			}
		}
	}
	return allow
}

package unified

import (
	"fmt"

	"github.com/omniar/omniar/nn"
	"github.com/omniar/omniar/tokenizers"
)

// This file is the sequence grammar: the one place that lays out mixed
// text, image, video and audio segments as positions, groups, masks,
// rotary positions and targets.
//
// A group is what one decoding pass produces: one text token, one scale
// of one latent frame, or one codec depth of one audio chunk. A position
// sees every earlier group and its own group (block-causal). Targets
// follow next-group-of-tokens:
//
//   - a token position (text and special tokens: KindToken, input = its
//     id) predicts the next token if the next position is a token, and
//     nothing (nn.IgnoreIndex) if a visual or audio group follows, since
//     that group is predicted at its own positions;
//   - a visual or audio position (KindVector) predicts its own code; its
//     input is a continuous vector the caller supplies: for scale s of a
//     frame the upsampled running sum of scales < s (VAR), for depth d of
//     an audio chunk the sum of the embeddings of depths < d.
//
// Visual and audio segments are wrapped in their open and close tokens
// (<image>/<video>/<audio> … </…>); nothing predicts a close token (the
// grammar fixes it), and the close token predicts what follows it.

// Kind is what a position's input is.
type Kind int

const (
	KindToken  Kind = iota // a token id embedded by the caller's embedding table
	KindVector             // a continuous vector from the caller (visual and audio groups)
)

// Rope axes of the layout, in the order of Config.RopeSplit: a text
// config uses the time axis only, a video config all four.
const (
	AxisTime = iota
	AxisScale
	AxisY
	AxisX
	NumAxes
)

// Segment is one part of a sequence. Exactly one of its forms is set:
// Tokens (text and special tokens, global ids), Frames (visual), or
// Chunks (audio).
type Segment struct {
	Tokens []int

	// Visual: Scales are the sides of the square token maps, coarse to
	// fine; Frames[f][s] holds the side² codes of scale s of latent frame
	// f (row-major), nil entries when unknown (generation). Image marks a
	// single-frame image (<image> instead of <video>).
	Scales []int
	Frames [][][]int
	Image  bool

	// Audio: Chunks[c][d] holds the codes of depth d of chunk c, one per
	// latent frame of the chunk (ChunkLen).
	Chunks   [][][]int
	ChunkLen int
}

// Text is a segment of global token ids.
func Text(ids ...int) Segment { return Segment{Tokens: ids} }

// Position is one position of a layout.
type Position struct {
	Kind   Kind
	Token  int // input id (KindToken), else −1
	Target int // global id to predict here, or nn.IgnoreIndex
	Group  int
	Mod    tokenizers.Modality
	Seg    int // index of the segment
	// Visual: Frame, Scale and the cell (Y, X) of the scale's map; audio:
	// Frame = chunk, Scale = depth, Y = latent frame within the chunk.
	Frame, Scale, Y, X int
	Rope               [NumAxes]float64 // time, scale, y, x
}

// Layout is a laid-out sequence.
type Layout struct {
	Pos    []Position
	Groups int
}

// BuildLayout lays out segments with vocabulary v. Time advances by one per
// text token, per latent frame and per audio chunk; visual cells sit at
// their centres on the finest grid of their segment, so a cell and its
// children at finer scales share a spatial position.
func BuildLayout(v tokenizers.Vocab, segs ...Segment) (*Layout, error) {
	l := &Layout{}
	time := 0
	tok := func(seg, id int) error {
		m, err := v.ModalityOf(id)
		if err != nil {
			return fmt.Errorf("layout: segment %d: %w", seg, err)
		}
		if m != tokenizers.Special && m != tokenizers.Text {
			return fmt.Errorf("layout: segment %d: token %d is a %s code, not text", seg, id, m)
		}
		p := Position{Kind: KindToken, Token: id, Target: nn.IgnoreIndex, Group: l.Groups, Mod: m, Seg: seg}
		p.Rope[AxisTime] = float64(time)
		l.Pos = append(l.Pos, p)
		l.Groups++
		time++
		return nil
	}
	for si, s := range segs {
		forms := 0
		for _, set := range []bool{s.Tokens != nil, s.Frames != nil, s.Chunks != nil} {
			if set {
				forms++
			}
		}
		if forms != 1 {
			return nil, fmt.Errorf("layout: segment %d must hold exactly one of tokens, frames or chunks", si)
		}
		switch {
		case s.Tokens != nil:
			for _, id := range s.Tokens {
				if err := tok(si, id); err != nil {
					return nil, err
				}
			}
		case s.Frames != nil:
			open, close := tokenizers.VideoOpen, tokenizers.VideoClose
			if s.Image {
				if len(s.Frames) != 1 {
					return nil, fmt.Errorf("layout: segment %d: an image has one frame, not %d", si, len(s.Frames))
				}
				open, close = tokenizers.ImageOpen, tokenizers.ImageClose
			}
			if err := tok(si, open); err != nil {
				return nil, err
			}
			if err := l.visual(v, si, s, time); err != nil {
				return nil, err
			}
			time += len(s.Frames)
			if err := tok(si, close); err != nil {
				return nil, err
			}
		default:
			if err := tok(si, tokenizers.AudioOpen); err != nil {
				return nil, err
			}
			if err := l.audio(v, si, s, time); err != nil {
				return nil, err
			}
			time += len(s.Chunks)
			if err := tok(si, tokenizers.AudioClose); err != nil {
				return nil, err
			}
		}
	}
	for i := range l.Pos {
		p := &l.Pos[i]
		if p.Kind == KindToken && i+1 < len(l.Pos) && l.Pos[i+1].Kind == KindToken {
			p.Target = l.Pos[i+1].Token
		}
	}
	return l, nil
}

func (l *Layout) visual(v tokenizers.Vocab, si int, s Segment, t0 int) error {
	if len(s.Scales) == 0 {
		return fmt.Errorf("layout: segment %d: no scales", si)
	}
	for i, side := range s.Scales {
		if side <= 0 || (i > 0 && side < s.Scales[i-1]) {
			return fmt.Errorf("layout: segment %d: scales %v must be positive and not decrease", si, s.Scales)
		}
	}
	fine := float64(s.Scales[len(s.Scales)-1])
	for f, frame := range s.Frames {
		if len(frame) != len(s.Scales) {
			return fmt.Errorf("layout: segment %d frame %d has %d scales, want %d", si, f, len(frame), len(s.Scales))
		}
		for sc, side := range s.Scales {
			codes := frame[sc]
			if codes != nil && len(codes) != side*side {
				return fmt.Errorf("layout: segment %d frame %d scale %d has %d codes, want %d", si, f, sc, len(codes), side*side)
			}
			step := fine / float64(side)
			for c := 0; c < side*side; c++ {
				p := Position{Kind: KindVector, Token: -1, Target: nn.IgnoreIndex, Group: l.Groups, Mod: tokenizers.Visual,
					Seg: si, Frame: f, Scale: sc, Y: c / side, X: c % side}
				if codes != nil {
					id, err := v.Global(tokenizers.Visual, 0, codes[c])
					if err != nil {
						return fmt.Errorf("layout: segment %d frame %d scale %d cell %d: %w", si, f, sc, c, err)
					}
					p.Target = id
				}
				p.Rope = [NumAxes]float64{float64(t0 + f), float64(sc), (float64(p.Y)+0.5)*step - 0.5, (float64(p.X)+0.5)*step - 0.5}
				l.Pos = append(l.Pos, p)
			}
			l.Groups++
		}
	}
	return nil
}

func (l *Layout) audio(v tokenizers.Vocab, si int, s Segment, t0 int) error {
	if s.ChunkLen <= 0 {
		return fmt.Errorf("layout: segment %d: chunk length %d", si, s.ChunkLen)
	}
	for c, chunk := range s.Chunks {
		if len(chunk) == 0 {
			return fmt.Errorf("layout: segment %d chunk %d has no depths", si, c)
		}
		for d, codes := range chunk {
			if codes != nil && len(codes) != s.ChunkLen {
				return fmt.Errorf("layout: segment %d chunk %d depth %d has %d codes, want %d", si, c, d, len(codes), s.ChunkLen)
			}
			for j := 0; j < s.ChunkLen; j++ {
				p := Position{Kind: KindVector, Token: -1, Target: nn.IgnoreIndex, Group: l.Groups, Mod: tokenizers.Audio,
					Seg: si, Frame: c, Scale: d, Y: j}
				if codes != nil {
					id, err := v.Global(tokenizers.Audio, d, codes[j])
					if err != nil {
						return fmt.Errorf("layout: segment %d chunk %d depth %d frame %d: %w", si, c, d, j, err)
					}
					p.Target = id
				}
				p.Rope = [NumAxes]float64{float64(t0 + c), float64(d), float64(j), 0}
				l.Pos = append(l.Pos, p)
			}
			l.Groups++
		}
	}
	return nil
}

// Len is the number of positions.
func (l *Layout) Len() int { return len(l.Pos) }

// GroupIDs returns the group of every position.
func (l *Layout) GroupIDs() []int {
	g := make([]int, len(l.Pos))
	for i, p := range l.Pos {
		g[i] = p.Group
	}
	return g
}

// Mask is the block-causal attention mask of the layout.
func (l *Layout) Mask() *nn.Mask { return nn.BlockCausalMask(l.GroupIDs()) }

// Span returns the positions [lo, hi) of group g.
func (l *Layout) Span(g int) (lo, hi int) {
	lo = len(l.Pos)
	for i, p := range l.Pos {
		if p.Group == g {
			lo, hi = min(lo, i), i+1
		}
	}
	if hi == 0 {
		return 0, 0
	}
	return lo, hi
}

// Targets returns the target of every position.
func (l *Layout) Targets() []int {
	t := make([]int, len(l.Pos))
	for i, p := range l.Pos {
		t[i] = p.Target
	}
	return t
}

// Tags returns the modality of every position (for Trunk.SetTags).
func (l *Layout) Tags() []int {
	t := make([]int, len(l.Pos))
	for i, p := range l.Pos {
		t[i] = int(p.Mod)
	}
	return t
}

// RopePositions returns the positions of rows lo..hi−1 for a rope with
// axes rotary axes (len(Config.RopeSplit)), as nn.Rope.SetPositions wants
// them; repeat it per sequence of a batch.
func (l *Layout) RopePositions(lo, hi, axes int) ([]float64, error) {
	if axes < 1 || axes > NumAxes {
		return nil, fmt.Errorf("layout: %d rope axes, have %d", axes, NumAxes)
	}
	if lo < 0 || hi > len(l.Pos) || lo > hi {
		return nil, fmt.Errorf("layout: rows [%d, %d) outside [0, %d)", lo, hi, len(l.Pos))
	}
	out := make([]float64, 0, (hi-lo)*axes)
	for _, p := range l.Pos[lo:hi] {
		out = append(out, p.Rope[:axes]...)
	}
	return out, nil
}

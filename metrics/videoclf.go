package metrics

import (
	"fmt"
	"math"
	"slices"

	"github.com/omniar/omniar/datasets/digits"
)

// The video classifier of FVD-style scores: a small 3-D conv net over a
// whole Moving-digits clip [17, 64, 64], trained on the train split with
// two multi-label heads, the digits present (10 labels) and the directions
// they move in (8 labels, the initial directions of the metadata). Its
// penultimate layer (128 SiLU units) is the feature vector.

// Video classifier geometry.
const (
	VideoFrames = digits.Frames // 17
	VideoSize   = digits.Canvas // 64
	VideoDigits = 10
)

// VideoNetConfig is the architecture of the shipped video classifier:
// [1, 17, 64, 64] → 32@5×32×32 (3×3×3, time stride 4: frames 0, 4, …, 16,
// each with its neighbours, so local motion is seen) → 64@5×16×16 →
// 128@5×8×8 → 128@5×8×8 (spatial 3×3) → 128@5×4×4 (3×3×3: motion across
// 4 frames) → 128@5×4×4 (spatial 3×3) → maximum over place, time steps
// kept in order (640) → 128 (features) → 2·18; about 146M multiply-adds a
// clip. The stride-1 convs at the 8×8 and 4×4 grids let every last cell
// see 79 px: v5 (72M multiply-adds, without them) saw 31 px, barely a
// 28-px glyph, and underfit (digit sets of 90.4 % of test clips, 92.9 % of
// train clips). The maximum keeps each of two digits' full response where
// a mean blurred them into one (v4, mean over place and time: two-digit
// clips' digit sets right in 70 % of val clips, mostly by missing one
// digit), and keeping time lets it tell a digit's first direction from the
// one after a bounce; v3 flattened the map and learnt positions. In
// training an auxiliary head classifies every cell of the last map (5×4×4:
// frames 0, 4, …, 16 in 16-px cells) as the digit centred there or
// background (VideoCellTargets): dense supervision that teaches digit
// identity far faster than the clip-level labels alone.
func VideoNetConfig() NetConfig {
	p, flat, same := [3]int{1, 1, 1}, [3]int{1, 3, 3}, [3]int{0, 1, 1}
	return NetConfig{
		Name: "omniar-video-v6", Input: [4]int{1, VideoFrames, VideoSize, VideoSize},
		Features: 128, Logits: 2 * (VideoDigits + len(digits.Directions)), Binary: true, Aux: VideoDigits + 1, Pool: "max-space",
		Convs: []ConvLayer{
			{Out: 32, Kernel: [3]int{3, 3, 3}, Stride: [3]int{4, 2, 2}, Padding: p},
			{Out: 64, Kernel: flat, Stride: [3]int{1, 2, 2}, Padding: same},
			{Out: 128, Kernel: flat, Stride: [3]int{1, 2, 2}, Padding: same},
			{Out: 128, Kernel: flat, Stride: [3]int{1, 1, 1}, Padding: same},
			{Out: 128, Kernel: [3]int{3, 3, 3}, Stride: [3]int{1, 2, 2}, Padding: p},
			{Out: 128, Kernel: flat, Stride: [3]int{1, 1, 1}, Padding: same},
		},
	}
}

// VideoInput converts a clip of frames (each VideoSize² grey pixels) to
// the classifier's input [1, 17, 64, 64] in [0, 1], appended to dst. The
// clip must have at least VideoFrames frames; only the first are used.
func VideoInput(dst []float32, frames [][]uint8) ([]float32, error) {
	if len(frames) < VideoFrames {
		return dst, fmt.Errorf("video classifier: clip has %d frames, need %d", len(frames), VideoFrames)
	}
	for i, f := range frames[:VideoFrames] {
		if len(f) != VideoSize*VideoSize {
			return dst, fmt.Errorf("video classifier: frame %d has %d pixels, want %d×%d", i, len(f), VideoSize, VideoSize)
		}
		for _, v := range f {
			dst = append(dst, float32(v)/255)
		}
	}
	return dst, nil
}

// SplitFrames cuts a rendered clip [Frames, Canvas, Canvas] into frames.
func SplitFrames(clip []uint8, w, h int) [][]uint8 {
	n := len(clip) / (w * h)
	out := make([][]uint8, n)
	for i := range out {
		out[i] = clip[i*w*h : (i+1)*w*h]
	}
	return out
}

// VideoTargets are the binary targets of a clip's metadata: 10 digit labels
// then 8 direction labels, 1 where present.
func VideoTargets(dst []int, c digits.Clip) ([]int, error) {
	t := make([]int, VideoDigits+len(digits.Directions))
	for _, m := range c.Movers {
		d := DirectionIndex(m.Dir)
		if m.Label < 0 || m.Label >= VideoDigits || d < 0 {
			return dst, fmt.Errorf("clip %d: mover digit %d, direction %q", c.Index, m.Label, m.Dir)
		}
		t[m.Label], t[VideoDigits+d] = 1, 1
	}
	return append(dst, t...), nil
}

// DirectionIndex is the index of a direction name in digits.Directions, or −1.
func DirectionIndex(name string) int {
	return slices.IndexFunc(digits.Directions, func(d digits.Direction) bool { return d.Name == name })
}

// VideoPrediction is what the video classifier reads from a clip.
type VideoPrediction struct {
	Digits []int    // labels present, ascending
	Dirs   []string // directions present, in digits.Directions order
}

// PredictVideo decodes the logits of one clip: a label is present when its
// "present" logit exceeds its "absent" one; if no digit (direction) is, the
// most likely one is taken. Logits of another length give nothing.
func PredictVideo(logits []float32) VideoPrediction {
	var p VideoPrediction
	if len(logits) != 2*(VideoDigits+len(digits.Directions)) {
		return p
	}
	p.Digits = present(logits[:2*VideoDigits])
	for _, d := range present(logits[2*VideoDigits:]) {
		p.Dirs = append(p.Dirs, digits.Directions[d].Name)
	}
	return p
}

// present decodes (absent, present) pairs, falling back to the best one.
func present(pairs []float32) []int {
	var out []int
	best, bestMargin := 0, float32(0)
	for k := 0; k < len(pairs)/2; k++ {
		m := pairs[2*k+1] - pairs[2*k]
		if m > 0 {
			out = append(out, k)
		}
		if k == 0 || m > bestMargin {
			best, bestMargin = k, m
		}
	}
	if len(out) == 0 {
		out = []int{best}
	}
	return out
}

// TruthVideo is the VideoPrediction a perfect classifier makes of a clip.
func TruthVideo(c digits.Clip) VideoPrediction {
	var p VideoPrediction
	for _, m := range c.Movers {
		if !slices.Contains(p.Digits, m.Label) {
			p.Digits = append(p.Digits, m.Label)
		}
	}
	slices.Sort(p.Digits)
	for _, d := range digits.Directions {
		if slices.ContainsFunc(c.Movers, func(m digits.Mover) bool { return m.Dir == d.Name }) {
			p.Dirs = append(p.Dirs, d.Name)
		}
	}
	return p
}

// Background is the auxiliary class of a cell with no digit centred in it.
const Background = VideoDigits

// VideoCellTargets appends the auxiliary targets of a clip for a last conv
// map of d×h×w cells (frame round(k·16/(d−1)) for time cell k; square
// cells of 64/w px): the label of a digit whose glyph centre is in the
// cell, nn.IgnoreIndex (−100) next to it or where two digits disagree,
// Background elsewhere.
func VideoCellTargets(dst []int, c digits.Clip, d, h, w int) []int {
	const ignore = -100
	cells := make([]int, d*h*w)
	for i := range cells {
		cells[i] = Background
	}
	claim := make([]int, d*h*w) // label+1 of the centre claiming a cell
	cs := float64(VideoSize) / float64(w)
	for k := 0; k < d; k++ {
		f := 0
		if d > 1 {
			f = int(math.Round(float64(k) * float64(VideoFrames-1) / float64(d-1)))
		}
		for _, m := range c.Movers {
			if f >= len(m.Pos) {
				continue
			}
			cx := int((m.Pos[f][0] + digits.Glyph/2) / cs)
			cy := int((m.Pos[f][1] + digits.Glyph/2) / cs)
			for y := max(cy-1, 0); y <= min(cy+1, h-1); y++ {
				for x := max(cx-1, 0); x <= min(cx+1, w-1); x++ {
					i := (k*h+y)*w + x
					switch {
					case y == cy && x == cx && (claim[i] == 0 || claim[i] == m.Label+1):
						cells[i], claim[i] = m.Label, m.Label+1
					case y == cy && x == cx:
						cells[i] = ignore
					case claim[i] == 0:
						cells[i] = ignore
					}
				}
			}
		}
	}
	return append(dst, cells...)
}

// VideoMapShape is the (D', H', W') of the video classifier's last conv map.
func VideoMapShape(cfg NetConfig) [3]int {
	d, h, w := cfg.Input[1], cfg.Input[2], cfg.Input[3]
	for _, l := range cfg.Convs {
		d = (d+2*l.Padding[0]-l.Kernel[0])/l.Stride[0] + 1
		h = (h+2*l.Padding[1]-l.Kernel[1])/l.Stride[1] + 1
		w = (w+2*l.Padding[2]-l.Kernel[2])/l.Stride[2] + 1
	}
	return [3]int{d, h, w}
}

package metrics

import (
	"math"

	"github.com/omniar/omniar/datasets/digits"
)

// Motion of two digits from the frames alone. Where two digits touch, the
// 2-means clusters and even template tracks wander from one glyph to the
// other; their motion does not: a digit's ink in frame t1 reappears, moved
// by v·(t2−t1), in frame t2. Over the frames a clip runs straight (its
// first half: Moving-digits digits do not bounce before frame
// digits.Frames/2), the ink two frames share under a candidate shift peaks
// at each digit's velocity. The first peak is the motion that carries the
// most ink; the second is sought among the ink the first leaves
// unexplained, so that it is the other digit's and not a neighbour of the
// first peak.

const (
	motionMaxSpeed = 5.0 // px/frame, the fastest candidate
	motionStep     = 0.1 // px/frame between candidate speeds
	motionMinGap   = 4   // frames between the two frames of a pair
	// motionSecond is the share of the first motion's ink below which
	// the second is taken to be the first: both digits move alike and
	// the first explains nearly all ink (val clips of two different
	// directions leave at least 0.09).
	motionSecond = 0.05
)

// motionCandidates are the velocities tried: every speed along each of
// the 8 directions, and standing still.
func motionCandidates() [][2]float64 {
	out := [][2]float64{{0, 0}}
	for _, d := range digits.Directions {
		n := math.Hypot(d.DX, d.DY)
		for i := 1; float64(i)*motionStep <= motionMaxSpeed+1e-9; i++ {
			s := float64(i) * motionStep
			out = append(out, [2]float64{d.DX / n * s, d.DY / n * s})
		}
	}
	return out
}

// inkPixel is one ink pixel of a frame.
type inkPixel struct {
	x, y int
	v    float32 // grey level in [0, 1]
}

// motionPair is two straight frames of a clip: the ink of the first and
// the levels of the second (zero below InkThreshold).
type motionPair struct {
	ink  []inkPixel
	next []float32
	gap  float64
}

// overlap is the ink the pair's first frame shares with the second under
// the shift d: Σ min(f1(p), f2(p+d)).
func (p motionPair) overlap(w, h int, d [2]int) float64 {
	var s float64
	for _, q := range p.ink {
		x, y := q.x+d[0], q.y+d[1]
		if x < 0 || y < 0 || x >= w || y >= h {
			continue
		}
		s += float64(min(q.v, p.next[y*w+x]))
	}
	return s
}

// twoMotions finds the velocities of the two digits of a clip: a carries
// the most ink of its straight frames, b the most of the ink a does not
// explain. ok is false when the clip has no two straight frames
// motionMinGap apart.
func twoMotions(c Clip) (a, b [2]float64, ok bool) {
	levels, inks := straightInk(c)
	T := len(levels)
	var pairs []motionPair
	for t1 := 0; t1 < T; t1++ {
		for t2 := t1 + motionMinGap; t2 < T; t2++ {
			pairs = append(pairs, motionPair{inks[t1], levels[t2], float64(t2 - t1)})
		}
	}
	if len(pairs) == 0 {
		return a, b, false
	}
	a, sa := bestMotion(pairs, c.W, c.H)
	// leave out the ink a explains: pixels whose shift by a lands on ink
	rest := make([]motionPair, len(pairs))
	for i, p := range pairs {
		d := shift(a, p.gap)
		rest[i] = motionPair{next: p.next, gap: p.gap}
		for _, q := range p.ink {
			x, y := q.x+d[0], q.y+d[1]
			if x < 0 || y < 0 || x >= c.W || y >= c.H || p.next[y*c.W+x] == 0 {
				rest[i].ink = append(rest[i].ink, q)
			}
		}
	}
	b, sb := bestMotion(rest, c.W, c.H)
	if sb < motionSecond*sa {
		b = a
	}
	return a, b, true
}

// straightInk are the grey levels (zero below InkThreshold) and the ink
// pixels of a clip's straight frames: its first half.
func straightInk(c Clip) ([][]float32, [][]inkPixel) {
	T := min(len(c.Frames), digits.Frames/2+1)
	levels := make([][]float32, T)
	inks := make([][]inkPixel, T)
	for t := range levels {
		levels[t] = make([]float32, len(c.Frames[t]))
		for i, v := range c.Frames[t] {
			if v > InkThreshold {
				levels[t][i] = float32(v) / 255
				inks[t] = append(inks[t], inkPixel{i % c.W, i / c.W, levels[t][i]})
			}
		}
	}
	return levels, inks
}

// motionCrops cuts each digit out of the clip's straight frames by its
// motion: in frame t, the ink of motion m is the pixels whose shift by m
// lands on ink in at least half of the frames motionMinGap or more away
// (the shift to each such frame refined to the whole pixel where the ink
// overlaps most, as rendering rounds positions). Each crop is the
// classifier's window centred on that ink, with only that ink: [T][2]
// crops for motions a and b.
func motionCrops(c Clip, ms [2][2]float64) [][2][]float32 {
	levels, inks := straightInk(c)
	T := len(levels)
	out := make([][2][]float32, T)
	for t := 0; t < T; t++ {
		for k, m := range ms {
			hits := make([]int, len(inks[t]))
			partners := 0
			for u := 0; u < T; u++ {
				if u-t < motionMinGap && t-u < motionMinGap {
					continue
				}
				p := motionPair{ink: inks[t], next: levels[u], gap: float64(u - t)}
				d0 := shift(m, p.gap)
				d, best := d0, -1.0
				for dy := -1; dy <= 1; dy++ {
					for dx := -1; dx <= 1; dx++ {
						e := [2]int{d0[0] + dx, d0[1] + dy}
						if s := p.overlap(c.W, c.H, e); s > best {
							d, best = e, s
						}
					}
				}
				partners++
				for i, q := range inks[t] {
					x, y := q.x+d[0], q.y+d[1]
					if x >= 0 && y >= 0 && x < c.W && y < c.H && levels[u][y*c.W+x] > 0 {
						hits[i]++
					}
				}
			}
			var mine []inkPixel
			for i, q := range inks[t] {
				if partners > 0 && 2*hits[i] >= partners {
					mine = append(mine, q)
				}
			}
			out[t][k] = cropPixels(nil, c.Frames[t], mine, c.W, c.H)
		}
	}
	return out
}

// cropPixels appends the classifier's window centred on the weighted
// centre of some ink pixels of a frame, with the frame's other ink left
// out (its faint pixels stay, as in the crops the classifier learnt).
func cropPixels(dst []float32, frame []uint8, px []inkPixel, w, h int) []float32 {
	cx, cy, m := float64(w-1)/2, float64(h-1)/2, 0.0
	var sx, sy float64
	mine := make([]bool, len(frame))
	for _, q := range px {
		sx, sy, m = sx+float64(q.v)*float64(q.x), sy+float64(q.v)*float64(q.y), m+float64(q.v)
		mine[q.y*w+q.x] = true
	}
	if m > 0 {
		cx, cy = sx/m, sy/m
	}
	x0 := int(math.Round(cx - float64(CropSize-1)/2))
	y0 := int(math.Round(cy - float64(CropSize-1)/2))
	for y := y0; y < y0+CropSize; y++ {
		for x := x0; x < x0+CropSize; x++ {
			var v float32
			if x >= 0 && y >= 0 && x < w && y < h {
				if i := y*w + x; frame[i] <= InkThreshold || mine[i] {
					v = float32(frame[i]) / 255
				}
			}
			dst = append(dst, v)
		}
	}
	return dst
}

// bestMotion is the candidate velocity under which the pairs share the
// most ink, and that ink.
func bestMotion(pairs []motionPair, w, h int) ([2]float64, float64) {
	var bv [2]float64
	bs := -1.0
	for _, v := range motionCandidates() {
		var s float64
		for _, p := range pairs {
			s += p.overlap(w, h, shift(v, p.gap))
		}
		if s > bs {
			bs, bv = s, v
		}
	}
	return bv, bs
}

// shift is the whole-pixel displacement of velocity v over gap frames.
func shift(v [2]float64, gap float64) [2]int {
	return [2]int{int(math.Round(v[0] * gap)), int(math.Round(v[1] * gap))}
}

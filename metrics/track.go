package metrics

import (
	"math"
)

// Template tracking of a digit through the frames where it overlaps the
// other one: the digit's crop from a clean frame is slid over each frame
// near the position predicted from the frames before, and the offset with
// the smallest weighted squared difference (ink pixels of the template
// weigh 1, background 0.3, plus a pull towards the prediction) wins. Max
// compositing keeps a digit's own ink under the other, so the template
// still fits where the digits cross.

const (
	trackRadius  = 5    // px searched around the prediction, per axis
	trackBgW     = 0.3  // weight of the template's background pixels
	trackPull    = 0.05 // score per px² away from the prediction
	trackInkFrac = float32(InkThreshold) / 255
)

// template is a digit's crop [28, 28] in [0, 1] and where it was cut: the
// window's top-left corner and the digit's centre of mass in the frame.
type template struct {
	pix    []float32
	x0, y0 int
	com    Blob
}

// newTemplate is the template of a crop cut around b (see frameInk.crop).
func newTemplate(crop []float32, b Blob) template {
	return template{pix: crop, x0: int(math.Round(b.X - (CropSize-1)/2.0)), y0: int(math.Round(b.Y - (CropSize-1)/2.0)), com: b}
}

// score is the template's misfit with its top-left corner at (x0, y0).
func (tp template) score(frame []uint8, w, h, x0, y0 int) float64 {
	var s float64
	for y := 0; y < CropSize; y++ {
		fy := y0 + y
		for x := 0; x < CropSize; x++ {
			fx := x0 + x
			var v float32
			if fx >= 0 && fy >= 0 && fx < w && fy < h {
				v = float32(frame[fy*w+fx]) / 255
			}
			t := tp.pix[y*CropSize+x]
			d := float64(v - t)
			if t > trackInkFrac {
				s += d * d
			} else {
				s += trackBgW * d * d
			}
		}
	}
	return s
}

// find places the template in a frame near the predicted centre p and
// returns the digit's centre there.
func (tp template) find(frame []uint8, w, h int, p [2]float64) [2]float64 {
	// the window corner that puts the template's centre of mass at p
	cx := p[0] - (tp.com.X - float64(tp.x0))
	cy := p[1] - (tp.com.Y - float64(tp.y0))
	bx, by := int(math.Round(cx)), int(math.Round(cy))
	best, bestX, bestY := math.Inf(1), bx, by
	for dy := -trackRadius; dy <= trackRadius; dy++ {
		for dx := -trackRadius; dx <= trackRadius; dx++ {
			x0, y0 := bx+dx, by+dy
			s := tp.score(frame, w, h, x0, y0) + trackPull*(sq(float64(x0)-cx)+sq(float64(y0)-cy))
			if s < best {
				best, bestX, bestY = s, x0, y0
			}
		}
	}
	return [2]float64{float64(bestX) + tp.com.X - float64(tp.x0), float64(bestY) + tp.com.Y - float64(tp.y0)}
}

// trackDigit fills a digit's centre in every frame: known holds the
// centres of the frames where it was found cleanly (ok marks them), the
// rest are found by template matching outwards from the known frames,
// each predicted from the two frames next to it.
func trackDigit(frames [][]uint8, w, h int, tp template, known [][2]float64, ok []bool) [][2]float64 {
	n := len(frames)
	pos := make([][2]float64, n)
	have := make([]bool, n)
	copy(pos, known)
	copy(have, ok)
	step := func(t int) bool {
		if have[t] {
			return false
		}
		p, found := predictFrom(pos, have, t)
		if found {
			pos[t], have[t] = tp.find(frames[t], w, h, p), true
		}
		return found
	}
	for progress := true; progress; {
		progress = false
		for t := 0; t < n; t++ { // forward from the known frames
			progress = step(t) || progress
		}
		for t := n - 1; t >= 0; t-- { // and backward
			progress = step(t) || progress
		}
	}
	return pos
}

// predictFrom predicts frame t's centre from its tracked neighbours: the
// previous frame advanced by its last step, or the next one moved back.
func predictFrom(pos [][2]float64, have []bool, t int) ([2]float64, bool) {
	n := len(pos)
	lin := func(a, b int) [2]float64 { // a next to t, b next to a
		if b >= 0 && b < n && have[b] {
			return [2]float64{2*pos[a][0] - pos[b][0], 2*pos[a][1] - pos[b][1]}
		}
		return pos[a]
	}
	switch {
	case t > 0 && have[t-1]:
		return lin(t-1, t-2), true
	case t+1 < n && have[t+1]:
		return lin(t+1, t+2), true
	}
	return [2]float64{}, false
}

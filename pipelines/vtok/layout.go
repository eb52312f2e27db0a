package vtok

import (
	"fmt"
	"math"
	"slices"

	"github.com/omniar/omniar/msvq"
)

// Layout acceptance (issue 5): decoded from the scales up to the 4×4 one,
// the digit's centre of mass lies within LayoutTolerance px of the
// original's.
const (
	LayoutSide      = 4
	LayoutTolerance = 3.0
)

// LayoutScores say whether the coarse scales place the digit: the
// intensity-weighted centre of mass of the whole frame in the decode from
// the scales up to side Side, against the original's. No ink threshold (the
// judge's metrics.InkThreshold): a coarse decode is a blurred digit whose
// peak often stays below it, and a threshold would count a blob in the right
// place as no digit. Background haze would pull the centre toward the
// middle; with the shipped recipe it is about 0.5 grey levels (measured on
// an image-stage checkpoint), a small pull.
type LayoutScores struct {
	Side      int     `json:"side"`             // last scale decoded
	Scales    int     `json:"scales_decoded"`   // scales 1 … Scales
	Frames    int     `json:"frames"`           // frames not all black in the original (the others are skipped)
	Within    float64 `json:"share_within_3px"` // share of Frames within LayoutTolerance
	MeanDist  float64 `json:"mean_distance_px"` // over frames whose decode is not all black
	EmptyRecs int     `json:"black_decodes"`    // all-black decodes, counted as misses

	dist float64
	hit  int
}

// layoutScale is the number of scales up to side LayoutSide, or an error
// if the schedule has no such scale.
func layoutScale(q msvq.Config) (int, error) {
	i := slices.Index(q.Scales, LayoutSide)
	if i < 0 {
		return 0, fmt.Errorf("scale schedule %v has no %d×%d scale for the layout check", q.Scales, LayoutSide, LayoutSide)
	}
	return i + 1, nil
}

// inkCentre is the intensity-weighted centre of mass of a frame [size,
// size]; ok is false when the frame is all black.
func inkCentre(frame []uint8, size int) (x, y float64, ok bool) {
	var m float64
	for i, v := range frame {
		w := float64(v)
		x += w * float64(i%size)
		y += w * float64(i/size)
		m += w
	}
	if m == 0 {
		return 0, 0, false
	}
	return x / m, y / m, true
}

// add compares the frames of one clip with their coarse decode; an
// all-black decode is a miss.
func (l *LayoutScores) add(ref, rec [][]uint8, size int) {
	for i, f := range ref {
		x0, y0, ok := inkCentre(f, size)
		if !ok {
			continue
		}
		l.Frames++
		x1, y1, ok := inkCentre(rec[i], size)
		if !ok {
			l.EmptyRecs++
			continue
		}
		d := math.Hypot(x1-x0, y1-y0)
		l.dist += d
		if d <= LayoutTolerance {
			l.hit++
		}
	}
}

func (l *LayoutScores) finish() {
	if l.Frames > 0 {
		l.Within = float64(l.hit) / float64(l.Frames)
	}
	if n := l.Frames - l.EmptyRecs; n > 0 {
		l.MeanDist = l.dist / float64(n)
	}
}

package vgen

import (
	"math"

	"github.com/omniar/omniar/datasets/digits"
	"github.com/omniar/omniar/nn"
	"github.com/omniar/omniar/videoar"
)

// MotionClasses are the motion head's classes (videoar.TrainConfig.Motion):
// the 8 directions of digits.Directions, then "no digit here".
var MotionClasses = len(digits.Directions) + 1

// motionTargets is the motion class of every visual position of layout l
// for clip c (videoar.Example.Motion): at latent frame f (video frame
// f·stride, the last frame it covers), a cell belongs to a digit when the
// digit's glyph centre lies in it or the cell's centre lies on the glyph;
// its class is the direction the digit moves in leaving that frame (after
// a bounce, the new one). Cells of two digits moving different ways are
// ignored, cells of none are "no digit".
func motionTargets(l videoar.Layout, c digits.Clip, stride int) []int {
	out := make([]int, l.Visual())
	none := MotionClasses - 1
	for v := range out {
		p := l.Cell(v)
		side := float64(digits.Canvas) / float64(l.Scales[p.Scale])
		x0, y0 := float64(p.X)*side, float64(p.Y)*side
		cls := none
		for _, m := range c.Movers {
			t := min(p.Frame*stride, len(m.Pos)-1, len(m.Vel)-1)
			if t < 0 || !covers(m.Pos[t], x0, y0, side) {
				continue
			}
			d := directionOf(m.Vel[t])
			switch {
			case cls == none:
				cls = d
			case cls != d:
				cls = nn.IgnoreIndex
			}
		}
		out[v] = cls
	}
	return out
}

// covers: the glyph at top-left pos has its centre in the cell [x0, x0+side)
// × [y0, y0+side), or the cell's centre lies on the glyph.
func covers(pos [2]float64, x0, y0, side float64) bool {
	const g = float64(digits.Glyph)
	gx, gy := pos[0]+g/2, pos[1]+g/2
	if gx >= x0 && gx < x0+side && gy >= y0 && gy < y0+side {
		return true
	}
	cx, cy := x0+side/2, y0+side/2
	return cx >= pos[0] && cx < pos[0]+g && cy >= pos[1] && cy < pos[1]+g
}

// directionOf is the index in digits.Directions of velocity v's signs
// (the ninth class, "no digit", for a standing digit).
func directionOf(v [2]float64) int {
	sx, sy := sign(v[0]), sign(v[1])
	for i, d := range digits.Directions {
		if d.DX == sx && d.DY == sy {
			return i
		}
	}
	return MotionClasses - 1
}

func sign(x float64) float64 {
	if math.Abs(x) < 1e-9 {
		return 0
	}
	return math.Copysign(1, x)
}

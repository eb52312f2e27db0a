package metrics

import (
	"cmp"
	"math"
	"slices"
)

// Finding digits in a frame: ink is every pixel above InkThreshold; one
// digit is the intensity-weighted centre of mass of all ink, two digits
// are the two clusters of a weighted 2-means on the ink pixels' positions.

// InkThreshold is the grey level above which a pixel is ink.
const InkThreshold = 64

// CropSize is the side of the window the digit classifier reads (the glyph
// size of Moving-digits).
const CropSize = 28

// Blob is one digit found in a frame.
type Blob struct {
	X, Y float64 // intensity-weighted centre of mass, pixels
	Mass float64 // summed ink intensity (0: no ink)
}

// frameInk lists the ink pixels of a frame [h, w].
type frameInk struct {
	w, h   int
	xs, ys []float64
	ws     []float64
	label  []int8 // cluster of each ink pixel
	frame  []uint8
}

func newFrameInk(frame []uint8, w, h int) *frameInk {
	f := &frameInk{w: w, h: h, frame: frame}
	if w <= 0 || h <= 0 {
		f.w, f.h, f.frame = 1, 1, nil
	}
	for i, v := range f.frame[:min(len(f.frame), f.w*f.h)] {
		if v > InkThreshold {
			f.xs = append(f.xs, float64(i%w))
			f.ys = append(f.ys, float64(i/w))
			f.ws = append(f.ws, float64(v))
		}
	}
	f.label = make([]int8, len(f.xs))
	return f
}

// centre is the weighted centre of mass of the pixels of cluster k (all if k < 0).
func (f *frameInk) centre(k int) Blob {
	var b Blob
	for i, w := range f.ws {
		if k >= 0 && int(f.label[i]) != k {
			continue
		}
		b.X += w * f.xs[i]
		b.Y += w * f.ys[i]
		b.Mass += w
	}
	if b.Mass == 0 {
		return Blob{X: float64(f.w-1) / 2, Y: float64(f.h-1) / 2}
	}
	b.X /= b.Mass
	b.Y /= b.Mass
	return b
}

// farthest is the ink pixel farthest from (x, y).
func (f *frameInk) farthest(x, y float64) (float64, float64) {
	best, bx, by := -1.0, x, y
	for i := range f.xs {
		if d := (f.xs[i]-x)*(f.xs[i]-x) + (f.ys[i]-y)*(f.ys[i]-y); d > best {
			best, bx, by = d, f.xs[i], f.ys[i]
		}
	}
	return bx, by
}

// twoMeans splits the ink into two clusters starting from centres init
// (nil: the farthest-point heuristic) and returns their blobs.
func (f *frameInk) twoMeans(init []Blob) [2]Blob {
	var c [2]Blob
	if init == nil {
		all := f.centre(-1)
		c[0].X, c[0].Y = f.farthest(all.X, all.Y)
		c[1].X, c[1].Y = f.farthest(c[0].X, c[0].Y)
	} else {
		c[0], c[1] = init[0], init[1]
	}
	for it := 0; it < 20; it++ {
		changed := false
		for i := range f.xs {
			d0 := sq(f.xs[i]-c[0].X) + sq(f.ys[i]-c[0].Y)
			d1 := sq(f.xs[i]-c[1].X) + sq(f.ys[i]-c[1].Y)
			l := int8(0)
			if d1 < d0 {
				l = 1
			}
			if l != f.label[i] {
				changed, f.label[i] = true, l
			}
		}
		for k := range c {
			if b := f.centre(k); b.Mass > 0 {
				c[k] = b
			}
		}
		if !changed && it > 0 {
			break
		}
	}
	return c
}

func sq(x float64) float64 { return x * x }

// crop appends the size² window centred at b (the pixel grid point
// nearest to it), zero outside the frame, in [0, 1]; with only ≥ 0, ink
// pixels of other clusters are left out.
func (f *frameInk) crop(dst []float32, b Blob, only, size int) []float32 {
	x0 := int(math.Round(b.X - float64(size-1)/2))
	y0 := int(math.Round(b.Y - float64(size-1)/2))
	other := make([]bool, f.w*f.h)
	if only >= 0 {
		for i, l := range f.label {
			if int(l) != only {
				other[int(f.ys[i])*f.w+int(f.xs[i])] = true
			}
		}
	}
	for y := y0; y < y0+size; y++ {
		for x := x0; x < x0+size; x++ {
			var v float32
			if x >= 0 && y >= 0 && x < f.w && y < f.h && y*f.w+x < len(f.frame) && !other[y*f.w+x] {
				v = float32(f.frame[y*f.w+x]) / 255
			}
			dst = append(dst, v)
		}
	}
	return dst
}

// LocateCrops finds k (1 or 2) digits in a frame [h, w] and appends their
// classifier crops [k, 28, 28] to dst; prev (nil or k centres predicted
// from the previous frame) seeds the 2-means so that cluster i follows the
// same digit from frame to frame.
func LocateCrops(dst []float32, frame []uint8, w, h, k int, prev []Blob) ([]float32, []Blob) {
	dst, bs, _ := locateFrame(dst, frame, w, h, k, prev)
	return dst, bs
}

// locateFrame is LocateCrops that also says whether the frame is clean:
// one digit, or two clusters that do not touch, each with at least
// MinShare of the ink. Two clusters are made of whole connected
// components when the ink has several (a 2-means over the components'
// centres), else by a pixel 2-means.
func locateFrame(dst []float32, frame []uint8, w, h, k int, prev []Blob) ([]float32, []Blob, bool) {
	f := newFrameInk(frame, w, h)
	if k == 1 {
		b := f.centre(-1)
		return f.crop(dst, b, -1, CropSize), []Blob{b}, true
	}
	c, split := f.componentMeans(prev)
	if !split {
		c = f.twoMeans(prev)
	}
	bs := []Blob{c[0], c[1]}
	for i, b := range bs {
		dst = f.crop(dst, b, i, CropSize)
	}
	total := c[0].Mass + c[1].Mass
	clean := split && c[0].Mass >= MinShare*total && c[1].Mass >= MinShare*total
	return dst, bs, clean
}

// components labels the 8-connected components of the ink and returns
// the component of each ink pixel and their count.
func (f *frameInk) components() ([]int, int) {
	idx := make([]int, f.w*f.h) // pixel → ink index + 1
	for i := range f.xs {
		idx[int(f.ys[i])*f.w+int(f.xs[i])] = i + 1
	}
	comp := make([]int, len(f.xs))
	for i := range comp {
		comp[i] = -1
	}
	n := 0
	var stack []int
	for s := range f.xs {
		if comp[s] >= 0 {
			continue
		}
		comp[s] = n
		stack = append(stack[:0], s)
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			x, y := int(f.xs[i]), int(f.ys[i])
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					nx, ny := x+dx, y+dy
					if nx < 0 || ny < 0 || nx >= f.w || ny >= f.h {
						continue
					}
					if j := idx[ny*f.w+nx] - 1; j >= 0 && comp[j] < 0 {
						comp[j] = n
						stack = append(stack, j)
					}
				}
			}
		}
		n++
	}
	return comp, n
}

// componentBlobs are the weighted centres of the components.
func (f *frameInk) componentBlobs(comp []int, n int) []Blob {
	cs := make([]Blob, n)
	for i, c := range comp {
		w := f.ws[i]
		cs[c].X += w * f.xs[i]
		cs[c].Y += w * f.ys[i]
		cs[c].Mass += w
	}
	for i := range cs {
		cs[i].X /= cs[i].Mass
		cs[i].Y /= cs[i].Mass
	}
	return cs
}

// componentMeans clusters whole connected components into two groups by
// a 2-means over their weighted centres, seeded by prev or by the two
// heaviest components; split is false when the ink is one component or
// all of it falls in one group.
func (f *frameInk) componentMeans(prev []Blob) ([2]Blob, bool) {
	comp, n := f.components()
	if n < 2 {
		return [2]Blob{}, false
	}
	cs := f.componentBlobs(comp, n)
	var c [2]Blob
	if prev != nil {
		c[0], c[1] = prev[0], prev[1]
	} else {
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return cmp.Compare(cs[b].Mass, cs[a].Mass) })
		c[0], c[1] = cs[order[0]], cs[order[1]]
	}
	group := make([]int8, n)
	for it := 0; it < 10; it++ {
		for i, b := range cs {
			group[i] = 0
			if sq(b.X-c[1].X)+sq(b.Y-c[1].Y) < sq(b.X-c[0].X)+sq(b.Y-c[0].Y) {
				group[i] = 1
			}
		}
		c = groupCentres(cs, group, c)
	}
	for i, cc := range comp {
		f.label[i] = group[cc]
	}
	return c, slices.Contains(group, 0) && slices.Contains(group, 1)
}

// groupCentres are the mass-weighted centres of the two groups (old where
// a group is empty).
func groupCentres(cs []Blob, group []int8, old [2]Blob) [2]Blob {
	c := old
	for k := range c {
		var nb Blob
		for i, b := range cs {
			if int(group[i]) == k {
				nb.X, nb.Y, nb.Mass = nb.X+b.X*b.Mass, nb.Y+b.Y*b.Mass, nb.Mass+b.Mass
			}
		}
		if nb.Mass > 0 {
			c[k] = Blob{X: nb.X / nb.Mass, Y: nb.Y / nb.Mass, Mass: nb.Mass}
		}
	}
	return c
}

// CentreCrop appends the 28×28 classifier crop of a lone digit image
// [h, w] (centred on its ink's centre of mass).
func CentreCrop(dst []float32, img []uint8, w, h int) []float32 {
	f := newFrameInk(img, w, h)
	return f.crop(dst, f.centre(-1), -1, CropSize)
}

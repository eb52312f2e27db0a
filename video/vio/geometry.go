package vio

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"

	"github.com/disintegration/imaging"
)

// Filter is the resampling filter used when resizing.
type Filter int

// Filters.
const (
	Lanczos Filter = iota // Lanczos-3: sharp, the default
	Box                   // box (area average): no ringing, fast
)

func (f Filter) imaging() (imaging.ResampleFilter, error) {
	switch f {
	case Lanczos:
		return imaging.Lanczos, nil
	case Box:
		return imaging.Box, nil
	}
	return imaging.ResampleFilter{}, fmt.Errorf("unknown filter %d", int(f))
}

// Geometry reshapes frames: an optional centre crop to a square, then a
// resize. Zero values keep the frame as it is; if only one of Width and
// Height is set the other keeps the aspect ratio.
type Geometry struct {
	Width, Height int
	Square        bool // centre-crop to a square (side min(W, H)) first
	Filter        Filter
}

func (g Geometry) check() error {
	if g.Width < 0 || g.Height < 0 {
		return fmt.Errorf("negative target size %d×%d", g.Width, g.Height)
	}
	if g.Width > 0 && g.Height > 0 && g.Width > MaxPixels/g.Height {
		return fmt.Errorf("target size %d×%d exceeds %d pixels", g.Width, g.Height, MaxPixels)
	}
	if g.Width > MaxPixels || g.Height > MaxPixels {
		return errors.New("target size too large")
	}
	_, err := g.Filter.imaging()
	return err
}

// Apply returns f reshaped by g (f itself when g changes nothing). If g is
// invalid or its output would exceed MaxPixels (Scan reports both as
// errors), f is only cropped.
func (g Geometry) Apply(f *image.Gray) *image.Gray {
	var img image.Image = f
	w, h := f.Rect.Dx(), f.Rect.Dy()
	if g.Square && w != h {
		s := min(w, h)
		img = imaging.CropCenter(f, s, s)
		w, h = s, s
	}
	tw, th, err := g.Target(f.Rect.Dx(), f.Rect.Dy())
	filter, ferr := g.Filter.imaging()
	if (tw == w && th == h) || err != nil || ferr != nil {
		return toGray(img)
	}
	return toGray(imaging.Resize(img, tw, th, filter))
}

// Target is the output size for a w×h frame, or an error if g is invalid
// or the size exceeds MaxPixels.
func (g Geometry) Target(w, h int) (int, int, error) {
	if err := g.check(); err != nil {
		return 0, 0, err
	}
	if err := checkSize(w, h); err != nil {
		return 0, 0, err
	}
	if g.Square {
		w, h = min(w, h), min(w, h)
	}
	tw, th := g.Width, g.Height
	switch {
	case tw == 0 && th == 0:
		return w, h, nil
	case tw == 0:
		tw = max(1, int(math.Round(float64(w)*float64(th)/float64(h))))
	case th == 0:
		th = max(1, int(math.Round(float64(h)*float64(tw)/float64(w))))
	}
	if err := checkSize(tw, th); err != nil {
		return 0, 0, fmt.Errorf("target %w", err)
	}
	return tw, th, nil
}

// toGray converts img to a grey image with origin (0, 0).
func toGray(img image.Image) *image.Gray {
	b := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	switch m := img.(type) {
	case *image.Gray:
		if b.Min == (image.Point{}) && m.Stride == b.Dx() && len(m.Pix) == b.Dx()*b.Dy() {
			return m
		}
		for y := 0; y < b.Dy(); y++ {
			copy(out.Pix[y*out.Stride:(y+1)*out.Stride], m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):])
		}
	case *image.NRGBA:
		// imaging's output of a grey input has R = G = B (and A = 255).
		for y := 0; y < b.Dy(); y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			o := out.Pix[y*out.Stride:]
			for x := 0; x < b.Dx(); x++ {
				o[x] = row[4*x]
			}
		}
	default:
		for y := 0; y < b.Dy(); y++ {
			for x := 0; x < b.Dx(); x++ {
				out.Pix[y*out.Stride+x] = color.GrayModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.Gray).Y
			}
		}
	}
	return out
}

// packGray returns g's pixels as a contiguous W*H slice.
func packGray(g *image.Gray) []uint8 {
	return toGray(g).Pix
}

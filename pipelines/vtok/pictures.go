package vtok

import (
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"io"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/omniar/omniar/datasets/digits"
	"github.com/omniar/omniar/internal/atomicfile"
)

// How much the pictures show.
const (
	pictureDigits = 16 // held-out digits
	pictureClips  = 3  // clips of each set (video)
	pictureImages = 8  // clips of each set when a clip is one frame
	pictureFrames = 9  // frames of a clip, evenly spaced
)

// clipPicture keeps one clip's frames for the pictures: the original, the
// decode from all scales and the decode from the scales up to 4×4.
type clipPicture struct {
	orig, full, coarse [][]uint8
}

// pickFrames returns up to pictureFrames frames of fs, evenly spaced,
// first and last included.
func pickFrames(fs [][]uint8) [][]uint8 {
	if len(fs) <= pictureFrames {
		return fs
	}
	out := make([][]uint8, pictureFrames)
	for i := range out {
		out[i] = fs[i*(len(fs)-1)/(pictureFrames-1)]
	}
	return out
}

// grid lays out grey tiles (each w×h) in rows on a white background with
// a 2-pixel gap.
func grid(rows [][][]uint8, w, h int) *image.Gray {
	const gap = 2
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	img := image.NewGray(image.Rect(0, 0, max(cols*(w+gap)-gap, 1), max(len(rows)*(h+gap)-gap, 1)))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	for r, row := range rows {
		for c, f := range row {
			tile := &image.Gray{Pix: f, Stride: w, Rect: image.Rect(0, 0, w, h)}
			draw.Draw(img, image.Rect(c*(w+gap), r*(h+gap), c*(w+gap)+w, r*(h+gap)+h), tile, image.Point{}, draw.Src)
		}
	}
	return img
}

func writePNG(path string, img image.Image) error {
	if err := atomicfile.Write(path, func(w io.Writer) error { return png.Encode(w, img) }); err != nil {
		return fmt.Errorf("pictures: %w", err)
	}
	return nil
}

// clipRows are three rows per clip (original, all scales, up to 4×4) with
// frames across; one-frame clips (images) go across instead, one row per
// kind.
func clipRows(cs []clipPicture) [][][]uint8 {
	var rows [][][]uint8
	if len(cs) > 0 && len(cs[0].orig) == 1 {
		var o, f, c [][]uint8
		for _, p := range cs {
			o, f = append(o, p.orig[0]), append(f, p.full[0])
			if p.coarse != nil {
				c = append(c, p.coarse[0])
			}
		}
		if c != nil {
			return [][][]uint8{o, f, c}
		}
		return [][][]uint8{o, f}
	}
	cs = cs[:min(len(cs), pictureClips)]
	for _, c := range cs {
		rows = append(rows, pickFrames(c.orig), pickFrames(c.full))
		if c.coarse != nil {
			rows = append(rows, pickFrames(c.coarse))
		}
	}
	return rows
}

// writePictures writes the grids and the PSNR plot into dir and returns
// the files written.
func writePictures(dir string, r *Report, moving, real []clipPicture, ds *DigitScores) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("pictures: %w", err)
	}
	var files []string
	add := func(name string, img image.Image) error {
		p := filepath.Join(dir, name)
		files = append(files, p)
		return writePNG(p, img)
	}
	size := r.Config.Size
	if ds != nil && len(ds.originals) > 0 {
		// Rows of 8: originals above their reconstructions.
		var rows [][][]uint8
		for i := 0; i < len(ds.originals); i += 8 {
			j := min(i+8, len(ds.originals))
			rows = append(rows, ds.originals[i:j], ds.reconstructed[i:j])
		}
		if err := add("tokenizer_digits.png", grid(rows, digits.Glyph, digits.Glyph)); err != nil {
			return nil, err
		}
	}
	for _, set := range []struct {
		name string
		cs   []clipPicture
	}{{"tokenizer_moving.png", moving}, {"tokenizer_real.png", real}} {
		if len(set.cs) == 0 {
			continue
		}
		if err := add(set.name, grid(clipRows(set.cs), size, size)); err != nil {
			return nil, err
		}
	}
	p := filepath.Join(dir, "tokenizer_psnr_scales.png")
	if err := plotScales(p, r); err != nil {
		return nil, err
	}
	return append(files, p), nil
}

// plotScales draws PSNR against the number of scales decoded.
func plotScales(path string, r *Report) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("PSNR vs scales decoded (%d-frame clips; last scale side in brackets)", r.Frames)
	p.X.Label.Text = "scales decoded (coarse → fine)"
	p.Y.Label.Text = "PSNR (dB)"
	var args []any
	for _, s := range []struct {
		name string
		v    []float64
	}{{"Moving-digits test", r.Moving.PSNRScales}, {"real test", r.Real.PSNRScales}} {
		if len(s.v) == 0 {
			continue
		}
		pts := make(plotter.XYs, len(s.v))
		for i, v := range s.v {
			pts[i] = plotter.XY{X: float64(i + 1), Y: v}
		}
		args = append(args, s.name, pts)
	}
	if len(args) == 0 {
		return fmt.Errorf("plot %s: no PSNR per scale to draw", path)
	}
	if err := plotutil.AddLinePoints(p, args...); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	names := make([]string, len(r.Config.Quant.Scales))
	for i, k := range r.Config.Quant.Scales {
		names[i] = fmt.Sprintf("%d (%d×%d)", i+1, k, k)
	}
	p.NominalX(append([]string{""}, names...)...)
	p.X.Min, p.X.Max = 0.5, float64(len(names))+0.5
	p.Add(plotter.NewGrid())
	p.Legend.Top, p.Legend.Left = true, true // PSNR rises with scales: the top left is free
	wt, err := p.WriterTo(7*vg.Inch, 4*vg.Inch, "png")
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	if err := atomicfile.Write(path, func(w io.Writer) error { _, err := wt.WriteTo(w); return err }); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return nil
}

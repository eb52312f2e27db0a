package vio

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"io"
	"math"

	"github.com/omniar/omniar/internal/atomicfile"
)

// decodeGIF decodes an animated GIF into composited grey frames (at most
// maxFrames if positive) and its frame rate. Transparent pixels show what
// the previous frames left; the canvas starts black and "restore to
// background" clears to black.
func decodeGIF(data []byte, maxFrames int) ([]*image.Gray, float64, error) {
	cfg, err := gif.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, 0, err
	}
	w, h := cfg.Width, cfg.Height
	if err := checkSize(w, h); err != nil {
		return nil, 0, err
	}
	if n := countGIFFrames(data); n > MaxBytes/(w*h) {
		return nil, 0, fmt.Errorf("%d frames of %d×%d exceed %d decoded bytes", n, w, h, MaxBytes)
	}
	g, err := gif.DecodeAll(bytes.NewReader(data))
	if err != nil {
		return nil, 0, err
	}
	if len(g.Image) == 0 {
		return nil, 0, errors.New("gif has no frames")
	}
	return compositeGIF(g, w, h, maxFrames), gifFPS(g.Delay), nil
}

// checkSize rejects empty frames and frames above MaxPixels.
func checkSize(w, h int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("frame size %d×%d has no pixels", w, h)
	}
	if w > MaxPixels/h {
		return fmt.Errorf("frame size %d×%d exceeds %d pixels", w, h, MaxPixels)
	}
	return nil
}

// compositeGIF draws the frames of g onto a w×h grey canvas in turn.
func compositeGIF(g *gif.GIF, w, h, maxFrames int) []*image.Gray {
	canvas := make([]uint8, w*h)
	screen := image.Rect(0, 0, w, h)
	var out []*image.Gray
	for i, m := range g.Image {
		if maxFrames > 0 && i >= maxFrames {
			break
		}
		disposal := byte(0)
		if i < len(g.Disposal) {
			disposal = g.Disposal[i]
		}
		var saved []uint8
		if disposal == gif.DisposalPrevious {
			saved = append([]uint8(nil), canvas...)
		}
		r := m.Rect.Intersect(screen)
		drawPaletted(canvas, w, m, r)
		frame := image.NewGray(screen)
		copy(frame.Pix, canvas)
		out = append(out, frame)
		switch disposal {
		case gif.DisposalBackground:
			for y := r.Min.Y; y < r.Max.Y; y++ {
				clear(canvas[y*w+r.Min.X : y*w+r.Max.X])
			}
		case gif.DisposalPrevious:
			copy(canvas, saved)
		}
	}
	return out
}

// drawPaletted paints the opaque pixels of m within r onto canvas.
func drawPaletted(canvas []uint8, w int, m *image.Paletted, r image.Rectangle) {
	var lut [256]uint8
	var opaque [256]bool
	for i, c := range m.Palette {
		if i >= 256 || c == nil {
			break
		}
		_, _, _, a := c.RGBA()
		opaque[i] = a != 0
		lut[i] = color.GrayModel.Convert(c).(color.Gray).Y
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := m.Pix[m.PixOffset(r.Min.X, y):]
		dst := canvas[y*w+r.Min.X : y*w+r.Max.X]
		for x := range dst {
			if p := row[x]; opaque[p] {
				dst[x] = lut[p]
			}
		}
	}
}

// gifFPS is the frame rate of the mean frame delay (in 1/100 s); 0 if the
// delays are all zero.
func gifFPS(delays []int) float64 {
	sum := 0
	for _, d := range delays {
		sum += d
	}
	if sum <= 0 {
		return 0
	}
	return 100 * float64(len(delays)) / float64(sum)
}

// countGIFFrames counts image descriptors by walking the GIF's block
// structure without decoding pixels; it stops at the first malformed or
// truncated block, so it never exceeds what a decoder can return.
func countGIFFrames(b []byte) int {
	const header = 13
	if len(b) < header {
		return 0
	}
	p := header + colorTableLen(b[10])
	n := 0
	for p < len(b) {
		switch b[p] {
		case 0x21: // extension: label, then data sub-blocks
			p = skipSubBlocks(b, p+2)
		case 0x2c: // image descriptor (9 bytes), local table, LZW size, data
			if p+10 > len(b) {
				return n
			}
			p += 10 + colorTableLen(b[p+9])
			p = skipSubBlocks(b, p+1)
			if p > len(b) {
				return n
			}
			n++
		default: // trailer or garbage
			return n
		}
	}
	return n
}

// colorTableLen is the size of the colour table a packed flags byte announces.
func colorTableLen(flags byte) int {
	if flags&0x80 == 0 {
		return 0
	}
	return 3 << (flags&7 + 1)
}

// skipSubBlocks returns the offset after the sub-block chain starting at p
// (len(b)+1 if it is truncated).
func skipSubBlocks(b []byte, p int) int {
	for p < len(b) {
		n := int(b[p])
		p++
		if n == 0 {
			return p
		}
		p += n
	}
	return len(b) + 1
}

// greyPalette maps index i to grey level i, so grey frames encode losslessly.
var greyPalette = func() color.Palette {
	p := make(color.Palette, 256)
	for i := range p {
		p[i] = color.Gray{Y: uint8(i)}
	}
	return p
}()

// writeGIF encodes v with the grey palette and a delay from its FPS.
func writeGIF(path string, v *Video) error {
	if v.W > math.MaxUint16 || v.H > math.MaxUint16 {
		return fmt.Errorf("GIF frames are at most 65535 pixels wide and high, not %d×%d", v.W, v.H)
	}
	delay := int(math.Round(100 / v.fps()))
	delay = min(max(delay, 1), math.MaxUint16)
	g := &gif.GIF{Config: image.Config{ColorModel: greyPalette, Width: v.W, Height: v.H}}
	for _, f := range v.Frames {
		m := &image.Paletted{Pix: f, Stride: v.W, Rect: image.Rect(0, 0, v.W, v.H), Palette: greyPalette}
		g.Image = append(g.Image, m)
		g.Delay = append(g.Delay, delay)
		g.Disposal = append(g.Disposal, gif.DisposalNone)
	}
	return atomicfile.Write(path, func(w io.Writer) error { return gif.EncodeAll(w, g) })
}

package vio

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"io"

	"github.com/omniar/omniar/internal/atomicfile"
)

// decodePNG decodes a PNG as a one-frame grey video (colour is converted
// with the ITU-R 601 luma weights of color.GrayModel).
func decodePNG(data []byte) ([]*image.Gray, error) {
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if err := checkSize(cfg.Width, cfg.Height); err != nil {
		return nil, err
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return []*image.Gray{toGray(img)}, nil
}

// writePNG stores a one-frame video as an 8-bit grey PNG.
func writePNG(path string, v *Video) error {
	if len(v.Frames) != 1 {
		return fmt.Errorf("a PNG holds one frame, the video has %d (write a .gif)", len(v.Frames))
	}
	g := v.Gray(0)
	return atomicfile.Write(path, func(w io.Writer) error { return png.Encode(w, g) })
}

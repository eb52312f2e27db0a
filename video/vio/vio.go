// Package vio reads and writes video files as plain Go values: a Video is a
// list of grey uint8 frames of one size. GIF and PNG are handled in pure Go
// (image/gif, image/png); every other container (AVI with MJPG or XVID,
// MP4, …) goes through OpenCV (gocv) in the cgo build only, so OpenCV stays
// at this edge and the rest of the module builds without it.
//
// Limits: a decoded frame may have at most MaxPixels pixels and a decoded
// video at most MaxBytes bytes of grey pixels; larger inputs are rejected
// with an error before they are allocated (GIF and PNG) or while they are
// read (OpenCV), so crafted files cannot exhaust memory.
//
// Damaged frames: OpenCV's FFmpeg backend conceals some corruption
// (Megamind_bugy.avi decodes to all 270 frames, several visibly damaged, with
// no error) and silently drops some undecodable frames. A frame it does
// report as unreadable (a failed read followed by a good one, or an empty
// or unsupported frame) is skipped and counted in Video.Damaged and
// Info.Damaged, with a log warning; with ReadOptions.Strict it is an error
// instead. Damage in the last frames cannot be told from the end of the
// stream.
package vio

import (
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
)

// Limits on decoded sizes (see the package comment).
const (
	MaxPixels = 1 << 24 // pixels per frame (4096×4096)
	MaxBytes  = 1 << 30 // grey bytes per decoded video (1 GiB)
)

// DefaultFPS is used when writing a video whose FPS is not positive.
const DefaultFPS = 10

// Video is a clip of grey frames.
type Video struct {
	W, H    int
	FPS     float64   // frames per second; 0 if the file does not say
	Frames  [][]uint8 // each W*H grey pixels, row-major
	Damaged int       // frames skipped while reading because they were unreadable
}

// Validate checks that v has a positive size and frames of that size.
func (v *Video) Validate() error {
	switch {
	case v == nil:
		return errors.New("nil video")
	case v.W <= 0 || v.H <= 0:
		return fmt.Errorf("video size %d×%d is not positive", v.W, v.H)
	case v.W > MaxPixels/v.H:
		return fmt.Errorf("video size %d×%d exceeds %d pixels", v.W, v.H, MaxPixels)
	case len(v.Frames) == 0:
		return errors.New("video has no frames")
	}
	for i, f := range v.Frames {
		if len(f) != v.W*v.H {
			return fmt.Errorf("frame %d has %d pixels, want %d×%d = %d", i, len(f), v.W, v.H, v.W*v.H)
		}
	}
	return nil
}

// Gray returns frame i as an image sharing v's pixels (nil if out of range).
func (v *Video) Gray(i int) *image.Gray {
	if i < 0 || i >= len(v.Frames) || len(v.Frames[i]) != v.W*v.H {
		return nil
	}
	return &image.Gray{Pix: v.Frames[i], Stride: v.W, Rect: image.Rect(0, 0, v.W, v.H)}
}

// ReadOptions say how much to read and how to reshape frames.
type ReadOptions struct {
	MaxFrames int  // read at most this many frames; 0 reads all
	Geometry       // crop and resize applied to every frame
	Strict    bool // an unreadable frame is an error instead of skipped
}

// Info describes a video after a Scan.
type Info struct {
	W, H       int     // size of the frames passed on (after Geometry)
	SrcW, SrcH int     // size in the file
	FPS        float64 // 0 if unknown
	Frames     int     // frames passed on
	Damaged    int     // frames skipped as unreadable
}

// FrameFunc receives frame i (already reshaped). The image is owned by the
// callee. Returning an error stops the scan with that error.
type FrameFunc func(i int, frame *image.Gray) error

// Scan decodes path frame by frame, reshapes each frame by opt.Geometry
// and passes it to fn. It is the streaming form of Read for long videos.
func Scan(path string, opt ReadOptions, fn FrameFunc) (Info, error) {
	if err := opt.Geometry.check(); err != nil {
		return Info{}, fmt.Errorf("video %s: %w", path, err)
	}
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return Info{}, fmt.Errorf("video %s is missing", path)
	case err != nil:
		return Info{}, fmt.Errorf("video %s: %w", path, err)
	case st.IsDir():
		return Info{}, fmt.Errorf("video %s is a directory", path)
	}
	var info Info
	switch ext(path) {
	case ".gif", ".png":
		info, err = scanImageFile(path, opt, fn)
	default:
		info, err = scanCV(path, opt, fn)
	}
	if err != nil {
		return info, err
	}
	if info.Frames == 0 {
		return info, fmt.Errorf("video %s has no readable frames (%d damaged)", path, info.Damaged)
	}
	return info, nil
}

// Read decodes the video at path: .gif and .png in pure Go (a PNG is a
// video of one frame), anything else through OpenCV.
func Read(path string, opt ReadOptions) (*Video, error) {
	v := &Video{}
	info, err := Scan(path, opt, collect(v, path))
	if err != nil {
		return nil, err
	}
	v.W, v.H, v.FPS, v.Damaged = info.W, info.H, info.FPS, info.Damaged
	return v, nil
}

// collect returns a FrameFunc appending frames to v within MaxBytes.
func collect(v *Video, name string) FrameFunc {
	total := 0
	return func(_ int, g *image.Gray) error {
		n := g.Rect.Dx() * g.Rect.Dy()
		if total += n; total > MaxBytes {
			return fmt.Errorf("video %s exceeds %d decoded bytes (read fewer frames, resize, or use Scan)", name, MaxBytes)
		}
		v.Frames = append(v.Frames, packGray(g))
		return nil
	}
}

// Decode decodes a GIF or PNG held in memory; name's extension says which
// and names the data in errors.
func Decode(name string, data []byte) (*Video, error) {
	return decodeOpt(name, data, ReadOptions{})
}

func decodeOpt(name string, data []byte, opt ReadOptions) (*Video, error) {
	if err := opt.Geometry.check(); err != nil {
		return nil, fmt.Errorf("video %s: %w", name, err)
	}
	v := &Video{}
	info, err := scanImageBytes(name, data, opt, collect(v, name))
	if err != nil {
		return nil, err
	}
	if info.Frames == 0 {
		return nil, fmt.Errorf("video %s has no frames", name)
	}
	v.W, v.H, v.FPS = info.W, info.H, info.FPS
	return v, nil
}

func scanImageFile(path string, opt ReadOptions, fn FrameFunc) (Info, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Info{}, fmt.Errorf("video %s: %w", path, err)
	}
	return scanImageBytes(path, data, opt, fn)
}

// scanImageBytes decodes a GIF or PNG and passes on its frames.
func scanImageBytes(name string, data []byte, opt ReadOptions, fn FrameFunc) (Info, error) {
	var (
		frames []*image.Gray
		fps    float64
		err    error
	)
	switch ext(name) {
	case ".gif":
		frames, fps, err = decodeGIF(data, opt.MaxFrames)
	case ".png":
		frames, err = decodePNG(data)
	default:
		return Info{}, fmt.Errorf("video %s: only .gif and .png decode from memory", name)
	}
	if err != nil {
		return Info{}, fmt.Errorf("video %s: %w", name, err)
	}
	info := Info{FPS: fps}
	if len(frames) > 0 {
		info.SrcW, info.SrcH = frames[0].Rect.Dx(), frames[0].Rect.Dy()
	}
	for i, f := range frames {
		if opt.MaxFrames > 0 && i >= opt.MaxFrames {
			break
		}
		if err := pass(&info, name, opt.Geometry, f, fn); err != nil {
			return info, err
		}
	}
	return info, nil
}

// pass reshapes one frame, records it in info and hands it to fn.
func pass(info *Info, name string, g Geometry, f *image.Gray, fn FrameFunc) error {
	if _, _, err := g.Target(f.Rect.Dx(), f.Rect.Dy()); err != nil {
		return fmt.Errorf("video %s: %w", name, err)
	}
	out := g.Apply(f)
	info.W, info.H = out.Rect.Dx(), out.Rect.Dy()
	i := info.Frames
	info.Frames++
	return fn(i, out)
}

// Write stores v at path atomically (temporary file and rename); the
// extension picks the format: .gif (256 grey levels, lossless), .png (a
// video of exactly one frame), .avi (MJPG) or .mp4 (mp4v) through OpenCV.
func Write(path string, v *Video) error {
	if err := v.Validate(); err != nil {
		return fmt.Errorf("write video %s: %w", path, err)
	}
	var err error
	switch ext(path) {
	case ".gif":
		err = writeGIF(path, v)
	case ".png":
		err = writePNG(path, v)
	case ".avi", ".mp4":
		err = writeCV(path, v)
	default:
		err = errors.New("unknown extension (want .gif, .png, .avi or .mp4)")
	}
	if err != nil {
		return fmt.Errorf("write video %s: %w", path, err)
	}
	return nil
}

// fps returns v's frame rate, or DefaultFPS if it has none.
func (v *Video) fps() float64 {
	if v.FPS > 0 {
		return v.FPS
	}
	return DefaultFPS
}

func ext(path string) string { return strings.ToLower(filepath.Ext(path)) }

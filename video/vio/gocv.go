//go:build cgo && !purego

package vio

import (
	"errors"
	"fmt"
	"image"
	"log/slog"
	"os"
	"path/filepath"

	"gocv.io/x/gocv"
)

// maxFailedReads is how many failed reads in a row end the stream. OpenCV
// reports an undecodable frame as one failed read (and the next read goes
// on with the following frame), and the end of the stream as failed reads
// forever, so failures followed by a frame are damaged frames and a run of
// this many is the end.
const maxFailedReads = 16

// scanCV reads path with OpenCV, frame by frame.
func scanCV(path string, opt ReadOptions, fn FrameFunc) (Info, error) {
	c, err := openCapture(path)
	if err != nil {
		return Info{}, err
	}
	defer c.Close()
	info := Info{
		SrcW: int(c.Get(gocv.VideoCaptureFrameWidth)),
		SrcH: int(c.Get(gocv.VideoCaptureFrameHeight)),
		FPS:  c.Get(gocv.VideoCaptureFPS),
	}
	if !(info.FPS > 0 && info.FPS < 1e6) {
		info.FPS = 0
	}
	m, grey := gocv.NewMat(), gocv.NewMat()
	defer m.Close()
	defer grey.Close()
	failed := 0
	for (opt.MaxFrames <= 0 || info.Frames < opt.MaxFrames) && failed < maxFailedReads {
		if !c.Read(&m) {
			failed++
			continue
		}
		g, err := matToGray(m, &grey)
		if failed > 0 || err != nil {
			if err := damaged(&info, path, opt.Strict, failed, err); err != nil {
				return info, err
			}
			failed = 0
		}
		if err == nil {
			if info.SrcW <= 0 || info.SrcH <= 0 {
				info.SrcW, info.SrcH = g.Rect.Dx(), g.Rect.Dy()
			}
			if err := pass(&info, path, opt.Geometry, g, fn); err != nil {
				return info, err
			}
		}
	}
	return info, nil
}

// damaged counts the frames lost before the current one (failed reads) and
// the current one if it could not be converted (cause != nil); in strict
// mode it returns an error instead.
func damaged(info *Info, path string, strict bool, failed int, cause error) error {
	n := failed
	if cause != nil {
		n++
	} else {
		cause = errors.New("the decoder failed")
	}
	at := info.Frames + info.Damaged
	if strict {
		return fmt.Errorf("video %s: frame %d is damaged: %w", path, at, cause)
	}
	info.Damaged += n
	slog.Warn("skipping damaged video frames", "file", path, "frame", at, "count", n, "err", cause)
	return nil
}

// openCapture opens path with OpenCV's FFmpeg backend, or any backend.
func openCapture(path string) (*gocv.VideoCapture, error) {
	for _, api := range []gocv.VideoCaptureAPI{gocv.VideoCaptureFFmpeg, gocv.VideoCaptureAny} {
		c, err := gocv.VideoCaptureFileWithAPI(path, api)
		if err == nil && c.IsOpened() {
			return c, nil
		}
		c.Close()
	}
	return nil, fmt.Errorf("video %s: OpenCV cannot open it (not a video, unsupported codec, or damaged)", path)
}

// matToGray converts an 8-bit frame with 1, 3 (BGR) or 4 (BGRA) channels.
func matToGray(m gocv.Mat, grey *gocv.Mat) (*image.Gray, error) {
	if m.Empty() {
		return nil, errors.New("empty frame")
	}
	w, h := m.Cols(), m.Rows()
	if err := checkSize(w, h); err != nil {
		return nil, err
	}
	switch m.Type() {
	case gocv.MatTypeCV8UC1:
		m.CopyTo(grey)
	case gocv.MatTypeCV8UC3:
		gocv.CvtColor(m, grey, gocv.ColorBGRToGray)
	case gocv.MatTypeCV8UC4:
		gocv.CvtColor(m, grey, gocv.ColorBGRAToGray)
	default:
		return nil, fmt.Errorf("unsupported pixel type %v", m.Type())
	}
	pix := grey.ToBytes()
	if len(pix) != w*h {
		return nil, fmt.Errorf("grey frame has %d bytes, want %d", len(pix), w*h)
	}
	return &image.Gray{Pix: pix, Stride: w, Rect: image.Rect(0, 0, w, h)}, nil
}

// fourcc is the codec OpenCV writes for each extension.
var fourcc = map[string]string{".avi": "MJPG", ".mp4": "mp4v"}

// writeCV encodes v with OpenCV into a temporary file next to path (with
// the same extension, which picks the container) and renames it.
func writeCV(path string, v *Video) (err error) {
	e := ext(path)
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*"+e)
	if err != nil {
		return err
	}
	tmp := f.Name()
	f.Close()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if err := encodeCV(tmp, fourcc[e], v); err != nil {
		return err
	}
	if err := syncNonEmpty(tmp); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// encodeCV writes v's frames (as BGR) to path with the given codec.
func encodeCV(path, codec string, v *Video) error {
	w, err := gocv.VideoWriterFile(path, codec, v.fps(), v.W, v.H, true)
	if err != nil {
		return err
	}
	defer w.Close()
	if !w.IsOpened() {
		return fmt.Errorf("OpenCV cannot write %s video (codec %s missing?)", codec, codec)
	}
	bgr := gocv.NewMat()
	defer bgr.Close()
	for i, frame := range v.Frames {
		m, err := gocv.NewMatFromBytes(v.H, v.W, gocv.MatTypeCV8UC1, frame)
		if err != nil {
			return fmt.Errorf("frame %d: %w", i, err)
		}
		gocv.CvtColor(m, &bgr, gocv.ColorGrayToBGR)
		m.Close()
		if err := w.Write(bgr); err != nil {
			return fmt.Errorf("frame %d: %w", i, err)
		}
	}
	return nil
}

// syncNonEmpty flushes path to disk and checks that OpenCV wrote something.
func syncNonEmpty(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Size() == 0 {
		return errors.New("OpenCV wrote an empty file")
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	return f.Sync()
}

// HasOpenCV reports whether this build reads and writes video files
// through OpenCV.
const HasOpenCV = true

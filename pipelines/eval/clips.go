package eval

import (
	"fmt"
	"image"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/omniar/omniar/datasets/digits"
	"github.com/omniar/omniar/metrics"
	"github.com/omniar/omniar/video/vio"
)

// ClipSet is a set of clips read for a metric: frames already cut to the
// requested count and reshaped to the feature network's size.
type ClipSet struct {
	Source     string      // directory or "moving-digits:<split>"
	Names      []string    // file (or clip index) of each clip
	Clips      [][][]uint8 // [N][Frames][Size·Size]
	SrcW, SrcH int         // resolution of the source files
	W, H       int         // resolution of Clips (the source's when not resized)
	Meta       []digits.Clip
}

// videoExts are the files a clip directory may hold.
var videoExts = []string{".gif", ".mp4", ".avi", ".mkv", ".mov", ".webm"}

// IsSplit says whether src names a Moving-digits split rather than a directory.
func IsSplit(src string) bool {
	if st, err := os.Stat(src); err == nil && st.IsDir() {
		return false
	}
	name := strings.TrimPrefix(src, "moving-digits:")
	return name == "train" || name == "val" || name == "test"
}

// LoadClips reads up to n clips (n ≤ 0: all) of frames frames from src: a
// Moving-digits split name (train, val, test) of the data directory, or a
// directory of video files (GIF; MP4/AVI/… with OpenCV) and/or
// subdirectories of PNG frames (one clip each, frames in name order).
// Frames are centre-cropped to a square and resized to size×size (size 0:
// kept as they are). Every clip must have at least frames frames and all
// clips the same source resolution.
func LoadClips(src, dataDir string, n, frames, size int) (*ClipSet, error) {
	if frames <= 0 || size < 0 {
		return nil, fmt.Errorf("clips %s: %d frames of %d×%d", src, frames, size, size)
	}
	if IsSplit(src) {
		return loadSplit(strings.TrimPrefix(src, "moving-digits:"), dataDir, n, frames, size)
	}
	return loadDir(src, n, frames, size)
}

func loadSplit(split, dataDir string, n, frames, size int) (*ClipSet, error) {
	if frames > digits.Frames || (size != digits.Canvas && size != 0) {
		return nil, fmt.Errorf("moving-digits %s: clips are %d frames of %d×%d; cannot give %d frames of %d×%d",
			split, digits.Frames, digits.Canvas, digits.Canvas, frames, size, size)
	}
	m, err := digits.LoadMoving(dataDir, split)
	if err != nil {
		return nil, err
	}
	if n <= 0 || n > len(m.Clips) {
		n = len(m.Clips)
	}
	cs := &ClipSet{Source: "moving-digits:" + split, SrcW: digits.Canvas, SrcH: digits.Canvas, W: digits.Canvas, H: digits.Canvas}
	for i := 0; i < n; i++ {
		cs.Names = append(cs.Names, fmt.Sprintf("%s#%d", split, i))
		cs.Clips = append(cs.Clips, metrics.SplitFrames(m.Store.Clip(i), digits.Canvas, digits.Canvas)[:frames])
		cs.Meta = append(cs.Meta, m.Clips[i])
	}
	return cs, nil
}

// clipFiles lists the clips of a directory: video files and PNG-frame
// subdirectories, in name order.
func clipFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("clips: %w", err)
	}
	var out []string
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if e.IsDir() {
			if pngs, _ := filepath.Glob(filepath.Join(p, "*.png")); len(pngs) > 0 {
				out = append(out, p)
			}
			continue
		}
		if slices.Contains(videoExts, strings.ToLower(filepath.Ext(e.Name()))) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("clips: %s holds no clips (%s files or directories of PNG frames)", dir, strings.Join(videoExts, " "))
	}
	return out, nil
}

func loadDir(dir string, n, frames, size int) (*ClipSet, error) {
	files, err := clipFiles(dir)
	if err != nil {
		return nil, err
	}
	if n > 0 && n < len(files) {
		files = files[:n]
	}
	cs := &ClipSet{Source: dir}
	geo := vio.Geometry{Width: size, Height: size, Square: size > 0, Filter: vio.Box}
	for _, f := range files {
		clip, w, h, err := readClip(f, frames, geo)
		if err != nil {
			return nil, err
		}
		if cs.SrcW == 0 {
			cs.SrcW, cs.SrcH = w, h
			cs.W, cs.H = w, h
			if size > 0 {
				cs.W, cs.H = size, size
			}
		} else if w != cs.SrcW || h != cs.SrcH {
			return nil, fmt.Errorf("clips: %s is %d×%d but %s is %d×%d; a set must have one resolution", f, w, h, cs.Names[0], cs.SrcW, cs.SrcH)
		}
		cs.Names = append(cs.Names, f)
		cs.Clips = append(cs.Clips, clip)
	}
	return cs, nil
}

// readClip reads the first frames frames of a video file or PNG directory.
func readClip(path string, frames int, geo vio.Geometry) ([][]uint8, int, int, error) {
	var out [][]uint8
	var w, h int
	keep := func(_ int, g *image.Gray) error {
		out = append(out, grayPix(g))
		return nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("clip %s: %w", path, err)
	}
	if st.IsDir() {
		pngs, _ := filepath.Glob(filepath.Join(path, "*.png"))
		slices.Sort(pngs)
		for _, p := range pngs[:min(len(pngs), frames)] {
			info, err := vio.Scan(p, vio.ReadOptions{MaxFrames: 1, Geometry: geo}, keep)
			if err != nil {
				return nil, 0, 0, fmt.Errorf("clip %s: %w", path, err)
			}
			if w != 0 && (info.SrcW != w || info.SrcH != h) {
				return nil, 0, 0, fmt.Errorf("clip %s: frame %s is %d×%d, the first is %d×%d", path, p, info.SrcW, info.SrcH, w, h)
			}
			w, h = info.SrcW, info.SrcH
		}
	} else {
		info, err := vio.Scan(path, vio.ReadOptions{MaxFrames: frames, Geometry: geo}, keep)
		if err != nil {
			return nil, 0, 0, fmt.Errorf("clip %s: %w", path, err)
		}
		w, h = info.SrcW, info.SrcH
	}
	if len(out) < frames {
		return nil, 0, 0, fmt.Errorf("clip %s has %d frames, need %d (--frames)", path, len(out), frames)
	}
	return out, w, h, nil
}

// grayPix copies a grey image's pixels row by row.
func grayPix(g *image.Gray) []uint8 {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	out := make([]uint8, 0, w*h)
	for y := 0; y < h; y++ {
		off := (y)*g.Stride + 0
		out = append(out, g.Pix[off:off+w]...)
	}
	return out
}

// checkPair rejects two sets that cannot be compared.
func checkPair(real, fake *ClipSet) error {
	if real.SrcW != fake.SrcW || real.SrcH != fake.SrcH {
		return fmt.Errorf("real clips (%s) are %d×%d but fake clips (%s) are %d×%d: compare at one resolution",
			real.Source, real.SrcW, real.SrcH, fake.Source, fake.SrcW, fake.SrcH)
	}
	if len(real.Clips) < metrics.MinSamples || len(fake.Clips) < metrics.MinSamples {
		return fmt.Errorf("%d real and %d fake clips: need at least %d of each: %w", len(real.Clips), len(fake.Clips), metrics.MinSamples, metrics.ErrTooFew)
	}
	return nil
}

func warnFew(n, d int, set string) {
	if n <= d {
		slog.Warn("eval: fewer samples than feature dimensions; the covariance is singular and the Fréchet distance noisy", "set", set, "samples", n, "dim", d)
	}
}

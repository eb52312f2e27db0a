// Package clips builds and loads the real-video-clip data set (DESIGN.md,
// "Data"): 17-frame grey clips of natural motion cut from the sample videos
// of Debian's opencv-doc package, centre-cropped to a square and resized
// to 64×64 and 128×128, for training and testing the video tokenizer.
//
// The split is by source file. Megamind.avi and Megamind_bugy.avi are the
// same footage (the second re-encoded with damaged frames), so both are the
// test split; vtest.avi and tree.avi are train. Train clips start every 8
// frames (neighbours share 9 frames, for more clips); test clips every 17
// (no frame is scored twice).
//
// Each (split, size) is one datasets/store file, clips/<split>_<size>.store,
// of shape [N, 17, S, S, 1] whose JSON index (an Index) names the source
// file and start frame of every clip.
package clips

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/omniar/omniar/datasets"
	"github.com/omniar/omniar/datasets/store"
	"github.com/omniar/omniar/video/vio"
)

// Kind is the manifest kind of the clip files.
const Kind = "clips"

// Splits.
const (
	Train = "train"
	Test  = "test"
)

// Source is one input video, its split and the stride between clip starts.
type Source struct {
	File   string
	Split  string
	Stride int
}

// Config says what to cut from which files.
type Config struct {
	Frames  int   // frames per clip (1 + 4k for the video tokenizer)
	Sizes   []int // square output sides
	Filter  vio.Filter
	Sources []Source
}

// DefaultConfig is the recipe of the data set.
func DefaultConfig() Config {
	return Config{
		Frames: 17,
		Sizes:  []int{64, 128},
		Filter: vio.Lanczos,
		Sources: []Source{
			{File: "vtest.avi", Split: Train, Stride: 8},
			{File: "tree.avi", Split: Train, Stride: 8},
			{File: "Megamind.avi", Split: Test, Stride: 17},
			{File: "Megamind_bugy.avi", Split: Test, Stride: 17},
		},
	}
}

// Index describes the clips of one store file.
type Index struct {
	Split   string       `json:"split"`
	Size    int          `json:"size"`
	Frames  int          `json:"frames"`
	Recipe  string       `json:"recipe"`
	Sources []SourceInfo `json:"sources"`
	Clips   []ClipInfo   `json:"clips"`
}

// SourceInfo records one source video.
type SourceInfo struct {
	File    string  `json:"file"`
	SHA256  string  `json:"sha256"`
	Width   int     `json:"width"`
	Height  int     `json:"height"`
	FPS     float64 `json:"fps"`
	Frames  int     `json:"frames"`  // frames read
	Damaged int     `json:"damaged"` // frames skipped as unreadable
	Stride  int     `json:"stride"`
}

// ClipInfo says where a clip comes from.
type ClipInfo struct {
	Source string `json:"source"`
	Start  int    `json:"start"` // first frame, counting frames read
}

// recipe is recorded in every index.
const recipe = "grey (ITU-R 601 luma), centre crop to a square, resize (Lanczos-3 unless noted)"

// FileName is the data-directory path of a (split, size) store.
func FileName(split string, size int) string {
	return fmt.Sprintf("%s/%s_%d.store", Kind, split, size)
}

// Build reads the opencv-doc sample videos from src and writes the clip
// stores under dir, returning their manifest entries (sorted by path).
func Build(ctx context.Context, src datasets.Sources, dir string) ([]datasets.Entry, error) {
	return BuildWith(ctx, DefaultConfig(), src.OpenCVData, dir, src.FixOpenCV())
}

// BuildWith is Build with another recipe and source directory; fix is the
// hint a missing source file's error gives.
func BuildWith(ctx context.Context, cfg Config, srcDir, dir, fix string) ([]datasets.Entry, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	for _, s := range cfg.Sources {
		if err := datasets.NeedFile(filepath.Join(srcDir, s.File), fix); err != nil {
			return nil, err
		}
	}
	videos := make([]*video, len(cfg.Sources))
	for i, s := range cfg.Sources {
		v, err := readSource(ctx, cfg, filepath.Join(srcDir, s.File), s)
		if err != nil {
			return nil, err
		}
		videos[i] = v
	}
	return writeStores(cfg, videos, dir)
}

func (c Config) check() error {
	if c.Frames < 1 || len(c.Sizes) == 0 || len(c.Sources) == 0 {
		return errors.New("clips: config needs frames, sizes and sources")
	}
	for _, s := range c.Sizes {
		if s < 1 || s > 4096 {
			return fmt.Errorf("clips: size %d out of range", s)
		}
	}
	for _, s := range c.Sources {
		if s.Stride < 1 || s.File == "" || s.Split == "" || strings.ContainsAny(s.Split, "/_") {
			return fmt.Errorf("clips: bad source %+v", s)
		}
	}
	return nil
}

// video is one source read and resized to every size.
type video struct {
	src    Source
	info   SourceInfo
	frames map[int][][]uint8 // size → frames of size×size
}

// readSource decodes one source, grey and square, at every size.
func readSource(ctx context.Context, cfg Config, path string, s Source) (*video, error) {
	t0 := time.Now()
	sum, _, err := datasets.HashFile(path)
	if err != nil {
		return nil, fmt.Errorf("clips: %w", err)
	}
	v := &video{src: s, frames: map[int][][]uint8{}}
	square := vio.ReadOptions{Geometry: vio.Geometry{Square: true}}
	info, err := vio.Scan(path, square, func(_ int, f *image.Gray) error {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("clips: reading %s: %w", path, err)
		}
		for _, size := range cfg.Sizes {
			g := vio.Geometry{Width: size, Height: size, Filter: cfg.Filter}.Apply(f)
			v.frames[size] = append(v.frames[size], g.Pix)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if info.Frames < cfg.Frames {
		return nil, fmt.Errorf("clips: source %s has %d readable frames, fewer than one %d-frame clip", path, info.Frames, cfg.Frames)
	}
	v.info = SourceInfo{File: s.File, SHA256: sum, Width: info.SrcW, Height: info.SrcH, FPS: info.FPS,
		Frames: info.Frames, Damaged: info.Damaged, Stride: s.Stride}
	slog.Info("read clip source", "file", path, "frames", info.Frames, "damaged", info.Damaged,
		"clips", len(starts(info.Frames, cfg.Frames, s.Stride)), "took", time.Since(t0).Round(time.Millisecond))
	return v, nil
}

// starts lists the first frames of the clips of length t, stride apart,
// that fit in n frames.
func starts(n, t, stride int) []int {
	var out []int
	for s := 0; s+t <= n; s += stride {
		out = append(out, s)
	}
	return out
}

// writeStores writes one store per (split, size) in a fixed order.
func writeStores(cfg Config, videos []*video, dir string) ([]datasets.Entry, error) {
	var splits []string
	for _, v := range videos {
		if !slices.Contains(splits, v.src.Split) {
			splits = append(splits, v.src.Split)
		}
	}
	slices.Sort(splits)
	var entries []datasets.Entry
	for _, split := range splits {
		for _, size := range cfg.Sizes {
			e, err := writeStore(cfg, videos, split, size, dir)
			if err != nil {
				return nil, err
			}
			entries = append(entries, e)
		}
	}
	slices.SortFunc(entries, func(a, b datasets.Entry) int { return strings.Compare(a.Path, b.Path) })
	return entries, nil
}

// writeStore writes the clips of one split at one size.
func writeStore(cfg Config, videos []*video, split string, size int, dir string) (datasets.Entry, error) {
	rel := FileName(split, size)
	path := filepath.Join(dir, filepath.FromSlash(rel))
	idx := Index{Split: split, Size: size, Frames: cfg.Frames, Recipe: recipe}
	if cfg.Filter == vio.Box {
		idx.Recipe = strings.Replace(recipe, "Lanczos-3 unless noted", "box", 1)
	}
	var data []uint8
	var names []string
	for _, v := range videos {
		if v.src.Split != split {
			continue
		}
		idx.Sources = append(idx.Sources, v.info)
		names = append(names, v.src.File)
		for _, s := range starts(v.info.Frames, cfg.Frames, v.src.Stride) {
			idx.Clips = append(idx.Clips, ClipInfo{Source: v.src.File, Start: s})
			for _, f := range v.frames[size][s : s+cfg.Frames] {
				data = append(data, f...)
			}
		}
	}
	if err := mkdirFor(path); err != nil {
		return datasets.Entry{}, err
	}
	item := store.Shape{T: cfg.Frames, H: size, W: size, C: 1}
	if err := store.Write(path, item, data, idx); err != nil {
		return datasets.Entry{}, fmt.Errorf("clips: %w", err)
	}
	labels := map[string]string{
		"size":    strconv.Itoa(size),
		"frames":  strconv.Itoa(cfg.Frames),
		"clips":   strconv.Itoa(len(idx.Clips)),
		"sources": strings.Join(names, ","),
	}
	slog.Info("wrote clips", "file", path, "clips", len(idx.Clips), "bytes", len(data))
	return datasets.AddFile(dir, rel, split, Kind, labels)
}

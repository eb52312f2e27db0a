package vtok

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/omniar/omniar/msvq"
	"github.com/omniar/omniar/tokenizers/tokfile"
	"github.com/omniar/omniar/video"
	"github.com/omniar/omniar/video/vio"
)

// Files: `omniar tokenizer encode|decode --modality image|video`.
//
// Encoding reads a PNG, GIF, AVI or MP4 (vio), centre-crops every frame
// to a square and resizes it (area filter) to the tokenizer's grey
// Size×Size. An image is the first frame. A video keeps its first
// 1 + TimeStride·k frames, the most that fit in maxFrames (17 by default,
// the clips the tokenizer was trained on); fewer than 1 + TimeStride
// frames is an error (encode it as an image instead).
//
// The .tok file (package tokfile) holds, for modality image or video,
// dims frames (video frames decoded), latent_frames, height, width and fps
// (rounded, 0 if unknown), the scale schedule, the tokenizer's id
// (video.Weights.ID) and its codebook size; the indices are latent-frame
// major, then scale coarse to fine, then row-major within a k×k map.

// FileReport describes one encoded or decoded file.
type FileReport struct {
	Frames, LatentFrames, Tokens int
	Took                         time.Duration
}

// EncodeFile tokenizes the media file in with the tokenizer at ckpt and
// writes the .tok file out; modality is image or video, maxFrames caps a
// video's frames (0: 17).
func EncodeFile(ckpt, modality, in, out string, maxFrames int) (FileReport, error) {
	if modality != "image" && modality != "video" {
		return FileReport{}, fmt.Errorf("encode %s: modality %q is not image or video", in, modality)
	}
	cfg, w, err := video.LoadCheckpoint(ckpt)
	if err != nil {
		return FileReport{}, err
	}
	if cfg.Quant.Codes > 1<<16 {
		return FileReport{}, fmt.Errorf("encode %s: %d codes do not fit a .tok file", in, cfg.Quant.Codes)
	}
	if maxFrames <= 0 {
		maxFrames = 17
	}
	want := 1
	if modality == "video" {
		want = maxFrames
	}
	v, err := vio.Read(in, vio.ReadOptions{MaxFrames: want, Geometry: vio.Geometry{Width: cfg.Size, Height: cfg.Size, Square: true, Filter: vio.Box}})
	if err != nil {
		return FileReport{}, fmt.Errorf("encode: %w", err)
	}
	n := 1
	if modality == "video" {
		ts := cfg.TimeStride
		if len(v.Frames) < 1+ts {
			return FileReport{}, fmt.Errorf("encode %s: %d frames, a video needs at least %d (1 + %d·k); encode it with --modality image", in, len(v.Frames), 1+ts, ts)
		}
		n = 1 + (min(len(v.Frames), maxFrames)-1)/ts*ts
	}
	start := time.Now()
	enc, err := video.NewEncoder(cfg, n, w)
	if err != nil {
		return FileReport{}, fmt.Errorf("encode %s: %w", in, err)
	}
	defer enc.Close()
	maps, err := enc.Encode(slices.Concat(v.Frames[:n]...))
	if err != nil {
		return FileReport{}, fmt.Errorf("encode %s: %w", in, err)
	}
	f := &tokfile.File{Header: tokfile.Header{
		Modality: modality,
		Dims: []tokfile.Dim{{Name: "frames", Size: n}, {Name: "latent_frames", Size: len(maps)},
			{Name: "height", Size: cfg.Size}, {Name: "width", Size: cfg.Size}, {Name: "fps", Size: int(math.Round(v.FPS))}},
		Scales:       cfg.Quant.Scales,
		CodebookID:   w.ID(),
		CodebookSize: cfg.Quant.Codes,
	}}
	for _, m := range maps {
		for _, codes := range m {
			for _, c := range codes {
				f.Indices = append(f.Indices, uint16(c))
			}
		}
	}
	f.Count = len(f.Indices)
	if err := tokfile.Write(out, f); err != nil {
		return FileReport{}, err
	}
	return FileReport{Frames: n, LatentFrames: len(maps), Tokens: f.Count, Took: time.Since(start)}, nil
}

// DecodeFile turns the .tok file in back into media (out's extension:
// .png, .gif, .avi, .mp4) with the tokenizer at ckpt, which must be the one
// that encoded it.
func DecodeFile(ckpt, modality, in, out string) (FileReport, error) {
	cfg, w, err := video.LoadCheckpoint(ckpt)
	if err != nil {
		return FileReport{}, err
	}
	f, err := tokfile.Read(in)
	if err != nil {
		return FileReport{}, fmt.Errorf("decode: %w", err)
	}
	if err := f.Check(modality, w.ID()); err != nil {
		return FileReport{}, fmt.Errorf("decode %s: %w (tokenizer %s)", in, err, ckpt)
	}
	maps, dims, err := splitMaps(f, cfg)
	if err != nil {
		return FileReport{}, fmt.Errorf("decode %s: %w", in, err)
	}
	start := time.Now()
	qd, err := w.QuantDecoder(cfg)
	if err != nil {
		return FileReport{}, err
	}
	lat, err := qd.Latents(maps)
	if err != nil {
		return FileReport{}, fmt.Errorf("decode %s: %w", in, err)
	}
	pd, err := video.NewPixelDecoder(cfg, len(maps), w)
	if err != nil {
		return FileReport{}, err
	}
	defer pd.Close()
	if pd.Frames() != dims.frames {
		return FileReport{}, fmt.Errorf("decode %s: %d latent frames decode to %d frames, the header says %d", in, len(maps), pd.Frames(), dims.frames)
	}
	px, err := pd.Decode(lat)
	if err != nil {
		return FileReport{}, fmt.Errorf("decode %s: %w", in, err)
	}
	fs := cfg.Size * cfg.Size
	v := &vio.Video{W: cfg.Size, H: cfg.Size, FPS: float64(dims.fps)}
	for i := 0; i < pd.Frames(); i++ {
		v.Frames = append(v.Frames, px[i*fs:(i+1)*fs])
	}
	if err := vio.Write(out, v); err != nil {
		return FileReport{}, err
	}
	return FileReport{Frames: len(v.Frames), LatentFrames: len(maps), Tokens: f.Count, Took: time.Since(start)}, nil
}

type fileDims struct{ frames, fps int }

// splitMaps checks a .tok header against the tokenizer and cuts its
// indices into per-latent-frame token maps.
func splitMaps(f *tokfile.File, cfg video.Config) ([]msvq.Maps, fileDims, error) {
	d, err := f.MustDims("frames", "latent_frames", "height", "width", "fps")
	if err != nil {
		return nil, fileDims{}, err
	}
	frames, lf, h, wd := d[0], d[1], d[2], d[3]
	q := cfg.Quant
	switch {
	case !slices.Equal(f.Scales, q.Scales) || f.CodebookSize != q.Codes:
		return nil, fileDims{}, fmt.Errorf("scales %v and %d codes, the tokenizer has %v and %d", f.Scales, f.CodebookSize, q.Scales, q.Codes)
	case h != cfg.Size || wd != cfg.Size:
		return nil, fileDims{}, fmt.Errorf("frames of %d×%d, the tokenizer makes %d×%d", wd, h, cfg.Size, cfg.Size)
	case lf < 1 || lf > 1<<16 || f.Count != lf*q.Tokens():
		return nil, fileDims{}, fmt.Errorf("%d indices for %d latent frames of %d tokens", f.Count, lf, q.Tokens())
	case f.Modality == "image" && (lf != 1 || frames != 1):
		return nil, fileDims{}, fmt.Errorf("an image of %d frames (%d latent)", frames, lf)
	}
	maps := make([]msvq.Maps, lf)
	i := 0
	for t := range maps {
		for _, k := range q.Scales {
			m := make([]int, k*k)
			for j := range m {
				m[j] = int(f.Indices[i])
				i++
			}
			maps[t] = append(maps[t], m)
		}
	}
	return maps, fileDims{frames: frames, fps: d[4]}, nil
}

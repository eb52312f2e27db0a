package vtok

import (
	"context"
	"fmt"
	"math"
	"path/filepath"

	"github.com/omniar/omniar/datasets/clips"
	"github.com/omniar/omniar/datasets/digits"
	"github.com/omniar/omniar/metrics"
	"github.com/omniar/omniar/video"
)

// SetScores are the reconstruction scores of one test set.
type SetScores struct {
	Clips      int       `json:"clips"`
	PSNR       float64   `json:"psnr_db"` // mean per frame
	SSIM       float64   `json:"ssim"`
	FgPSNR     float64   `json:"foreground_psnr_db,omitempty"` // over pixels with ink in the original (Moving-digits)
	PSNRScales []float64 `json:"psnr_db_after_scales"`         // decode from the first s scales, s = 1 … S
}

// Report is the tokenizer evaluation (`omniar eval tokenizer`).
type Report struct {
	Checkpoint     string                `json:"checkpoint"`
	Frames         int                   `json:"frames"`
	Config         video.Config          `json:"config"`
	Moving         SetScores             `json:"moving_digits_test"`
	Real           SetScores             `json:"real_clips_test"`
	Codebook       metrics.CodebookUsage `json:"codebook"`
	ScaleEntropy   []float64             `json:"entropy_nats_per_scale"`
	EmptyTopShare  []float64             `json:"empty_cells_top_code_share_per_scale"`
	EmptyCodes     []int                 `json:"empty_cells_distinct_codes_per_scale"`
	TokensPerClip  int                   `json:"tokens_per_clip"`
	TokensPerFrame int                   `json:"tokens_per_image"`
}

// Eval reconstructs n test clips of each set with the checkpoint's
// tokenizer on clips of frames frames (1 = images: the first frame).
func Eval(ctx context.Context, data, ckpt string, frames, n int) (*Report, error) {
	cfg, w, err := video.LoadCheckpoint(ckpt)
	if err != nil {
		return nil, err
	}
	const batch = 1
	ae, err := video.NewAutoencoder(cfg, batch, frames, w)
	if err != nil {
		return nil, err
	}
	defer ae.Close()
	mv, err := digits.LoadMoving(data, "test")
	if err != nil {
		return nil, err
	}
	rc, err := clips.Open(filepath.Join(data, filepath.FromSlash(clips.FileName("test", cfg.Size))))
	if err != nil {
		return nil, err
	}
	tl, _ := cfg.LatentFrames(frames)
	r := &Report{Checkpoint: ckpt, Frames: frames, Config: cfg, TokensPerFrame: cfg.Quant.Tokens(), TokensPerClip: tl * cfg.Quant.Tokens()}
	var all []int
	ent := newScaleStats(cfg)
	for i := 0; i < min(n, mv.Store.Len()); i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		clip := mv.Store.Clip(i)[:frames*cfg.Size*cfg.Size]
		res, err := ae.Run(clip)
		if err != nil {
			return nil, err
		}
		if err := r.Moving.add(clip, res, cfg.Size, frames, true); err != nil {
			return nil, err
		}
		ent.add(clip, res.Codes, frames)
		for _, c := range res.Codes {
			all = append(all, c...)
		}
	}
	r.Moving.finish()
	for i := 0; i < min(n, rc.Len()); i++ {
		clip := rc.Clip(i)[:frames*cfg.Size*cfg.Size]
		res, err := ae.Run(clip)
		if err != nil {
			return nil, err
		}
		if err := r.Real.add(clip, res, cfg.Size, frames, false); err != nil {
			return nil, err
		}
	}
	r.Real.finish()
	if r.Codebook, err = metrics.Codebook(all, cfg.Quant.Codes); err != nil {
		return nil, err
	}
	r.ScaleEntropy, r.EmptyTopShare, r.EmptyCodes = ent.summary()
	return r, nil
}

func frameList(v []uint8, frames, size int) [][]uint8 {
	out := make([][]uint8, frames)
	for f := range out {
		out[f] = v[f*size*size : (f+1)*size*size]
	}
	return out
}

// add scores one clip: all scales, each prefix of scales, foreground.
func (s *SetScores) add(clip []uint8, res video.Result, size, frames int, fg bool) error {
	ref := frameList(clip, frames, size)
	full, err := metrics.CompareFrames(ref, frameList(res.Full, frames, size), size, size)
	if err != nil {
		return err
	}
	s.Clips++
	s.PSNR += full.PSNR
	s.SSIM += full.SSIM
	if len(s.PSNRScales) == 0 {
		s.PSNRScales = make([]float64, len(res.Partial)+1)
	}
	for i, p := range res.Partial {
		ps, err := metrics.CompareFrames(ref, frameList(p, frames, size), size, size)
		if err != nil {
			return err
		}
		s.PSNRScales[i] += ps.PSNR
	}
	s.PSNRScales[len(res.Partial)] += full.PSNR
	if fg {
		var se float64
		var n int
		for i, v := range clip {
			if v > 0 {
				d := float64(v) - float64(res.Full[i])
				se += d * d
				n++
			}
		}
		if n > 0 {
			s.FgPSNR += 10 * math.Log10(255*255/math.Max(se/float64(n), 1e-9))
		}
	}
	return nil
}

func (s *SetScores) finish() {
	if s.Clips == 0 {
		return
	}
	n := float64(s.Clips)
	s.PSNR /= n
	s.SSIM /= n
	s.FgPSNR /= n
	for i := range s.PSNRScales {
		s.PSNRScales[i] /= n
	}
}

// scaleStats counts codes per scale, and separately for cells whose area of
// the original frames has no ink ("empty background").
type scaleStats struct {
	cfg   video.Config
	all   []map[int]int
	empty []map[int]int
}

func newScaleStats(cfg video.Config) *scaleStats {
	s := &scaleStats{cfg: cfg}
	for range cfg.Quant.Scales {
		s.all = append(s.all, map[int]int{})
		s.empty = append(s.empty, map[int]int{})
	}
	return s
}

// add counts the codes of one clip; a latent frame's cell is empty when no
// pixel of the frames it covers, in the cell's area, has ink.
func (s *scaleStats) add(clip []uint8, codes [][]int, frames int) {
	size, ts := s.cfg.Size, s.cfg.TimeStride
	for si, k := range s.cfg.Quant.Scales {
		cell := size / k
		for i, c := range codes[si] {
			s.all[si][c]++
			f, y, x := i/(k*k), i/k%k, i%k
			f0, f1 := 0, 1 // latent frame f covers frames (f−1)·ts+1 … f·ts
			if f > 0 {
				f0, f1 = (f-1)*ts+1, f*ts+1
			}
			if s.inkFree(clip, f0, min(f1, frames), y*cell, x*cell, (y+1)*cell, (x+1)*cell) {
				s.empty[si][c]++
			}
		}
	}
}

func (s *scaleStats) inkFree(clip []uint8, f0, f1, y0, x0, y1, x1 int) bool {
	size := s.cfg.Size
	for f := f0; f < f1; f++ {
		for y := y0; y < min(y1, size); y++ {
			for x := x0; x < min(x1, size); x++ {
				if clip[(f*size+y)*size+x] > 0 {
					return false
				}
			}
		}
	}
	return true
}

func (s *scaleStats) summary() (entropy, topShare []float64, distinct []int) {
	for si := range s.all {
		entropy = append(entropy, histEntropy(s.all[si]))
		top, total := 0, 0
		for _, n := range s.empty[si] {
			top = max(top, n)
			total += n
		}
		share := math.NaN()
		if total > 0 {
			share = float64(top) / float64(total)
		}
		topShare = append(topShare, share)
		distinct = append(distinct, len(s.empty[si]))
	}
	return entropy, topShare, distinct
}

func histEntropy(h map[int]int) float64 {
	var n float64
	for _, v := range h {
		n += float64(v)
	}
	var e float64
	for _, v := range h {
		p := float64(v) / n
		e -= p * math.Log(p)
	}
	return e
}

// String summarises a report in a few lines.
func (r *Report) String() string {
	return fmt.Sprintf("moving-digits test (%d clips × %d frames): PSNR %.2f dB, SSIM %.4f, foreground PSNR %.2f dB, PSNR after scales %v\nreal test (%d clips): PSNR %.2f dB, SSIM %.4f\ncodebook: %d/%d codes used, perplexity %.1f; entropy per scale %v nats; empty cells: top-code share %v, distinct codes %v\ntokens: %d per clip, %d per image",
		r.Moving.Clips, r.Frames, r.Moving.PSNR, r.Moving.SSIM, r.Moving.FgPSNR, round2(r.Moving.PSNRScales),
		r.Real.Clips, r.Real.PSNR, r.Real.SSIM, r.Codebook.Used, r.Codebook.Size, r.Codebook.Perplexity, round2(r.ScaleEntropy), round2(r.EmptyTopShare), r.EmptyCodes,
		r.TokensPerClip, r.TokensPerFrame)
}

func round2(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = math.Round(x*100) / 100
	}
	return out
}

package vtok

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/omniar/omniar/datasets/clips"
	"github.com/omniar/omniar/datasets/digits"
	"github.com/omniar/omniar/metrics"
	"github.com/omniar/omniar/video"
)

// SetScores are the reconstruction scores of one test set.
type SetScores struct {
	Clips      int       `json:"clips"`
	PSNR       float64   `json:"psnr_db"` // mean per frame, exact frames (infinite PSNR) left out
	SSIM       float64   `json:"ssim"`
	FgPSNR     float64   `json:"foreground_psnr_db,omitempty"` // over pixels with ink in the original (Moving-digits)
	PSNRScales []float64 `json:"psnr_db_after_scales"`         // decode from the first s scales, s = 1 … S
	Identical  int       `json:"identical_clips,omitempty"`    // clips decoded exactly, left out of the PSNR means
	// PSNRFrames is the mean PSNR of each frame index (clips only): frame
	// 0 is encoded alone, then each group of TimeStride frames shares a
	// latent frame, and this shows how the frames of a group fare.
	PSNRFrames []float64 `json:"psnr_db_per_frame,omitempty"`

	psnr, fg mean
	scales   []mean
	frames   []mean
}

// mean accumulates finite values.
type mean struct {
	sum float64
	n   int
}

func (m *mean) add(v float64) {
	if !math.IsInf(v, 0) && !math.IsNaN(v) {
		m.sum += v
		m.n++
	}
}

func (m mean) value() float64 {
	if m.n == 0 {
		return 0
	}
	return m.sum / float64(m.n)
}

// Report is the tokenizer evaluation (`omniar eval tokenizer`).
type Report struct {
	Command        string                `json:"command,omitempty"` // the command line that wrote it
	Checkpoint     string                `json:"checkpoint"`
	Frames         int                   `json:"frames"`
	Config         video.Config          `json:"config"`
	Moving         SetScores             `json:"moving_digits_test"`
	Real           SetScores             `json:"real_clips_test"`
	Layout         *LayoutScores         `json:"layout,omitempty"`      // Moving-digits, decode up to 4×4
	Digits         *DigitScores          `json:"digit_check,omitempty"` // with a classifier only
	Ceiling        *CeilingScores        `json:"ceiling,omitempty"`     // with Ceiling > 0 only
	Codebook       metrics.CodebookUsage `json:"codebook"`
	ScaleEntropy   []float64             `json:"entropy_nats_per_scale"`
	EmptyTopShare  nullFloats            `json:"empty_cells_top_code_share_per_scale"` // null: no empty cell at that scale
	EmptyCodes     []int                 `json:"empty_cells_distinct_codes_per_scale"`
	TokensPerClip  int                   `json:"tokens_per_clip"`
	TokensPerFrame int                   `json:"tokens_per_image"`
	// TokenRatio is TokensPerClip over Frames × TokensPerFrame: what the
	// temporal compression saves against tokenizing every frame as an image.
	TokenRatio float64  `json:"clip_tokens_over_per_frame_tokens"`
	Pictures   []string `json:"pictures,omitempty"`
}

// nullFloats marshals NaN (no value) as null: JSON has no NaN.
type nullFloats []float64

func (v nullFloats) MarshalJSON() ([]byte, error) {
	b := []byte{'['}
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		if math.IsNaN(x) || math.IsInf(x, 0) {
			b = append(b, "null"...)
		} else {
			b = strconv.AppendFloat(b, x, 'g', -1, 64)
		}
	}
	return append(b, ']'), nil
}

// EvalOptions say what to evaluate.
type EvalOptions struct {
	Data     string        // prepared data directory
	Ckpt     string        // tokenizer checkpoint or weights file
	Frames   int           // 17: video clips; 1: images (the clips' first frames)
	Clips    int           // test clips per set
	Judge    string        // digit classifier weights; "" skips the digit check
	Digits   int           // test digits for the digit check (0: the whole split)
	Reader   ReaderOptions // with Judge: a digit net trained on round trips (Steps 0: none)
	Pictures string        // directory for PNG grids and the PSNR plot; "" writes none
	// Ceiling > 0 has the attribute judge (Judge and Pairs) read the
	// reconstructions of this many Moving-digits test clips (17 frames).
	Ceiling int
	Pairs   string // the judge's pair reader weights
	// ZeroBias, if not nil, replaces the checkpoint's dead zone around the
	// zero code (msvq.Config.ZeroBias); the report's config shows the one used.
	ZeroBias *float64
}

// Eval reconstructs opt.Clips test clips of each set with the checkpoint's
// tokenizer, checks the layout of the coarse scales, and with a classifier
// the held-out digits.
func Eval(ctx context.Context, opt EvalOptions) (*Report, error) {
	cfg, w, err := video.LoadCheckpoint(opt.Ckpt)
	if err != nil {
		return nil, err
	}
	if opt.ZeroBias != nil {
		cfg.Quant.ZeroBias = float32(*opt.ZeroBias)
	}
	frames := opt.Frames
	const batch = 1
	ae, err := video.NewAutoencoder(cfg, batch, frames, w, true)
	if err != nil {
		return nil, err
	}
	defer ae.Close()
	mv, err := digits.LoadMoving(opt.Data, "test")
	if err != nil {
		return nil, err
	}
	rc, err := clips.Open(filepath.Join(opt.Data, filepath.FromSlash(clips.FileName("test", cfg.Size))))
	if err != nil {
		return nil, err
	}
	tl, _ := cfg.LatentFrames(frames)
	per := cfg.Quant.Tokens()
	r := &Report{Checkpoint: opt.Ckpt, Frames: frames, Config: cfg, TokensPerFrame: per, TokensPerClip: tl * per,
		TokenRatio: float64(tl) / float64(frames)}
	coarse, err := layoutScale(cfg.Quant)
	if err == nil {
		r.Layout = &LayoutScores{Side: LayoutSide, Scales: coarse}
	} else {
		slog.Warn("tokenizer eval: no layout check", "err", err)
	}
	var all []int
	var movingPics, realPics []clipPicture
	ent := newScaleStats(cfg)
	for i := 0; i < min(opt.Clips, mv.Store.Len()); i++ {
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
		ref := frameList(clip, frames, cfg.Size)
		var cf [][]uint8
		if r.Layout != nil {
			cf = frameList(decodeUpTo(res, coarse), frames, cfg.Size)
			r.Layout.add(ref, cf, cfg.Size)
		}
		if len(movingPics) < pictureImages {
			movingPics = append(movingPics, clipPicture{ref, frameList(res.Full, frames, cfg.Size), cf})
		}
		ent.add(clip, res.Codes, frames)
		for _, c := range res.Codes {
			all = append(all, c...)
		}
	}
	r.Moving.finish()
	if r.Layout != nil {
		r.Layout.finish()
	}
	for i := 0; i < min(opt.Clips, rc.Len()); i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		clip := rc.Clip(i)[:frames*cfg.Size*cfg.Size]
		res, err := ae.Run(clip)
		if err != nil {
			return nil, err
		}
		if err := r.Real.add(clip, res, cfg.Size, frames, false); err != nil {
			return nil, err
		}
		// Clips overlap within a source; space the pictures' clips out.
		if stride := max(min(opt.Clips, rc.Len())/pictureImages, 1); i%stride == 0 && len(realPics) < pictureImages {
			var c [][]uint8
			if r.Layout != nil {
				c = frameList(decodeUpTo(res, coarse), frames, cfg.Size)
			}
			realPics = append(realPics, clipPicture{frameList(clip, frames, cfg.Size), frameList(res.Full, frames, cfg.Size), c})
		}
	}
	r.Real.finish()
	if r.Codebook, err = metrics.Codebook(all, cfg.Quant.Codes); err != nil {
		return nil, err
	}
	r.ScaleEntropy, r.EmptyTopShare, r.EmptyCodes = ent.summary()
	if opt.Judge != "" {
		if r.Digits, err = evalDigits(ctx, opt.Data, opt.Judge, cfg, w, opt.Digits, opt.Reader); err != nil {
			return nil, err
		}
	}
	if opt.Ceiling > 0 {
		if frames != digits.Frames {
			return nil, fmt.Errorf("tokenizer eval: the ceiling reads %d-frame clips, not %d", digits.Frames, frames)
		}
		jw, err := metrics.LoadJudgeWeights(opt.Judge, opt.Pairs)
		if err != nil {
			return nil, err
		}
		if r.Ceiling, err = evalCeiling(ctx, ae, mv, opt.Ceiling, jw); err != nil {
			return nil, err
		}
	}
	if opt.Pictures != "" {
		if r.Pictures, err = writePictures(opt.Pictures, r, movingPics, realPics, r.Digits); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// decodeUpTo is the decode from the first s scales of a result.
func decodeUpTo(res video.Result, s int) []uint8 {
	if s <= len(res.Partial) {
		return res.Partial[s-1]
	}
	return res.Full
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
	if math.IsInf(full.PSNR, 1) {
		s.Identical++
	}
	s.psnr.add(full.PSNR)
	s.SSIM += full.SSIM
	if len(s.scales) == 0 {
		s.scales = make([]mean, len(res.Partial)+1)
	}
	for i, p := range res.Partial {
		ps, err := metrics.CompareFrames(ref, frameList(p, frames, size), size, size)
		if err != nil {
			return err
		}
		s.scales[i].add(ps.PSNR)
	}
	s.scales[len(res.Partial)].add(full.PSNR)
	if frames > 1 {
		if s.frames == nil {
			s.frames = make([]mean, frames)
		}
		rec := frameList(res.Full, frames, size)
		for f := range ref {
			one, err := metrics.CompareFrames(ref[f:f+1], rec[f:f+1], size, size)
			if err != nil {
				return err
			}
			s.frames[f].add(one.PSNR)
		}
	}
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
			s.fg.add(10 * math.Log10(255*255/math.Max(se/float64(n), 1e-9)))
		}
	}
	return nil
}

func (s *SetScores) finish() {
	if s.Clips == 0 {
		return
	}
	s.PSNR = s.psnr.value()
	s.SSIM /= float64(s.Clips)
	s.FgPSNR = s.fg.value()
	s.PSNRScales = make([]float64, len(s.scales))
	for i, m := range s.scales {
		s.PSNRScales[i] = m.value()
	}
	s.PSNRFrames = nil
	for _, m := range s.frames {
		s.PSNRFrames = append(s.PSNRFrames, m.value())
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

// String is the report as a table.
func (r *Report) String() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	row := func(cells ...any) {
		for i, c := range cells {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, c)
		}
		fmt.Fprintln(tw)
	}
	f2 := func(v float64) string { return fmt.Sprintf("%.2f", v) }
	fmt.Fprintf(&b, "tokenizer %s, %d-frame clips, scales %v, %d codes, dead zone %g\n", r.Checkpoint, r.Frames, r.Config.Quant.Scales, r.Config.Quant.Codes, r.Config.Quant.ZeroBias)
	row("", "Moving-digits test", "real test")
	row("clips", r.Moving.Clips, r.Real.Clips)
	row("PSNR (dB)", f2(r.Moving.PSNR), f2(r.Real.PSNR))
	row("SSIM", fmt.Sprintf("%.4f", r.Moving.SSIM), fmt.Sprintf("%.4f", r.Real.SSIM))
	row("foreground PSNR (dB)", f2(r.Moving.FgPSNR), "")
	for i, k := range r.Config.Quant.Scales {
		if i < len(r.Moving.PSNRScales) && i < len(r.Real.PSNRScales) {
			row(fmt.Sprintf("PSNR after %d scales (…%d×%d)", i+1, k, k), f2(r.Moving.PSNRScales[i]), f2(r.Real.PSNRScales[i]))
		}
	}
	if r.Real.Identical+r.Moving.Identical > 0 {
		row("clips decoded exactly (out of PSNR)", r.Moving.Identical, r.Real.Identical)
	}
	tw.Flush()
	if fr := r.Moving.PSNRFrames; len(fr) > 1 {
		fmt.Fprintf(&b, "Moving-digits PSNR per frame (dB; | between latent frames): %.1f", fr[0])
		for f := 1; f < len(fr); f++ {
			sep := " "
			if (f-1)%r.Config.TimeStride == 0 {
				sep = " | "
			}
			fmt.Fprintf(&b, "%s%.1f", sep, fr[f])
		}
		b.WriteByte('\n')
	}
	if l := r.Layout; l != nil {
		fmt.Fprintf(&b, "layout (decode up to %d×%d, %d scales): digit centre of mass within %.0f px on %.1f%% of %d frames, mean %.2f px, %d all-black decodes\n",
			l.Side, l.Side, l.Scales, LayoutTolerance, 100*l.Within, l.Frames, l.MeanDist, l.EmptyRecs)
	}
	if d := r.Digits; d != nil {
		fmt.Fprintf(&b, "digit classifier %s on %d test digits: %.2f%% originals, %.2f%% reconstructions (%+.2f points); digit region PSNR %.2f dB, SSIM %.4f\n",
			d.Classifier, d.Digits, 100*d.AccOriginal, 100*d.AccRecon, 100*(d.AccRecon-d.AccOriginal), d.PSNR, d.SSIM)
		if rd := d.Reader; rd != nil {
			fmt.Fprintf(&b, "reader (the same net trained on %d round trips: train digits and %d augmented views of each, %d steps): %.2f%% of the test digits' round trips\n",
				rd.Train, rd.Views, rd.Steps, 100*rd.Accuracy)
		}
	}
	if c := r.Ceiling; c != nil {
		fmt.Fprintf(&b, "ceiling (the attribute judge on reconstructions of %d test clips): digits and directions %.1f%%, digits %.1f%%, directions %.1f%%; both on one-digit clips %.1f%%, two-digit %.1f%%\n",
			c.Clips, 100*c.Match, 100*c.Digit, 100*c.Direction, 100*c.MatchOne, 100*c.MatchTwo)
	}
	fmt.Fprintf(&b, "codebook: %d/%d codes used, perplexity %.1f\n", r.Codebook.Used, r.Codebook.Size, r.Codebook.Perplexity)
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	row("scale", "entropy (nats)", "empty cells: top-code share", "distinct codes")
	for i, k := range r.Config.Quant.Scales {
		share := "—"
		if !math.IsNaN(r.EmptyTopShare[i]) {
			share = f2(r.EmptyTopShare[i])
		}
		row(fmt.Sprintf("%d×%d", k, k), f2(r.ScaleEntropy[i]), share, r.EmptyCodes[i])
	}
	tw.Flush()
	fmt.Fprintf(&b, "tokens: %d per %d-frame clip, %d per image; clip / (%d × image) = %.3f\n",
		r.TokensPerClip, r.Frames, r.TokensPerFrame, r.Frames, r.TokenRatio)
	for _, p := range r.Pictures {
		fmt.Fprintf(&b, "wrote %s\n", p)
	}
	return strings.TrimRight(b.String(), "\n")
}

package vtok

import (
	"context"
	"fmt"

	"github.com/omniar/omniar/datasets/digits"
	"github.com/omniar/omniar/metrics"
	"github.com/omniar/omniar/nn"
	"github.com/omniar/omniar/video"
)

// DigitScores compare the frozen digit classifier (the attribute judge's)
// on held-out digits and on their reconstructions: each test digit
// (28×28) is pasted in the middle of a black frame, tokenized as a
// one-frame video, decoded, and the 28×28 region cut back out; the
// classifier reads both crops centred on their ink, as the judge does.
type DigitScores struct {
	Digits        int           `json:"digits"`
	Classifier    string        `json:"classifier"`
	AccOriginal   float64       `json:"accuracy_original"`
	AccRecon      float64       `json:"accuracy_reconstructed"`
	PSNR          float64       `json:"psnr_db_digit_region"` // mean over digits with a finite PSNR
	SSIM          float64       `json:"ssim_digit_region"`
	Reader        *ReaderScores `json:"reader,omitempty"`
	originals     [][]uint8
	reconstructed [][]uint8
}

// pasteDigit draws a glyph [Glyph, Glyph] in the middle of a black frame
// [size, size] (at (18, 18) on 64×64, where the judge's accuracy is
// measured).
func pasteDigit(frame, glyph []uint8, size int) {
	clear(frame)
	o := (size - digits.Glyph) / 2
	for y := 0; y < digits.Glyph; y++ {
		copy(frame[(o+y)*size+o:(o+y)*size+o+digits.Glyph], glyph[y*digits.Glyph:(y+1)*digits.Glyph])
	}
}

// cropDigit cuts the region pasteDigit drew back out of a frame.
func cropDigit(frame []uint8, size int) []uint8 {
	o := (size - digits.Glyph) / 2
	out := make([]uint8, 0, digits.Glyph*digits.Glyph)
	for y := 0; y < digits.Glyph; y++ {
		out = append(out, frame[(o+y)*size+o:(o+y)*size+o+digits.Glyph]...)
	}
	return out
}

// evalDigits reconstructs n digits of the test split (0: all)
// and classifies originals and reconstructions with the weights at judge;
// with reader.Steps > 0 it also trains and measures the reader.
func evalDigits(ctx context.Context, data, judge string, cfg video.Config, w video.Weights, n int, reader ReaderOptions) (*DigitScores, error) {
	if cfg.Size < digits.Glyph {
		return nil, fmt.Errorf("digit check: %d px frames cannot hold %d px digits", cfg.Size, digits.Glyph)
	}
	wts, err := metrics.LoadWeights(judge)
	if err != nil {
		return nil, err
	}
	if wts.Cfg.Input != metrics.DigitNetConfig().Input {
		return nil, fmt.Errorf("digit check: %s is %s, not a digit classifier", judge, wts.Cfg.Name)
	}
	net, err := wts.Build(64)
	if err != nil {
		return nil, err
	}
	run := metrics.NewRunner(net)
	defer run.Close()
	s, err := digits.Load(data)
	if err != nil {
		return nil, err
	}
	ids := spread(s.IDs("test"), n)
	ae, err := video.NewAutoencoder(cfg, 1, 1, w, false)
	if err != nil {
		return nil, err
	}
	defer ae.Close()
	ds := &DigitScores{Digits: len(ids), Classifier: wts.Cfg.Name}
	glyphs := s.Glyphs()
	frame := make([]uint8, cfg.Size*cfg.Size)
	var xo, xr []float32
	var psnrN int
	for k, id := range ids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		pasteDigit(frame, glyphs[id], cfg.Size)
		res, err := ae.Run(frame)
		if err != nil {
			return nil, fmt.Errorf("digit %d: %w", id, err)
		}
		rec := cropDigit(res.Full, cfg.Size)
		sc, err := metrics.CompareFrames([][]uint8{glyphs[id]}, [][]uint8{rec}, digits.Glyph, digits.Glyph)
		if err != nil {
			return nil, fmt.Errorf("digit %d: %w", id, err)
		}
		if sc.Identical == 0 {
			ds.PSNR += sc.PSNR
			psnrN++
		}
		ds.SSIM += sc.SSIM
		xo = metrics.CentreCrop(xo, glyphs[id], digits.Glyph, digits.Glyph)
		xr = metrics.CentreCrop(xr, rec, digits.Glyph, digits.Glyph)
		if len(ds.originals) < pictureDigits && k%max(len(ids)/pictureDigits, 1) == 0 {
			ds.originals = append(ds.originals, glyphs[id])
			ds.reconstructed = append(ds.reconstructed, rec)
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("digit check: the digits set in %s has no test split", data)
	}
	ds.SSIM /= float64(len(ids))
	if psnrN > 0 {
		ds.PSNR /= float64(psnrN)
	}
	for _, c := range []struct {
		x   []float32
		acc *float64
	}{{xo, &ds.AccOriginal}, {xr, &ds.AccRecon}} {
		if *c.acc, err = accuracy(run, c.x, s, ids); err != nil {
			return nil, err
		}
	}
	if reader.Steps > 0 {
		if ds.Reader, err = trainReader(ctx, s, ids, cfg, w, reader); err != nil {
			return nil, err
		}
	}
	return ds, nil
}

// accuracy is the share of the digits ids that run reads right from x
// (their crops, in order).
func accuracy(run *metrics.Runner, x []float32, s *digits.Set, ids []int) (float64, error) {
	out, err := run.Run(x)
	if err != nil {
		return 0, err
	}
	ok := 0
	for i, l := range out.Logits {
		if nn.Argmax(l) == s.Digits[ids[i]].Label {
			ok++
		}
	}
	return float64(ok) / float64(len(ids)), nil
}

// spread picks n of ids evenly spaced (all if n is 0 or too large): the
// split is ordered by class, so a prefix would hold one digit only.
func spread(ids []int, n int) []int {
	if n <= 0 || n >= len(ids) {
		return ids
	}
	out := make([]int, n)
	for i := range out {
		out[i] = ids[i*len(ids)/n]
	}
	return out
}

package vgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/omniar/omniar/internal/atomicfile"
	"github.com/omniar/omniar/video/vio"

	"github.com/omniar/omniar/datasets"
	"github.com/omniar/omniar/datasets/digits"
	"github.com/omniar/omniar/metrics"
	"github.com/omniar/omniar/video"
	"github.com/omniar/omniar/videoar"
)

// SamplingTime is videoar.Timing per clip, in seconds.
type SamplingTime struct {
	Prompt float64   `json:"prompt"`   // the prompt's prefill pass
	Scales []float64 `json:"scales"`   // each scale's decoder passes, over all latent frames
	Sample float64   `json:"sampling"` // the head, guidance and drawing the codes
	Inputs float64   `json:"inputs"`   // embedding inputs, adding codes to the running latents
}

// String says where the time went, e.g. "prompt 0.010, passes by scale
// 0.030/…/0.250, head and sampling 0.040, inputs 0.020".
func (st *SamplingTime) String() string {
	sc := make([]string, len(st.Scales))
	for i, v := range st.Scales {
		sc[i] = fmt.Sprintf("%.3f", v)
	}
	return fmt.Sprintf("prompt %.3f, passes by scale %s, head and sampling %.3f, inputs %.3f", st.Prompt, strings.Join(sc, "/"), st.Sample, st.Inputs)
}

// perClip is the timing from t0 to t1 over n clips.
func perClip(t0, t1 videoar.Timing, n int) *SamplingTime {
	d := func(a, b time.Duration) float64 { return (b - a).Seconds() / float64(max(n, 1)) }
	st := &SamplingTime{Prompt: d(t0.Prompt, t1.Prompt), Sample: d(t0.Sample, t1.Sample), Inputs: d(t0.Inputs, t1.Inputs)}
	for s, v := range t1.Scales {
		var before time.Duration
		if s < len(t0.Scales) {
			before = t0.Scales[s]
		}
		st.Scales = append(st.Scales, d(before, v))
	}
	return st
}

// EvalReport is `omniar eval videoar`: prompt fidelity of generated clips
// beside the ceiling (the judge on tokenizer reconstructions of the real
// clips whose captions were the prompts).
type EvalReport struct {
	Split      string           `json:"split"`
	Generated  metrics.Fidelity `json:"generated"`
	Ceiling    metrics.Fidelity `json:"ceiling"`
	SecPerClip float64          `json:"seconds_per_clip"`
	SecCodes   float64          `json:"seconds_codes_per_clip"`  // of which sampling the codes (decoder passes)
	SecPixels  float64          `json:"seconds_pixels_per_clip"` // and decoding them to pixels
	// SecSampling splits SecCodes: where sampling a clip's codes went.
	SecSampling  *SamplingTime `json:"seconds_sampling_parts,omitempty"`
	Passes       int           `json:"decoder_passes_per_clip"` // one per group: latent frames × scales (raster order: × cells)
	RasterPasses int           `json:"raster_passes_per_clip"`  // one per token, as a next-token decoder needs
	Saved        string        `json:"saved_clips_dir,omitempty"`
	// Resumed clips were read back from Saved (EvalOptions.Resume); the
	// times are those of the clips generated in this run.
	Resumed      int     `json:"resumed_clips,omitempty"`
	From         int     `json:"from,omitempty"` // the first prompt evaluated (EvalOptions.From)
	CFG          float64 `json:"cfg"`
	Temperature  float64 `json:"temperature"`
	TopK         int     `json:"top_k"`
	TopP         float64 `json:"top_p"`
	JudgeWeights string  `json:"judge_weights_sha256"`
	Continued    bool    `json:"continued,omitempty"` // the real clip's first frame was given
	TimeStride   int     `json:"time_stride"`         // video frames per latent frame after the first
	// NLL is the teacher-forced cross-entropy (nats per code) of the
	// real clips' codes under their prompts, [latent frame][scale]
	// averaged over the clips (--nll).
	NLL [][]float64 `json:"nll_by_frame_scale,omitempty"`
	// NLLByDigits splits NLL by the clips' digit count: one-digit clips,
	// then two-digit clips.
	NLLByDigits [][][]float64 `json:"nll_by_digits,omitempty"`
	// NLLByCells splits NLLByDigits by the codes' cells: [one-digit,
	// two-digit clips][cells showing ink in the real clip, empty
	// cells][latent frame][scale], so that two digits' larger share of
	// ink is not read as a harder clip.
	NLLByCells [][][][]CellNLL `json:"nll_by_digits_cells,omitempty"`
	Command    string          `json:"command"`
}

// CellNLL is a mean cross-entropy (nats per code) over a number of codes.
type CellNLL struct {
	NLL   float64 `json:"nll"`
	Cells int     `json:"cells"`
}

// EvalOptions say what `omniar eval videoar` generates and where it writes.
type EvalOptions struct {
	Tokenizer   string // video tokenizer checkpoint (for the ceiling)
	Data, Split string // prepared data directory, Moving-digits split of the prompts
	N           int    // prompts: Clip.Prompt of each of the first N clips
	Gen         videoar.Options
	Judge       metrics.JudgeWeights
	// Continue gives the generator each real clip's first frame (its
	// first latent frame) and judges the continuation.
	Continue bool
	// NLL also scores the real clips' codes under their prompts.
	NLL bool
	// Pictures, if not empty, is a directory for a GIF grid of the first
	// clips generated (and their prompts, as text); Save, if not empty, a
	// directory for every generated clip as a GIF (the fake set of
	// `omniar eval fvd`).
	Pictures, Save string
	// Resume reads clips already in Save back instead of generating them,
	// so an evaluation stopped part-way goes on where it stopped: a clip's
	// seed depends only on its index and clips are written atomically, so
	// the report is the one an uninterrupted run writes, but for the times.
	Resume bool
	// From skips the prompts before it: processes evaluating [0, From)
	// and [From, N) into one Save directory share the work, and a last
	// run with Resume writes the whole report.
	From int
	// CeilingCache, if not empty, is a directory that keeps the ceiling's
	// readings between runs (ceiling.go).
	CeilingCache string
	// Verdicts, if not empty, is a file for one JSON line per prompt
	// (clipVerdict): what the judge read in the generated clip and in the
	// reconstruction, so failures can be sorted out without rerunning.
	Verdicts string
}

// clipVerdict is one line of EvalOptions.Verdicts.
type clipVerdict struct {
	Index    int               `json:"index"`
	Prompt   string            `json:"prompt"`
	Targets  []metrics.Target  `json:"targets"`
	Readings []metrics.Reading `json:"readings"`
	Verdict  metrics.Verdict   `json:"verdict"`
	Ceiling  []metrics.Reading `json:"ceiling_readings"`
}

// Eval generates a clip for the prompt (Clip.Prompt: the first caption
// naming digits and directions) of each of the first N clips of a
// Moving-digits split and judges it against that clip's metadata;
// the same clips' tokenizer reconstructions give the ceiling.
func Eval(ctx context.Context, p *Pipeline, eo EvalOptions) (EvalReport, error) {
	mv, err := digits.LoadMoving(eo.Data, eo.Split)
	if err != nil {
		return EvalReport{}, err
	}
	n, opt, save := min(eo.N, mv.Store.Len()), eo.Gen, eo.Save
	if eo.From < 0 || eo.From >= n {
		return EvalReport{}, fmt.Errorf("eval videoar: first prompt %d, want 0 to %d", eo.From, n-1)
	}
	j, err := metrics.NewJudge(eo.Judge)
	if err != nil {
		return EvalReport{}, err
	}
	defer j.Close()
	tcfg, tw, err := video.LoadCheckpoint(eo.Tokenizer)
	if err != nil {
		return EvalReport{}, err
	}
	ae, err := video.NewAutoencoder(tcfg, 1, digits.Frames, tw, false)
	if err != nil {
		return EvalReport{}, err
	}
	defer ae.Close()
	rep := EvalReport{Split: eo.Split, CFG: opt.CFG, Temperature: opt.Sampling.Temperature, TopK: opt.Sampling.TopK, TopP: opt.Sampling.TopP, JudgeWeights: eo.Judge.SHA256(), Continued: eo.Continue, TimeStride: tcfg.TimeStride,
		Passes: p.Cfg.Passes(p.Cfg.Frames), RasterPasses: p.Cfg.RasterOrder().Passes(p.Cfg.Frames), Saved: save, From: eo.From}
	if save != "" {
		if err := os.MkdirAll(save, 0o755); err != nil {
			return rep, err
		}
		set, err := savedBy(p, eo)
		if err != nil {
			return rep, err
		}
		if err := markSaved(save, set, eo.Resume || eo.From > 0); err != nil {
			return rep, err
		}
	} else if eo.Resume {
		return rep, errors.New("eval videoar: resume needs the directory of saved clips")
	}
	var gen, ceil metrics.Tally
	var nll nllSums
	var verdicts []byte
	var genTime time.Duration
	t0 := p.Time
	tg0 := p.gen.Time
	tg0.Scales = slices.Clone(tg0.Scales)
	var grid [][]uint8
	var prompts []string
	cache, err := openCeilingCache(eo.CeilingCache, eo.Split, eo.Tokenizer, eo.Judge.SHA256())
	if err != nil {
		return rep, err
	}
	// judge reads frames as a clip of c's digit count.
	judge := func(frames []uint8, c digits.Clip) ([]metrics.Reading, error) {
		rs, err := j.Read([]metrics.Clip{{Frames: metrics.SplitFrames(frames, digits.Canvas, digits.Canvas), W: digits.Canvas, H: digits.Canvas, Digits: len(c.Movers)}})
		if err != nil {
			return nil, err
		}
		return rs[0], nil
	}
	// score counts the verdict of readings against clip c's prompt.
	score := func(t *metrics.Tally, rs []metrics.Reading, c digits.Clip) (metrics.Verdict, error) {
		ts := metrics.Targets(c)
		v, err := metrics.Score(rs, ts)
		if err == nil {
			t.Add(v, rs, ts)
		}
		return v, err
	}
	for i := eo.From; i < n; i++ {
		// Generate checks ctx too, but a resumed run may read clips back
		// for minutes without generating one.
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		c := mv.Clips[i]
		prompt := c.Prompt()
		saved := filepath.Join(save, fmt.Sprintf(savedClip, i))
		var frames []uint8
		if eo.Resume {
			if frames, err = readSaved(saved); err != nil {
				return rep, err
			}
		}
		if frames != nil {
			rep.Resumed++
		} else {
			o := opt
			o.Seed = opt.Seed + uint64(i)
			t0 := time.Now()
			var first []uint8
			if eo.Continue {
				first = mv.Store.Clip(i)[:digits.Canvas*digits.Canvas]
			}
			if frames, err = p.Generate(ctx, prompt, digits.Frames, first, o, nil); err != nil {
				return rep, fmt.Errorf("clip %d %q: %w", i, prompt, err)
			}
			genTime += time.Since(t0)
			if save != "" {
				if err := writeClip(saved, frames); err != nil {
					return rep, err
				}
			}
		}
		rs, err := judge(frames[:digits.Frames*digits.Canvas*digits.Canvas], c)
		if err != nil {
			return rep, err
		}
		v, err := score(&gen, rs, c)
		if err != nil {
			return rep, err
		}
		if len(grid) < gridClips {
			grid = append(grid, frames)
			prompts = append(prompts, fmt.Sprintf("%d: %q → digit %v, direction %v", len(grid), prompt, v.Digit, v.Direction))
		}
		pixels := mv.Store.Clip(i)
		crs, cached := cache.get(i, pixels)
		if !cached || eo.NLL {
			rec, err := ae.Run(pixels)
			if err != nil {
				return rep, err
			}
			if eo.NLL {
				if err := p.addNLL(ctx, &nll, len(c.Movers), prompt, rec.Codes, pixels, tcfg.TimeStride); err != nil {
					return rep, fmt.Errorf("clip %d: %w", i, err)
				}
			}
			if !cached {
				if crs, err = judge(rec.Full, c); err != nil {
					return rep, err
				}
				cache.put(i, pixels, crs)
			}
		}
		if _, err = score(&ceil, crs, c); err != nil {
			return rep, err
		}
		if eo.Verdicts != "" {
			line, err := json.Marshal(clipVerdict{Index: i, Prompt: prompt, Targets: metrics.Targets(c), Readings: rs, Verdict: v, Ceiling: crs})
			if err != nil {
				return rep, err
			}
			verdicts = append(append(verdicts, line...), '\n')
		}
		if (i+1)%100 == 0 {
			if err := cache.save(); err != nil {
				return rep, err
			}
		}
		if (i+1)%10 == 0 || i == n-1 {
			g := gen.Fidelity()
			slog.Info("eval videoar", "clips", i+1, "of", n, "match", g.Match, "digit", g.Digit, "direction", g.Direction,
				"s_per_clip", fmt.Sprintf("%.1f", genTime.Seconds()/float64(max(i+1-eo.From-rep.Resumed, 1))))
		}
	}
	if err := cache.save(); err != nil {
		return rep, err
	}
	rep.Generated, rep.Ceiling = gen.Fidelity(), ceil.Fidelity()
	if eo.Verdicts != "" {
		if err := atomicfile.WriteBytes(eo.Verdicts, verdicts); err != nil {
			return rep, fmt.Errorf("eval videoar: verdicts: %w", err)
		}
	}
	if eo.NLL {
		rep.NLL, rep.NLLByDigits, rep.NLLByCells = nll.mean()
	}
	if eo.Pictures != "" && len(grid) > 0 {
		if err := writeGrid(eo.Pictures, grid, prompts); err != nil {
			return rep, err
		}
	}
	if made := n - eo.From - rep.Resumed; made > 0 { // else every clip was read back: no times
		rep.SecPerClip = genTime.Seconds() / float64(made)
		rep.SecCodes = (p.Time.Codes - t0.Codes).Seconds() / float64(made)
		rep.SecPixels = (p.Time.Pixels - t0.Pixels).Seconds() / float64(made)
		rep.SecSampling = perClip(tg0, p.gen.Time, made)
	}
	return rep, nil
}

// inkLevel is the grey level from which a pixel counts as ink.
const inkLevel = 64

// nllSums add up teacher-forced cross-entropies [latent frame][scale] of
// codes by the clip's digit count (all clips, one-digit, two-digit) and
// by the code's cell (all cells, cells with ink, empty cells).
type nllSums struct {
	sum [3][3][][]float64
	n   [3][3][][]int
}

// add adds a clip's cross-entropies [frame][scale][cell] and which of
// their cells show ink (inkCells).
func (t *nllSums) add(digits int, nll [][][]float64, ink [][][]bool) {
	for _, d := range []int{0, digits} {
		for _, c := range []int{0, 1, 2} {
			if t.sum[d][c] == nil {
				t.sum[d][c] = make([][]float64, len(nll))
				t.n[d][c] = make([][]int, len(nll))
				for f, scales := range nll {
					t.sum[d][c][f] = make([]float64, len(scales))
					t.n[d][c][f] = make([]int, len(scales))
				}
			}
		}
		for f, scales := range nll {
			for s, cells := range scales {
				for i, v := range cells {
					part := 2 // empty
					if ink[f][s][i] {
						part = 1
					}
					for _, c := range []int{0, part} {
						t.sum[d][c][f][s] += v
						t.n[d][c][f][s]++
					}
				}
			}
		}
	}
}

// mean is the mean over all codes, the means over the codes of one- and
// two-digit clips (nil for a count without clips), and those split by
// cells: [digits−1][ink, empty][frame][scale] (nil without clips; a
// part without codes has Cells 0).
func (t *nllSums) mean() (all [][]float64, byDigits [][][]float64, byCells [][][][]CellNLL) {
	means := func(d, c int) ([][]float64, [][]CellNLL) {
		var m [][]float64
		var cm [][]CellNLL
		for f, row := range t.sum[d][c] {
			m = append(m, make([]float64, len(row)))
			cm = append(cm, make([]CellNLL, len(row)))
			for s, v := range row {
				if n := t.n[d][c][f][s]; n > 0 {
					m[f][s] = v / float64(n)
					cm[f][s] = CellNLL{NLL: m[f][s], Cells: n}
				}
			}
		}
		return m, cm
	}
	all, _ = means(0, 0)
	byCells = make([][][][]CellNLL, 2)
	for d := 1; d <= 2; d++ {
		m, _ := means(d, 0)
		byDigits = append(byDigits, m)
		if m != nil {
			_, ink := means(d, 1)
			_, empty := means(d, 2)
			byCells[d-1] = [][][]CellNLL{ink, empty}
		}
	}
	return all, byDigits, byCells
}

// inkCells says which cells of each latent frame and scale show ink in a
// clip's pixels [frames·canvas²]: latent frame 0 is video frame 0, frame
// f ≥ 1 the stride video frames up to stride·f; a scale's k×k cells split
// the canvas evenly (rows y·canvas/k … (y+1)·canvas/k).
func inkCells(pixels []uint8, canvas, stride, frames int, scales []int) [][][]bool {
	out := make([][][]bool, frames)
	for f := range out {
		first, last := 0, 0
		if f > 0 {
			first, last = stride*(f-1)+1, stride*f
		}
		for _, k := range scales {
			cells := make([]bool, k*k)
			for v := first; v <= last; v++ {
				img := pixels[v*canvas*canvas : (v+1)*canvas*canvas]
				for y := range canvas {
					for x := range canvas {
						if img[y*canvas+x] >= inkLevel {
							cells[y*k/canvas*k+x*k/canvas] = true
						}
					}
				}
			}
			out[f] = append(out[f], cells)
		}
	}
	return out
}

// addNLL adds the teacher-forced cross-entropy of a clip of count
// digits (codes per scale [frames·k·k], as the tokenizer returns
// them; the clip's pixels for the ink of each cell) to t.
func (p *Pipeline) addNLL(ctx context.Context, t *nllSums, count int, prompt string, perScale [][]int, pixels []uint8, stride int) error {
	if count < 1 || count > 2 {
		return fmt.Errorf("a clip of %d digits", count)
	}
	ids, err := p.Prompt(prompt)
	if err != nil {
		return err
	}
	frames := len(perScale[0]) / (p.Cfg.Quant.Scales[0] * p.Cfg.Quant.Scales[0])
	if need := (stride*(frames-1) + 1) * digits.Canvas * digits.Canvas; len(pixels) < need {
		return fmt.Errorf("%d pixels for %d latent frames, want %d", len(pixels), frames, need)
	}
	codes := make([][]int, frames)
	for s, k := range p.Cfg.Quant.Scales {
		for f := range codes {
			codes[f] = append(codes[f], perScale[s][f*k*k:(f+1)*k*k]...)
		}
	}
	nll, err := p.gen.NLL(ctx, ids, codes)
	if err != nil {
		return err
	}
	t.add(count, nll, inkCells(pixels, digits.Canvas, stride, frames, p.Cfg.Quant.Scales))
	return nil
}

// Print writes the report as a table.
func (r EvalReport) Print(w io.Writer) {
	fmt.Fprintf(w, "prompt fidelity on %d %s prompts (judge %.12s…; CFG %.1f, T %.2f, top-k %d, top-p %.2f), %.2f s per clip (codes %.2f, pixels %.2f), %d decoder passes (raster order: %d)\n",
		r.Generated.Clips, r.Split, r.JudgeWeights, r.CFG, r.Temperature, r.TopK, r.TopP, r.SecPerClip, r.SecCodes, r.SecPixels, r.Passes, r.RasterPasses)
	if r.Resumed > 0 {
		fmt.Fprintf(w, "  %d clips read back from %s (--resume); the times are those of the %d generated in this run\n", r.Resumed, r.Saved, r.Generated.Clips-r.Resumed)
	}
	if st := r.SecSampling; st != nil {
		fmt.Fprintf(w, "  sampling, s per clip: %s\n", st)
	}
	fmt.Fprintf(w, "  %-26s %8s %8s %10s %10s %10s\n", "", "match", "digit", "direction", "one-digit", "two-digit")
	row := func(name string, f metrics.Fidelity) {
		fmt.Fprintf(w, "  %-26s %7.1f%% %7.1f%% %9.1f%% %9.1f%% %9.1f%%\n", name, 100*f.Match, 100*f.Digit, 100*f.Direction, 100*f.OneMatch, 100*f.TwoMatch)
	}
	name := "generated"
	if r.Continued {
		name = "continued from frame 0"
	}
	row(name, r.Generated)
	row("ceiling (reconstructions)", r.Ceiling)
	fmt.Fprintf(w, "  digit / direction right, one-digit clips: %.1f%% / %.1f%% (ceiling %.1f%% / %.1f%%); two-digit clips: %.1f%% / %.1f%% (ceiling %.1f%% / %.1f%%)\n",
		100*r.Generated.OneDigit, 100*r.Generated.OneDirection, 100*r.Ceiling.OneDigit, 100*r.Ceiling.OneDirection,
		100*r.Generated.TwoDigit, 100*r.Generated.TwoDirection, 100*r.Ceiling.TwoDigit, 100*r.Ceiling.TwoDirection)
	fmt.Fprintf(w, "  two-digit clips' directions right, digits moving the same way (%d clips) / different ways (%d): %.1f%% / %.1f%% (ceiling %.1f%% / %.1f%%)\n",
		r.Generated.TwoSameClips, r.Generated.TwoClips-r.Generated.TwoSameClips, 100*r.Generated.TwoSameDirection, 100*r.Generated.TwoDiffDirection,
		100*r.Ceiling.TwoSameDirection, 100*r.Ceiling.TwoDiffDirection)
	g, c := r.Generated, r.Ceiling
	fmt.Fprintf(w, "  two-digit clips with 0 / 1 / 2 digits moving as prompted: %.1f / %.1f / %.1f%% (ceiling %.1f / %.1f / %.1f%%); prompted apart but moving alike: %.1f%% (ceiling %.1f%%)\n",
		100*g.TwoDirsRight[0], 100*g.TwoDirsRight[1], 100*g.TwoDirsRight[2], 100*c.TwoDirsRight[0], 100*c.TwoDirsRight[1], 100*c.TwoDirsRight[2],
		100*g.TwoDiffAlike, 100*c.TwoDiffAlike)
	fmt.Fprintf(w, "  one-digit clips' mean speed: %.2f px/frame generated, %.2f in the reconstructions\n", r.Generated.OneSpeed, r.Ceiling.OneSpeed)
	fmt.Fprintf(w, "  one-digit clips, frames read as the prompted digit, per latent frame (video frames 0 | 1–4 | 5–8 | …):\n")
	fmt.Fprintf(w, "  %-26s %s\n  %-26s %s\n", name, byGroup(r.Generated.OneByFrame, r.TimeStride), "ceiling (reconstructions)", byGroup(r.Ceiling.OneByFrame, r.TimeStride))
	printNLL := func(what string, nll [][]float64) {
		if len(nll) == 0 {
			return
		}
		fmt.Fprintf(w, "  teacher-forced cross-entropy of the real clips' codes (nats per code), latent frame × scale, %s:\n", what)
		for f, row := range nll {
			fmt.Fprintf(w, "    frame %d:", f)
			for _, v := range row {
				fmt.Fprintf(w, " %5.2f", v)
			}
			fmt.Fprintln(w)
		}
	}
	printNLL("all clips", r.NLL)
	if len(r.NLLByDigits) == 2 {
		printNLL("one-digit clips", r.NLLByDigits[0])
		printNLL("two-digit clips", r.NLLByDigits[1])
	}
	for d, cells := range r.NLLByCells {
		if cells == nil {
			continue
		}
		for c, what := range []string{"cells with ink", "empty cells"} {
			fmt.Fprintf(w, "  the same, %s-digit clips, %s (nats per code, codes):\n", []string{"one", "two"}[d], what)
			for f, row := range cells[c] {
				fmt.Fprintf(w, "    frame %d:", f)
				for _, v := range row {
					fmt.Fprintf(w, " %5.2f (%5d)", v.NLL, v.Cells)
				}
				fmt.Fprintln(w)
			}
		}
	}
}

// byGroup averages per-frame shares over the frames of each latent frame
// (the first alone, then groups of stride).
func byGroup(v []float64, stride int) string {
	var b strings.Builder
	for lo := 0; lo < len(v); {
		hi := min(len(v), lo+max(1, stride))
		if lo == 0 {
			hi = 1
		}
		sum := 0.0
		for _, x := range v[lo:hi] {
			sum += x
		}
		fmt.Fprintf(&b, " %5.1f%%", 100*sum/float64(hi-lo))
		lo = hi
	}
	return b.String()
}

// gridClips is how many generated clips the picture shows (4 × 4).
const gridClips = 16

// writeGrid writes clips [T·64·64] side by side, 4 to a row, as
// dir/generated.gif and the prompts as dir/generated.txt.
func writeGrid(dir string, clips [][]uint8, prompts []string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	const s, cols = digits.Canvas, 4
	rows := (len(clips) + cols - 1) / cols
	w, h := cols*s, rows*s
	v := &vio.Video{W: w, H: h, FPS: 8}
	for t := range len(clips[0]) / (s * s) {
		f := make([]uint8, w*h)
		for i, c := range clips {
			x0, y0 := i%cols*s, i/cols*s
			for y := range s {
				copy(f[(y0+y)*w+x0:], c[t*s*s+y*s:t*s*s+(y+1)*s])
			}
		}
		v.Frames = append(v.Frames, f)
	}
	if err := vio.Write(filepath.Join(dir, "generated.gif"), v); err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(dir, "generated.txt"), []byte(strings.Join(prompts, "\n")+"\n"))
}

// savedSet is what made the clips of a Save directory (its clips.json),
// so that a resumed evaluation never mixes in clips of another generator,
// split or sampling setting.
type savedSet struct {
	Generator   string  `json:"generator_sha256"`
	Split       string  `json:"split"`
	CFG         float64 `json:"cfg"`
	Temperature float64 `json:"temperature"`
	TopK        int     `json:"top_k"`
	TopP        float64 `json:"top_p"`
	Seed        uint64  `json:"seed"`
	Continue    bool    `json:"continue"`
}

func savedBy(p *Pipeline, eo EvalOptions) (savedSet, error) {
	sum, _, err := datasets.HashFile(p.genPath)
	if err != nil {
		return savedSet{}, fmt.Errorf("saved clips: %w", err)
	}
	o := eo.Gen
	return savedSet{Generator: sum, Split: eo.Split, CFG: o.CFG, Temperature: o.Sampling.Temperature,
		TopK: o.Sampling.TopK, TopP: o.Sampling.TopP, Seed: o.Seed, Continue: eo.Continue}, nil
}

// savedClip names clip i of a --save directory; savedClips matches them all.
const (
	savedClip  = "%05d.gif"
	savedClips = "[0-9][0-9][0-9][0-9][0-9].gif"
)

// markSaved writes dir/clips.json for a new run and removes the numbered
// clips of the earlier evaluation whose clips.json is there, which would
// otherwise stay beside this run's (a run of fewer prompts rewrites only
// its own) and be read as its clips by `eval fvd --fake`; numbered clips
// with no clips.json are someone else's and are refused, never removed.
// A run that keeps clips already there (shared: --resume, --from) checks
// clips.json instead: they must come from the same set-up, and clips with
// no record of what made them are refused.
func markSaved(dir string, s savedSet, shared bool) error {
	path := filepath.Join(dir, "clips.json")
	b, err := os.ReadFile(path)
	switch {
	case shared && err == nil:
		var was savedSet
		if err := json.Unmarshal(b, &was); err != nil {
			return fmt.Errorf("saved clips: %s: %w", path, err)
		}
		if was != s {
			return fmt.Errorf("the clips in %s were made with %+v, this run makes %+v: evaluate into another directory, or drop --resume and --from", dir, was, s)
		}
		return nil
	case shared && errors.Is(err, os.ErrNotExist):
		if gifs, _ := filepath.Glob(filepath.Join(dir, "*.gif")); len(gifs) > 0 {
			return fmt.Errorf("%s holds clips but no clips.json saying what made them: evaluate into another directory, or drop --resume and --from", dir)
		}
	case shared:
		return fmt.Errorf("saved clips: %w", err)
	}
	old, gerr := filepath.Glob(filepath.Join(dir, savedClips))
	switch {
	case gerr != nil:
		return gerr
	case len(old) > 0 && errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%s holds numbered clips but no clips.json saying an evaluation made them: evaluate into another directory", dir)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("saved clips: %w", err)
	}
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return fmt.Errorf("saved clips: an earlier run's clip: %w", err)
		}
	}
	if len(old) > 0 {
		slog.Info("eval videoar: removed the clips of an earlier run", "dir", dir, "clips", len(old))
	}
	b, err = json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, append(b, '\n'))
}

// readSaved reads a clip writeClip saved, nil if there is none.
func readSaved(path string) ([]uint8, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	v, err := vio.Read(path, vio.ReadOptions{})
	if err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	if v.W != digits.Canvas || v.H != digits.Canvas || len(v.Frames) < digits.Frames {
		return nil, fmt.Errorf("resume: %s has %d frames of %d×%d, want %d of %d×%d (remove it, or evaluate into another directory)",
			path, len(v.Frames), v.W, v.H, digits.Frames, digits.Canvas, digits.Canvas)
	}
	return slices.Concat(v.Frames...), nil
}

// writeClip writes one generated clip as a GIF.
func writeClip(path string, clip []uint8) error {
	const s = digits.Canvas
	v := &vio.Video{W: s, H: s, FPS: 8}
	for f := range len(clip) / (s * s) {
		v.Frames = append(v.Frames, clip[f*s*s:(f+1)*s*s])
	}
	return vio.Write(path, v)
}

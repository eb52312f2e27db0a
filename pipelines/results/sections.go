package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
)

// The commands that write each report, for reports that record none and
// for sections not measured yet.
const (
	cmdBench          = "omniar bench --out docs/bench/engine.json"
	cmdTokenizer      = "omniar eval tokenizer --modality video --ckpt assets/video_tokenizer.safetensors --judge assets/metrics/digits.safetensors --out docs/eval/tokenizer.json"
	cmdCodec          = "omniar eval codec --json docs/eval/codec.json --examples docs/eval/codec"
	cmdSanity         = "omniar eval sanity --out docs/eval"
	cmdJudge          = "omniar eval judge --json > docs/eval/judge.json"
	cmdJudgeRepro     = "make repro-judge"
	cmdTokenizerRepro = "make repro-tokenizer"
	cmdTokenizerCand  = "make tokenizer-candidate"
	cmdClassifier     = "omniar eval video --out docs/eval/video_classifier.json"
	cmdFVD            = "omniar eval fvd --real test --fake DIR --bootstrap 100 --json > docs/eval/fvd.json"
	cmdVideoAR        = "omniar eval videoar --n 100 --out docs/eval/videoar.json"
	cmdUnified        = "omniar eval unified"
	cmdMoE            = "omniar eval moe --out docs/eval/unified_moe_vs_dense.json"
	cmdEvalUnified    = "make eval-unified (omniar eval unified --ckpt assets/unified.safetensors --out docs/eval/unified.json)"
	cmdBaselines      = "make assets-unified-baselines eval-unified-baselines"
	cmdRouting        = "omniar inspect routing --ckpt CKPT --data DIR"
	cmdCurves         = "make assets-unified (copies the run's curves.json and curves.png)"
)

// throughput is the engine against PyTorch (docs/bench/engine.json).
func (g *gen) throughput() error {
	const rel = "bench/engine.json"
	g.printf("\n## Throughput vs PyTorch\n\n")
	var r benchReport
	if ok, err := g.load(rel, &r, cmdBench); !ok || err != nil {
		return err
	}
	g.command(rel, r.Command, cmdBench)
	g.printf("Measured %s on %s (BLAS %s, PyTorch %s).\n\n", r.Date, r.Machine, r.BLAS, r.Torch)
	g.printf("Float32 matmul C[M,N] = A[M,K]·B[K,N], GFLOP/s:\n\n")
	var rows [][]string
	for _, m := range r.Matmul {
		rows = append(rows, []string{strconv.Itoa(m.Threads), fmt.Sprintf("%d×%d×%d", m.M, m.K, m.N),
			fix(m.GraphGFLOP, 1), fix(m.LinearGFLOP, 1), fix(m.RawGFLOP, 1), fix(m.TorchGFLOP, 1), fix(m.GraphOfRaw, 2)})
	}
	g.table([]string{"threads", "M×K×N", "gorgonia graph", "nn.Linear graph", "OpenBLAS sgemm", "torch.mm", "graph / sgemm"}, rows)
	g.printf("Training step of the reference decoder, Go against the same network in PyTorch:\n\n")
	rows = nil
	for _, t := range r.Train {
		rows = append(rows, []string{strconv.Itoa(t.Threads), strconv.Itoa(t.Params), fix(t.GoStepS, 3), fix(t.GoTokensS, 0),
			fix(t.TorchStepS, 3), fix(t.TorchTokensS, 0), fix(t.Ratio, 2) + "×", cell(t.GoSettings), cell(t.TorchSettings)})
	}
	g.table([]string{"threads", "params", "Go s/step", "Go tokens/s", "PyTorch s/step", "PyTorch tokens/s", "Go / PyTorch", "Go settings", "PyTorch settings"}, rows)
	g.benchTokenizer(&r)
	g.benchUnified(&r)
	return nil
}

// benchUnified is the unified MoE decoder's training and inference
// throughput, when the bench report has it.
func (g *gen) benchUnified(r *benchReport) {
	if len(r.Unified) == 0 {
		return
	}
	u := r.Unified[0]
	c := u.Config
	g.printf("Unified MoE decoder (dim %d, %d layers, %d heads, %d experts top-%d + %d shared of %d units; vocabulary %d, untied head; %s mask; parameters: Go %d, PyTorch %d), Go against the same network in PyTorch",
		c.Dim, c.Layers, c.Heads, c.Experts, c.TopK, c.Shared, c.ExpertHidden, u.Vocab, u.Mask, u.Params, u.TorchParams)
	if d := r.Updated["unified"]; d != "" {
		g.printf(", measured %s", d)
	}
	g.printf(":\n\n")
	var rows [][]string
	for _, u := range r.Unified {
		mode := fmt.Sprintf("%s %d×%d", u.Mode, u.Batch, u.Seq)
		dropped := pct(u.GoDropped) + " / " + pct(u.TorchDropped)
		if u.Mode == "decode" {
			mode, dropped = fmt.Sprintf("greedy decode %d×%d", u.Batch, u.Seq), "–"
		}
		rows = append(rows, []string{strconv.Itoa(u.Threads), mode, fix(u.GoTokensS, 0), fix(u.TorchTokensS, 0), fix(u.Ratio, 2) + "×", dropped,
			cell(u.GoSettings), cell(u.TorchSettings)})
	}
	g.table([]string{"threads", "mode", "Go tokens/s", "PyTorch tokens/s", "Go / PyTorch", "over capacity Go / PyTorch", "Go settings", "PyTorch settings"}, rows)
}

// benchTokenizer is the video tokenizer's encode+decode throughput, when
// the bench report has it.
func (g *gen) benchTokenizer(r *benchReport) {
	if len(r.Tokenizer) == 0 {
		return
	}
	g.printf("Video tokenizer encode+decode (pixels → tokens → pixels, weights `%s`), Go against the same network in PyTorch", r.Tokenizer[0].Weights)
	if d := r.Updated["tokenizer"]; d != "" {
		g.printf(", measured %s", d)
	}
	g.printf(":\n\n")
	var rows [][]string
	for _, t := range r.Tokenizer {
		in := t.Input
		if t.Frames > 1 {
			in = fmt.Sprintf("%s, %d frames", t.Input, t.Frames)
		}
		st := fmt.Sprintf("%s / %s / %s", fix(1e3*t.GoStages.Encode, 1), fix(1e3*t.GoStages.Latents, 1), fix(1e3*t.GoStages.Decode, 1))
		rows = append(rows, []string{strconv.Itoa(t.Threads), in, fix(t.GoFPS, 1), st, fix(t.TorchFPS, 1), fix(t.Ratio, 2) + "×",
			cell(t.GoSettings), cell(t.TorchSettings)})
	}
	g.table([]string{"threads", "input", "Go frames/s", "Go ms: encode / latents / decode", "PyTorch frames/s", "Go / PyTorch", "Go settings", "PyTorch settings"}, rows)
}

// tokenizer is the video tokenizer's reconstruction (docs/eval/tokenizer*.json).
func (g *gen) tokenizer() error {
	g.printf("\n## Tokenizer reconstruction\n\n")
	reports := g.matching("tokenizer")
	if len(reports) == 0 {
		g.printf("Not measured yet (no `docs/eval/tokenizer*.json`): `%s`\n\n", cmdTokenizer)
	}
	for _, rel := range reports {
		g.printf("### %s\n\n", path.Base(rel))
		modality := "video"
		if strings.Contains(path.Base(rel), "image") {
			modality = "image"
		}
		known := fmt.Sprintf("omniar eval tokenizer --modality %s --ckpt CKPT --out docs/%s", modality, rel)
		var r tokReport
		ok, err := g.load(rel, &r, known)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if r.Checkpoint != "" {
			known = strings.Replace(known, "CKPT", r.Checkpoint, 1)
		}
		g.command(rel, r.Command, known)
		if strings.Contains(path.Base(rel), "repro") {
			g.printf("The tokenizer retrained from scratch by the recipe (`%s`), scored as the shipped one: a check that `make assets` reproduces it.\n\n", cmdTokenizerRepro)
		}
		if strings.Contains(path.Base(rel), "candidate") {
			g.printf("A tokenizer candidate (`%s`), not shipped: the shipped generators read the shipped tokenizer's codes, and must be retrained on a new tokenizer's before it can replace it (model card, \"Video tokenizer\").\n\n", cmdTokenizerCand)
		}
		g.printf("Checkpoint `%s`, %d frame(s) per clip. PSNR and SSIM are means per frame on the test splits.\n\n", r.Checkpoint, r.Frames)
		set := func(name string, s tokSet) []string {
			return []string{name, strconv.Itoa(s.Clips), fix(s.PSNR, 2), fix(s.SSIM, 3), fix(s.FgPSNR, 2), joinFloats(s.PSNRScales, 1)}
		}
		g.table([]string{"test set", "clips", "PSNR dB", "SSIM", "foreground PSNR dB", "PSNR dB after each scale"},
			[][]string{set("Moving-digits", r.Moving), set("real clips", r.Real)})
		g.printf("Codebook: %d of %d codes used, perplexity %s. Entropy per scale (nats): %s. Tokens: %d per clip, %d per image.\n\n",
			r.Codebook.Used, r.Codebook.Size, fix(r.Codebook.Perplexity, 1), joinFloats(r.ScaleEntropy, 2), r.TokensPerClip, r.TokensPerFrame)
		if fr := r.Moving.PSNRFrames; len(fr) > 1 {
			g.printf("Moving-digits PSNR per frame (dB; frame 0 is encoded alone, then each latent frame covers the next frames): %s.\n\n", joinFloats(fr, 1))
		}
		if l := r.Layout; l != nil {
			g.printf("Layout (decode up to %d×%d): %s of %d frames within 3 px of the original's centre of mass, mean distance %s px.\n\n",
				l.Side, l.Side, pct(l.Within), l.Frames, fix(l.MeanDist, 2))
		}
		if d := r.Digits; d != nil {
			g.printf("Digit check (%d held-out digits): classifier accuracy %s on originals, %s on reconstructions.\n\n",
				d.Digits, pct(d.AccOriginal), pct(d.AccRecon))
			if rd := d.Reader; rd != nil {
				g.printf("Reader: the same network trained on %d round trips through the tokens (the train digits and %d augmented views of each, %d steps) reads %s of the test digits' round trips: the digit identity these tokens carry, as one trained network recovers it.\n\n",
					rd.Train, rd.Views, rd.Steps, pct(rd.Accuracy))
			}
		}
		if c := r.Ceiling; c != nil {
			g.printf("Ceiling (the attribute judge on reconstructions of the first %d Moving-digits test clips, what a generator drawing through these codes can reach): digits and directions %s, digits %s, directions %s; both on one-digit clips %s, on two-digit clips %s.\n\n",
				c.Clips, pct(c.Match), pct(c.Digit), pct(c.Direction), pct(c.MatchOne), pct(c.MatchTwo))
		}
	}
	g.linkPictures("tokenizer")
	return nil
}

// codec is the audio codec (docs/eval/codec.json).
func (g *gen) codec() error {
	const rel = "eval/codec.json"
	g.printf("\n## Audio codec\n\n")
	var r codecReport
	ok, err := g.load(rel, &r, cmdCodec)
	if err != nil || !ok {
		g.linkPictures("codec")
		return err
	}
	g.command(rel, r.Command, cmdCodec)
	g.printf("Checkpoint `%s`: %s frames/s, %d depths × %d codes.\n\n", r.Ckpt, fix(r.FrameRate, 0), r.Depths, r.Codes)
	var rows [][]string
	for _, s := range r.Sets {
		for _, d := range s.Depths {
			rows = append(rows, []string{cell(s.Name), strconv.Itoa(s.Clips), fix(s.Seconds, 1), strconv.Itoa(d.Depths),
				fix(d.BitrateBPS, 0), fix(d.SISNR, 2), fix(d.LogMel, 3)})
		}
	}
	g.table([]string{"set", "clips", "seconds", "depths", "bit/s", "SI-SNR dB", "log-mel distance"}, rows)
	rows = nil
	var head []string
	for _, s := range r.Sets {
		if len(s.Bands) == 0 {
			continue
		}
		row := []string{cell(s.Name)}
		head = []string{"set"}
		for _, b := range s.Bands {
			head = append(head, fmt.Sprintf("%s–%s Hz", fix(b.LoHz, 0), fix(b.HiHz, 0)))
			row = append(row, fmt.Sprintf("%+.1f dB", b.GainDB))
		}
		rows = append(rows, append(row, fmt.Sprintf("%d of %d", s.Louder, s.Clips)))
	}
	if len(rows) > 0 {
		g.printf("Power of the %d-depth resynthesis over the original's, per band (all clips of a set), and the clips resynthesised 6 dB or more louder than the original (a decoder burst):\n\n", r.Depths)
		g.table(append(head, "clips ≥ 6 dB louder"), rows)
		rows = nil
	}
	for _, u := range r.Usage {
		rows = append(rows, []string{strconv.Itoa(u.Depth), strconv.Itoa(u.Used), fix(u.Perplexity, 1)})
	}
	g.table([]string{"depth", "codes used", "perplexity"}, rows)
	g.printf("Encode + decode: %s× real time by the wall clock, %s× per CPU second, with %d Go thread(s).\n\n", fix(r.RTF, 0), fix(r.RTFCPU, 0), r.RTFThreads)
	if it := r.Intelligibility; it != nil {
		g.printf("Spoken digits (%s, %d held-out clips): %s on original audio, %s resynthesised with %d depths (%s kept).\n\n",
			it.Classifier, it.TestClips, pct(it.Original), pct(it.Resynth), it.Depths, pct(it.Kept))
	}
	g.linkPictures("codec")
	return nil
}

// metrics are the metric networks: FVD-style sanity curve, FVD reports,
// the attribute judge and the video classifier.
func (g *gen) metrics() error {
	g.printf("\n## Metrics: sanity, FVD, judge, classifier\n\n")
	for _, sub := range []struct {
		show   func() error
		prefix string // of its pictures
	}{{g.sanity, "sanity"}, {g.fvd, "fvd"}, {g.judge, "judge"}, {g.classifier, "video_classifier"}} {
		if err := sub.show(); err != nil {
			return err
		}
		g.linkPictures(sub.prefix)
	}
	return nil
}

func (g *gen) sanity() error {
	const rel = "eval/sanity.json"
	g.printf("### FVD-style sanity curve\n\n")
	var r sanityReport
	if ok, err := g.load(rel, &r, cmdSanity); !ok || err != nil {
		return err
	}
	g.command(rel, r.Command, cmdSanity)
	g.printf("Features `%s` (weights SHA-256 %s), %d clips per half of the %s split; intervals are bootstrap percentiles.\n\n",
		r.Features, r.WeightsSHA256, r.Half, r.Split)
	var rows [][]string
	for _, p := range r.Points {
		rows = append(rows, []string{cell(p.Name), ci(p.Frechet, 1), ci(p.KVD, 1)})
	}
	g.table([]string{"second half", "FVD-style", "KVD"}, rows)
	g.printf("Monotone along every corruption: %t.\n\n", r.Monotone)
	return nil
}

func (g *gen) fvd() error {
	g.printf("### FVD\n\n")
	reports := g.matching("fvd")
	if len(reports) == 0 {
		g.printf("Not measured yet (no `docs/eval/fvd*.json`): `%s`\n\n", cmdFVD)
		return nil
	}
	var rows, versus [][]string
	nets := map[string]bool{}
	for _, rel := range reports {
		var r fvdReport
		ok, err := g.load(rel, &r, cmdFVD)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		g.command(rel, r.Command, fmt.Sprintf("omniar eval fvd --real %s --fake %s --features %s --json > docs/%s", r.Real, r.Fake, r.Features, rel))
		rows = append(rows, []string{path.Base(rel), r.Features, cell(r.Real), cell(r.Fake), strconv.Itoa(r.NReal), strconv.Itoa(r.NFake),
			strconv.Itoa(r.Frames), ci(r.Frechet, 1), ci(r.KVD, 1)})
		nets[r.Features+" "+r.WeightsSHA256] = true
		if v := r.Versus; v != nil {
			rows = append(rows, []string{path.Base(rel) + " (versus)", r.Features, cell(r.Real), cell(v.Fake), strconv.Itoa(r.NReal), strconv.Itoa(v.NFake),
				strconv.Itoa(r.Frames), ci(v.Frechet, 1), ci(v.KVD, 1)})
			versus = append(versus, []string{path.Base(rel), cell(v.Fake), cell(r.Fake), ci(v.FrechetDiff.interval, 1), pct(v.FrechetDiff.Above),
				closer(v.FrechetDiff.interval, r.Fake, v.Fake), ci(v.KVDDiff.interval, 1), pct(v.KVDDiff.Above)})
		}
	}
	if len(nets) > 1 {
		g.printf("These reports were made with %d different feature networks (the features column; each report names its weights' SHA-256): distances compare only between rows of the same network.\n\n", len(nets))
	}
	if len(rows) > 0 {
		g.table([]string{"report", "features", "real", "generated", "n real", "n generated", "frames", "Fréchet", "KVD"}, rows)
	}
	if len(versus) > 0 {
		g.printf("Paired comparisons (`eval fvd --versus`): the second set's distance minus the first's, both from the same prompts; each bootstrap replicate resamples the real clips once and the prompts once for both sets. Above 0: the first set is closer to the real clips.\n\n")
		g.table([]string{"report", "set", "minus set", "Fréchet difference", "replicates above 0", "closer by Fréchet", "KVD difference", "replicates above 0"}, versus)
	}
	return nil
}

// closer names the set a paired difference (second − first) shows closer
// to the real clips: the first if its interval lies above 0, the second if
// below, neither if it holds 0.
func closer(d interval, first, second string) string {
	switch {
	case d.Reps == 0:
		return "–"
	case d.Lo > 0:
		return cell(first)
	case d.Hi < 0:
		return cell(second)
	}
	return fmt.Sprintf("neither at the %s level", pct(d.Level))
}

func (g *gen) judge() error {
	const rel, repro = "eval/judge.json", "eval/judge_repro.json"
	g.printf("### Attribute judge on real clips\n\n")
	var r judgeReport
	if ok, err := g.load(rel, &r, cmdJudge); !ok || err != nil {
		return err
	}
	g.command(rel, r.Command, cmdJudge)
	rows := [][]string{r.row("shipped")}
	if slices.Contains(g.reports, repro) {
		var rr judgeReport
		ok, err := g.load(repro, &rr, cmdJudgeRepro)
		if err != nil {
			return err
		}
		if ok {
			g.printf("The same clips read by the judge's two networks retrained from scratch by the recipe (a check that `make assets` reproduces them):\n\n")
			g.command(repro, rr.Command, cmdJudgeRepro)
			rows = append(rows, rr.row("retrained"))
		}
	}
	g.table([]string{"networks", "split", "clips", "digit and direction", "digit", "direction", "one-digit clips", "two-digit clips"}, rows)
	return nil
}

func (r judgeReport) row(networks string) []string {
	return []string{networks, r.Split, strconv.Itoa(r.Clips), pct(r.Match), pct(r.Digit), pct(r.Direction), pct(r.OneMatch), pct(r.TwoMatch)}
}

func (g *gen) classifier() error {
	const rel = "eval/video_classifier.json"
	g.printf("### Video classifier (FVD-style features)\n\n")
	var r classifierReport
	ok, err := g.load(rel, &r, cmdClassifier)
	if err != nil {
		return err
	}
	if !ok {
		g.printf("(`omniar eval video` prints these figures but writes no JSON report yet.)\n\n")
		return nil
	}
	g.command(rel, r.Command, cmdClassifier)
	g.table([]string{"split", "clips", "digit set", "direction set", "digit, one-digit clips", "digits, two-digit clips",
		"two-digit clips with digits overlapping", "digits, overlapping", "digits, apart"},
		[][]string{{r.Split, strconv.Itoa(r.Clips), pct(r.Digit), pct(r.Direction), pct(r.OneDigit), pct(r.TwoDigit),
			pct(r.TwoClose), pct(r.CloseDig), pct(r.ApartDig)}})
	g.printf("Overlapping: the two digits' centres are less than half a glyph (14 px) apart in at least half the frames.\n\n")
	if o := r.Oracle; o != nil {
		g.printf("Glyph oracle: a classifier that read every glyph of these clips as the judge's digit classifier reads it alone "+
			"(%d of the %d glyphs misread) and never erred otherwise would get %s of the digit sets right (one-digit clips %s, "+
			"two-digit %s).\n\n",
			o.Misread, o.Glyphs, pct(o.Digit), pct(o.OneDigit), pct(o.TwoDigit))
	}
	return nil
}

// videoar is prompt fidelity beside its ceiling (docs/eval/videoar*.json;
// ablations write their own videoar_*.json).
func (g *gen) videoar() error {
	g.printf("\n## VideoAR prompt fidelity\n\n")
	reports := g.matching("videoar")
	if len(reports) == 0 {
		g.printf("Not measured yet (no `docs/eval/videoar*.json`): `%s`\n\n", cmdVideoAR)
	}
	var rows, drift, ways [][]string
	var nll []videoarReport
	var nllRel []string
	for _, rel := range reports {
		var r videoarReport
		ok, err := g.load(rel, &r, cmdVideoAR)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		g.command(rel, r.Command, cmdVideoAR)
		row := func(what string, f fidelity) []string {
			return []string{path.Base(rel), what, strconv.Itoa(f.Clips), pct(f.Match), pct(f.Digit), pct(f.Direction), pct(f.OneMatch), pct(f.TwoMatch)}
		}
		what := "generated"
		if r.Continued {
			what = "continued from frame 0"
		}
		rows = append(rows, row(what, r.Generated), row("ceiling", r.Ceiling))
		if len(r.NLL) > 0 {
			nll, nllRel = append(nll, r), append(nllRel, rel)
		}
		for _, c := range []struct {
			what string
			f    fidelity
		}{{what, r.Generated}, {"ceiling", r.Ceiling}} {
			if len(c.f.OneByFrame) > 0 {
				drift = append(drift, append(append([]string{path.Base(rel), c.what}, c.f.spans()...), fix(c.f.OneSpeed, 2)))
			}
			if c.f.TwoSameClips > 0 {
				right, alike := "—", "—"
				if d := c.f.TwoDirsRight; d[0]+d[1]+d[2] > 0 {
					right, alike = pct(d[0])+" / "+pct(d[1])+" / "+pct(d[2]), pct(c.f.TwoDiffAlike)
				}
				ways = append(ways, []string{path.Base(rel), c.what, strconv.Itoa(c.f.TwoSameClips), pct(c.f.TwoSameDirection),
					strconv.Itoa(c.f.TwoClips - c.f.TwoSameClips), pct(c.f.TwoDiffDirection), right, alike})
			}
		}
		if r.Ceiling.Digit > 0 && r.Ceiling.Match > 0 {
			g.printf("`%s` (%s split, CFG %s, temperature %s, top-k %d, top-p %s, %s): digit right in %s of the ceiling, both right in %s of the ceiling.\n\n",
				path.Base(rel), r.Split, fix(r.CFG, 1), fix(r.Temperature, 2), r.TopK, fix(r.TopP, 2), r.timing(),
				pct(r.Generated.Digit/r.Ceiling.Digit), pct(r.Generated.Match/r.Ceiling.Match))
		}
	}
	if len(rows) > 0 {
		if slices.ContainsFunc(reports, func(r string) bool { return strings.Contains(r, "ablation") }) {
			g.printf("Ablations (`make eval-ablations`, `videoar_ablation_*.json` and their `fvd_videoar_ablation_*.json`): trained from the same seed on the same batches at the budget of the recipe's first three stages (200 image steps, 120 steps of 3 latent frames, 120 of 5): `full` is the recipe's own stage-5 checkpoint, `noec` has no cross-frame error correction, `nomask` no random frame mask, `rope1d` plain 1-D RoPE over the sequence instead of multi-scale temporal RoPE; `videoar_raster.json` is the raster-order baseline (the same decoder, next-token prediction over the same codes, one decoder pass per code) at the same budget. These were generated from each clip's first caption (some name no direction), before prompts were chosen by naming every attribute.\n\n")
		}
		if slices.ContainsFunc(reports, func(r string) bool { return strings.Contains(r, "budget") }) {
			g.printf("VideoAR against the raster-order baseline at a budget where the generator has learnt something (`make eval-raster`, `videoar_budget_*.json` and their `fvd_videoar_budget_*.json`): both trained from the same seed on the same batches of 8,000 train clips' codes through the recipe's stages 1–5c (200 image steps, 120 steps of 3 latent frames, 120 + 700 + 300 of 5), 1,000 test prompts each.")
			if slices.Contains(g.reports, "eval/fvd_videoar_budget_paired.json") {
				g.printf(" `fvd_videoar_budget_paired.json` compares their FVD-style distances prompt by prompt (the paired table of the FVD section); the rule, declared before the arms were retrained: VideoAR is better if the 95 %% interval of raster's distance minus VideoAR's lies above 0.")
			}
			g.printf("\n\n")
		}
		if slices.ContainsFunc(reports, func(r string) bool { return strings.Contains(r, "candidate") }) {
			g.printf("`videoar_candidate_*.json` (and its `fvd_videoar_candidate_*.json`): a generator that `make assets-videoar` retrained on a candidate tokenizer's codes, evaluated on the same prompts as the shipped one (written under `runs/` by the command shown, then copied here) and not shipped; `assets/MODEL_CARD.md` gives the rule it was held to.\n\n")
		}
		g.printf("A clip's prompt is its first caption that names every digit and direction (one two-digit template, \"the digits 3 and 5 bounce around\", names no direction); the ceiling is the judge on tokenizer reconstructions of those real clips.\n\n")
		g.table([]string{"report", "clips of", "clips", "digit and direction", "digit", "direction", "both, one-digit clips", "both, two-digit clips"}, rows)
	}
	if len(drift) > 0 {
		g.printf("Drift and motion: the share of one-digit clips whose single frame reads as the prompted digit (frame 0, frames 1–8, frames 9–16) and the mean speed of the judged trajectory.\n\n")
		g.table([]string{"report", "clips of", "frame 0", "frames 1–8", "frames 9–16", "speed (px/frame)"}, drift)
	}
	if len(ways) > 0 {
		g.printf("Two-digit prompts by whether the digits move the same way: only when they move different ways must the prompt say which digit goes where. The prompt reaches every layer as the mean of its token embeddings, which is the same for \"a 7 moves up while a 5 moves to the right\" and \"a 7 moves to the right while a 5 moves up\". The last two columns (— in reports written before they were counted): the share of two-digit clips in which 0, 1 or 2 digits move as prompted, and of those prompted to move different ways, the share whose digits move alike — one motion for both.\n\n")
		g.table([]string{"report", "clips of", "same way: clips", "directions right", "different ways: clips", "directions right", "digits moving as prompted: 0 / 1 / 2", "different ways, moving alike"}, ways)
	}
	for i, r := range nll {
		g.printf("Teacher-forced cross-entropy of the real clips' codes under their prompts (`%s`, nats per code; a later frame sees the ones before it):\n\n", path.Base(nllRel[i]))
		head := []string{"latent frame"}
		for s := range r.NLL[0] {
			head = append(head, fmt.Sprintf("scale %d", s+1))
		}
		var t [][]string
		for f, row := range r.NLL {
			cells := []string{strconv.Itoa(f)}
			for _, v := range row {
				cells = append(cells, fix(v, 2))
			}
			t = append(t, cells)
		}
		g.table(head, t)
	}
	g.linkPictures("videoar")
	return nil
}

// unified is the unified decoder: understanding, MoE vs dense, elastic
// sub-models and routing. Reports of `omniar eval unified` other than these
// are shown field by field in the same section.
func (g *gen) unified() error {
	g.printf("\n## Unified decoder\n\n")
	g.printf("### Understanding\n\n")
	const rel = "eval/unified.json"
	var r unifiedReport
	ok, err := g.load(rel, &r, cmdEvalUnified)
	if err != nil {
		return err
	}
	if ok {
		g.understanding(rel, r)
		if err := g.candidates(r); err != nil {
			return err
		}
	}
	if err := g.baselines(); err != nil {
		return err
	}
	if err := g.moe(); err != nil {
		return err
	}
	g.printf("### Elastic sub-models\n\n")
	if ok {
		g.printf("From `docs/%s`: every sub-model of one elastic run (%s training steps), held-out cross-entropy per task on the same batches (mean over the tasks), digit accuracy on 100 test images, latency of one image question (batch 1, KV cache, fastest of 20).\n\n", rel, r.Steps)
		g.table(subHead, subRows(r.Elastic, true))
	} else {
		g.printf("Not measured yet (no `docs/%s`): `%s`\n\n", rel, cmdEvalUnified)
	}
	if err := g.curves(); err != nil {
		return err
	}
	g.printf("### Routing\n\n")
	if err := g.generic("eval/unified_routing.json", cmdRouting); err != nil {
		return err
	}
	for _, rel := range append(g.matching("unified"), g.matching("routing")...) {
		if g.claimed[rel] {
			continue
		}
		g.printf("### %s\n\n", path.Base(rel))
		if err := g.generic(rel, cmdUnified); err != nil {
			return err
		}
	}
	g.linkPictures("unified", "routing")
	return nil
}

// curves summarises the shipped unified run's training curves beside
// their plot (a value per logged step is too many for a table).
func (g *gen) curves() error {
	const rel = "eval/unified_curves.json"
	g.printf("### Training curves\n\n")
	var c map[string]struct {
		Steps []int     `json:"steps"`
		CE    []float64 `json:"ce"`
	}
	if ok, err := g.load(rel, &c, cmdCurves); !ok || err != nil {
		return err
	}
	g.command(rel, "", cmdCurves)
	g.printf("Training cross-entropy per task on the full-model steps (sub-model steps are not logged): mean of the first and of the last 100 logged steps.\n\n")
	avg := func(x []float64) string {
		if len(x) == 0 {
			return "–"
		}
		var s float64
		for _, v := range x {
			s += v
		}
		return fix(s/float64(len(x)), 3)
	}
	var rows [][]string
	for _, t := range sortedKeys(c) {
		k := c[t]
		last := "–"
		if n := len(k.Steps); n > 0 {
			last = strconv.Itoa(k.Steps[n-1])
		}
		rows = append(rows, []string{t, strconv.Itoa(len(k.CE)), last, avg(k.CE[:min(100, len(k.CE))]), avg(k.CE[max(0, len(k.CE)-100):])})
	}
	g.table([]string{"task", "logged steps", "last step", "first 100", "last 100"}, rows)
	g.linkPictures("unified_curves")
	return nil
}

// understanding prints the accuracy per task with the goals.
func (g *gen) understanding(rel string, r unifiedReport) {
	g.command(rel, "", cmdEvalUnified)
	g.printf("Model `%s` (%s training steps), %s split; greedy answers, exact match.\n\n", r.Model, r.Steps, r.Split)
	goals := map[string]string{"digit": "≥ 97%", "direction": "≥ 95%", "digits": "≥ 95%", "spoken": "≥ 95%", "category": "baseline + 10 points"}
	var rows [][]string
	for _, t := range sortedKeys(r.Understanding) {
		a := r.Understanding[t]
		base := "–"
		if a.Baseline > 0 {
			base = pct(a.Baseline)
		}
		goal := goals[t]
		if goal == "" {
			goal = "reported"
		}
		rows = append(rows, []string{t, pct(a.Accuracy), fmt.Sprintf("%d / %d", a.Correct, a.N), base, goal})
		for _, k := range sortedKeys(a.Parts) {
			p := a.Parts[k]
			rows = append(rows, []string{t + ": " + k, pct(p.Accuracy), fmt.Sprintf("%d / %d", p.Correct, p.N), "–", ""})
		}
	}
	g.table([]string{"task", "accuracy", "right / asked", "majority baseline", "goal"}, rows)
	g.printf("Fortunes %s-split perplexity: %s over %d tokens.\n\n", r.Split, fix(r.Perplexity, 1), r.PPLTokens)
}

// candidates sets the understanding accuracy of unified models retrained
// on a candidate tokenizer's codes (eval/unified_candidate_*.json, not
// shipped) beside the shipped model's.
func (g *gen) candidates(shipped unifiedReport) error {
	for _, rel := range g.matching("unified_candidate_") {
		var r unifiedReport
		ok, err := g.load(rel, &r, cmdUnified)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		g.printf("`%s`: the unified recipe (`make assets-unified`) retrained on a candidate tokenizer's codes, evaluated like the shipped model (`omniar eval unified --ckpt … --tokens …`, written under `runs/` and copied here) and not shipped; `assets/MODEL_CARD.md` gives the rule it was held to. Model `%s` (%s training steps), %s split.\n\n", path.Base(rel), r.Model, r.Steps, r.Split)
		var rows [][]string
		for _, t := range sortedKeys(r.Understanding) {
			a, s := r.Understanding[t], shipped.Understanding[t]
			rows = append(rows, []string{t, pct(a.Accuracy), fmt.Sprintf("%d / %d", a.Correct, a.N), pct(s.Accuracy)})
		}
		g.table([]string{"task", "candidate", "right / asked", "shipped"}, rows)
		g.printf("Fortunes %s-split perplexity: %s (shipped %s).\n\n", r.Split, fix(r.Perplexity, 1), fix(shipped.Perplexity, 1))
	}
	return nil
}

// baselines prints MoE vs dense and the sub-models trained alone at the
// elastic run's steps (docs/eval/unified_baselines.json).
func (g *gen) baselines() error {
	const rel = "eval/unified_baselines.json"
	g.printf("### Baselines at equal steps: dense FFN, sub-models trained alone\n\n")
	var r unifiedReport
	if ok, err := g.load(rel, &r, cmdBaselines); !ok || err != nil {
		return err
	}
	g.command(rel, "", cmdBaselines)
	if c := r.MoEvsDense; c != nil {
		g.printf("Held-out cross-entropy (nats per target token, %s split) of the MoE model `%s` (%d active trunk parameters) and the dense baseline `%s` (%d), trained alike (same configuration, data, seed and steps; elastic training, which for the dense trunk has only the layer cuts): the MoE model is lower on %d of %d tasks.\n\n",
			r.Split, r.Model, c.MoEActive, c.Dense, c.DenseActive, c.MoEWins, len(c.MoE))
		head := []string{"task", "MoE", "dense", "MoE − dense"}
		if c.DiffSE != nil {
			g.printf("Both models read the same batches; the difference is lower than minus two standard errors (over batches) for %d tasks and higher than plus two for %d.\n\n", c.MoEClear, c.DenseClear)
			head[3] = "MoE − dense ± 2 SE"
		}
		var rows [][]string
		for _, t := range sortedKeys(c.MoE) {
			diff := fmt.Sprintf("%+.3f", c.MoE[t]-c.DenseCE[t])
			if se, ok := c.DiffSE[t]; ok {
				diff += fmt.Sprintf(" ± %.3f", 2*se)
			}
			rows = append(rows, []string{t, fix(c.MoE[t], 3), fix(c.DenseCE[t], 3), diff})
		}
		g.table(head, rows)
	}
	if len(r.Alone) > 0 {
		g.printf("Sub-models trained alone (the sub-model's shape as a model of its own, every step) against the same shape cut from the elastic run `%s`:\n\n", r.Model)
		var rows [][]string
		for _, a := range r.Alone {
			rows = append(rows, append([]string{"alone, " + a.Steps + " steps"}, subRows([]subResult{a.subResult}, false)[0]...))
			for _, t := range subRows(a.Twins, false) {
				rows = append(rows, append([]string{"elastic"}, t...))
			}
		}
		g.table(append([]string{"trained"}, subHead[:len(subHead)-1]...), rows)
	}
	return nil
}

var subHead = []string{"sub-model", "active params", "mean CE", "digit accuracy", "ms / answer", "speed-up"}

// subRows prints sub-model results; speed-up only with speed.
func subRows(rs []subResult, speed bool) [][]string {
	var rows [][]string
	for _, r := range rs {
		row := []string{r.Sub, strconv.Itoa(r.ActiveParams), fix(r.MeanCE, 3), pct(r.DigitAcc), fix(r.MsPerAnswer, 1)}
		if speed {
			row = append(row, fix(r.Speedup, 2)+"×")
		}
		rows = append(rows, row)
	}
	return rows
}

func (g *gen) moe() error {
	const rel = "eval/unified_moe_vs_dense.json"
	g.printf("### Fortunes LM study: MoE vs dense, aux vs bias balancing\n\n")
	var r moeReport
	if ok, err := g.load(rel, &r, cmdMoE); !ok || err != nil {
		return err
	}
	g.printf("%s.\n\n", strings.TrimSuffix(r.What, "."))
	var rows [][]string
	for _, k := range sortedKeys(r.Setup) {
		rows = append(rows, []string{k, cell(scalar(r.Setup[k]))})
	}
	g.table([]string{"setup", "value"}, rows)
	g.command(rel, r.Command, cmdMoE)
	if len(r.Summary) > 0 {
		g.printf("Over the seeds: val loss mean ± standard deviation; the difference from the dense run of the same seed (same batches), mean ± two standard errors.\n\n")
		rows = nil
		for _, s := range r.Summary {
			ffn, balance := s.ffn()
			vs := "–"
			if !s.Dense {
				vs = fmt.Sprintf("%+.3f", s.VsDense) + " ± " + fix(2*s.VsDenseSE, 3) + fmt.Sprintf(" (lower on %d of %d)", s.Lower, s.Seeds)
			}
			rows = append(rows, []string{ffn, balance, strconv.Itoa(s.Seeds), fix(s.ValLoss, 3) + " ± " + fix(s.ValSD, 3), vs})
		}
		g.table([]string{"FFN", "balancing", "seeds", "val loss", "minus dense"}, rows)
	}
	rows = nil
	for _, run := range r.Runs {
		ffn, balance := run.ffn()
		load, drop := "–", "–"
		if !run.Dense {
			load = fix(run.LoadMax, 2) + " / " + fix(run.LoadMin, 2)
			drop = pct(run.Drop)
		}
		rows = append(rows, []string{ffn, balance, strconv.FormatUint(run.Seed, 10), strconv.Itoa(run.Params), strconv.Itoa(run.ActiveParams), strconv.Itoa(run.Steps),
			fix(run.ValLoss, 3), fix(run.ValPPL, 1), fix(run.TrainLoss, 3), load, drop, fix(run.TrainSeconds, 0)})
	}
	g.table([]string{"FFN", "balancing", "seed", "params", "active params", "steps", "val loss", "val ppl", "train loss (last 50)", "load max / min over mean", "dropped", "train s"}, rows)
	return nil
}

// ffn names the FFN and the balancing of a setup.
func (s moeSetup) ffn() (ffn, balance string) {
	if s.Dense {
		return "dense", "–"
	}
	balance = s.Balance
	if s.BiasRate != 0 {
		balance += " (rate " + strconv.FormatFloat(s.BiasRate, 'g', -1, 64) + ")"
	}
	return "MoE", balance
}

// others lists the reports and pictures no section showed.
func (g *gen) others() error {
	var rest []string
	for _, rel := range g.reports {
		if !g.claimed[rel] {
			rest = append(rest, rel)
		}
	}
	if len(rest) > 0 {
		g.printf("\n## Other reports\n\n")
		for _, rel := range rest {
			g.printf("### %s\n\n", rel)
			if err := g.generic(rel, ""); err != nil {
				return err
			}
		}
	}
	var pics []string
	for _, p := range g.pictures {
		if !g.claimed[p] {
			pics = append(pics, fmt.Sprintf("![%s](%s)", p, p))
		}
	}
	if len(pics) > 0 {
		g.printf("\n## Other pictures\n\n%s\n", strings.Join(pics, "\n"))
	}
	return nil
}

// generic shows a report of unknown schema as a table of its fields, in
// document order for arrays and sorted order for objects.
func (g *gen) generic(rel, known string) error {
	var doc document
	ok, err := g.load(rel, &doc, known)
	if err != nil || !ok {
		return err
	}
	v := doc.v
	recorded := ""
	if m, isObj := v.(map[string]any); isObj {
		recorded, _ = m["command"].(string)
	}
	g.command(rel, recorded, known)
	var rows [][]string
	flatten("", v, &rows)
	g.table([]string{"field", "value"}, rows)
	return nil
}

// document is a report of unknown schema; numbers are kept as written, so
// the table prints them with fixed precision from their exact text.
type document struct{ v any }

func (d *document) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(&d.v)
}

// flatten appends one row per leaf of v, named by its path ("runs[0].loss").
func flatten(prefix string, v any, rows *[][]string) {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(x) {
			name := k
			if prefix != "" {
				name = prefix + "." + k
			}
			flatten(name, x[k], rows)
		}
	case []any:
		for i, e := range x {
			flatten(fmt.Sprintf("%s[%d]", prefix, i), e, rows)
		}
	default:
		*rows = append(*rows, []string{cell(prefix), cell(scalar(x))})
	}
}

// scalar prints a JSON scalar: integers as they are, other numbers with
// four significant digits.
func scalar(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return strconv.FormatInt(i, 10)
		}
		f, _ := x.Float64()
		return strconv.FormatFloat(f, 'g', 4, 64)
	case float64:
		if x == float64(int64(x)) {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', 4, 64)
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// spans averages OneByFrame over frame 0, frames 1–8 and frames 9–16
// (the "drift" frames): "–" for reports without it.
func (f fidelity) spans() []string {
	out := []string{"–", "–", "–"}
	for i, sp := range [][2]int{{0, 1}, {1, 9}, {9, 17}} {
		if sp[1] > len(f.OneByFrame) {
			break
		}
		sum := 0.0
		for _, x := range f.OneByFrame[sp[0]:sp[1]] {
			sum += x
		}
		out[i] = pct(sum / float64(sp[1]-sp[0]))
	}
	return out
}

// timeSplit is where a clip's generation time went, when the report says.
// timing is the time per clip and where it went, if the report has one.
func (r videoarReport) timing() string {
	if r.Resumed > 0 && r.Resumed == r.Generated.Clips {
		return "no times: every clip was read back from an earlier run's saved clips (--resume)"
	}
	return fix(r.SecPerClip, 2) + " s per clip" + r.timeSplit()
}

func (r videoarReport) timeSplit() string {
	if r.SecCodes == 0 && r.SecPixels == 0 {
		return ""
	}
	parts := ""
	if st := r.SecSampling; st != nil {
		sc := make([]string, len(st.Scales))
		for i, v := range st.Scales {
			sc[i] = fix(v, 3)
		}
		parts = fmt.Sprintf(" (the prompt's pass %s, the passes of each scale from the coarsest %s, head and sampling %s, inputs %s)",
			fix(st.Prompt, 3), strings.Join(sc, "/"), fix(st.Sample, 3), fix(st.Inputs, 3))
	}
	resumed := ""
	if r.Resumed > 0 {
		resumed = fmt.Sprintf("; times of the %d clips generated in the last run, %d were read back from the earlier runs' saved clips (--resume)", r.Generated.Clips-r.Resumed, r.Resumed)
	}
	return fmt.Sprintf(": %s s sampling the codes%s, %s s decoding pixels%s", fix(r.SecCodes, 2), parts, fix(r.SecPixels, 2), resumed)
}

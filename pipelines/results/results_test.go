package results

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommittedPage is the golden test of docs/RESULTS.md: generating from
// the reports under docs/ must give exactly the committed page. After a new
// or changed report, `make results` rewrites the page.
func TestCommittedPage(t *testing.T) {
	want, err := os.ReadFile("../../docs/RESULTS.md")
	if err != nil {
		t.Fatalf("%v (run make results)", err)
	}
	got, err := Generate("../../docs")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < max(len(g), len(w)); i++ {
			var gl, wl string
			if i < len(g) {
				gl = g[i]
			}
			if i < len(w) {
				wl = w[i]
			}
			if gl != wl {
				t.Fatalf("docs/RESULTS.md is stale (run make results); first difference at line %d:\ngenerated: %q\ncommitted: %q", i+1, gl, wl)
			}
		}
	}
}

// TestSyntheticReports renders small reports of every known kind and checks
// the figures, the commands and the links on the page.
func TestSyntheticReports(t *testing.T) {
	b, err := Generate("testdata/full")
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, want := range []string{
		// engine bench: fixed precision, no recorded command → the known one
		"Command (`docs/bench/engine.json` records none; this command writes it): `omniar bench --out docs/bench/engine.json`",
		"Measured 2026-01-02T03:04:05Z on test box",
		"| 1 | 64×32×16 | 10.0 | 15.0 | 20.0 | 19.5 | 0.50 |",
		"| 2 | 1234 | 0.250 | 4000 | 0.500 | 2000 | 2.00× | GOMAXPROCS=1 | t\\|2 |",
		"Video tokenizer encode+decode (pixels → tokens → pixels, weights `assets/vt.safetensors`), Go against the same network in PyTorch, measured 2026-01-03T00:00:00Z:",
		"| 1 | clip, 17 frames | 85.0 | 80.0 / 40.0 / 80.0 | 170.0 | 0.50× | GOMAXPROCS=1 | t1 |",
		"| 1 | image | 40.0 | 10.0 / 7.0 / 8.0 | 125.0 | 0.32× | GOMAXPROCS=1 | t1 |",
		"Unified MoE decoder (dim 192, 4 layers, 3 heads, 8 experts top-2 + 1 shared of 192 units; vocabulary 6400, untied head; causal mask; parameters: Go 7036608, PyTorch 7036608), Go against the same network in PyTorch, measured 2026-01-04T00:00:00Z:",
		"| 1 | train 8×256 | 2560 | 2276 | 1.12× | 7.2% / 5.7% | GOMAXPROCS=1 | t1 |",
		"| 1 | greedy decode 1×256 | 512 | 256 | 2.00× | – | GOMAXPROCS=1 | t1 inference_mode |",
		// tokenizer, and an empty report beside it
		"Command (`docs/eval/tokenizer.json` records none; this command writes it): `omniar eval tokenizer --modality video --ckpt assets/tok.safetensors --out docs/eval/tokenizer.json`",
		"| Moving-digits | 3 | 30.12 | 0.988 | 20.50 | 10.0 / 20.2 / 30.1 |",
		"Codebook: 200 of 256 codes used, perplexity 120.4. Entropy per scale (nats): 0.70 / 2.60. Tokens: 500 per clip, 100 per image.",
		"92.5% of 40 frames within 3 px",
		"99.0% on originals, 90.0% on reconstructions",
		"Not measured yet (`docs/eval/tokenizer_image.json` is empty): `omniar eval tokenizer --modality image --ckpt CKPT --out docs/eval/tokenizer_image.json`",
		// the recipe's retrained tokenizer, named as such
		"The tokenizer retrained from scratch by the recipe (`make repro-tokenizer`), scored as the shipped one",
		"| Moving-digits | 3 | 29.88 | 0.981 | 20.25 | 10.0 / 20.0 / 29.9 |",
		// missing codec report; its pictures are still linked
		"Not measured yet (no `docs/eval/codec.json`): `omniar eval codec --json docs/eval/codec.json --examples docs/eval/codec`",
		"![eval/codec/spectrogram.png](eval/codec/spectrogram.png)",
		// metrics
		"| real vs real | 1.2 [1.0, 2.0] | -3.0 |",
		"![eval/sanity.png](eval/sanity.png)",
		"Not measured yet (no `docs/eval/fvd*.json`)",
		"Command (recorded in `docs/eval/judge.json`): `omniar eval judge --json --n 50`",
		"| shipped | test | 50 | 90.0% | 92.0% | 98.0% | 95.0% | 85.0% |",
		"Command (`docs/eval/judge_repro.json` records none; this command writes it): `make repro-judge`",
		"| retrained | test | 50 | 88.0% | 90.0% | 98.0% | 95.0% | 80.0% |",
		"Not measured yet (no `docs/eval/video_classifier.json`): `omniar eval video --out docs/eval/video_classifier.json`",
		// VideoAR beside its ceiling
		"Command (recorded in `docs/eval/videoar.json`): `omniar eval videoar --n 4`",
		"digit right in 50.0% of the ceiling, both right in 50.0% of the ceiling",
		"| videoar.json | generated | 4 | 25.0% | 50.0% | 100.0% | 50.0% | 0.0% |",
		"| videoar.json | ceiling | 4 | 50.0% | 100.0% | 100.0% | 100.0% | 0.0% |",
		"| videoar.json | generated | 100.0% | 100.0% | 50.0% | 1.25 |", // the ceiling has no per-frame readings
		"| latent frame | scale 1 | scale 2 |",
		"| 1 | 0.75 | 1.25 |",

		"![eval/videoar_grid.gif](eval/videoar_grid.gif)",
		// unified
		"Model `assets/u.safetensors` (3300 training steps), test split",
		"| category | 30.0% | 3 / 10 | 10.0% | baseline + 10 points |",
		"| digit | 75.0% | 3 / 4 | – | ≥ 97% |",
		"| digits | 40.0% | 2 / 5 | – | ≥ 95% |",
		"| digits: one digit | 66.7% | 2 / 3 | – |  |",
		"| digits: two digits | 0.0% | 0 / 2 | – |  |",
		"| image_qa | 3 | 30 | 2.000 | 2.000 |",
		"Fortunes test-split perplexity: 123.5 over 1000 tokens.",
		// a unified model retrained on a candidate tokenizer, beside the shipped one
		"| digit | 100.0% | 4 / 4 | 75.0% |",
		"| digits | 20.0% | 1 / 5 | 40.0% |",
		"Fortunes test-split perplexity: 120.5 (shipped 123.5).",
		"the MoE model is lower on 1 of 2 tasks",
		"| image_qa | 0.500 | 0.750 | -0.250 ± 0.500 |",
		"| lm | 5.500 | 5.250 | +0.250 ± 0.125 |",
		"lower than minus two standard errors (over batches) for 0 tasks and higher than plus two for 1.",
		"| alone, 3300 steps | layers=1 experts=8 topk=2 | 200 | 1.625 | 50.0% | 1.5 |",
		"| elastic | layers=[0] experts=0 topk=0 | 200 | 1.750 | 25.0% | 1.2 |",
		"Command (recorded in `docs/eval/unified_moe_vs_dense.json`): `omniar eval moe --out docs/eval/unified_moe_vs_dense.json --seeds 1,2`",
		"| MoE | aux | 2 | 5.250 ± 0.010 | -0.050 ± 0.040 (lower on 2 of 2) |",
		"| dense | – | 2 | 5.300 ± 0.020 | – |",
		"| MoE | aux | 1 | 300 | 200 | 10 | 5.250 | 190.6 | 5.500 | 1.20 / 0.80 | 1.0% | 12 |",
		"| MoE | bias (rate 0.01) | 1 | 300 | 200 | 10 | 5.280 | 196.3 | 5.550 | 1.10 / 0.90 | 0.5% | 12 |",
		"| dense | – | 1 | 200 | 200 | 10 | 5.300 | 200.3 | 5.600 | – | – | 11 |",
		"| layers=[0] experts=0 topk=0 | 200 | 1.750 | 25.0% | 1.2 | 2.00× |",
		"Not measured yet (no `docs/eval/unified_routing.json`): `omniar inspect routing --ckpt CKPT --data DIR`",
		// a report and a picture no section knows
		"### eval/extra.json",
		"| a[0] | 1 |\n| a[1] | 2 |\n| b.x | a\\|b |\n| b.y | 0.1235 |",
		"## Other pictures\n\n![eval/zz_other.png](eval/zz_other.png)",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "### unified_candidate_x.json") {
		t.Error("the candidate unified report is also shown field by field")
	}
	if n := strings.Count(page, "](eval/sanity.png)"); n != 1 {
		t.Errorf("sanity.png linked %d times, want once", n)
	}
	again, err := Generate("testdata/full")
	if err != nil || !bytes.Equal(again, b) {
		t.Errorf("second generation differs (err %v)", err)
	}
}

// TestNothingMeasured: a docs directory without reports gives a page of
// "not measured yet" lines and no figure.
func TestNothingMeasured(t *testing.T) {
	b, err := Generate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	// bench, tokenizer, codec, sanity, fvd, judge, classifier, videoar,
	// understanding, baselines, MoE vs dense, elastic, curves, routing
	if n := strings.Count(page, "Not measured yet"); n != 14 {
		t.Errorf("%d sections not measured, want 14:\n%s", n, page)
	}
	for _, s := range []string{"|", "Other reports", "Other pictures"} {
		if strings.Contains(page, s) {
			t.Errorf("page without reports contains %q", s)
		}
	}
}

func TestBadReport(t *testing.T) {
	for _, dir := range []string{"testdata/malformed", "testdata/wrongtype"} {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			_, err := Generate(dir)
			if err == nil {
				t.Fatal("no error")
			}
			if want := filepath.Join(dir, "eval", "judge.json"); !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %s", err, want)
			}
			out := filepath.Join(t.TempDir(), "RESULTS.md")
			if err := Write(dir, out); err == nil {
				t.Error("Write: no error")
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("Write left %s behind after an error (stat: %v)", out, err)
			}
		})
	}
}

func TestWrite(t *testing.T) {
	out := filepath.Join(t.TempDir(), "RESULTS.md")
	if err := Write("testdata/full", out); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Generate("testdata/full")
	if !bytes.Equal(got, want) {
		t.Error("written page differs from the generated one")
	}
}

// TestCommittedReadme: the README's results block is what make results
// writes from the committed reports.
func TestCommittedReadme(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadmeBlock(readme)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Headline("../../docs")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("README.md's results block is stale (run make results):\ngot:\n%s\nwant:\n%s", got, want)
	}
}

// TestWriteReadme replaces only the block, and refuses a README without one.
func TestWriteReadme(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "README.md")
	text := "# x\n\n" + ReadmeBegin + "\nold\n" + ReadmeEnd + "\ntail\n"
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteReadme("testdata/full", p); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	want, err := Headline("testdata/full")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "# x\n\n"+ReadmeBegin+"\n") || !strings.HasSuffix(string(b), ReadmeEnd+"\ntail\n") || !bytes.Contains(b, want) || bytes.Contains(b, []byte("old")) {
		t.Errorf("README after WriteReadme:\n%s", b)
	}
	if !bytes.Contains(want, []byte("| 100.0% / 50.0% / 25.0% (ceiling 100.0% / 100.0% / 50.0%); 1.50 s per clip |")) {
		t.Errorf("headline of the synthetic reports lacks the fidelity row:\n%s", want)
	}
	if !bytes.Contains(want, []byte("understanding (unified model, test split): digit images / clip digits / quotation category right | 75.0% / 40.0% / 30.0% |")) {
		t.Errorf("headline of the synthetic reports lacks the understanding row:\n%s", want)
	}
	if err := os.WriteFile(p, []byte("no block\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteReadme("testdata/full", p); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("README without markers: %v, want an error naming it", err)
	}
}

// TestFVDFeatureNetworks: reports made with different feature networks
// are flagged as not comparable; reports of one network are not.
func TestFVDFeatureNetworks(t *testing.T) {
	const note = "different feature networks"
	for _, tc := range []struct {
		name string
		nets [2]string
		want bool
	}{{"one network", [2]string{"v5", "v5"}, false}, {"two networks", [2]string{"v5", "v6"}, true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for i, n := range tc.nets {
				rep := fmt.Sprintf(`{"features": "omniar-video-%s", "weights_sha256": "sha-%s", "real": "moving-digits:test", "fake": "clips", "n_real": 10, "n_fake": 10, "frames": 17, "command": "omniar eval fvd"}`, n, n)
				writeEval(t, dir, fmt.Sprintf("fvd_%d.json", i), rep)
			}
			b, err := Generate(dir)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(string(b), note); got != tc.want {
				t.Errorf("note %q printed: %v, want %v", note, got, tc.want)
			}
		})
	}
}

// TestFVDVersus: a paired report shows the second set's row and the
// paired difference with its interval, share above zero and the closer
// set; the budget VideoAR/raster pair also makes a README headline row.
func TestFVDVersus(t *testing.T) {
	dir := t.TempDir()
	rep := `{"features": "omniar-video-v6", "weights_sha256": "sha", "real": "moving-digits:test", "fake": "runs/a", "n_real": 10, "n_fake": 10, "frames": 17,
	  "frechet": {"value": 100}, "command": "omniar eval fvd --versus runs/b",
	  "versus": {"fake": "runs/b", "n_fake": 10, "frechet": {"value": 140},
	    "frechet_minus_first": {"value": 40, "lo": 12.5, "hi": 61.3, "level": 0.95, "reps": 200, "share_above_zero": 0.995}}}`
	writeEval(t, dir, "fvd_pair.json", rep)
	b, err := Generate(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| fvd_pair.json (versus) | omniar-video-v6 | moving-digits:test | runs/b | 10 | 10 | 17 | 140.0 |",
		"| fvd_pair.json | runs/b | runs/a | 40.0 [12.5, 61.3] | 99.5% | runs/a |"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("results lack %q:\n%s", want, b)
		}
	}
	// the budget VideoAR/raster pair is a headline figure
	writeEval(t, dir, "fvd_videoar_budget_paired.json", rep)
	h, err := Headline(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := "FVD-style raster − VideoAR, paired | 40.0 [12.5, 61.3]; closer to the real clips: VideoAR |"; !strings.Contains(string(h), want) {
		t.Errorf("headline lacks %q:\n%s", want, h)
	}
}

// TestVideoARResumed: a report of a resumed evaluation says whose times
// it gives.
func TestVideoARResumed(t *testing.T) {
	dir := t.TempDir()
	rep := `{"command": "omniar eval videoar --resume", "split": "test", "generated": {"clips": 1000, "match": 0.1, "digit": 0.2, "direction": 0.5},
	  "ceiling": {"clips": 1000, "match": 0.7, "digit": 0.7, "direction": 0.9}, "seconds_per_clip": 2.5, "seconds_codes_per_clip": 2.4,
	  "seconds_pixels_per_clip": 0.1, "resumed_clips": 900}`
	writeEval(t, dir, "videoar_r.json", rep)
	b, err := Generate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := "times of the 100 clips generated in the last run, 900 were read back"; !strings.Contains(string(b), want) {
		t.Errorf("results lack %q:\n%s", want, b)
	}
	all := strings.Replace(rep, `"resumed_clips": 900`, `"resumed_clips": 1000`, 1)
	writeEval(t, dir, "videoar_r.json", all)
	if b, err = Generate(dir); err != nil {
		t.Fatal(err)
	}
	if want := "top-p 0.00, no times: every clip was read back"; !strings.Contains(string(b), want) {
		t.Errorf("results lack %q:\n%s", want, b)
	}
}

// TestCloser: a paired difference names the closer set only when its
// interval excludes 0.
func TestCloser(t *testing.T) {
	for _, tc := range []struct {
		d    interval
		want string
	}{
		{interval{Value: 5, Lo: 1, Hi: 9, Level: 0.95, Reps: 200}, "runs/a"},
		{interval{Value: -5, Lo: -9, Hi: -1, Level: 0.95, Reps: 200}, "runs/b"},
		{interval{Value: 5, Lo: -1, Hi: 9, Level: 0.95, Reps: 200}, "neither at the 95.0% level"},
		{interval{Value: 5}, "–"},
	} {
		if got := closer(tc.d, "runs/a", "runs/b"); got != tc.want {
			t.Errorf("closer(%+v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

// TestTokenizerCeiling: a candidate tokenizer's report is marked as one,
// and its ceiling is shown.
func TestTokenizerCeiling(t *testing.T) {
	dir := t.TempDir()
	rep := `{"command": "omniar eval tokenizer --ceiling 1000", "checkpoint": "runs/t.safetensors", "frames": 17,
	  "ceiling": {"clips": 1000, "match": 0.714, "digit": 0.739, "direction": 0.965, "match_one_digit": 0.853, "match_two_digit": 0.518}}`
	writeEval(t, dir, "tokenizer_candidate_video.json", rep)
	b, err := Generate(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"A tokenizer candidate (`make tokenizer-candidate`), not shipped",
		"first 1000 Moving-digits test clips, what a generator drawing through these codes can reach): digits and directions 71.4%, digits 73.9%, directions 96.5%; both on one-digit clips 85.3%, on two-digit clips 51.8%."} {
		if !strings.Contains(string(b), want) {
			t.Errorf("results lack %q:\n%s", want, b)
		}
	}
}

// writeEval writes a report as dir/eval/name.
func writeEval(t *testing.T, dir, name, rep string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "eval"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "eval", name), []byte(rep), 0o644); err != nil {
		t.Fatal(err)
	}
}

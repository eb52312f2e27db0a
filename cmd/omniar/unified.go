package main

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/omniar/omniar/omni"
	"github.com/omniar/omniar/pipelines/mm"
	"github.com/omniar/omniar/tokenizers"
	"github.com/omniar/omniar/unified"
)

// Shipped unified model, relative to the assets directory.
const (
	assetUnified    = "unified.safetensors"
	assetAudioCodec = "audio_codec.safetensors"
)

func newTrainUnifiedCmd() *cobra.Command {
	var path, out, alone, initW, tokens, videoTok string
	var resume, dense, tokenizeOnly bool
	var stopAt int
	cmd := &cobra.Command{
		Use:   "unified --config FILE.json [--resume]",
		Short: "Train the unified multimodal model on a mixture of tasks",
		Long: `unified trains the unified MoE decoder (package omni) on a mixture of the
project's data: fortunes language modelling, questions about digit images,
Moving-digits clips, spoken digits and words and fortune categories, and image
generation from captions. The JSON config names the size, the data and
tokenizers, the curriculum stages (steps, learning rate, samples of each task
per step), elastic training and the dense baseline. Every source is tokenized
once into token files. Per-task loss curves are written to OUT/curves.png and
.json; the weights of the last completed stage to OUT/unified.safetensors.`,
		Example: `  omniar train unified --config configs/tiny.json
  omniar train unified --config configs/small.json --resume
  omniar train unified --config more.json --init assets/unified.safetensors
  omniar train unified --config configs/small.json --tokenize-only`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if path == "" {
				return usageErrorf("--config is required")
			}
			cfg, err := mm.ReadTrainConfig(path)
			if err != nil {
				return usageErrorf("%v", err)
			}
			if out != "" {
				cfg.Out = out
			}
			if dense {
				cfg.Dense = true
			}
			if alone != "" {
				var sub unified.Sub
				dec := json.NewDecoder(strings.NewReader(alone))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&sub); err != nil {
					return usageErrorf("--alone %s: %v", alone, err)
				}
				cfg.Alone, cfg.Elastic = &sub, nil
			}
			if stopAt > 0 {
				cfg.StopAt = stopAt
			}
			if initW != "" {
				cfg.Init = initW
			}
			if tokens != "" {
				cfg.Tokens = tokens
			}
			if videoTok != "" {
				cfg.VideoTok = videoTok
			}
			if cfg.Text == "" {
				cfg.Text = assetPath(assetText)
			}
			oneGoThread()
			if tokenizeOnly {
				if err := mm.TokenizeFor(cmd.Context(), cfg); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "token files in %s\n", cfg.Tokens)
				return nil
			}
			res, err := mm.Train(cmd.Context(), cfg, resume)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if res.Stopped {
				fmt.Fprintf(w, "stopped after %d steps; rerun with --resume to continue\n", res.Steps)
				return nil
			}
			tasks := make([]string, 0, len(res.Last))
			for t := range res.Last {
				tasks = append(tasks, t)
			}
			sort.Strings(tasks)
			for _, t := range tasks {
				fmt.Fprintf(w, "%-10s train cross-entropy %.4f (mean of the last 20 full-model steps)\n", t, res.Last[t])
			}
			fmt.Fprintf(w, "weights %s; curves %s/curves.png\n", res.Weights, cfg.Out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&path, "config", "", "training config (JSON; see configs/small.json)")
	f.StringVar(&out, "out", "", "run directory (overrides the config's out)")
	f.BoolVar(&resume, "resume", false, "skip completed stages and continue the interrupted one")
	f.BoolVar(&dense, "dense", false, "train the dense baseline (dense FFN of equal active parameters)")
	f.StringVar(&alone, "alone", "", `train this sub-model alone, without elastic training (JSON, e.g. {"layers":[0,1],"experts":4,"top_k":1})`)
	f.StringVar(&initW, "init", "", "start the first stage from these unified weights (e.g. the shipped model) instead of a fresh model")
	f.StringVar(&tokens, "tokens", "", "token files directory (overrides the config's tokens)")
	f.StringVar(&videoTok, "video-tokenizer", "", "video tokenizer checkpoint (overrides the config's video_tokenizer)")
	f.BoolVar(&tokenizeOnly, "tokenize-only", false, "write the token files the run reads and stop (what eval unified and inspect routing read)")
	f.IntVar(&stopAt, "stop-at", 0, "end after this many steps over all stages, on the stages' full schedules (a stage cut short counts as done)")
	return cmd
}

// subFlags select an elastic sub-model at inference.
type subFlags struct{ sub unified.Sub }

func (s *subFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.IntSliceVar(&s.sub.Layers, "layers", nil, "run only these layers (e.g. 0,1; default all)")
	f.IntVar(&s.sub.Experts, "experts", 0, "use only the first n routed experts (0 = all)")
	f.IntVar(&s.sub.TopK, "topk", 0, "experts per token (0 = the model's)")
}

// mediaFlags name the model and the tokenizers it reads.
type mediaFlags struct{ ckpt, text, video, codec string }

func (m *mediaFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&m.ckpt, "ckpt", "", "unified model weights (default: "+assetUnified+" in the assets directory)")
	f.StringVar(&m.text, "text-tokenizer", "", "text tokenizer (default: "+assetText+" in the assets directory)")
	f.StringVar(&m.video, "video-tokenizer", "", "video tokenizer (default: "+assetVideoTok+" in the assets directory)")
	f.StringVar(&m.codec, "audio-codec", "", "audio codec (default: "+assetAudioCodec+" in the assets directory)")
}

// resolve fills the defaults and checks the model and text tokenizer exist.
func (m *mediaFlags) resolve() error {
	for _, a := range []struct {
		p          *string
		name, what string
	}{{&m.ckpt, assetUnified, "unified model"}, {&m.text, assetText, "text tokenizer"}, {&m.video, assetVideoTok, "video tokenizer"}, {&m.codec, assetAudioCodec, "audio codec"}} {
		if *a.p == "" {
			*a.p = assetPath(a.name)
			if a.name == assetUnified || a.name == assetText {
				if err := checkAsset(*a.p, a.what); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func newUnderstandCmd() *cobra.Command {
	var q mm.Question
	var mf mediaFlags
	var sf subFlags
	cmd := &cobra.Command{
		Use:   `understand (--image F | --video F | --audio F | --text "…") --question "…"`,
		Short: "Answer a question about an image, a video, a recording or a text",
		Long: `understand answers a question with the unified model: the input is
tokenized (video tokenizer, audio codec or text tokenizer), laid out as
<bos> <media> … <text> question </text> <answer>, and the answer is decoded
greedily through the KV cache. --layers/--experts/--topk run an elastic
sub-model.`,
		Example: `  omniar understand --image digit.png --question "what digit is this?"
  omniar understand --video clip.gif --question "which way does the seven move?"
  omniar understand --audio seven.wav --question "what number was said?"
  omniar understand --text "Money is the root of all evil." --question "which category is this quote from?"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n := 0
			for _, s := range []string{q.Image, q.Video, q.Audio, q.Context} {
				if s != "" {
					n++
				}
			}
			if n != 1 {
				return usageErrorf("give exactly one of --image, --video, --audio or --text")
			}
			if strings.TrimSpace(q.Question) == "" {
				return usageErrorf("--question is required and must not be empty")
			}
			if err := mf.resolve(); err != nil {
				return err
			}
			a, err := mm.NewAnswerer(mf.ckpt, mf.text, mf.video, mf.codec, sf.sub)
			if err != nil {
				return err
			}
			ans, err := a.Answer(q)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), ans)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&q.Image, "image", "", "image file (PNG, GIF, …)")
	f.StringVar(&q.Video, "video", "", "video file (GIF, AVI, …)")
	f.StringVar(&q.Audio, "audio", "", "audio file (WAV, MP3)")
	f.StringVar(&q.Context, "text", "", "a text to ask about")
	f.StringVar(&q.Question, "question", "", "the question")
	mf.register(cmd)
	sf.register(cmd)
	return cmd
}

func newEvalUnifiedCmd() *cobra.Command {
	opt := mm.EvalOptions{}
	var mf mediaFlags
	cmd := &cobra.Command{
		Use:   "unified [--ckpt FILE] [--dense FILE] [--alone FILE]...",
		Short: "Evaluate the unified model: understanding, perplexity, elastic sub-models, MoE vs dense",
		Long: `unified measures, on a held-out split: understanding accuracy per task (digit
images, Moving-digits direction and digits, spoken digits of held-out voices,
espeak words and the real ALSA recordings, fortune category beside the
majority-class baseline), text perplexity on the fortunes, the elastic family
(held-out cross-entropy, digit accuracy and KV-cache latency of every
sub-model of one run), with --dense the per-task held-out cross-entropy of
the MoE model and the dense baseline, and with --alone the same figures for
sub-models trained alone at equal steps. Writes a JSON report.`,
		Example: `  omniar eval unified --ckpt runs/unified_small/unified.safetensors --dense runs/unified_dense/unified.safetensors`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := mf.resolve(); err != nil {
				return err
			}
			opt.Ckpt, opt.Text = mf.ckpt, mf.text
			opt.Data = mm.ExpandHome(opt.Data)
			oneGoThread()
			r, err := mm.Eval(cmd.Context(), opt)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			names := make([]string, 0, len(r.Understanding))
			for n := range r.Understanding {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				a := r.Understanding[n]
				fmt.Fprintf(w, "%-11s accuracy %.3f (%d/%d)", n, a.Accuracy, a.Correct, a.N)
				if a.Baseline > 0 {
					fmt.Fprintf(w, "  majority baseline %.3f", a.Baseline)
				}
				fmt.Fprintln(w)
				if m := mm.FrequentMisses(a.Misses, 5); m != "" {
					fmt.Fprintf(w, "            most frequent misses: %s\n", m)
				}
			}
			if r.PPLTokens > 0 {
				fmt.Fprintf(w, "fortunes %s perplexity %.2f (%d tokens)\n", r.Split, r.Perplexity, r.PPLTokens)
			}
			for _, s := range r.Elastic {
				fmt.Fprintf(w, "sub %-36s active %8d  mean CE %.3f  digit acc %.3f  %.1f ms/answer  %.2f×\n", s.Sub, s.ActiveParams, s.MeanCE, s.DigitAcc, s.MsPerAnswer, s.Speedup)
			}
			row := func(what string, s mm.SubResult) {
				fmt.Fprintf(w, "%-13s %-34s active %8d  mean CE %.3f  digit acc %.3f  %.1f ms/answer\n", what, s.Sub, s.ActiveParams, s.MeanCE, s.DigitAcc, s.MsPerAnswer)
			}
			for _, a := range r.Alone {
				row("trained alone", a.SubResult)
				for _, t := range a.Twins {
					row("elastic twin", t)
				}
			}
			if c := r.MoEvsDense; c != nil {
				for _, t := range sortedKeys(c.MoE) {
					fmt.Fprintf(w, "held-out CE %-10s MoE %.3f  dense %.3f\n", t, c.MoE[t], c.DenseCE[t])
				}
			}
			fmt.Fprintf(w, "report %s\n", opt.Out)
			return nil
		},
	}
	f := cmd.Flags()
	mf.register(cmd)
	f.StringVar(&opt.Dense, "dense", "", "dense baseline weights for the MoE vs dense table")
	f.StringSliceVar(&opt.Alone, "alone", nil, "sub-models trained alone (train unified with \"alone\" in the config), for the elastic table")
	f.BoolVar(&opt.BaselinesOnly, "baselines-only", false, "measure only --dense and --alone and add them to the report at --out (or start one)")
	f.StringVar(&opt.Data, "data", "~/.cache/omniar/data", "prepared data directory")
	f.StringVar(&opt.Tokens, "tokens", "", "token files directory (default: the one the model was trained with)")
	f.StringVar(&opt.Out, "out", "docs/eval/unified.json", "JSON report")
	f.StringVar(&opt.Split, "split", "test", "split: test or val (held out), or train (how well the model fits its own data)")
	f.IntVar(&opt.Limit, "limit", 300, "questions per task (0 = all)")
	f.IntVar(&opt.Batches, "batches", 8, "held-out loss batches (8 examples per task each)")
	return cmd
}

func sortedKeys(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func newInspectCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "inspect", Short: "Inspect trained models"}
	cmd.AddCommand(newInspectRoutingCmd())
	return cmd
}

func newInspectRoutingCmd() *cobra.Command {
	var mf mediaFlags
	var data, tokens, out, split string
	var batches int
	cmd := &cobra.Command{
		Use:   "routing [--ckpt FILE] [--data DIR]",
		Short: "Expert load per modality: heatmaps (layer × expert) and a table of load, entropy and overlap",
		Long: `routing runs held-out batches of every task through the unified model with
each position tagged by its modality (text, image, video, audio; the router
never sees the tag) and writes OUT.png (one layer × expert heatmap a
modality) and OUT.json (per-modality load, entropy per layer, the smallest
expert load relative to uniform, overlap between modalities, dead experts).`,
		Example: `  omniar inspect routing --ckpt assets/unified.safetensors --out docs/eval/unified_routing`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := mf.resolve(); err != nil {
				return err
			}
			if batches < 1 {
				return usageErrorf("--batches must be ≥ 1")
			}
			oneGoThread()
			m, meta, err := omni.Load(mf.ckpt)
			if err != nil {
				return err
			}
			if tokens, err = mm.TokensDir(tokens, mf.ckpt, meta); err != nil {
				return err
			}
			tok, err := tokenizers.LoadText(mf.text)
			if err != nil {
				return err
			}
			d, err := mm.LoadData(mm.ExpandHome(data), tokens, split, m.Cfg, tok)
			if err != nil {
				return err
			}
			r, err := mm.Routing(cmd.Context(), m, d, batches, 8, mf.ckpt, out)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%-6s %9s %22s %14s\n", "", "positions", "entropy/ln E (layers)", "min load/unif")
			names := make([]string, 0, len(r.Modalities))
			for n := range r.Modalities {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range append(names, "all") {
				ml := r.All
				if n != "all" {
					ml = r.Modalities[n]
				}
				var h []string
				for _, e := range ml.Entropy {
					h = append(h, fmt.Sprintf("%.2f", e/math.Log(float64(r.Experts))))
				}
				fmt.Fprintf(w, "%-6s %9d %22s %14.2f\n", n, ml.Tokens, strings.Join(h, " "), ml.MinLoad)
			}
			for _, k := range sortedKeys(r.Overlap) {
				fmt.Fprintf(w, "overlap %-12s %.3f\n", k, r.Overlap[k])
			}
			fmt.Fprintf(w, "dead experts (< 10%% of uniform in a layer): %d\nwrote %s.png and %s.json\n", r.Dead, out, out)
			return nil
		},
	}
	f := cmd.Flags()
	mf.register(cmd)
	f.StringVar(&data, "data", "~/.cache/omniar/data", "prepared data directory")
	f.StringVar(&tokens, "tokens", "", "token files directory (default: the one the model was trained with)")
	f.StringVar(&split, "split", "test", "split to route")
	f.StringVar(&out, "out", "docs/eval/unified_routing", "output path without extension (.png and .json)")
	f.IntVar(&batches, "batches", 4, "batches of 8 per task")
	return cmd
}

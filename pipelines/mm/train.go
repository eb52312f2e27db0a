package mm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/omniar/omniar/audio/codec"
	"github.com/omniar/omniar/datasets"
	"github.com/omniar/omniar/nn/optim"
	"github.com/omniar/omniar/nn/train"
	"github.com/omniar/omniar/omni"
	"github.com/omniar/omniar/tokenizers"
	"github.com/omniar/omniar/tokenizers/bpe"
	"github.com/omniar/omniar/unified"
	"github.com/omniar/omniar/video"
)

// Stage is one curriculum stage: its steps, learning rate and mixture
// (samples of each task per step; a task left out is not trained).
type Stage struct {
	Name  string         `json:"name"`
	Steps int            `json:"steps"`
	LR    float64        `json:"lr"`
	Mix   map[string]int `json:"mix"`
	// VideoFrames is how many latent frames of a clip the stage reads (0:
	// the size's); weights do not depend on it, so a later stage can read
	// more of each clip than an earlier one.
	VideoFrames int `json:"video_frames"`
	// Glance turns omni.Config.Glance on from this stage on; weights
	// without one get a fresh one, which adds nothing until trained.
	Glance bool `json:"glance"`
	// ClipImages is the share of image_qa examples drawn from the first
	// frames of one-digit clips instead of the centred digit images: the
	// same train digits at other places, against overfitting the few
	// centred ones.
	ClipImages float64 `json:"clip_images"`
	// ViewImages is the share of image_qa examples drawn from augmented
	// views of the train digits (TrainConfig.DigitViews): rotated, scaled
	// and fainter digits where the model otherwise memorises 4,000 images.
	ViewImages float64 `json:"view_images"`
	// PairImages is the share of image_qa examples drawn from the first
	// frames of two-digit clips, asked which digits they show: the clip
	// questions' hardest part (two digits, often overlapping) as pictures.
	PairImages float64 `json:"pair_images"`
	// AudioViews is the share of audio_qa examples drawn from augmented
	// views of the train recordings (TrainConfig.SpeechViews): faster,
	// slower, higher, lower and quieter, for voices the model never heard.
	AudioViews float64 `json:"audio_views"`
	// PairViewsShare is the share of image_qa examples drawn from the pair
	// views (TrainConfig.PairViews): like pair_images, without their limit.
	PairViewsShare float64 `json:"pair_views"`
}

// TrainConfig is the file `omniar train unified --config` reads.
type TrainConfig struct {
	Size    string `json:"size"`    // tiny or small (omni.Tiny / omni.Small)
	Dense   bool   `json:"dense"`   // the dense baseline of equal active parameters
	Balance string `json:"balance"` // aux or bias (default: the size's)
	Elastic *struct {
		PFull float64 `json:"p_full"`
	} `json:"elastic"` // nil: no elastic training; else unified.DefaultElastic with this p_full
	// Alone trains this sub-model of the size as a model of its own
	// (unified.Sub.Config): the elastic table's trained-alone baseline.
	Alone *unified.Sub `json:"alone"`

	Data     string         `json:"data"`   // prepared data directory (default ~/.cache/omniar/data)
	Tokens   string         `json:"tokens"` // token files directory (tokenized on first use)
	VideoTok string         `json:"video_tokenizer"`
	Codec    string         `json:"audio_codec"`
	Text     string         `json:"text_tokenizer"`
	Out      string         `json:"out"`   // run directory: checkpoints, curves, the exported weights
	Clips    map[string]int `json:"clips"` // Moving-digits clips tokenized per split (0 = all)
	// DigitViews is how many augmented views of each train digit image
	// are tokenized for the stages' view_images (0: none).
	DigitViews int `json:"digit_views"`
	// SpeechViews is how many augmented views of each train recording
	// are tokenized (tokenizeSpeechViews); stages draw on them by audio_views.
	SpeechViews int `json:"speech_views"`
	// PairViews is how many first frames of fresh two-digit train clips
	// are tokenized (tokenizePairViews) for the stages' pair_views.
	PairViews int    `json:"pair_views"`
	Warmup    int    `json:"warmup"`
	CkptEvery int    `json:"ckpt_every"`
	Seed      uint64 `json:"seed"`
	StopAt    int    `json:"stop_at"` // end after this many steps over all stages, keeping the stages' schedules (0 = run them all)
	// Init is unified weights (a run's unified.safetensors or the shipped
	// model) the first stage starts from instead of a fresh model: their
	// trunk must be this configuration's and their tokenizers these.
	Init   string  `json:"init"`
	Stages []Stage `json:"stages"`
}

// ReadTrainConfig reads and checks a configuration file.
func ReadTrainConfig(path string) (TrainConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return TrainConfig{}, fmt.Errorf("train config: %w", err)
	}
	return ParseTrainConfig(path, b)
}

// ParseTrainConfig parses and checks the contents b of configuration file
// path (named in errors).
func ParseTrainConfig(path string, b []byte) (TrainConfig, error) {
	var c TrainConfig
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("train config %s: %w", path, err)
	}
	if c.Data == "" {
		c.Data = "~/.cache/omniar/data"
	}
	for _, p := range []*string{&c.Data, &c.Tokens, &c.VideoTok, &c.Codec, &c.Text, &c.Out, &c.Init} {
		*p = ExpandHome(*p)
	}
	if err := c.Check(); err != nil {
		return c, fmt.Errorf("train config %s: %w", path, err)
	}
	return c, nil
}

// ExpandHome replaces a leading ~/ by the home directory.
func ExpandHome(p string) string {
	if h, err := os.UserHomeDir(); err == nil && strings.HasPrefix(p, "~/") {
		return filepath.Join(h, p[2:])
	}
	return p
}

// Check reports a configuration that cannot run.
func (c TrainConfig) Check() error {
	if c.Size != "tiny" && c.Size != "small" {
		return fmt.Errorf("size %q, want tiny or small", c.Size)
	}
	if c.Balance != "" && c.Balance != unified.BalanceAux && c.Balance != unified.BalanceBias {
		return fmt.Errorf("balance %q, want aux or bias", c.Balance)
	}
	if len(c.Stages) == 0 {
		return fmt.Errorf("no stages")
	}
	for i, s := range c.Stages {
		if s.Steps < 1 || !(s.LR > 0) || len(s.Mix) == 0 {
			return fmt.Errorf("stage %d (%s): steps %d, lr %g and a mixture are required", i, s.Name, s.Steps, s.LR)
		}
		if s.VideoFrames < 0 {
			return fmt.Errorf("stage %d (%s): video_frames %d", i, s.Name, s.VideoFrames)
		}
		if s.ClipImages < 0 || s.ViewImages < 0 || s.PairImages < 0 || s.PairViewsShare < 0 || s.ClipImages+s.ViewImages+s.PairImages+s.PairViewsShare > 1 {
			return fmt.Errorf("stage %d (%s): clip_images %g, view_images %g, pair_images %g and pair_views %g, want shares in [0, 1] that add up to at most 1",
				i, s.Name, s.ClipImages, s.ViewImages, s.PairImages, s.PairViewsShare)
		}
		if s.PairViewsShare > 0 && c.PairViews == 0 {
			return fmt.Errorf("stage %d (%s): a pair_views share without pair_views pictures", i, s.Name)
		}
		if !(s.AudioViews >= 0 && s.AudioViews <= 1) {
			return fmt.Errorf("stage %d (%s): audio_views %g, want a share in [0, 1]", i, s.Name, s.AudioViews)
		}
		if s.AudioViews > 0 && c.SpeechViews == 0 {
			return fmt.Errorf("stage %d (%s): audio_views without speech_views", i, s.Name)
		}
		if s.ViewImages > 0 && c.DigitViews == 0 {
			return fmt.Errorf("stage %d (%s): view_images without digit_views", i, s.Name)
		}
		for t, n := range s.Mix {
			if !slices.Contains(omni.Tasks, t) || n < 1 {
				return fmt.Errorf("stage %d (%s): mixture %s: %d (tasks: %v, counts ≥ 1)", i, s.Name, t, n, omni.Tasks)
			}
		}
	}
	if c.StopAt < 0 || c.Warmup < 0 || c.CkptEvery < 0 || c.DigitViews < 0 || c.SpeechViews < 0 || c.PairViews < 0 {
		return fmt.Errorf("stop_at %d, warmup %d, ckpt_every %d, digit_views %d, speech_views %d, pair_views %d: none may be negative",
			c.StopAt, c.Warmup, c.CkptEvery, c.DigitViews, c.SpeechViews, c.PairViews)
	}
	for split, n := range c.Clips {
		if !slices.Contains(datasets.Splits, split) || n < 0 {
			return fmt.Errorf("clips %s: %d (splits: train, val, test; counts ≥ 0, 0 = all)", split, n)
		}
	}
	if c.Elastic != nil && c.Alone != nil {
		return fmt.Errorf("elastic training and a sub-model trained alone exclude each other")
	}
	if c.Elastic != nil && (c.Elastic.PFull < 0 || c.Elastic.PFull > 1) {
		return fmt.Errorf("elastic p_full %g", c.Elastic.PFull)
	}
	if c.Out == "" || c.Tokens == "" || c.VideoTok == "" || c.Codec == "" {
		return fmt.Errorf("out, tokens, video_tokenizer and audio_codec are required")
	}
	return nil
}

// Setup is what a run, the CLI and the evaluation share: the model
// configuration and media built from the tokenizers.
type Setup struct {
	Cfg      omni.Config
	Media    omni.Media
	Tok      *bpe.Tokenizer
	VideoCfg video.Config
	VideoW   video.Weights
	Codec    *codec.Codec
}

// NewSetup loads the tokenizers and makes the model configuration of a size.
func NewSetup(size, videoTok, audioCodec, textTok string) (*Setup, error) {
	tok, err := tokenizers.LoadText(textTok)
	if err != nil {
		return nil, err
	}
	vcfg, vw, err := video.LoadCheckpoint(videoTok)
	if err != nil {
		return nil, err
	}
	dec, err := vw.QuantDecoder(vcfg)
	if err != nil {
		return nil, err
	}
	cdc, err := codec.Load(audioCodec)
	if err != nil {
		return nil, err
	}
	v := tokenizers.Config{TextSize: tok.VocabSize(), VisualBooks: 1, VisualCodes: vcfg.Quant.Codes, AudioDepths: cdc.Cfg.Depths, AudioCodes: cdc.Cfg.Codes}
	var cfg omni.Config
	switch size {
	case "tiny":
		cfg = omni.Tiny(v, vcfg.Quant, cdc.Cfg.Latent)
	case "small":
		cfg = omni.Small(v, vcfg.Quant, cdc.Cfg.Latent)
	default:
		return nil, fmt.Errorf("size %q, want tiny or small", size)
	}
	md := omni.Media{Vis: dec, AudioBooks: slices.Clone(cdc.W.Codebooks[:cfg.AudioDepths*cdc.Cfg.Codes*cdc.Cfg.Latent])}
	return &Setup{Cfg: cfg, Media: md, Tok: tok, VideoCfg: vcfg, VideoW: vw, Codec: cdc}, nil
}

// Curve is one task's training loss, one point per recorded step.
type Curve struct {
	Steps []int     `json:"steps"`
	CE    []float64 `json:"ce"`
}

// trainTask feeds one stage's net with batches drawn from the train split.
type trainTask struct {
	net     *omni.Net
	d       *Data
	cfg     TrainConfig
	stage   Stage
	offset  int // global step of the stage's step 0
	elastic unified.Elastic
	state   runState
}

// runState survives resumes: the curves and the balancing biases.
type runState struct {
	// Base is how many steps the weights a run started from (its init)
	// had been trained for: the run's steps and curves count on from it.
	Base   int                  `json:"base,omitempty"`
	Curves map[string]*Curve    `json:"curves"`
	Bias   map[string][]float32 `json:"bias,omitempty"`
	Subs   map[string]int       `json:"subs,omitempty"` // sub-model draws by name
}

func (t *trainTask) Params() []optim.Param { return t.net.OptimParams() }

func (t *trainTask) Run(_ context.Context, batch int64) (float64, error) {
	rng := rand.New(rand.NewPCG(t.cfg.Seed, uint64(t.offset)*1_000_003+uint64(batch)))
	sub := unified.Sub{}
	if t.cfg.Elastic != nil {
		sub = t.elastic.Sample(rng)
	}
	if err := t.net.Trunk.SetSub(sub); err != nil {
		return 0, err
	}
	b := omni.Batch{}
	for _, sl := range t.net.Slots {
		exs, err := t.d.Sample(sl.Task, sl.Batch, t.net.Cfg.LMSeq, rng)
		if err != nil {
			return 0, err
		}
		if err := t.otherExamples(sl.Task, exs, rng); err != nil {
			return 0, err
		}
		for _, ex := range exs {
			if f := t.net.Cfg.VideoFrames; ex.Task == omni.TaskVideoQA && len(ex.Visual) > f {
				ex.Visual = ex.Visual[:f] // the data may hold more frames than this stage reads
			}
			s, err := t.net.Cfg.Layout(t.net.V, ex)
			if err != nil {
				return 0, err
			}
			b[sl.Task] = append(b[sl.Task], s)
		}
	}
	ce, err := t.net.Run(b)
	if err != nil {
		return 0, err
	}
	t.net.Trunk.UpdateBias() // no-op for aux balancing and sub-model steps
	t.state.Subs[sub.String()]++
	var total, n float64
	for _, sl := range t.net.Slots {
		total += float64(sl.Batch) * ce[sl.Task]
		n += float64(sl.Batch)
		if sub.Full(t.net.Cfg.Trunk) {
			c := t.state.Curves[sl.Task]
			if c == nil {
				c = &Curve{}
				t.state.Curves[sl.Task] = c
			}
			c.Steps = append(c.Steps, t.state.Base+t.offset+int(batch))
			c.CE = append(c.CE, ce[sl.Task])
		}
	}
	return total / n, nil
}

// otherExamples replaces the stage's shares of the examples exs of a task
// by other questions of it: image questions about clips' first frames and
// augmented digit views, audio questions about speech views.
func (t *trainTask) otherExamples(task string, exs []omni.Example, rng *rand.Rand) error {
	st := t.stage
	type share struct {
		name  string
		share float64
		items []Item
	}
	var shares []share
	switch task {
	case omni.TaskImageQA:
		shares = []share{
			{"clip_images", st.ClipImages, t.d.ClipDigits},
			{"view_images", st.ViewImages, t.d.DigitViews},
			{"pair_images", st.PairImages, t.d.ClipPairs},
			{"pair_views", st.PairViewsShare, t.d.PairViews},
		}
	case omni.TaskAudioQA:
		shares = []share{{"audio_views", st.AudioViews, t.d.SpeechViews}}
	}
	var total float64
	for _, s := range shares {
		if s.share > 0 && len(s.items) == 0 {
			return fmt.Errorf("stage %s: %s without their examples in the data", st.Name, s.name)
		}
		total += s.share
	}
	if total == 0 {
		return nil // and draws nothing, so older recipes keep their stream
	}
	for i := range exs {
		r, upTo := rng.Float64(), 0.0
		for _, s := range shares {
			if upTo += s.share; r < upTo { // the running sums the draws were compared with before pair_images
				exs[i] = s.items[rng.IntN(len(s.items))].Ex
				break
			}
		}
	}
	return nil
}

func (t *trainTask) MarshalState() ([]byte, error) {
	t.state.Bias = t.net.Trunk.BalanceState()
	return json.Marshal(t.state)
}

func (t *trainTask) UnmarshalState(b []byte) error {
	var s runState
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if len(s.Bias) > 0 {
		if err := t.net.Trunk.SetBalanceState(s.Bias); err != nil {
			return err
		}
	}
	t.state = s
	return nil
}

// Metadata of the exported weights naming the tokenizers whose codes the
// model reads.
const (
	MetaVideoTok = "video_tokenizer_id"
	MetaCodec    = "audio_codec_id"
)

// Files of a run directory.
const (
	runWeights = "unified.safetensors" // the exported weights after the last completed stage
	runCurves  = "curves"              // .json and .png
)

// TrainResult is what Train did.
type TrainResult struct {
	Weights string             // exported weights
	Steps   int                // steps done over all stages
	Stopped bool               // interrupted; rerun with --resume
	Last    map[string]float64 // the last recorded cross-entropy of each task
}

// Train runs the stages of cfg in order. Each stage compiles the model
// for its mixture, starts from the previous stage's weights and keeps its
// own training checkpoint; with resume, completed stages are skipped and
// an interrupted one continues exactly.
// TokenizeFor writes the token files a run of cfg reads, as Train does
// before its first step: what evaluating or inspecting a shipped model on
// a machine that has not trained it needs.
func TokenizeFor(ctx context.Context, cfg TrainConfig) error {
	su, err := NewSetup(cfg.Size, cfg.VideoTok, cfg.Codec, cfg.Text)
	if err != nil {
		return err
	}
	defer su.Codec.Close()
	return Tokenize(ctx, tokenizeOptions(cfg, readConfig(cfg, su.Cfg)))
}

// readConfig is mcfg reading as many latent frames of each clip as the
// greediest stage of cfg: what the data and its token files hold.
func readConfig(cfg TrainConfig, mcfg omni.Config) omni.Config {
	for _, st := range cfg.Stages {
		mcfg.VideoFrames = max(mcfg.VideoFrames, st.VideoFrames)
	}
	return mcfg
}

// tokenizeOptions are the token files of cfg for a model reading mcfg (readConfig).
func tokenizeOptions(cfg TrainConfig, mcfg omni.Config) TokenizeOptions {
	return TokenizeOptions{Data: cfg.Data, Out: cfg.Tokens, VideoTok: cfg.VideoTok, AudioCodec: cfg.Codec,
		VideoFrames: mcfg.VideoFrames, AudioFrames: mcfg.AudioFrames, AudioDepths: mcfg.AudioDepths, Clips: cfg.Clips,
		DigitViews: cfg.DigitViews, SpeechViews: cfg.SpeechViews, PairViews: cfg.PairViews}
}

func Train(ctx context.Context, cfg TrainConfig, resume bool) (TrainResult, error) {
	var res TrainResult
	su, err := NewSetup(cfg.Size, cfg.VideoTok, cfg.Codec, cfg.Text)
	if err != nil {
		return res, err
	}
	defer su.Codec.Close()
	mcfg := su.Cfg
	if cfg.Dense {
		mcfg = mcfg.Dense()
	}
	if cfg.Balance != "" {
		mcfg.Trunk.Balance = cfg.Balance
	}
	if cfg.Alone != nil {
		if err := cfg.Alone.Validate(mcfg.Trunk); err != nil {
			return res, fmt.Errorf("alone: %w", err)
		}
		mcfg.Trunk = cfg.Alone.Config(mcfg.Trunk)
	}
	read := readConfig(cfg, mcfg)
	if err := Tokenize(ctx, tokenizeOptions(cfg, read)); err != nil {
		return res, err
	}
	d, err := LoadData(cfg.Data, cfg.Tokens, "train", read, su.Tok)
	if err != nil {
		return res, err
	}
	if cfg.DigitViews > 0 {
		if err := d.LoadDigitViews(cfg.Tokens, cfg.DigitViews); err != nil {
			return res, err
		}
	}
	if cfg.SpeechViews > 0 {
		if err := d.LoadSpeechViews(cfg.Tokens, cfg.SpeechViews); err != nil {
			return res, err
		}
	}
	if cfg.PairViews > 0 {
		if err := d.LoadPairViews(cfg.Data, cfg.Tokens, cfg.PairViews, su.Tok.EncodeString); err != nil {
			return res, err
		}
	}
	for task, items := range d.ByTask {
		slog.Info("train data", "task", task, "examples", len(items))
	}
	slog.Info("train data", "task", "image_qa on one-digit clips' first frames", "examples", len(d.ClipDigits))
	slog.Info("train data", "task", "image_qa on augmented views of the digits", "examples", len(d.DigitViews))
	slog.Info("train data", "task", "image_qa on two-digit clips' first frames", "examples", len(d.ClipPairs))
	slog.Info("train data", "task", "audio_qa on augmented views of the recordings", "examples", len(d.SpeechViews))
	slog.Info("train data", "task", "image_qa on fresh two-digit clips' first frames", "examples", len(d.PairViews))
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return res, err
	}
	state := runState{Curves: map[string]*Curve{}, Subs: map[string]int{}}
	var prev map[string][]float32
	var prevBias map[string][]float32
	if cfg.Init != "" {
		var meta map[string]string
		if prev, prevBias, meta, err = InitWeights(cfg.Init, mcfg, su); err != nil {
			return res, err
		}
		if state, err = initState(cfg.Init, meta); err != nil {
			return res, err
		}
		slog.Info("starting from earlier weights", "init", cfg.Init)
	}
	offset := 0
	last := "" // the weights of the last stage reached
	for i, st := range cfg.Stages {
		if cfg.StopAt > 0 && offset >= cfg.StopAt {
			break
		}
		done := filepath.Join(cfg.Out, fmt.Sprintf("stage%d.safetensors", i))
		last = done
		if resume && exists(done) {
			m, meta, err := omni.Load(done)
			if err != nil {
				return res, err
			}
			prev, prevBias = m.Weights(), m.Trunk.BalanceState()
			if err := json.Unmarshal([]byte(meta["state"]), &state); err != nil {
				return res, fmt.Errorf("%s: state: %w", done, err)
			}
			if len(meta["bias"]) > 0 {
				if err := json.Unmarshal([]byte(meta["bias"]), &prevBias); err != nil {
					return res, fmt.Errorf("%s: bias: %w", done, err)
				}
			}
			offset += st.Steps
			slog.Info("stage already done", "stage", st.Name, "weights", done)
			continue
		}
		if _, ok := prev[glanceIn]; ok || st.Glance {
			mcfg.Glance = true
		}
		if mcfg.Glance && prev != nil {
			if prev, err = withGlance(prev, mcfg, su.Media); err != nil {
				return res, err
			}
		}
		r, m, err := runStage(ctx, cfg, mcfg, su, d, i, st, offset, prev, prevBias, &state, resume)
		res.Steps = offset + r.Steps
		if err != nil {
			return res, err
		}
		sb, _ := json.Marshal(state)
		bb, _ := json.Marshal(m.Trunk.BalanceState())
		meta := map[string]string{"state": string(sb), "bias": string(bb), "stage": st.Name, "train_config": mustJSON(cfg),
			"steps": fmt.Sprint(state.Base + res.Steps), MetaVideoTok: su.VideoW.ID(), MetaCodec: su.Codec.CodebookID()}
		// The exported weights are the latest ones, also of an interrupted stage.
		if err := omni.SaveWeights(filepath.Join(cfg.Out, runWeights), m, meta); err != nil {
			return res, err
		}
		if r.Stopped {
			res.Stopped = true
			return res, nil
		}
		offset += st.Steps
		prev, prevBias = m.Weights(), m.Trunk.BalanceState()
		if err := omni.SaveWeights(done, m, meta); err != nil {
			return res, err
		}
	}
	// runStage wrote the curves of each stage it ran; these are the last
	// stage's, so a resumed finished run rewrites them as its weights left
	// them.
	if err := writeCurves(filepath.Join(cfg.Out, runCurves), state.Curves); err != nil {
		return res, err
	}
	res.Weights = filepath.Join(cfg.Out, runWeights)
	if !exists(res.Weights) { // a directory of finished stages only
		res.Weights = last
	}
	res.Last = map[string]float64{}
	for task, c := range state.Curves {
		if n := len(c.CE); n > 0 {
			res.Last[task] = mean(c.CE[max(0, n-20):])
		}
	}
	return res, nil
}

// glanceIn names a weight only a model with a glance has.
const glanceIn = "glance_in.weight"

// withGlance adds a fresh glance (omni.Config.Glance) to weights w of a
// model without one; the model they make is unchanged, since a fresh
// glance adds nothing.
func withGlance(w map[string][]float32, mcfg omni.Config, md omni.Media) (map[string][]float32, error) {
	if _, ok := w[glanceIn]; ok {
		return w, nil
	}
	fresh, err := omni.New(mcfg, md, 0)
	if err != nil {
		return nil, err
	}
	out := maps.Clone(w)
	for name, v := range fresh.Weights() {
		if strings.HasPrefix(name, "glance_") {
			out[name] = v
		}
	}
	slog.Info("glance added to the weights")
	return out, nil
}

// InitWeights reads unified weights to start training from: the weights
// by name, the balancing biases and the metadata. They must have mcfg's trunk and have
// been trained on su's tokenizers' codes (a model of other codes would
// train on tokens it never saw as if they were its own).
func InitWeights(path string, mcfg omni.Config, su *Setup) (w, bias map[string][]float32, meta map[string]string, err error) {
	m, meta, err := omni.Load(path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("init: %w", err)
	}
	if got, want := mustJSON(m.Cfg.Trunk), mustJSON(mcfg.Trunk); got != want {
		return nil, nil, nil, fmt.Errorf("init %s: trunk %s, this run's is %s", path, got, want)
	}
	if id := meta[MetaVideoTok]; id != su.VideoW.ID() {
		return nil, nil, nil, fmt.Errorf("init %s: trained on video tokenizer %q, this run's is %s", path, id, su.VideoW.ID())
	}
	if id := meta[MetaCodec]; id != su.Codec.CodebookID() {
		return nil, nil, nil, fmt.Errorf("init %s: trained on audio codec %q, this run's is %s", path, id, su.Codec.CodebookID())
	}
	return m.Weights(), m.Trunk.BalanceState(), meta, nil
}

// initState is the history of the weights at path: the steps they were
// trained for, their curves and sub-model draws, so that a run started
// from them counts on from there (the shipped model's steps and curves
// then cover every stage it went through).
func initState(path string, meta map[string]string) (runState, error) {
	var st runState
	if s := meta["state"]; s != "" {
		if err := json.Unmarshal([]byte(s), &st); err != nil {
			return st, fmt.Errorf("init %s: state: %w", path, err)
		}
	}
	st.Base, st.Bias = 0, nil // the biases come with the weights (InitWeights)
	if s := meta["steps"]; s != "" {
		var err error
		if st.Base, err = strconv.Atoi(s); err != nil || st.Base < 0 {
			return st, fmt.Errorf("init %s: steps %q", path, s)
		}
	}
	if st.Curves == nil {
		st.Curves = map[string]*Curve{}
	}
	if st.Subs == nil {
		st.Subs = map[string]int{}
	}
	return st, nil
}

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(max(1, len(x)))
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func runStage(ctx context.Context, cfg TrainConfig, mcfg omni.Config, su *Setup, d *Data, i int, st Stage, offset int,
	prev, prevBias map[string][]float32, state *runState, resume bool) (train.Result, *omni.Model, error) {
	if st.VideoFrames > 0 {
		mcfg.VideoFrames = st.VideoFrames
	}
	var slots []omni.Slot
	for _, task := range omni.Tasks {
		if n, ok := st.Mix[task]; ok {
			slots = append(slots, omni.Slot{Task: task, Batch: n})
		}
	}
	net, err := omni.NewNet(mcfg, su.Media, slots, cfg.Seed, true)
	if err != nil {
		return train.Result{}, nil, err
	}
	defer net.Close()
	if prev != nil {
		if err := net.Load(prev); err != nil {
			return train.Result{}, nil, err
		}
		if len(prevBias) > 0 {
			if err := net.Trunk.SetBalanceState(prevBias); err != nil {
				return train.Result{}, nil, err
			}
		}
	}
	t := &trainTask{net: net, d: d, cfg: cfg, stage: st, offset: offset, state: *state}
	if cfg.Elastic != nil {
		t.elastic = unified.DefaultElastic(mcfg.Trunk)
		t.elastic.PFull = cfg.Elastic.PFull
	}
	warm := min(cfg.Warmup, st.Steps/5)
	slog.Info("stage", "index", i, "name", st.Name, "steps", st.Steps, "slots", slots, "tokens_per_step", net.Tokens())
	stopAt := 0
	if cfg.StopAt > 0 && cfg.StopAt-offset < st.Steps {
		stopAt = cfg.StopAt - offset
	}
	r, err := train.Run(ctx, train.Config{
		Steps:          st.Steps,
		StopAt:         stopAt,
		ClipNorm:       1,
		Schedule:       optim.WarmupCosine{Peak: st.LR, Min: st.LR / 10, Warmup: warm, Total: st.Steps},
		AdamW:          optim.AdamWConfig{Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.05},
		CkptPath:       filepath.Join(cfg.Out, fmt.Sprintf("stage%d.ckpt.safetensors", i)),
		CkptEvery:      cfg.CkptEvery,
		TokensPerBatch: net.Tokens(),
		ModelConfig:    mcfg.JSON(),
	}, t, resume)
	*state = t.state
	if werr := writeCurves(filepath.Join(cfg.Out, runCurves), state.Curves); werr != nil && err == nil {
		err = werr
	}
	return r, net.Model, err
}

package bench

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/omniar/omniar/msvq"
	"github.com/omniar/omniar/video"
)

// Tokenizer is one encode+decode throughput measurement of the video
// tokenizer: pixels → tokens → pixels, Go against the same network in
// PyTorch (tools/peer_tokenizer.py).
type Tokenizer struct {
	Threads       int
	Input         string       `json:"input"` // "clip" or "image"
	Frames        int          `json:"frames"`
	Weights       string       `json:"weights"` // the weights file, or "random init"
	Config        video.Config `json:"config"`
	GoS           float64      `json:"go_s"`
	GoFPS         float64      `json:"go_frames_per_s"`
	GoStages      Stages       `json:"go_stages_s"`
	TorchS        float64      `json:"torch_s,omitempty"`
	TorchFPS      float64      `json:"torch_frames_per_s,omitempty"`
	Ratio         float64      `json:"go_over_torch,omitempty"`
	GoSettings    string       `json:"go_settings"`
	TorchSettings string       `json:"torch_settings,omitempty"`
}

// Stages split the Go side's seconds over the inference path's three
// parts: they differ in how they run (graph, plain Go loops, graph).
type Stages struct {
	Encode  float64 `json:"encode"`  // pixels → token maps (video.Encoder)
	Latents float64 `json:"latents"` // token maps → latents (msvq.Decoder)
	Decode  float64 `json:"decode"`  // latents → pixels (video.PixelDecoder)
}

// clipFrames is the benchmark clip: 1 + 4·4 frames, 5 latent frames, the
// length the generator makes.
const clipFrames = 17

// imageReps is how many more images than clips a side times: an image
// takes about a tenth of a clip, and a timing shorter than a second or so
// is at the mercy of other processes.
const imageReps = 10

// randomInit names the weights of a freshly initialised tokenizer.
const randomInit = "random init"

// tokenizer measures clips and images at th threads on both sides.
func tokenizer(ctx context.Context, opt Options, th int, rep *Report) ([]Tokenizer, error) {
	cfg, w, name, err := tokenizerWeights(opt.Tokenizer)
	if err != nil {
		return nil, err
	}
	settings := setThreads(th)
	inputs := []struct {
		name         string
		frames, reps int
	}{{"clip", clipFrames, opt.TokenizerReps}, {"image", 1, imageReps * opt.TokenizerReps}}
	var rows []Tokenizer
	for _, in := range inputs {
		s, st, err := timeTokenizer(cfg, w, in.frames, in.reps)
		if err != nil {
			return nil, err
		}
		rows = append(rows, Tokenizer{Threads: th, Input: in.name, Frames: in.frames, Weights: name, Config: cfg,
			GoS: s, GoFPS: float64(in.frames) / s, GoStages: st, GoSettings: settings})
	}
	if opt.SkipTorch {
		return rows, nil
	}
	return rows, tokenizerPeer(ctx, opt, th, rep, rows, name)
}

// tokenizerWeights reads the weights file at path; without one (path ""
// or missing) it initialises video.Small() as training would: the
// throughput does not depend on the values.
func tokenizerWeights(path string) (video.Config, video.Weights, string, error) {
	if path != "" {
		_, err := os.Stat(path)
		if err == nil {
			cfg, w, err := video.LoadCheckpoint(path)
			return cfg, w, path, err
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return video.Config{}, video.Weights{}, "", fmt.Errorf("tokenizer weights: %w", err)
		}
	}
	cfg := video.Small()
	t, err := video.NewTrainer(cfg, video.TrainConfig{Batch: 1, Frames: 1, Seed: 1})
	if err != nil {
		return cfg, video.Weights{}, "", fmt.Errorf("random tokenizer: %w", err)
	}
	defer t.Close()
	return cfg, t.Weights(), randomInit, nil
}

// goTokenizer is the inference path the CLI uses (video.RoundTrip: the
// encoding graph to token maps, the graph-free quantizer decoder to
// latents, the decoding graph to pixels), timed stage by stage.
type goTokenizer struct {
	*video.RoundTrip
	spent [3]time.Duration // per stage, summed over runs
}

func newGoTokenizer(cfg video.Config, w video.Weights, frames int) (*goTokenizer, error) {
	r, err := video.NewRoundTrip(cfg, frames, w)
	if err != nil {
		return nil, err
	}
	return &goTokenizer{RoundTrip: r}, nil
}

// run encodes and decodes one clip [frames, Size, Size].
func (t *goTokenizer) run(clip []uint8) ([]msvq.Maps, []uint8, error) {
	t0 := time.Now()
	maps, err := t.Enc.Encode(clip)
	if err != nil {
		return nil, nil, err
	}
	t1 := time.Now()
	lat, err := t.Quant.Latents(maps)
	if err != nil {
		return nil, nil, err
	}
	t2 := time.Now()
	px, err := t.Pix.Decode(lat)
	t.spent[0] += t1.Sub(t0)
	t.spent[1] += t2.Sub(t1)
	t.spent[2] += time.Since(t2)
	return maps, px, err
}

// timeTokenizer returns the mean seconds of an encode+decode of a clip of
// frames frames, in all and per stage, after one untimed run.
func timeTokenizer(cfg video.Config, w video.Weights, frames, reps int) (float64, Stages, error) {
	t, err := newGoTokenizer(cfg, w, frames)
	if err != nil {
		return 0, Stages{}, fmt.Errorf("tokenizer bench: %w", err)
	}
	defer t.Close()
	clip := randClip(frames*cfg.Size*cfg.Size*cfg.Channels, 4)
	if _, _, err := t.run(clip); err != nil { // warm-up: first-touch of every buffer
		return 0, Stages{}, fmt.Errorf("tokenizer bench, %d frames: %w", frames, err)
	}
	t.spent = [3]time.Duration{}
	var runErr error
	s := timeIt(reps, false, func() error {
		_, _, runErr = t.run(clip)
		return runErr
	})
	if s < 0 {
		return 0, Stages{}, fmt.Errorf("tokenizer bench, %d frames: %w", frames, runErr)
	}
	per := func(d time.Duration) float64 { return d.Seconds() / float64(reps) }
	return s, Stages{Encode: per(t.spent[0]), Latents: per(t.spent[1]), Decode: per(t.spent[2])}, nil
}

// peerTokenizer is what the PyTorch peer prints for the tokenizer job.
type peerTokenizer struct {
	Clip, Image struct {
		S float64 `json:"s"`
	}
	Version string
}

// tokenizerPeer times the PyTorch network on the same inputs and fills in
// its side of rows.
func tokenizerPeer(ctx context.Context, opt Options, th int, rep *Report, rows []Tokenizer, weights string) error {
	args := []string{"tokenizer", "--frames", itoa(clipFrames), "--reps", itoa(opt.TokenizerReps), "--image-reps", itoa(imageReps * opt.TokenizerReps)}
	if weights != randomInit {
		args = append(args, "--weights", weights)
	}
	var out peerTokenizer
	if err := peer(ctx, opt, th, &out, args...); err != nil {
		return err
	}
	rep.Torch = out.Version
	return fillTorch(out, th, rows)
}

// fillTorch copies the peer's times into rows and takes the ratios.
func fillTorch(out peerTokenizer, th int, rows []Tokenizer) error {
	times := map[string]float64{"clip": out.Clip.S, "image": out.Image.S}
	for i := range rows {
		r := &rows[i]
		s := times[r.Input]
		if s <= 0 {
			return fmt.Errorf("pytorch peer: no time for the %s (%+v)", r.Input, out)
		}
		r.TorchS, r.TorchFPS = s, float64(r.Frames)/s
		r.Ratio = r.GoFPS / r.TorchFPS
		r.TorchSettings = fmt.Sprintf("torch.set_num_threads(%d) OMP_NUM_THREADS=%d OMP_WAIT_POLICY=PASSIVE inference_mode", th, th)
	}
	return nil
}

// randClip is n pseudo-random grey levels: the cost of every layer and of
// the nearest-code search does not depend on the content.
func randClip(n int, seed uint32) []uint8 {
	c := make([]uint8, n)
	for i, v := range randSlice(n, seed) {
		c[i] = uint8((v + 1) * 127.5)
	}
	return c
}

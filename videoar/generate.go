package videoar

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/omniar/omniar/msvq"
	"github.com/omniar/omniar/nn"
	"github.com/omniar/omniar/unified"
)

// Options control sampling.
type Options struct {
	Sampling unified.Sampling
	// CFG is the classifier-free guidance scale w: logits = u + w·(c − u)
	// from the prompted (c) and unprompted (u) passes; 1 uses c alone.
	CFG  float64
	Seed uint64
	// Frames is the number of latent frames to produce (0: the model's
	// clip length; 1: an image).
	Frames int
	// Given are the codes of the first latent frames [n][PerFrame]
	// (continuation of a clip); they are fed, not sampled.
	Given [][]int
}

// DefaultOptions are the shipped model's sampling settings.
func DefaultOptions() Options {
	return Options{Sampling: unified.Sampling{Temperature: 1, TopK: 32, TopP: 0.9}, CFG: 3, Seed: 1}
}

// Generator samples clips' codes, one group (a scale of a latent frame, or
// one code in raster order) per pass of the prompted and the unprompted
// sequence through the KV cache.
type Generator struct {
	Cfg    Config
	m      *model
	inputs *Builder
	Time   Timing // of Codes calls, which must not run concurrently
}

// NewGenerator loads weights into a model for sampling.
func NewGenerator(cfg Config, weights map[string][]float32, dec *msvq.Decoder) (*Generator, error) {
	if err := nn.CheckBuild(func(b *nn.Builder) error { _, err := newModel(b, cfg); return err }, nn.MapSizes(weights)); err != nil {
		return nil, fmt.Errorf("videoar: %w", err)
	}
	ib, err := NewBuilder(cfg, cfg.Frames, dec)
	if err != nil {
		return nil, err
	}
	b := nn.NewLoadBuilder()
	m, err := newModel(b, cfg)
	if err != nil {
		return nil, err
	}
	if err := nn.LoadParams(b.Params(), weights); err != nil {
		return nil, fmt.Errorf("videoar %w", err)
	}
	return &Generator{Cfg: cfg, m: m, inputs: ib}, nil
}

// Codes samples the codes of a clip [Frames][PerFrame] for a tokenized
// prompt (nil: unconditional). progress, if not nil, is called after
// every decoder pass with the number done and the total.
func (g *Generator) Codes(ctx context.Context, prompt []int, opt Options, progress func(done, total int)) ([][]int, error) {
	if err := opt.Sampling.Validate(); err != nil {
		return nil, err
	}
	if math.IsNaN(opt.CFG) || math.IsInf(opt.CFG, 0) {
		return nil, fmt.Errorf("videoar: guidance scale %g: want a finite number", opt.CFG)
	}
	frames := opt.Frames
	if frames == 0 {
		frames = g.Cfg.Frames
	}
	l := g.inputs.L
	if frames < 1 || frames > g.Cfg.Frames || len(opt.Given) > frames {
		return nil, fmt.Errorf("videoar: %d latent frames (%d given), the model makes 1 … %d", frames, len(opt.Given), g.Cfg.Frames)
	}
	for f, c := range opt.Given {
		if len(c) != l.PerFrame {
			return nil, fmt.Errorf("videoar: given frame %d has %d codes, want %d", f, len(c), l.PerFrame)
		}
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x5eed))
	w := float32(opt.CFG)
	return g.decode(ctx, prompt, frames, func(st step, c, u []float32) ([]int, error) {
		if st.f < len(opt.Given) {
			o := l.Start(0, st.s) + st.i
			return opt.Given[st.f][o : o+st.n], nil
		}
		guided := make([]float32, len(c))
		for i := range c {
			guided[i] = u[i] + w*(c[i]-u[i])
		}
		return opt.Sampling.SampleGroup(guided, g.Cfg.Quant.Codes, rng)
	}, progress, &g.Time)
}

// Latents turns sampled codes into the tokenizer's latents [Frames, Dim, side, side].
func (g *Generator) Latents(codes [][]int) ([]float32, error) {
	var z []float32
	for f, c := range codes {
		lat, err := g.inputs.Dec.Latent(g.inputs.maps(c), len(g.Cfg.Quant.Scales))
		if err != nil {
			return nil, fmt.Errorf("frame %d: %w", f, err)
		}
		z = append(z, lat...)
	}
	return z, nil
}

// NLL is the teacher-forced cross-entropy (nats) of each of a clip's
// codes [frames][PerFrame] under a tokenized prompt, from the prompted
// logits alone: [frame][scale][cell], a scale's cells in raster order. It
// says where the model is unsure — which frames, scales and cells — on
// held-out clips.
func (g *Generator) NLL(ctx context.Context, prompt []int, codes [][]int) ([][][]float64, error) {
	l, nc := g.inputs.L, g.Cfg.Quant.Codes
	if len(codes) < 1 || len(codes) > g.Cfg.Frames {
		return nil, fmt.Errorf("videoar: %d latent frames, the model takes 1 … %d", len(codes), g.Cfg.Frames)
	}
	out := make([][][]float64, len(codes))
	for f, c := range codes {
		if len(c) != l.PerFrame {
			return nil, fmt.Errorf("videoar: frame %d has %d codes, want %d", f, len(c), l.PerFrame)
		}
		out[f] = make([][]float64, len(l.Scales))
		for s, k := range l.Scales {
			out[f][s] = make([]float64, k*k)
		}
	}
	_, err := g.decode(ctx, prompt, len(codes), func(st step, c, _ []float32) ([]int, error) {
		o := l.Start(0, st.s) + st.i
		want := codes[st.f][o : o+st.n]
		for i, w := range want {
			if w < 0 || w >= nc {
				return nil, fmt.Errorf("videoar: frame %d scale %d: code %d outside [0, %d)", st.f, st.s, w, nc)
			}
			out[st.f][st.s][st.i+i] = -logSoftmaxAt(c[i*nc:(i+1)*nc], w)
		}
		return want, nil
	}, nil, nil)
	return out, err
}

// logSoftmaxAt is log softmax(x)[k], computed stably.
func logSoftmaxAt(x []float32, k int) float64 {
	m := x[0]
	for _, v := range x {
		m = max(m, v)
	}
	var z float64
	for _, v := range x {
		z += math.Exp(float64(v - m))
	}
	return float64(x[k]-m) - math.Log(z)
}

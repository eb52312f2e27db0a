package videoar

import (
	"context"
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

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
}

// DefaultOptions are the shipped model's sampling settings.
func DefaultOptions() Options {
	return Options{Sampling: unified.Sampling{Temperature: 1, TopK: 32, TopP: 0.9}, CFG: 3, Seed: 1}
}

// Generator samples clips' codes, one group (a scale of a latent frame) per
// decoder pass over the prompted and the unprompted sequence.
type Generator struct {
	Cfg    Config
	gr     *graph
	inputs *Builder
	vm     G.VM
}

// NewGenerator builds the sampling graph over weights.
func NewGenerator(cfg Config, weights map[string][]float32, dec *msvq.Decoder) (*Generator, error) {
	ib, err := NewBuilder(cfg, cfg.Frames, dec)
	if err != nil {
		return nil, err
	}
	b := nn.NewBuilder(0)
	m, err := newModel(b, cfg)
	if err != nil {
		return nil, err
	}
	gr, err := m.build(b.G, b, 2, ib.L)
	if err != nil {
		return nil, fmt.Errorf("videoar sampling graph: %w", err)
	}
	if err := load(b.Params(), weights); err != nil {
		return nil, err
	}
	return &Generator{Cfg: cfg, gr: gr, inputs: ib, vm: nn.CompileForward(b.G)}, nil
}

// Codes samples the codes of a clip [Frames][PerFrame] for a tokenized
// prompt (nil: unconditional). progress, if not nil, is called after
// every group with the number done and the total.
func (g *Generator) Codes(ctx context.Context, prompt []int, opt Options, progress func(done, total int)) ([][]int, error) {
	if err := opt.Sampling.Validate(); err != nil {
		return nil, err
	}
	l, nc := g.inputs.L, g.Cfg.Quant.Codes
	rng := rand.New(rand.NewPCG(opt.Seed, 0x5eed))
	codes := make([][]int, l.Frames)
	for f := range codes {
		codes[f] = make([]int, l.PerFrame)
	}
	done := 0
	for f := range l.Frames {
		for s, k := range l.Scales {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			logits, err := g.pass(prompt, codes)
			if err != nil {
				return nil, err
			}
			v0, n := l.Start(f, s), k*k
			c, u := logits[v0*nc:(v0+n)*nc], logits[(l.Visual()+v0)*nc:(l.Visual()+v0+n)*nc]
			guided := make([]float32, len(c))
			for i := range c {
				guided[i] = u[i] + float32(opt.CFG)*(c[i]-u[i])
			}
			sampled, err := opt.Sampling.SampleGroup(guided, nc, rng)
			if err != nil {
				return nil, err
			}
			copy(codes[f][v0-f*l.PerFrame:], sampled)
			if done++; progress != nil {
				progress(done, l.Frames*len(l.Scales))
			}
		}
	}
	return codes, nil
}

// pass runs the prompted and unprompted sequences on the codes so far and
// returns the logits [2·Visual, Codes] (later groups' rows are garbage:
// the block-causal mask keeps them from the rows that matter).
func (g *Generator) pass(prompt []int, codes [][]int) ([]float32, error) {
	xc, err := g.inputs.Build(prompt, codes, codes)
	if err != nil {
		return nil, err
	}
	xu, err := g.inputs.Build(nil, codes, codes)
	if err != nil {
		return nil, err
	}
	if err := g.gr.set([]Inputs{xc, xu}); err != nil {
		return nil, err
	}
	defer g.vm.Reset()
	if err := g.vm.RunAll(); err != nil {
		return nil, fmt.Errorf("videoar sampling: %w", err)
	}
	return append([]float32(nil), g.gr.logits.Value().Data().([]float32)...), nil
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

// Close releases the graph.
func (g *Generator) Close() error { return g.vm.Close() }

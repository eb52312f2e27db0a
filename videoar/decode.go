package videoar

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"
)

// The sampling path without a graph: the model's embeddings and head on
// plain slices around the trunk's KV-cache Decode, so each group costs one
// pass over its own positions (the graph path re-runs the whole sequence
// per group). TestDecodeMatchesGraph keeps the two equal.

// condVec is the conditioning of one sample: cond.1(SiLU(cond.0(mean of
// its real prompt tokens' embeddings))) → [D].
func (m *model) condVec(textIDs []int, nreal int) []float32 {
	d := m.cfg.Trunk.Dim
	pooled := make([]float32, d)
	if nreal > 0 {
		rows := m.text.Rows(textIDs[1 : 1+nreal])
		for i, v := range rows {
			pooled[i%d] += v / float32(nreal)
		}
	}
	h := m.cond1.Apply(pooled, 1)
	for i, v := range h {
		h[i] = silu(v)
	}
	return m.cond2.Apply(h, 1)
}

// visRows embeds n visual positions of one (frame, scale): [n, D]; ctx
// is nil in raster order.
func (m *model) visRows(vis, ctx []float32, posID, n int) []float32 {
	v := m.vis.Apply(vis, n)
	if m.ctx != nil {
		c := m.ctx.Apply(ctx, n)
		for i := range v {
			v[i] += c[i]
		}
	}
	p := m.pos.Rows([]int{posID})
	d := m.cfg.Trunk.Dim
	for i := range v {
		v[i] += p[i%d]
	}
	return v
}

func silu(v float32) float32 { return v / (1 + float32(math.Exp(float64(-v)))) }

// Timing is where sampling time went, summed over Codes calls.
type Timing struct {
	Prompt time.Duration   // the prompt's prefill pass
	Scales []time.Duration // the decoder passes of each scale, over all latent frames
	Sample time.Duration   // the head, guidance and drawing the codes
	Inputs time.Duration   // embedding each pass's inputs and adding its codes to the running latents
}

// stepFunc receives the unguided logits of a step for both sequences
// ([n, Codes] each) and returns the step's codes.
type stepFunc func(st step, cond, uncond []float32) ([]int, error)

// decode runs the prompted and unprompted sequences step by step (a scale
// of a latent frame, or one code in raster order) through the KV cache
// for the first frames latent frames; next picks each step's codes, which
// become the inputs of the steps after it.
func (g *Generator) decode(ctx context.Context, prompt []int, frames int, next stepFunc, progress func(done, total int), tm *Timing) ([][]int, error) {
	m, l := g.m, g.inputs.L
	if tm == nil {
		tm = &Timing{} // not kept
	}
	if len(tm.Scales) != len(l.Scales) {
		tm.Scales = make([]time.Duration, len(l.Scales))
	}
	t0 := time.Now()
	idsC, nC := PromptIDs(prompt, g.Cfg.Prompt)
	idsU, nU := PromptIDs(nil, g.Cfg.Prompt)
	idsC, idsU = l.TextIDs(idsC), l.TextIDs(idsU)
	cond := append(m.condVec(idsC, nC), m.condVec(idsU, nU)...)
	cache := m.trunk.NewCache(2)
	axes := len(g.Cfg.Trunk.RopeSplit)
	np := l.Vis[0] // the text rows before the first visual one; </video> is never an input while sampling
	pos, err := l.Positions(0, np, axes)
	if err != nil {
		return nil, err
	}
	x := m.text.Rows(append(slices.Clone(idsC[:np]), idsU[:np]...))
	if _, err := m.trunk.Prefill(cache, x, np, pos, cond); err != nil {
		return nil, fmt.Errorf("videoar decode: %w", err)
	}
	tm.Prompt += time.Since(t0)
	codes := make([][]int, frames)
	for f := range codes {
		codes[f] = make([]int, l.PerFrame)
	}
	fd, nc := g.inputs.newFeeder(), g.Cfg.Quant.Codes
	steps := l.steps(frames)
	for k, st := range steps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t0 := time.Now()
		v, n := l.v(st), st.n
		vis, cx := fd.inputs(st)
		x := m.visRows(vis, cx, st.f*len(l.Scales)+st.s, n)
		pos, err := l.Positions(l.Vis[v], l.Vis[v]+n, axes)
		if err != nil {
			return nil, err
		}
		t1 := time.Now()
		h, err := m.trunk.Decode(cache, append(x, x...), n, pos, cond)
		if err != nil {
			return nil, fmt.Errorf("videoar decode: %w", err)
		}
		t2 := time.Now()
		logits := m.head.Apply(h, 2*n)
		got, err := next(st, logits[:n*nc], logits[n*nc:])
		if err != nil {
			return nil, err
		}
		t3 := time.Now()
		copy(codes[st.f][v-st.f*l.PerFrame:], got)
		if err := fd.add(st, got); err != nil {
			return nil, err
		}
		tm.Inputs += t1.Sub(t0) + time.Since(t3)
		tm.Scales[st.s] += t2.Sub(t1)
		tm.Sample += t3.Sub(t2)
		if progress != nil {
			progress(k+1, len(steps))
		}
	}
	return codes, nil
}

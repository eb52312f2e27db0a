package videoar

import (
	"context"
	"fmt"
	"math"
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

// visRows embeds n visual positions of one (frame, scale): [n, D].
func (m *model) visRows(vis, ctx []float32, posID, n int) []float32 {
	v := m.vis.Apply(vis, n)
	c := m.ctx.Apply(ctx, n)
	p := m.pos.Rows([]int{posID})
	d := m.cfg.Trunk.Dim
	for i := range v {
		v[i] += c[i] + p[i%d]
	}
	return v
}

func silu(v float32) float32 { return v / (1 + float32(math.Exp(float64(-v)))) }

// groupFunc receives the guided-free logits of a group for both sequences
// ([n, Codes] each) and returns the group's codes.
type groupFunc func(f, s int, cond, uncond []float32) ([]int, error)

// decode runs the prompted and unprompted sequences group by group through
// the KV cache for the first frames latent frames; next picks each group's
// codes, which become the inputs of the groups after it.
func (g *Generator) decode(ctx context.Context, prompt []int, frames int, next groupFunc, progress func(done, total int)) ([][]int, error) {
	m, l, b := g.m, g.inputs.L, g.inputs
	idsC, nC := PromptIDs(prompt, g.Cfg.Prompt)
	idsU, nU := PromptIDs(nil, g.Cfg.Prompt)
	idsC, idsU = l.TextIDs(idsC), l.TextIDs(idsU)
	cond := append(m.condVec(idsC, nC), m.condVec(idsU, nU)...)
	cache := m.trunk.NewCache(2)
	axes := len(g.Cfg.Trunk.RopeSplit)
	for j, row := range l.Text {
		if row > l.Vis[0] {
			break // </video> is never an input while sampling
		}
		pos, err := l.Positions(row, row+1, axes)
		if err != nil {
			return nil, err
		}
		x := m.text.Rows([]int{idsC[j], idsU[j]})
		if _, err := m.trunk.Decode(cache, x, 1, pos, cond); err != nil {
			return nil, fmt.Errorf("videoar decode: %w", err)
		}
	}
	codes := make([][]int, frames)
	var prev []float32
	done, nc := 0, g.Cfg.Quant.Codes
	for f := range frames {
		codes[f] = make([]int, l.PerFrame)
		fhat := make([]float32, g.Cfg.Quant.Dim*g.Cfg.Quant.Side()*g.Cfg.Quant.Side())
		for s, k := range l.Scales {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			n, v0 := k*k, l.Start(f, s)
			vis, cx := b.groupInputs(fhat, prev, s)
			x := m.visRows(vis, cx, f*len(l.Scales)+s, n)
			pos, err := l.Positions(l.Vis[v0], l.Vis[v0]+n, axes)
			if err != nil {
				return nil, err
			}
			h, err := m.trunk.Decode(cache, append(x, x...), n, pos, cond)
			if err != nil {
				return nil, fmt.Errorf("videoar decode: %w", err)
			}
			logits := m.head.Apply(h, 2*n)
			got, err := next(f, s, logits[:n*nc], logits[n*nc:])
			if err != nil {
				return nil, err
			}
			copy(codes[f][v0-f*l.PerFrame:], got)
			z, err := b.Dec.Contribution(s, got)
			if err != nil {
				return nil, err
			}
			for i, v := range z {
				fhat[i] += v
			}
			if done++; progress != nil {
				progress(done, frames*len(l.Scales))
			}
		}
		prev = fhat
	}
	return codes, nil
}

package omni

import (
	"fmt"

	"github.com/omniar/omniar/tokenizers"
)

// Answer decodes the answers of understanding examples of one task
// greedily through the trunk's KV cache (the current sub-model): the
// prompt group by group up to <answer>, then one token per pass until
// <eos> or the template's answer length. Only text tokens are candidates.
func (m *Model) Answer(exs []Example) ([][]int, error) {
	if len(exs) == 0 {
		return nil, nil
	}
	task := exs[0].Task
	if !Understanding(task) {
		return nil, fmt.Errorf("answer: task %s is not a question", task)
	}
	c, d := m.Cfg, m.Cfg.Trunk.Dim
	seqs := make([]*Sequence, len(exs))
	ins := make([]Inputs, len(exs))
	for i, ex := range exs {
		if ex.Task != task {
			return nil, fmt.Errorf("answer: examples of tasks %s and %s in one batch", task, ex.Task)
		}
		ex.Answer = make([]int, 0) // lay out the answer region so the rope positions are the template's
		s, err := c.Layout(m.V, ex)
		if err != nil {
			return nil, err
		}
		if seqs[i] = s; i > 0 && s.L.Len() != seqs[0].L.Len() {
			return nil, fmt.Errorf("answer: example %d does not fit the template", i)
		}
		if ins[i], err = m.Inputs(s); err != nil {
			return nil, fmt.Errorf("answer: example %d: %w", i, err)
		}
	}
	l := seqs[0].L
	ans := seqs[0].Answer
	cache := m.Trunk.NewCache(len(exs))
	pass := func(lo, hi int, x []float32) ([]float32, error) {
		pos, err := l.RopePositions(lo, hi, len(c.Trunk.RopeSplit))
		if err != nil {
			return nil, err
		}
		return m.Trunk.Decode(cache, x, hi-lo, pos, nil)
	}
	var h []float32
	for g := 0; g <= l.Pos[ans].Group; g++ {
		lo, hi := l.Span(g)
		x := make([]float32, 0, len(exs)*(hi-lo)*d)
		for i, s := range seqs {
			x = append(x, m.embedRows(s, ins[i], lo, hi)...)
		}
		var err error
		if h, err = pass(lo, hi, x); err != nil {
			return nil, fmt.Errorf("answer: group %d: %w", g, err)
		}
	}
	out := make([][]int, len(exs))
	done := make([]bool, len(exs))
	for k := 0; k < c.Answer+1; k++ {
		next := make([]int, len(exs))
		all := true
		for i := range exs {
			next[i] = m.greedyText(h[i*d : (i+1)*d])
			if !done[i] {
				if next[i] == tokenizers.EOS || k == c.Answer {
					done[i] = true
				} else {
					out[i] = append(out[i], next[i])
				}
			}
			all = all && done[i]
		}
		if all {
			break
		}
		row := ans + 1 + k
		var err error
		if h, err = pass(row, row+1, m.Text.Emb.Rows(next)); err != nil {
			return nil, fmt.Errorf("answer: token %d: %w", k, err)
		}
	}
	return out, nil
}

// greedyText is the most likely special or text token after hidden state h.
func (m *Model) greedyText(h []float32) int {
	_, hi := m.V.Range(tokenizers.Text)
	w, d := m.Text.Head.W.Data(), m.Cfg.Trunk.Dim
	best, bv := 0, float32(0)
	for id := 1; id < hi; id++ { // never <pad>
		var s float32
		for j, v := range w[id*d : (id+1)*d] {
			s += v * h[j]
		}
		if id == 1 || s > bv {
			best, bv = id, s
		}
	}
	return best
}

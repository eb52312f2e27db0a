package omni

import (
	"fmt"
	"strings"

	G "gorgonia.org/gorgonia"

	"github.com/omniar/omniar/nn"
	"github.com/omniar/omniar/nn/optim"
	"github.com/omniar/omniar/unified"
)

// Net is a model compiled for a set of slots: one graph, one trunk call
// per slot. Its loss is Σ_slot Batch·CE_slot / Σ Batch plus the balancing
// losses, so the slots' batch sizes are the mixture weights.
type Net struct {
	*Model
	Slots     []Slot
	gs        []*slotGraph
	prog      *nn.Program // training (nil for a forward-only net)
	trainable []*nn.Param // the parameters the slots use
	vm        G.VM        // forward only
}

// NewNet builds a model and compiles it for slots; train = false compiles
// the forward pass only (evaluation, routing statistics).
func NewNet(cfg Config, md Media, slots []Slot, seed uint64, train bool) (*Net, error) {
	m, err := New(cfg, md, seed)
	if err != nil {
		return nil, err
	}
	if len(slots) == 0 {
		return nil, fmt.Errorf("omni: no task slots")
	}
	n := &Net{Model: m, Slots: slots}
	var loss *G.Node
	total := 0
	for _, sl := range slots {
		total += sl.Batch
	}
	seen := map[string]bool{}
	for _, sl := range slots {
		if seen[sl.Task] {
			return nil, fmt.Errorf("omni: task %s given twice", sl.Task)
		}
		seen[sl.Task] = true
		g, err := m.buildSlot(sl)
		if err != nil {
			return nil, err
		}
		aux, err := m.forward(g)
		if err != nil {
			return nil, fmt.Errorf("omni: slot %s: %w", sl.Task, err)
		}
		n.gs = append(n.gs, g)
		term, err := G.Mul(g.ce, G.NewConstant(float32(sl.Batch)/float32(total)))
		if err != nil {
			return nil, err
		}
		if aux != nil {
			if term, err = G.Add(term, aux); err != nil {
				return nil, err
			}
		}
		if loss == nil {
			loss = term
		} else if loss, err = G.Add(loss, term); err != nil {
			return nil, err
		}
	}
	// A stage without visual or audio tasks leaves their projections out
	// of the graph; they are not trained (and keep their values).
	vis, aud, glance := false, false, false
	for _, g := range n.gs {
		vis, aud, glance = vis || g.nv > 0, aud || g.na > 0, glance || g.glance != nil
	}
	for _, p := range m.params {
		name := p.Name()
		switch {
		case !vis && strings.HasPrefix(name, "vis_in."), !aud && strings.HasPrefix(name, "aud_in."), !vis && !aud && strings.HasPrefix(name, "kind_emb."),
			!glance && strings.HasPrefix(name, "glance_"):
		default:
			n.trainable = append(n.trainable, p)
		}
	}
	if train {
		n.prog, err = nn.Compile(m.b.G, loss, n.trainable)
	} else {
		n.vm = nn.CompileForward(m.b.G)
	}
	if err != nil {
		return nil, err
	}
	return n, nil
}

// Batch is one step's sequences, by task (each the slot's batch size).
type Batch map[string][]*Sequence

// Run runs forward (and backward when training) on a batch and returns
// the cross-entropy of each task (nats per scored token).
func (n *Net) Run(b Batch) (map[string]float64, error) {
	for _, g := range n.gs {
		if err := n.set(g, b[g.Task]); err != nil {
			return nil, err
		}
	}
	if n.prog != nil {
		if _, err := n.prog.Run(); err != nil {
			return nil, fmt.Errorf("omni step: %w", err)
		}
	} else {
		err := n.vm.RunAll()
		n.vm.Reset()
		if err != nil {
			return nil, fmt.Errorf("omni forward: %w", err)
		}
	}
	out := map[string]float64{}
	for _, g := range n.gs {
		out[g.Task] = scalar(g.ceV)
	}
	return out, nil
}

// SetTags tags every row of every slot with its position's tag (see
// RowTag) so Trunk.Loads splits expert loads by tag.
func (n *Net) SetTags(tag func(task string, p unified.Position) int) error {
	var tags []int
	for _, g := range n.gs {
		for range g.Batch {
			for _, p := range g.tmpl.L.Pos {
				tags = append(tags, tag(g.Task, p))
			}
		}
	}
	if len(n.gs) != 1 {
		return fmt.Errorf("omni: routing tags need a net of one slot, have %d", len(n.gs))
	}
	return n.Trunk.SetTags(tags)
}

// OptimParams are the parameters for the training loop.
func (n *Net) OptimParams() []optim.Param {
	ps := make([]optim.Param, len(n.trainable))
	for i, p := range n.trainable {
		ps[i] = p
	}
	return ps
}

// Tokens is the number of positions of one step.
func (n *Net) Tokens() int {
	t := 0
	for _, g := range n.gs {
		t += g.Batch * g.tmpl.L.Len()
	}
	return t
}

// Close releases the program.
func (n *Net) Close() error {
	if n.prog != nil {
		return n.prog.Close()
	}
	return n.vm.Close()
}

func scalar(v G.Value) float64 {
	if f, ok := v.(*G.F32); ok {
		return float64(*f)
	}
	return float64(v.Data().([]float32)[0])
}

// NetFrom compiles m's configuration for slots and copies m's weights and
// balancing state in (evaluation and routing statistics of a loaded model).
func NetFrom(m *Model, slots []Slot, train bool) (*Net, error) {
	n, err := NewNet(m.Cfg, m.Media, slots, 0, train)
	if err != nil {
		return nil, err
	}
	if err := n.Load(m.Weights()); err != nil {
		n.Close()
		return nil, err
	}
	if m.Cfg.Trunk.Balance == unified.BalanceBias && m.Cfg.Trunk.Experts > 0 {
		if err := n.Trunk.SetBalanceState(m.Trunk.BalanceState()); err != nil {
			n.Close()
			return nil, err
		}
	}
	return n, nil
}

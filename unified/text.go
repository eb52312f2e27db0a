package unified

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/omniar/omniar/nn"
)

// TextHead is the text modality's embedding and output head. With Tied
// the head reuses the embedding table (logits = h·Embᵀ).
type TextHead struct {
	Emb  *nn.Embedding // [vocab, Dim]
	Head *nn.Linear    // [vocab, Dim]; Head.W == Emb.W when tied
}

// NewTextHead makes the embedding (N(0, 0.02²), GPT-2 style, so a tied
// head starts with small logits) and the head.
func NewTextHead(b *nn.Builder, name string, vocab, dim int, tied bool) *TextHead {
	s := b.Sub(name)
	t := &TextHead{Emb: &nn.Embedding{W: s.Sub("tok_emb").Param("weight", false, nn.Normal(0.02), vocab, dim)}}
	if tied {
		t.Head = &nn.Linear{W: t.Emb.W}
	} else {
		t.Head = nn.NewLinear(s, "head", dim, vocab, false)
	}
	return t
}

// Embed: ids (N) → [N, Dim].
func (t *TextHead) Embed(ids *nn.Ints) (*G.Node, error) { return t.Emb.Forward(ids) }

// Logits: h [N, Dim] → [N, vocab].
func (t *TextHead) Logits(h *G.Node) (*G.Node, error) { return t.Head.Forward(h) }

// LMConfig is a text language model on the trunk: the static batch shape
// of its training graph and its vocabulary.
type LMConfig struct {
	Trunk Config `json:"trunk"`
	Vocab int    `json:"vocab"`
	Tied  bool   `json:"tied"`
	Batch int    `json:"batch"`
	Seq   int    `json:"seq"`
	Seed  uint64 `json:"seed"`
}

// LM is a causal text LM compiled for training: loss = mean next-token
// cross-entropy + the balancing loss.
type LM struct {
	Cfg     LMConfig
	Trunk   *Trunk
	Text    *TextHead
	params  []*nn.Param
	ids     *nn.Ints
	targets *nn.Ints
	ceV     G.Value // the cross-entropy of the last Step (read by the graph)
	prog    *nn.Program
}

// NewLM builds and compiles the LM.
func NewLM(cfg LMConfig) (*LM, error) {
	if cfg.Vocab <= 0 || cfg.Batch <= 0 || cfg.Seq <= 0 {
		return nil, fmt.Errorf("unified lm: vocab %d, batch %d, seq %d must be positive", cfg.Vocab, cfg.Batch, cfg.Seq)
	}
	b := nn.NewBuilder(cfg.Seed)
	m := &LM{Cfg: cfg, ids: nn.NewInts(cfg.Batch * cfg.Seq), targets: nn.NewInts(cfg.Batch * cfg.Seq)}
	var err error
	if m.Trunk, err = NewTrunk(b, "trunk", cfg.Trunk); err != nil {
		return nil, fmt.Errorf("unified lm: %w", err)
	}
	m.Text = NewTextHead(b, "text", cfg.Vocab, cfg.Trunk.Dim, cfg.Tied)
	loss, err := m.build()
	if err != nil {
		return nil, fmt.Errorf("unified lm: %w", err)
	}
	m.params = b.Params()
	if m.prog, err = nn.Compile(b.G, loss, m.params); err != nil {
		return nil, fmt.Errorf("unified lm: %w", err)
	}
	return m, nil
}

func (m *LM) build() (*G.Node, error) {
	c := m.Cfg
	rope, err := m.Trunk.NewRope(c.Batch * c.Seq)
	if err != nil {
		return nil, err
	}
	na := len(c.Trunk.RopeSplit)
	pos := make([]float64, c.Batch*c.Seq*na)
	for i := 0; i < c.Batch*c.Seq; i++ {
		pos[i*na] = float64(i % c.Seq) // time axis; other axes stay 0 for text
	}
	if err := rope.SetPositions(pos); err != nil {
		return nil, err
	}
	x, err := m.Text.Embed(m.ids)
	if err != nil {
		return nil, err
	}
	h, aux, err := m.Trunk.Forward(x, c.Batch, c.Seq, rope, nn.CausalMask(c.Seq), nil)
	if err != nil {
		return nil, err
	}
	logits, err := m.Text.Logits(h)
	if err != nil {
		return nil, err
	}
	ce, err := nn.CrossEntropy(logits, m.targets)
	if err != nil {
		return nil, err
	}
	G.Read(ce, &m.ceV)
	if aux == nil {
		return ce, nil
	}
	return G.Add(ce, aux)
}

// Params lists the trainable tensors.
func (m *LM) Params() []*nn.Param { return m.params }

// Step runs forward and backward on one batch ([Batch·Seq] ids and
// targets, nn.IgnoreIndex to skip) and returns the cross-entropy (without
// the balancing loss, which Trunk.Loads reports).
func (m *LM) Step(ids, targets []int) (float64, error) {
	for i, id := range ids {
		if id < 0 || id >= m.Cfg.Vocab {
			return 0, fmt.Errorf("unified lm: token %d at %d outside vocabulary of %d", id, i, m.Cfg.Vocab)
		}
	}
	if err := m.ids.Set(ids); err != nil {
		return 0, fmt.Errorf("unified lm: ids: %w", err)
	}
	if err := m.targets.Set(targets); err != nil {
		return 0, fmt.Errorf("unified lm: targets: %w", err)
	}
	if _, err := m.prog.Run(); err != nil {
		return 0, fmt.Errorf("unified lm: %w", err)
	}
	return scalar(m.ceV), nil
}

// scalar reads a scalar graph value.
func scalar(v G.Value) float64 {
	if f, ok := v.(*G.F32); ok {
		return float64(*f)
	}
	return float64(v.Data().([]float32)[0])
}

// Close releases the compiled program.
func (m *LM) Close() error { return m.prog.Close() }

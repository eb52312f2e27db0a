// Package lm is a dense decoder-only language model built from nn blocks:
// token embedding, pre-norm blocks with RoPE attention and SwiGLU, a final
// RMSNorm and an untied head. It is the reference model of the engine
// benchmarks (the same network runs in PyTorch in tools/peer_train.py) and
// the model of the training-loop tests.
package lm

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/omniar/omniar/nn"
	"github.com/omniar/omniar/nn/optim"
)

// Config sizes the model and the static batch shape of its graph.
type Config struct {
	Vocab    int     `json:"vocab"`
	Dim      int     `json:"dim"`
	Heads    int     `json:"heads"`
	Layers   int     `json:"layers"`
	Hidden   int     `json:"hidden"`
	Seq      int     `json:"seq"`
	Batch    int     `json:"batch"`
	RopeBase float64 `json:"rope_base"`
	Seed     uint64  `json:"seed"`
}

// Reference is the benchmark configuration: d_model 256, 4 heads, 4
// layers, SwiGLU 1024, sequence 256, batch 8, vocabulary 1024.
func Reference() Config {
	return Config{Vocab: 1024, Dim: 256, Heads: 4, Layers: 4, Hidden: 1024, Seq: 256, Batch: 8, RopeBase: 10000, Seed: 1}
}

// Tiny is a test configuration that trains in milliseconds.
func Tiny() Config {
	return Config{Vocab: 32, Dim: 32, Heads: 2, Layers: 2, Hidden: 64, Seq: 16, Batch: 4, RopeBase: 10000, Seed: 1}
}

// Validate reports a configuration that cannot be built.
func (c Config) Validate() error {
	switch {
	case c.Vocab <= 0 || c.Dim <= 0 || c.Layers <= 0 || c.Hidden <= 0 || c.Seq <= 0 || c.Batch <= 0:
		return fmt.Errorf("lm config %+v: sizes must be positive", c)
	case c.Heads <= 0 || c.Dim%c.Heads != 0 || (c.Dim/c.Heads)%2 != 0:
		return fmt.Errorf("lm config: dim %d must split into %d heads of even size", c.Dim, c.Heads)
	}
	return nil
}

// Model is the LM compiled for training on batches of [Batch, Seq] tokens.
type Model struct {
	Cfg     Config
	params  []*nn.Param
	ids     *nn.Ints // [Batch·Seq] inputs
	targets *nn.Ints // [Batch·Seq] next tokens (nn.IgnoreIndex to skip)
	prog    *nn.Program
}

// New builds and compiles the model.
func New(cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	b := nn.NewBuilder(cfg.Seed)
	n := cfg.Batch * cfg.Seq
	m := &Model{Cfg: cfg, ids: nn.NewInts(n), targets: nn.NewInts(n)}
	loss, err := m.build(b)
	if err != nil {
		return nil, fmt.Errorf("build lm: %w", err)
	}
	m.params = b.Params()
	if m.prog, err = nn.Compile(b.G, loss, m.params); err != nil {
		return nil, fmt.Errorf("build lm: %w", err)
	}
	return m, nil
}

// build wires embedding → blocks → norm → head → cross-entropy.
func (m *Model) build(b *nn.Builder) (*G.Node, error) {
	c := m.Cfg
	hd := c.Dim / c.Heads
	rope, err := nn.NewRope(hd, []int{hd / 2}, c.RopeBase, c.Batch*c.Seq)
	if err != nil {
		return nil, err
	}
	pos := make([]float64, c.Batch*c.Seq)
	for i := range pos {
		pos[i] = float64(i % c.Seq)
	}
	if err := rope.SetPositions(pos); err != nil {
		return nil, err
	}
	mask := nn.CausalMask(c.Seq)
	emb := nn.NewEmbedding(b, "tok_emb", c.Vocab, c.Dim)
	x, err := emb.Forward(m.ids) // [B·T, dim]
	if err != nil {
		return nil, err
	}
	for i := 0; i < c.Layers; i++ {
		blk, err := nn.NewBlock(b, fmt.Sprintf("layers.%d", i), nn.BlockConfig{Dim: c.Dim, Heads: c.Heads, Hidden: c.Hidden, NormEps: 1e-5})
		if err != nil {
			return nil, err
		}
		if x, err = blk.Forward(x, c.Batch, c.Seq, rope, mask); err != nil {
			return nil, err
		}
	}
	if x, err = nn.NewRMSNorm(b, "norm", c.Dim, 1e-5).Forward(x); err != nil {
		return nil, err
	}
	logits, err := nn.NewLinear(b, "head", c.Dim, c.Vocab, false).Forward(x) // [B·T, vocab]
	if err != nil {
		return nil, err
	}
	return nn.CrossEntropy(logits, m.targets)
}

// Params lists the trainable tensors.
func (m *Model) Params() []*nn.Param { return m.params }

// OptimParams is Params as optimizer parameters.
func (m *Model) OptimParams() []optim.Param {
	ps := make([]optim.Param, len(m.params))
	for i, p := range m.params {
		ps[i] = p
	}
	return ps
}

// NumParams counts the scalars of the model.
func (m *Model) NumParams() int {
	n := 0
	for _, p := range m.params {
		n += len(p.Data())
	}
	return n
}

// Step runs forward and backward on one batch and returns the mean loss;
// ids and targets are [Batch·Seq], batch-major.
func (m *Model) Step(ids, targets []int) (float64, error) {
	for i, id := range ids {
		if id < 0 || id >= m.Cfg.Vocab {
			return 0, fmt.Errorf("lm step: token %d at %d outside vocabulary of %d", id, i, m.Cfg.Vocab)
		}
	}
	if err := m.ids.Set(ids); err != nil {
		return 0, fmt.Errorf("lm step: ids: %w", err)
	}
	if err := m.targets.Set(targets); err != nil {
		return 0, fmt.Errorf("lm step: targets: %w", err)
	}
	return m.prog.Run()
}

// ConfigJSON is the configuration as checkpoint metadata.
func (m *Model) ConfigJSON() string {
	b, _ := json.Marshal(m.Cfg)
	return string(b)
}

// Close releases the compiled program.
func (m *Model) Close() error { return m.prog.Close() }

// RandomBatch draws a batch of next-token pairs from a seeded generator:
// the synthetic data of the benchmarks.
func RandomBatch(cfg Config, seed uint64) (ids, targets []int) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	n := cfg.Batch * cfg.Seq
	seq := make([]int, n+1)
	for i := range seq {
		seq[i] = rng.IntN(cfg.Vocab)
	}
	return seq[:n], seq[1:]
}

package videoar

import (
	"fmt"
	"math/rand/v2"
	"strings"

	G "gorgonia.org/gorgonia"

	"github.com/omniar/omniar/msvq"
	"github.com/omniar/omniar/nn"
	"github.com/omniar/omniar/nn/optim"
	"github.com/omniar/omniar/unified"
)

// TrainConfig is a training stage: the graph's shape and the recipe.
type TrainConfig struct {
	Batch     int
	Frames    int     // latent frames trained (1 = images: the curriculum's first stage)
	MaxFlip   float64 // error correction: flip rate of the last frame's input codes
	FrameMask float64 // probability that an earlier frame is hidden from later ones
	CondDrop  float64 // probability that a sample's prompt is dropped (classifier-free guidance)
	// Motion > 0 adds, in training only, a head that classifies every
	// visual position's hidden state into Motion classes (Example.Motion:
	// how the object at that cell moves next), weighted by MotionWeight in
	// the loss. Its weights are not part of the generator (MotionHead).
	Motion       int
	MotionWeight float64
	Seed         uint64
}

// MotionHead prefixes the training-only motion head's parameters; weights
// files leave them out (LoadWeights).
const MotionHead = "motion_head."

// Example is one training clip: its prompt ids and clean codes [frames][PerFrame].
type Example struct {
	Prompt []int
	Codes  [][]int
	// Motion is the motion class of every visual position [frames·PerFrame]
	// (TrainConfig.Motion; nn.IgnoreIndex where none applies); nil ignores all.
	Motion []int
}

// Trainer is the generator compiled for one training stage.
type Trainer struct {
	Cfg     Config
	TC      TrainConfig
	m       *model
	gr      *graph
	inputs  *Builder
	targets *nn.Ints
	motion  *nn.Ints // [B·Visual] motion classes (TrainConfig.Motion)
	ce      G.Value
	mce     G.Value // the motion head's cross-entropy
	prog    *nn.Program
	params  []*nn.Param // the generator's, then the motion head's
	nGen    int         // how many of params are the generator's
}

// NewTrainer builds the stage's graph: mean cross-entropy of the codes of
// every visual position plus the trunk's balancing loss.
func NewTrainer(cfg Config, tc TrainConfig, dec *msvq.Decoder) (*Trainer, error) {
	ib, err := NewBuilder(cfg, tc.Frames, dec)
	if err != nil {
		return nil, err
	}
	b := nn.NewBuilder(tc.Seed)
	m, err := newModel(b, cfg)
	if err != nil {
		return nil, err
	}
	gr, err := m.build(b.G, b, tc.Batch, ib.L)
	if err != nil {
		return nil, fmt.Errorf("videoar graph: %w", err)
	}
	t := &Trainer{Cfg: cfg, TC: tc, m: m, gr: gr, inputs: ib, targets: nn.NewInts(tc.Batch * ib.L.Visual())}
	loss, err := nn.CrossEntropy(gr.logits, t.targets)
	if err != nil {
		return nil, err
	}
	G.Read(loss, &t.ce)
	t.nGen = len(b.Params())
	if tc.Motion > 0 {
		if loss, err = t.addMotion(b, loss); err != nil {
			return nil, fmt.Errorf("videoar motion head: %w", err)
		}
	}
	if gr.aux != nil {
		if loss, err = G.Add(loss, gr.aux); err != nil {
			return nil, err
		}
	}
	t.params = b.Params()
	if t.prog, err = nn.Compile(b.G, loss, t.params); err != nil {
		return nil, err
	}
	return t, nil
}

// addMotion adds the motion head's weighted cross-entropy to loss. The
// head reads the same hidden states as the code head, so its gradient
// teaches the trunk, at every cell, how the object there will move: for a
// two-digit prompt that means which of the prompt's directions belongs to
// the digit drawn at that cell, a binding the code loss teaches with about
// one bit per clip.
func (t *Trainer) addMotion(b *nn.Builder, loss *G.Node) (*G.Node, error) {
	head := nn.NewLinear(b, strings.TrimSuffix(MotionHead, "."), t.Cfg.Trunk.Dim, t.TC.Motion, true)
	logits, err := head.Forward(t.gr.hidden) // [B·Visual, Motion]
	if err != nil {
		return nil, err
	}
	t.motion = nn.NewInts(len(t.targets.V))
	ce, err := nn.CrossEntropy(logits, t.motion)
	if err != nil {
		return nil, err
	}
	G.Read(ce, &t.mce)
	w := G.NewConstant(float32(t.TC.MotionWeight))
	if ce, err = G.Mul(ce, w); err != nil {
		return nil, err
	}
	return G.Add(loss, ce)
}

// MotionLoss is the motion head's cross-entropy at the last step (0 without it).
func (t *Trainer) MotionLoss() float64 {
	if t.mce == nil {
		return 0
	}
	return scalar(t.mce)
}

// Step runs forward and backward on a batch and returns the codes'
// cross-entropy (nats). rng draws the corruption, the frame mask and the
// prompt dropout, so a seeded rng makes the step reproducible.
func (t *Trainer) Step(batch []Example, rng *rand.Rand) (float64, error) {
	xs := make([]Inputs, len(batch))
	for i, ex := range batch {
		prompt := ex.Prompt
		if rng.Float64() < t.TC.CondDrop {
			prompt = nil
		}
		in := Flip(ex.Codes, t.Cfg.Quant.Codes, t.TC.MaxFlip, rng)
		x, err := t.inputs.Build(prompt, in, ex.Codes)
		if err != nil {
			return 0, err
		}
		copy(t.targets.V[i*len(x.Targets):], x.Targets)
		if t.motion != nil {
			if err := t.setMotion(i, len(x.Targets), ex.Motion); err != nil {
				return 0, err
			}
		}
		xs[i] = x
	}
	if err := t.gr.set(xs); err != nil {
		return 0, err
	}
	hidden := make([]bool, t.TC.Frames)
	for f := range hidden[:max(0, len(hidden)-1)] { // the last frame is never anyone's context
		hidden[f] = rng.Float64() < t.TC.FrameMask
	}
	if err := t.gr.mask.Set(t.gr.l.FrameMask(hidden)); err != nil {
		return 0, err
	}
	if _, err := t.prog.Run(); err != nil {
		return 0, fmt.Errorf("videoar step: %w", err)
	}
	if t.Cfg.Trunk.Balance == unified.BalanceBias {
		t.m.trunk.UpdateBias()
	}
	return scalar(t.ce), nil
}

// setMotion loads sample i's motion classes (n visual positions).
func (t *Trainer) setMotion(i, n int, classes []int) error {
	dst := t.motion.V[i*n : (i+1)*n]
	if classes == nil {
		for j := range dst {
			dst[j] = nn.IgnoreIndex
		}
		return nil
	}
	if len(classes) != n {
		return fmt.Errorf("videoar: %d motion classes, want one per visual position (%d)", len(classes), n)
	}
	for j, c := range classes {
		if c != nn.IgnoreIndex && (c < 0 || c >= t.TC.Motion) {
			return fmt.Errorf("videoar: motion class %d at position %d, want 0 … %d", c, j, t.TC.Motion-1)
		}
	}
	copy(dst, classes)
	return nil
}

func scalar(v G.Value) float64 {
	if f, ok := v.(*G.F32); ok {
		return float64(*f)
	}
	return float64(v.Data().([]float32)[0])
}

// Params are the trainable tensors.
func (t *Trainer) Params() []optim.Param {
	ps := make([]optim.Param, len(t.params))
	for i, p := range t.params {
		ps[i] = p
	}
	return ps
}

// Weights copies the generator's current weights by name (not the
// training-only motion head's).
func (t *Trainer) Weights() map[string][]float32 {
	w := map[string][]float32{}
	for _, p := range t.params[:t.nGen] {
		w[p.Name()] = append([]float32(nil), p.Data()...)
	}
	return w
}

// Init starts from earlier weights (the previous curriculum stage's):
// every parameter of the generator must be there with its size; the
// motion head starts afresh.
func (t *Trainer) Init(w map[string][]float32) error { return load(t.params[:t.nGen], w) }

// Trunk is the shared decoder (for sub-models and routing statistics).
func (t *Trainer) Trunk() *unified.Trunk { return t.m.trunk }

// Close releases the program.
func (t *Trainer) Close() error { return t.prog.Close() }

// load copies weights into params by name.
func load(ps []*nn.Param, w map[string][]float32) error {
	for _, p := range ps {
		v, ok := w[p.Name()]
		if !ok || len(v) != len(p.Data()) {
			return fmt.Errorf("videoar weights: %s missing or of size %d, want %d", p.Name(), len(v), len(p.Data()))
		}
		copy(p.Data(), v)
	}
	return nil
}

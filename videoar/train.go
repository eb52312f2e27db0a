package videoar

import (
	"fmt"
	"math/rand/v2"

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
	ScaleFlip float64 // self-correction: flip rate of each frame's codes before its last scale (SelfCorrect)
	FrameMask float64 // probability that an earlier frame is hidden from later ones
	CondDrop  float64 // probability that a sample's prompt is dropped (classifier-free guidance)
	Seed      uint64
}

// Example is one training clip: its prompt ids and clean codes [frames][PerFrame].
type Example struct {
	Prompt []int
	Codes  [][]int
}

// Trainer is the generator compiled for one training stage.
type Trainer struct {
	Cfg     Config
	TC      TrainConfig
	m       *model
	gr      *graph
	inputs  *Builder
	targets *nn.Ints
	ce      G.Value
	prog    *nn.Program
	params  []*nn.Param
}

// NewTrainer builds the stage's graph: mean cross-entropy of the codes of
// every visual position plus the trunk's balancing loss.
func NewTrainer(cfg Config, tc TrainConfig, dec *msvq.Decoder) (*Trainer, error) {
	ib, err := NewBuilder(cfg, tc.Frames, dec)
	if err != nil {
		return nil, err
	}
	if tc.ScaleFlip < 0 || tc.ScaleFlip > 1 || (tc.ScaleFlip > 0 && cfg.Raster) {
		return nil, fmt.Errorf("videoar: self-correction rate %g: want 0 … 1, and 0 in raster order (it corrects scales)", tc.ScaleFlip)
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
		codes, targets := ex.Codes, ex.Codes
		if t.TC.ScaleFlip > 0 {
			var err error
			if codes, targets, err = t.inputs.SelfCorrect(ex.Codes, t.TC.ScaleFlip, rng); err != nil {
				return 0, err
			}
		}
		in := Flip(codes, t.Cfg.Quant.Codes, t.TC.MaxFlip, rng)
		x, err := t.inputs.Build(prompt, in, targets)
		if err != nil {
			return 0, err
		}
		copy(t.targets.V[i*len(x.Targets):], x.Targets)
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

// Weights copies the current weights by name.
func (t *Trainer) Weights() map[string][]float32 {
	w := map[string][]float32{}
	for _, p := range t.params {
		w[p.Name()] = append([]float32(nil), p.Data()...)
	}
	return w
}

// Init starts from earlier weights (the previous curriculum stage's):
// every parameter must be there with its size.
func (t *Trainer) Init(w map[string][]float32) error {
	if err := nn.LoadParams(t.params, w); err != nil {
		return fmt.Errorf("videoar %w", err)
	}
	return nil
}

// Trunk is the shared decoder (for sub-models and routing statistics).
func (t *Trainer) Trunk() *unified.Trunk { return t.m.trunk }

// Close releases the program.
func (t *Trainer) Close() error { return t.prog.Close() }

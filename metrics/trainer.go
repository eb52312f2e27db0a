package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	G "gorgonia.org/gorgonia"

	"github.com/omniar/omniar/nn"
	"github.com/omniar/omniar/nn/optim"
)

// Trainer is a Net compiled with its loss: softmax cross-entropy over the
// logits, or, for a Binary net, over each (absent, present) pair of logits
// (the binary cross-entropy of a multi-label head); plus, with Aux, the
// cross-entropy of the auxiliary head at every cell of the last conv map.
type Trainer struct {
	Net     *Net
	Targets *nn.Ints // [Batch] class ids, or [Batch·Labels] 0/1 for Binary nets
	Cells   int      // auxiliary targets per sample (D'·H'·W'; 0 without Aux)
	Aux     *nn.Ints // [Batch·Cells] class per cell, nn.IgnoreIndex to skip
	prog    *nn.Program
}

// auxPrefix names the training-only auxiliary head.
const auxPrefix = "aux."

// NumTargets is the length of Step's targets: the Targets then the Aux ones.
func (t *Trainer) NumTargets() int { return len(t.Targets.V) + len(t.Aux.V) }

// NewTrainer builds cfg for training batches of batch samples.
func NewTrainer(cfg NetConfig, batch int, seed uint64) (*Trainer, error) {
	n, err := NewNet(cfg, batch, seed)
	if err != nil {
		return nil, err
	}
	kaimingInit(n, seed)
	t := &Trainer{Net: n, Targets: nn.NewInts(batch * cfg.Labels())}
	logits := n.Logits
	if cfg.Binary {
		if logits, err = G.Reshape(logits, []int{batch * cfg.Labels(), 2}); err != nil { // [B·Labels, 2]
			return nil, fmt.Errorf("build trainer %q: %w", cfg.Name, err)
		}
	}
	loss, err := nn.CrossEntropy(logits, t.Targets)
	if err != nil {
		return nil, fmt.Errorf("build trainer %q: %w", cfg.Name, err)
	}
	t.Aux = nn.NewInts(0)
	if cfg.Aux > 0 {
		if loss, err = t.addAux(loss); err != nil {
			return nil, fmt.Errorf("build trainer %q: auxiliary head: %w", cfg.Name, err)
		}
	}
	if t.prog, err = nn.Compile(n.B.G, loss, n.Params()); err != nil {
		return nil, fmt.Errorf("build trainer %q: %w", cfg.Name, err)
	}
	return t, nil
}

// kaimingInit redraws the weights of the convolutions and the hidden layer
// from N(0, 2/fan_in) (He et al. 2015), which keeps the activations of the
// SiLU stack at unit scale; PyTorch's default U(±1/√fan_in) shrinks them
// layer by layer, and a deep video net then learns digit identity slowly.
// Biases and the head keep the default.
func kaimingInit(n *Net, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x4b41494d))
	for _, p := range n.Params() {
		name, shape := p.Name(), p.Shape()
		if !strings.HasSuffix(name, ".weight") || strings.HasPrefix(name, "head.") || strings.HasPrefix(name, auxPrefix) || len(shape) < 2 {
			continue
		}
		fan := 1
		for _, s := range shape[1:] {
			fan *= s
		}
		std := math.Sqrt(2 / float64(fan))
		for i, d := 0, p.Data(); i < len(d); i++ {
			d[i] = float32(rng.NormFloat64() * std)
		}
	}
}

// addAux adds the auxiliary head's loss: Maps [B, C, D, H, W] → 1×1×1 conv
// → [B, Aux, D, H, W] → [B·D·H·W, Aux] rows → cross-entropy.
func (t *Trainer) addAux(loss *G.Node) (*G.Node, error) {
	n, a := t.Net, t.Net.Cfg.Aux
	s := n.Maps.Shape()
	t.Cells = s[2] * s[3] * s[4]
	t.Aux = nn.NewInts(n.Batch * t.Cells)
	one := [3]int{1, 1, 1}
	m, err := nn.NewConv3d(n.B, strings.TrimSuffix(auxPrefix, "."), nn.Conv3dConfig{In: s[1], Out: a, Kernel: one, Stride: one, Bias: true}).Forward(n.Maps)
	if err != nil {
		return nil, err
	}
	if m, err = G.Transpose(m, 0, 2, 3, 4, 1); err != nil { // [B, D, H, W, Aux]
		return nil, err
	}
	if m, err = G.Reshape(m, []int{n.Batch * t.Cells, a}); err != nil {
		return nil, err
	}
	aux, err := nn.CrossEntropy(m, t.Aux)
	if err != nil {
		return nil, err
	}
	return G.Add(loss, aux)
}

// Step runs forward and backward on one batch: x [Batch·SampleSize],
// targets the Targets then the Aux ones (NumTargets in all). Gradients
// are left in the params.
func (t *Trainer) Step(x []float32, targets []int) (float64, error) {
	if len(targets) != t.NumTargets() {
		return 0, fmt.Errorf("trainer %q: %d targets, want %d", t.Net.Cfg.Name, len(targets), t.NumTargets())
	}
	if err := t.Net.X.Set(x); err != nil {
		return 0, err
	}
	k := len(t.Targets.V)
	if err := t.Targets.Set(targets[:k]); err != nil {
		return 0, fmt.Errorf("trainer %q: targets: %w", t.Net.Cfg.Name, err)
	}
	if err := t.Aux.Set(targets[k:]); err != nil {
		return 0, fmt.Errorf("trainer %q: auxiliary targets: %w", t.Net.Cfg.Name, err)
	}
	return t.prog.Run()
}

// OptimParams are the weights as optimizer parameters.
func (t *Trainer) OptimParams() []optim.Param {
	ps := t.Net.Params()
	out := make([]optim.Param, len(ps))
	for i, p := range ps {
		out[i] = p
	}
	return out
}

// Close releases the program.
func (t *Trainer) Close() error { return t.prog.Close() }

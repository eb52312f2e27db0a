package optim

import (
	"fmt"
	"log/slog"
	"math"
)

// AdamWConfig holds the AdamW hyper-parameters.
type AdamWConfig struct {
	Beta1, Beta2, Eps, WeightDecay float64
}

// DefaultAdamW returns the usual language-model settings: betas (0.9, 0.95),
// eps 1e-8, weight decay 0.1.
func DefaultAdamW() AdamWConfig {
	return AdamWConfig{Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.1}
}

// Validate reports hyper-parameters that would make AdamW diverge or divide
// by zero.
func (c AdamWConfig) Validate() error {
	switch {
	case !(c.Beta1 >= 0 && c.Beta1 < 1):
		return fmt.Errorf("optim: AdamW beta1 %v not in [0, 1)", c.Beta1)
	case !(c.Beta2 >= 0 && c.Beta2 < 1):
		return fmt.Errorf("optim: AdamW beta2 %v not in [0, 1)", c.Beta2)
	case !(c.Eps > 0):
		return fmt.Errorf("optim: AdamW eps %v must be positive", c.Eps)
	case !(c.WeightDecay >= 0):
		return fmt.Errorf("optim: AdamW weight decay %v must be non-negative", c.WeightDecay)
	}
	return nil
}

// AdamW is Adam with decoupled weight decay (Loshchilov & Hutter), computed
// in float32 in the same order as PyTorch's single-tensor implementation.
type AdamW struct {
	cfg    AdamWConfig
	params []Param
	m, v   [][]float32
	step   int
}

// NewAdamW returns an optimizer for params with zeroed moments. Param names
// must be unique (they key the optimizer state).
func NewAdamW(cfg AdamWConfig, params []Param) *AdamW {
	o := &AdamW{cfg: cfg, params: params}
	seen := make(map[string]bool, len(params))
	for _, p := range params {
		if seen[p.Name()] {
			slog.Warn("optim: duplicate param name; optimizer state will collide", "name", p.Name())
		}
		seen[p.Name()] = true
		o.m = append(o.m, make([]float32, len(p.Data())))
		o.v = append(o.v, make([]float32, len(p.Data())))
	}
	return o
}

// StepCount returns the number of updates applied so far.
func (o *AdamW) StepCount() int { return o.step }

// Check reports whether grads can be passed to Step: one gradient per param,
// each as long as the param (and its moments).
func (o *AdamW) Check(grads [][]float32) error {
	if err := checkGrads(o.params, grads); err != nil {
		return err
	}
	for i, p := range o.params {
		if len(o.m[i]) != len(p.Data()) {
			return fmt.Errorf("optim: param %q changed size from %d to %d", p.Name(), len(o.m[i]), len(p.Data()))
		}
	}
	return nil
}

// Step applies one AdamW update with learning rate lr. grads[i] is the
// gradient of params[i] (so the caller can pass accumulated or clipped
// gradients); nil grads means each param's own Grad(). Weight decay applies
// only to params whose Decay() is true. If the gradients are misaligned
// (see Check) the step is skipped and an error is logged.
func (o *AdamW) Step(lr float64, grads [][]float32) {
	if grads == nil {
		grads = make([][]float32, len(o.params))
		for i, p := range o.params {
			grads[i] = p.Grad()
		}
	}
	if err := o.Check(grads); err != nil {
		slog.Error("optim: AdamW step skipped", "err", err)
		return
	}
	o.step++
	bias1 := 1 - math.Pow(o.cfg.Beta1, float64(o.step))
	bias2 := 1 - math.Pow(o.cfg.Beta2, float64(o.step))
	k := adamCoef{
		b1:       float32(o.cfg.Beta1),
		oneMinB1: float32(1 - o.cfg.Beta1),
		b2:       float32(o.cfg.Beta2),
		oneMinB2: float32(1 - o.cfg.Beta2),
		bias2Sq:  float32(math.Sqrt(bias2)),
		eps:      float32(o.cfg.Eps),
		negStep:  float32(-(lr / bias1)),
	}
	for i, p := range o.params {
		if p.Decay() && o.cfg.WeightDecay != 0 {
			scale(p.Data(), float32(1-lr*o.cfg.WeightDecay))
		}
		k.update(p.Data(), grads[i], o.m[i], o.v[i])
	}
}

// adamCoef holds the per-step scalars, already rounded to float32 as
// PyTorch does when it applies a Python scalar to a float32 tensor.
type adamCoef struct {
	b1, oneMinB1, b2, oneMinB2, bias2Sq, eps, negStep float32
}

// update performs, element-wise and in float32:
//
//	m = m*b1 + (1-b1)*g
//	v = v*b2 + (1-b2)*g*g
//	p = p + (-lr/bias1) * (m / (sqrt(v)/sqrt(bias2) + eps))
func (k adamCoef) update(p, g, m, v []float32) {
	for j := range p {
		gj := g[j]
		m[j] = m[j]*k.b1 + k.oneMinB1*gj
		v[j] = v[j]*k.b2 + k.oneMinB2*gj*gj
		denom := float32(math.Sqrt(float64(v[j])))/k.bias2Sq + k.eps
		p[j] += k.negStep * (m[j] / denom)
	}
}

func scale(x []float32, s float32) {
	for j := range x {
		x[j] *= s
	}
}

// State returns copies of the moments keyed "m.<name>" and "v.<name>", for
// checkpoints. The step count is StepCount.
func (o *AdamW) State() map[string][]float32 {
	st := make(map[string][]float32, 2*len(o.params))
	for i, p := range o.params {
		st["m."+p.Name()] = append([]float32(nil), o.m[i]...)
		st["v."+p.Name()] = append([]float32(nil), o.v[i]...)
	}
	return st
}

// SetState restores the step count and the moments saved by State. It checks
// everything before changing anything; errors name the missing or mis-sized
// tensor.
func (o *AdamW) SetState(step int, st map[string][]float32) error {
	if step < 0 {
		return fmt.Errorf("optim: AdamW step count %d is negative", step)
	}
	for _, p := range o.params {
		for _, key := range []string{"m." + p.Name(), "v." + p.Name()} {
			t, ok := st[key]
			if !ok {
				return fmt.Errorf("optim: AdamW state %q missing", key)
			}
			if len(t) != len(p.Data()) {
				return fmt.Errorf("optim: AdamW state %q has %d values, param has %d", key, len(t), len(p.Data()))
			}
		}
	}
	for i, p := range o.params {
		o.m[i] = append(o.m[i][:0], st["m."+p.Name()]...)
		o.v[i] = append(o.v[i][:0], st["v."+p.Name()]...)
	}
	o.step = step
	return nil
}

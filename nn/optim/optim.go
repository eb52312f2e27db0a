// Package optim holds the optimizers, learning-rate schedules and gradient
// clipping used to train OmniAR models.
//
// Everything here works on plain, flat float32 slices so that it does not
// depend on gorgonia: a model exposes its trainable tensors as Params and the
// training loop (package nn/train) hands their accumulated gradients to an
// optimizer. AdamW reproduces torch.optim.AdamW (single-tensor
// implementation) in float32, so runs can be compared with PyTorch.
package optim

import "fmt"

// Param is one trainable tensor: its values and the gradient of the last
// backward pass, both flat and of the same length.
type Param interface {
	// Name identifies the tensor; it must be unique within a model.
	Name() string
	// Data returns the values, which the optimizer updates in place.
	Data() []float32
	// Grad returns the gradient of the last backward pass.
	Grad() []float32
	// Decay reports whether decoupled weight decay applies to this tensor
	// (usually true for matrices, false for biases, norms and embeddings).
	Decay() bool
}

// checkGrads verifies that grads is aligned with params: one gradient per
// param, each as long as the param's data.
func checkGrads(params []Param, grads [][]float32) error {
	if len(grads) != len(params) {
		return fmt.Errorf("optim: %d gradients for %d params", len(grads), len(params))
	}
	for i, p := range params {
		if n, m := len(p.Data()), len(grads[i]); n != m {
			return fmt.Errorf("optim: gradient of %q has %d values, param has %d", p.Name(), m, n)
		}
	}
	return nil
}

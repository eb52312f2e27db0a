package optim

import "math"

// Schedule maps an optimizer step (0-based) to a learning rate.
type Schedule interface {
	LR(step int) float64
}

// Constant is a Schedule that always returns the same learning rate.
type Constant float64

// LR returns the constant rate.
func (c Constant) LR(int) float64 { return float64(c) }

// WarmupCosine warms the learning rate up linearly from 0 at step 0 to Peak
// at step Warmup, then follows a half cosine from Peak down to Min at step
// Total, and stays at Min after that. Negative steps count as step 0.
type WarmupCosine struct {
	Peak, Min     float64
	Warmup, Total int
}

// LR returns the learning rate for step.
func (s WarmupCosine) LR(step int) float64 {
	step = max(step, 0)
	switch {
	case step < s.Warmup:
		return s.Peak * float64(step) / float64(s.Warmup)
	case step >= s.Total:
		return s.Min
	}
	progress := float64(step-s.Warmup) / float64(s.Total-s.Warmup)
	return s.Min + 0.5*(s.Peak-s.Min)*(1+math.Cos(math.Pi*progress))
}

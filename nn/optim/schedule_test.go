package optim

import (
	"math"
	"testing"
)

func TestWarmupCosine(t *testing.T) {
	s := WarmupCosine{Peak: 1e-3, Min: 1e-4, Warmup: 10, Total: 110}
	mid := 1e-4 + 0.5*(1e-3-1e-4) // cosine half-way
	cases := []struct {
		name string
		step int
		want float64
	}{
		{"step 0", 0, 0},
		{"negative", -5, 0},
		{"mid warm-up", 5, 5e-4},
		{"end of warm-up", 10, 1e-3},
		{"middle", 60, mid},
		{"quarter of cosine", 35, 1e-4 + 0.5*(1e-3-1e-4)*(1+math.Cos(math.Pi/4))},
		{"end", 110, 1e-4},
		{"past end", 1000, 1e-4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := s.LR(c.step); math.Abs(got-c.want) > 1e-15 {
				t.Fatalf("LR(%d) = %v, want %v", c.step, got, c.want)
			}
		})
	}
}

func TestWarmupCosineNoWarmup(t *testing.T) {
	s := WarmupCosine{Peak: 1, Min: 0, Warmup: 0, Total: 2}
	for step, want := range []float64{1, 0.5, 0, 0} {
		if got := s.LR(step); math.Abs(got-want) > 1e-15 {
			t.Errorf("LR(%d) = %v, want %v", step, got, want)
		}
	}
	// Total inside the warm-up: Min once warm-up ends, never NaN.
	s = WarmupCosine{Peak: 1, Min: 0.1, Warmup: 4, Total: 2}
	if got := s.LR(4); got != 0.1 {
		t.Errorf("LR(4) = %v, want 0.1", got)
	}
}

func TestConstant(t *testing.T) {
	if got := Constant(0.5).LR(123); got != 0.5 {
		t.Fatalf("Constant LR %v", got)
	}
}

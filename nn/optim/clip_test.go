package optim

import (
	"math"
	"testing"
)

func TestClipGlobalNorm(t *testing.T) {
	cases := []struct {
		name     string
		grads    [][]float32
		max      float64
		wantNorm float64
		want     [][]float32
	}{
		{"above max scales", [][]float32{{3}, {4}}, 1, 5, [][]float32{{0.6}, {0.8}}},
		{"below max untouched", [][]float32{{3}, {4}}, 10, 5, [][]float32{{3}, {4}}},
		{"equal max untouched", [][]float32{{3, 4}}, 5, 5, [][]float32{{3, 4}}},
		{"max 0 disables", [][]float32{{3}, {4}}, 0, 5, [][]float32{{3}, {4}}},
		{"negative max disables", [][]float32{{30}, {40}}, -1, 50, [][]float32{{30}, {40}}},
		{"empty", nil, 1, 0, nil},
		{"zero grads", [][]float32{{0, 0}, {}}, 1, 0, [][]float32{{0, 0}, {}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			norm := ClipGlobalNorm(c.grads, c.max)
			if math.Abs(norm-c.wantNorm) > 1e-12 {
				t.Fatalf("norm %v, want %v", norm, c.wantNorm)
			}
			for i := range c.want {
				for j := range c.want[i] {
					if math.Abs(float64(c.grads[i][j]-c.want[i][j])) > 1e-6 {
						t.Fatalf("grads %v, want %v", c.grads, c.want)
					}
				}
			}
		})
	}
}

func TestClipGlobalNormResultHasMaxNorm(t *testing.T) {
	g := [][]float32{{1, -2, 3}, {4, 5}, {-6}}
	pre := ClipGlobalNorm(g, 0.5)
	if want := math.Sqrt(91); math.Abs(pre-want) > 1e-9 {
		t.Fatalf("pre-clip norm %v, want %v", pre, want)
	}
	if post := GlobalNorm(g); math.Abs(post-0.5) > 1e-6 {
		t.Fatalf("post-clip norm %v, want 0.5", post)
	}
}

func TestClipGlobalNormNonFinite(t *testing.T) {
	inf := float32(math.Inf(1))
	g := [][]float32{{inf, 1}}
	if n := ClipGlobalNorm(g, 1); !math.IsInf(n, 1) {
		t.Fatalf("norm %v, want +Inf", n)
	}
	if g[0][1] != 1 {
		t.Fatalf("non-finite norm scaled the gradients: %v", g)
	}
	g = [][]float32{{float32(math.NaN())}}
	if n := ClipGlobalNorm(g, 1); !math.IsNaN(n) {
		t.Fatalf("norm %v, want NaN", n)
	}
}

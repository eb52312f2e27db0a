package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestExp32(t *testing.T) {
	var worst float64
	for x := float32(-87.3); x < 88.37; x += 0.01237 {
		want := math.Exp(float64(x))
		got := float64(exp32(x))
		if e := math.Abs(got-want) / want; e > worst {
			worst = e
		}
	}
	if worst > 3e-7 {
		t.Errorf("exp32 worst relative error %.3g, want ≤ 3e-7", worst)
	}
	for _, c := range []struct{ x, want float32 }{{0, 1}, {-100, exp32(-87.33654)}, {100, exp32(88.37625885)}, {float32(math.Inf(1)), exp32(88.37625885)}} {
		if got := exp32(c.x); got != c.want {
			t.Errorf("exp32(%g) = %g, want %g", c.x, got, c.want)
		}
	}
	if v := exp32(float32(math.NaN())); v == v {
		t.Errorf("exp32(NaN) = %g", v)
	}
}

func BenchmarkExp32(b *testing.B) {
	var s float32
	for i := 0; i < b.N; i++ {
		s += exp32(float32(i%200-100) * 0.1)
	}
	_ = s
}

func BenchmarkMathExp(b *testing.B) {
	var s float64
	for i := 0; i < b.N; i++ {
		s += math.Exp(float64(i%200-100) * 0.1)
	}
	_ = s
}

func BenchmarkExp32Slice(b *testing.B) {
	x := make([]float32, 4096)
	for i := range x {
		x[i] = float32(i%200-100) * 0.1
	}
	y := make([]float32, len(x))
	b.SetBytes(int64(4 * len(x)))
	for i := 0; i < b.N; i++ {
		for j, v := range x {
			y[j] = exp32(v)
		}
	}
}

func BenchmarkMathExpSlice(b *testing.B) {
	x := make([]float32, 4096)
	for i := range x {
		x[i] = float32(i%200-100) * 0.1
	}
	y := make([]float32, len(x))
	b.SetBytes(int64(4 * len(x)))
	for i := 0; i < b.N; i++ {
		for j, v := range x {
			y[j] = float32(math.Exp(float64(v)))
		}
	}
}

// TestExpSlice checks the vector path against exp32 and math.Exp, edges included.
func TestExpSlice(t *testing.T) {
	var x []float32
	for v := float32(-95); v < 95; v += 0.0731 {
		x = append(x, v)
	}
	x = append(x, 0, -0, 88.7, -87.3, 89, -88, float32(math.Inf(1)), float32(math.Inf(-1)), 1e-8, -1e-8)
	got, sig := make([]float32, len(x)), make([]float32, len(x))
	ExpSlice(got, x)
	SigmoidSlice(sig, x)
	for i, v := range x {
		want := math.Exp(float64(v))
		switch {
		case v > 88.37625885:
			want = float64(exp32(88.37625885)) // saturated
		case v < -87.33654:
			want = float64(exp32(-87.33654))
		}
		if e := math.Abs(float64(got[i])-want) / math.Max(want, 1e-30); e > 3e-7 {
			t.Errorf("ExpSlice(%g) = %g, want %g (rel err %.3g)", v, got[i], want, e)
		}
		ws := 1 / (1 + math.Exp(-float64(v)))
		if math.Abs(float64(sig[i])-ws) > 1e-7 {
			t.Errorf("SigmoidSlice(%g) = %g, want %g", v, sig[i], ws)
		}
	}
	nan := []float32{1, 2, 3, float32(math.NaN()), 5, 6, 7, 8}
	ExpSlice(nan, nan)
	if v := nan[3]; v == v {
		t.Errorf("ExpSlice(NaN) = %g, want NaN", v)
	}
}

func BenchmarkExpSlice(b *testing.B) {
	x := make([]float32, 4096)
	for i := range x {
		x[i] = float32(i%200-100) * 0.1
	}
	y := make([]float32, len(x))
	b.SetBytes(int64(4 * len(x)))
	for i := 0; i < b.N; i++ {
		ExpSlice(y, x)
	}
}

// TestSoftmaxRow checks the vector max, shifted exp, sum and scale of
// SoftmaxRow against float64 at lengths around the 8-lane boundary, with
// the maximum in the tail, at the head and in the vector part.
func TestSoftmaxRow(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, n := range []int{1, 7, 8, 9, 16, 23, 64, 701} {
		for _, at := range []int{0, n / 2, n - 1} {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(rng.NormFloat64() * 10)
			}
			x[at] = 86 // the maximum: shifted by less, e^x saturates
			var z float64
			for _, v := range x {
				z += math.Exp(float64(v) - 86)
			}
			y := make([]float32, n)
			lse := SoftmaxRow(y, x)
			if want := 86 + math.Log(z); math.Abs(float64(lse)-want) > 1e-5 {
				t.Errorf("n %d, max at %d: log Σ exp = %g, want %g", n, at, lse, want)
			}
			for i, v := range x {
				want := math.Exp(float64(v)-86) / z
				if math.Abs(float64(y[i])-want) > 1e-6*math.Max(want, 1e-3) {
					t.Errorf("n %d, max at %d: y[%d] = %g, want %g", n, at, i, y[i], want)
				}
			}
			SoftmaxRow(x, x) // in place
			for i := range x {
				if x[i] != y[i] {
					t.Fatalf("n %d: in place y[%d] = %g, out of place %g", n, i, x[i], y[i])
				}
			}
		}
	}
	for _, at := range []int{0, 5, 12} { // NaN in the vector part and in the tail
		x := make([]float32, 13)
		x[at] = float32(math.NaN())
		y := make([]float32, len(x))
		SoftmaxRow(y, x)
		for i, v := range y {
			if v == v {
				t.Errorf("NaN at %d: y[%d] = %g, want NaN", at, i, v)
			}
		}
	}
}

package metrics

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

var frechetCases = []string{
	"gauss_d16", "close_d8", "rankdef_n10_d32", "rankdef_cols_d20", "scaled_n80_d64", "relu_d128", "tiny_n2_d5",
}

func TestFrechetSciPy(t *testing.T) {
	for _, name := range frechetCases {
		t.Run(name, func(t *testing.T) {
			fx := loadFixture(t, "frechet_"+name)
			var ref struct{ FDScipy, FDEig, KID float64 }
			fx.decode(t, &struct {
				FDScipy *float64 `json:"fd_scipy"`
				FDEig   *float64 `json:"fd_eig"`
				KID     *float64 `json:"kid"`
			}{&ref.FDScipy, &ref.FDEig, &ref.KID})
			x, y := fx.matrix(t, "x"), fx.matrix(t, "y")
			fd, err := Frechet(x, y)
			if err != nil {
				t.Fatal(err)
			}
			if e := relErr(fd, ref.FDScipy); e > 1e-6 {
				t.Errorf("Frechet = %.12g, scipy %.12g: rel err %.2e > 1e-6", fd, ref.FDScipy, e)
			}
			if e := relErr(fd, ref.FDEig); e > 1e-7 {
				t.Errorf("Frechet = %.12g, numpy eigh %.12g: rel err %.2e > 1e-7", fd, ref.FDEig, e)
			}
			kid, err := KernelDistance(x, y)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("fd %.12g: rel err vs scipy %.1e, vs eigh %.1e; kid rel err %.1e",
				fd, relErr(fd, ref.FDScipy), relErr(fd, ref.FDEig), relErr(kid, ref.KID))
			if e := relErr(kid, ref.KID); e > 1e-6 {
				t.Errorf("KernelDistance = %.12g, numpy %.12g: rel err %.2e > 1e-6", kid, ref.KID, e)
			}
		})
	}
}

func randMatrix(rng *rand.Rand, n, d int, shift float64) *mat.Dense {
	m := mat.NewDense(n, d, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			m.Set(i, j, rng.NormFloat64()+shift)
		}
	}
	return m
}

func TestFrechetProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := randMatrix(rng, 40, 6, 0)
	if fd, err := Frechet(x, x); err != nil || fd > 1e-9 {
		t.Errorf("Frechet(x, x) = %g, %v; want 0", fd, err)
	}
	y := randMatrix(rng, 40, 6, 0)
	a, _ := Frechet(x, y)
	b, _ := Frechet(y, x)
	if relErr(a, b) > 1e-9 {
		t.Errorf("not symmetric: %g vs %g", a, b)
	}
	// a pure mean shift by s in every dim adds d·s² exactly
	shifted := mat.NewDense(40, 6, nil)
	shifted.Apply(func(_, _ int, v float64) float64 { return v + 2 }, x)
	if fd, _ := Frechet(x, shifted); math.Abs(fd-24) > 1e-9 {
		t.Errorf("mean shift of 2 in 6 dims: %g, want 24", fd)
	}
}

func TestFrechetMonotone(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := randMatrix(rng, 300, 8, 0)
	prev := -1.0
	for _, s := range []float64{0, 0.25, 0.5, 1, 2} {
		fd, err := Frechet(x, randMatrix(rng, 300, 8, s))
		if err != nil {
			t.Fatal(err)
		}
		if fd <= prev {
			t.Errorf("shift %g: %g not above %g", s, fd, prev)
		}
		prev = fd
	}
}

func TestFeatureErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	nan := randMatrix(rng, 5, 3, 0)
	nan.Set(2, 1, math.NaN())
	cases := []struct {
		name   string
		x, y   *mat.Dense
		tooFew bool
	}{
		{"one sample", randMatrix(rng, 1, 3, 0), randMatrix(rng, 5, 3, 0), true},
		{"dims differ", randMatrix(rng, 5, 3, 0), randMatrix(rng, 5, 4, 0), false},
		{"nan", nan, randMatrix(rng, 5, 3, 0), false},
		{"nil", nil, randMatrix(rng, 5, 3, 0), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var x mat.Matrix
			if c.x != nil {
				x = c.x
			}
			for _, f := range []Statistic{Frechet, KernelDistance} {
				_, err := f(x, c.y)
				if err == nil {
					t.Fatal("no error")
				}
				if c.tooFew != errors.Is(err, ErrTooFew) {
					t.Errorf("errors.Is(%v, ErrTooFew) = %v", err, !c.tooFew)
				}
			}
		})
	}
}

func TestSqrtPSD(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	g, err := FitGaussian(randMatrix(rng, 4, 7, 0)) // rank 3
	if err != nil {
		t.Fatal(err)
	}
	if !g.RankDeficient() {
		t.Error("4 samples in 7 dims not reported rank-deficient")
	}
	r, err := SqrtPSD(g.Cov)
	if err != nil {
		t.Fatal(err)
	}
	var sq mat.Dense
	sq.Mul(r, r)
	if !mat.EqualApprox(&sq, g.Cov, 1e-10) {
		t.Errorf("sqrt² ≠ Σ:\n%v\n%v", mat.Formatted(&sq), mat.Formatted(g.Cov))
	}
}

func TestKernelSubsets(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	x, y := randMatrix(rng, 200, 5, 0), randMatrix(rng, 150, 5, 0)
	full, _ := KernelDistance(x, y)
	mean, std, err := KernelSubsets(x, y, 1000, 20, 1)
	if err != nil {
		t.Fatal(err)
	}
	if std == 0 || math.Abs(mean-full) > 3*std+0.02 {
		t.Errorf("same distribution: full %g, subsets %g ± %g", full, mean, std)
	}
	if _, _, err := KernelSubsets(x, y, 1, 20, 1); err == nil {
		t.Error("subset size 1 accepted")
	}
	far, _, _ := KernelSubsets(x, randMatrix(rng, 150, 5, 1), 100, 5, 1)
	if far <= mean {
		t.Errorf("shifted set: %g not above %g", far, mean)
	}
}

func TestBootstrap(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	x, y := randMatrix(rng, 100, 4, 0), randMatrix(rng, 100, 4, 0.5)
	iv, err := Bootstrap(x, y, Frechet, 50, 0, 3)
	if err != nil {
		t.Fatal(err)
	}
	if iv.Level != 0.95 || iv.Reps != 50 || !(iv.Lo < iv.Value && iv.Value < iv.Hi) || iv.StdDev <= 0 || iv.Shift >= 0 {
		t.Errorf("interval %+v (replicates of a Fréchet distance are biased upwards: shift < 0)", iv)
	}
	again, _ := Bootstrap(x, y, Frechet, 50, 0, 3)
	if again != iv {
		t.Errorf("not reproducible: %+v vs %+v", again, iv)
	}
	if _, err := Bootstrap(x, y, Frechet, -1, 0, 3); err == nil {
		t.Error("negative reps accepted")
	}
	if _, err := Bootstrap(x, y, Frechet, 5, 1.5, 3); err == nil {
		t.Error("level 1.5 accepted")
	}
}

func TestBootstrapPaired(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	x, a := randMatrix(rng, 100, 4, 0), randMatrix(rng, 100, 4, 0.3)
	// b is a drawn a little farther from x, row by row: the two distances
	// move together from resample to resample.
	b := mat.DenseCopyOf(a)
	b.Apply(func(_, _ int, v float64) float64 { return v + 0.1 }, b)

	same, err := BootstrapPaired(x, a, a, Frechet, 50, 0, 5)
	if err != nil {
		t.Fatal(err)
	}
	if same.Value != 0 || same.Lo != 0 || same.Hi != 0 || same.Above != 0 {
		t.Errorf("a against itself: %+v, want 0 in every replicate", same)
	}

	ia, _ := Bootstrap(x, a, Frechet, 50, 0, 5)
	ib, _ := Bootstrap(x, b, Frechet, 50, 0, 5)
	if !(ib.Lo < ia.Hi) {
		t.Fatalf("separate intervals %v and %v do not overlap: the case does not test pairing", ia, ib)
	}
	p, err := BootstrapPaired(x, a, b, Frechet, 50, 0, 5)
	if err != nil {
		t.Fatal(err)
	}
	if want := ib.Value - ia.Value; math.Abs(p.Value-want) > 1e-9 {
		t.Errorf("value %g, want %g", p.Value, want)
	}
	if !(p.Lo > 0) || p.Above != 1 || p.Reps != 50 {
		t.Errorf("paired %+v: want the whole interval and every replicate above 0", p)
	}
	if again, _ := BootstrapPaired(x, a, b, Frechet, 50, 0, 5); again != p {
		t.Errorf("not reproducible: %+v vs %+v", again, p)
	}
	if _, err := BootstrapPaired(x, a, randMatrix(rng, 99, 4, 0), Frechet, 5, 0, 5); err == nil {
		t.Error("sets of 100 and 99 rows accepted")
	}
	if _, err := BootstrapPaired(x, a, b, Frechet, -1, 0, 5); err == nil {
		t.Error("negative reps accepted")
	}
}

func TestQuantile(t *testing.T) {
	v := []float64{1, 2, 3, 4, 5}
	for _, c := range []struct{ q, want float64 }{{0, 1}, {1, 5}, {0.5, 3}, {0.025, 1.1}, {0.975, 4.9}} {
		if got := Quantile(v, c.q); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Quantile(%g) = %g, want %g", c.q, got, c.want)
		}
	}
	if !math.IsNaN(Quantile(nil, 0.5)) {
		t.Error("empty not NaN")
	}
}

func TestFromFloat32(t *testing.T) {
	m, err := FromFloat32([][]float32{{1, 2}, {3, 4}})
	if err != nil || m.At(1, 0) != 3 {
		t.Fatalf("%v %v", m, err)
	}
	for _, bad := range [][][]float32{nil, {{}}, {{1, 2}, {3}}, {{1, float32(math.Inf(1))}}} {
		if _, err := FromFloat32(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

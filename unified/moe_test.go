package unified

import (
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/omniar/omniar/internal/blas"
	"github.com/omniar/omniar/nn"
)

func TestMain(m *testing.M) {
	blas.Install()
	os.Exit(m.Run())
}

// moeGraph is one MoE layer on a random input, with loss = Σ y·r + aux.
type moeGraph struct {
	moe  *MoE
	x    *nn.Param // [N, Dim]
	yV   G.Value
	prog *nn.Program
	r    []float32
}

func newMoEGraph(t *testing.T, cfg Config, n int, seed uint64) *moeGraph {
	t.Helper()
	b := nn.NewBuilder(seed)
	g := &moeGraph{x: b.Param("x", false, nn.Normal(1), n, cfg.Dim)}
	g.moe = newMoE(b, "moe", cfg)
	y, aux, err := g.moe.Forward(g.x.Node())
	if err != nil {
		t.Fatal(err)
	}
	G.Read(y, &g.yV)
	rng := rand.New(rand.NewPCG(seed, 3))
	g.r = make([]float32, n*cfg.Dim)
	for i := range g.r {
		g.r[i] = float32(rng.NormFloat64())
	}
	rn := b.Input("r", n, cfg.Dim)
	if err := rn.Set(g.r); err != nil {
		t.Fatal(err)
	}
	yr, err := G.HadamardProd(y, rn.Node)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := G.Sum(yr)
	if err != nil {
		t.Fatal(err)
	}
	if aux != nil {
		if loss, err = G.Add(loss, aux); err != nil {
			t.Fatal(err)
		}
	}
	if g.prog, err = nn.Compile(b.G, loss, b.Params()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.prog.Close() })
	return g
}

func (g *moeGraph) run(t *testing.T) float64 {
	t.Helper()
	l, err := g.prog.Run()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// naiveMoE is the per-token reference: router logits, top-k by logit +
// bias, softmax over the selected logits, capacity in token order, one
// expert FFN per kept (token, expert) pair, plus the shared experts.
func naiveMoE(m *MoE, x []float32, n int) (y []float32, dropped int) {
	c := m.cfg
	d, h := c.Dim, c.ExpertHidden
	y = make([]float32, n*d)
	capacity := int(math.Ceil(c.Capacity * float64(n*c.TopK) / float64(c.Experts)))
	kept := make([]int, c.Experts)
	for t := 0; t < n; t++ {
		xt := x[t*d : (t+1)*d]
		logits := matVec(m.Router.W.Data(), xt, c.Experts, d)
		order := make([]int, c.Experts)
		for e := range order {
			order[e] = e
		}
		score := func(e int) float32 {
			if m.Bias != nil {
				return logits[e] + m.Bias[e]
			}
			return logits[e]
		}
		sort.SliceStable(order, func(i, j int) bool { return score(order[i]) > score(order[j]) })
		sel := order[:c.TopK]
		var mx float64 = math.Inf(-1)
		for _, e := range sel {
			mx = math.Max(mx, float64(logits[e]))
		}
		var z float64
		for _, e := range sel {
			z += math.Exp(float64(logits[e]) - mx)
		}
		for _, e := range sel {
			if kept[e] >= capacity {
				dropped++
				continue
			}
			kept[e]++
			g := float32(math.Exp(float64(logits[e])-mx) / z)
			out := swiglu(m.GateUp.Data()[e*2*h*d:(e+1)*2*h*d], m.Down.Data()[e*d*h:(e+1)*d*h], xt, d, h)
			for j, v := range out {
				y[t*d+j] += g * v
			}
		}
		if m.Shared != nil {
			sh := c.Shared * h
			out := swiglu(m.Shared.GateUp.W.Data(), m.Shared.Down.W.Data(), xt, d, sh)
			for j, v := range out {
				y[t*d+j] += v
			}
		}
	}
	return y, dropped
}

func matVec(w, x []float32, out, in int) []float32 {
	y := make([]float32, out)
	for o := range y {
		var s float64
		for i, v := range x {
			s += float64(w[o*in+i]) * float64(v)
		}
		y[o] = float32(s)
	}
	return y
}

func swiglu(gateUp, down, x []float32, d, h int) []float32 {
	a := matVec(gateUp, x, 2*h, d)
	u := make([]float32, h)
	for j := range u {
		g := float64(a[j])
		u[j] = float32(g / (1 + math.Exp(-g)) * float64(a[h+j]))
	}
	return matVec(down, u, d, h)
}

func relErr(got, want []float32) float64 {
	var num, den float64
	for i, v := range want {
		num += (float64(got[i]) - float64(v)) * (float64(got[i]) - float64(v))
		den += float64(v) * float64(v)
	}
	return math.Sqrt(num / math.Max(den, 1e-30))
}

// TestMoEMatchesNaive compares the batched dispatch with the per-token
// reference, with and without capacity overflow and a selection bias.
func TestMoEMatchesNaive(t *testing.T) {
	for _, tc := range []struct {
		name     string
		capacity float64
		bias     bool
		dropped  bool
	}{
		{"no_overflow", 4, false, false},
		{"overflow", 0.5, false, true},
		{"bias", 1.25, true, true}, // the bias piles tokens on the last experts
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Tiny()
			cfg.Capacity = tc.capacity
			if tc.bias {
				cfg.Balance = BalanceBias
			}
			const n = 24
			g := newMoEGraph(t, cfg, n, 5)
			if tc.bias {
				for e := range g.moe.Bias {
					g.moe.Bias[e] = float32(e) * 0.3
				}
			}
			g.run(t)
			want, dropped := naiveMoE(g.moe, g.x.Data(), n)
			if e := relErr(g.yV.Data().([]float32), want); e > 1e-5 {
				t.Errorf("MoE output differs from the per-token reference: rel err %.3g", e)
			}
			l := g.moe.load()
			if l.Dropped != dropped || (dropped > 0) != tc.dropped {
				t.Errorf("dropped %d, reference %d (want overflow %v)", l.Dropped, dropped, tc.dropped)
			}
			sel, kept := 0, 0
			for e := range l.Selected {
				sel += l.Selected[e]
				kept += l.Kept[e]
			}
			if sel != n*cfg.TopK || kept+l.Dropped != sel {
				t.Errorf("selected %d, kept %d, dropped %d for %d tokens × top-%d", sel, kept, l.Dropped, n, cfg.TopK)
			}
		})
	}
}

// TestRouterLossValues checks the balancing and z-loss against a hand
// computation from the router logits.
func TestRouterLossValues(t *testing.T) {
	cfg := Tiny()
	cfg.AuxWeight, cfg.ZWeight = 0.5, 0.25
	const n = 16
	g := newMoEGraph(t, cfg, n, 9)
	g.run(t)
	x, e := g.x.Data(), cfg.Experts
	f, p := make([]float64, e), make([]float64, e)
	var z float64
	for i := 0; i < n; i++ {
		l := matVec(g.moe.Router.W.Data(), x[i*cfg.Dim:(i+1)*cfg.Dim], e, cfg.Dim)
		var s float64
		for _, v := range l {
			s += math.Exp(float64(v))
		}
		z += math.Log(s) * math.Log(s) / n
		idx := make([]int, e)
		for j := range idx {
			idx[j] = j
		}
		sort.SliceStable(idx, func(a, b int) bool { return l[idx[a]] > l[idx[b]] })
		for _, j := range idx[:cfg.TopK] {
			f[j] += 1.0 / float64(n*cfg.TopK)
		}
		for j, v := range l {
			p[j] += math.Exp(float64(v)) / s / n
		}
	}
	var aux float64
	for j := range f {
		aux += float64(e) * f[j] * p[j]
	}
	ld := g.moe.load()
	if math.Abs(float64(ld.Aux)-aux) > 1e-5 || math.Abs(float64(ld.Z)-z) > 1e-4*math.Max(1, z) {
		t.Errorf("aux %g z %g, hand computation %g %g", ld.Aux, ld.Z, aux, z)
	}
}

// TestMoEGradient checks the gradient of a whole MoE layer (router,
// experts, shared expert, balancing loss) against central differences.
func TestMoEGradient(t *testing.T) {
	cfg := Tiny()
	cfg.AuxWeight, cfg.ZWeight = 0.5, 0.1
	g := newMoEGraph(t, cfg, 12, 4)
	g.run(t)
	params := []*nn.Param{g.x, g.moe.Router.W, g.moe.GateUp, g.moe.Down, g.moe.Shared.GateUp.W}
	grads := make([][]float32, len(params))
	for i, p := range params {
		grads[i] = append([]float32(nil), p.Grad()...)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	const eps = 1e-2
	for i, p := range params {
		var scale float64
		for _, v := range grads[i] {
			scale = math.Max(scale, math.Abs(float64(v)))
		}
		d := p.Data()
		for probe := 0; probe < 12; probe++ {
			j := rng.IntN(len(d))
			orig := d[j]
			d[j] = orig + eps
			lp := g.run(t)
			d[j] = orig - eps
			lm := g.run(t)
			d[j] = orig
			num := (lp - lm) / (2 * eps)
			if diff := math.Abs(num - float64(grads[i][j])); diff > 2e-2*math.Max(scale, 1e-3) {
				t.Errorf("d/d%s[%d]: analytic %.5g numeric %.5g", p.Name(), j, grads[i][j], num)
			}
		}
	}
}

package optim

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// vec is a Param backed by plain slices.
type vec struct {
	name  string
	data  []float32
	grad  []float32
	decay bool
}

func (v *vec) Name() string    { return v.name }
func (v *vec) Data() []float32 { return v.data }
func (v *vec) Grad() []float32 { return v.grad }
func (v *vec) Decay() bool     { return v.decay }

type torchFixture struct {
	Config struct {
		Beta1       float64 `json:"beta1"`
		Beta2       float64 `json:"beta2"`
		Eps         float64 `json:"eps"`
		WeightDecay float64 `json:"weight_decay"`
	} `json:"config"`
	Schedule struct {
		Peak   float64 `json:"peak"`
		Min    float64 `json:"min"`
		Warmup int     `json:"warmup"`
		Total  int     `json:"total"`
	} `json:"schedule"`
	Params []struct {
		Name  string    `json:"name"`
		Decay bool      `json:"decay"`
		Init  []float32 `json:"init"`
	} `json:"params"`
	LRs   []float64     `json:"lrs"`
	Grads [][][]float32 `json:"grads"`
	After [][][]float32 `json:"after"`
}

func loadFixture(t *testing.T) torchFixture {
	t.Helper()
	path := filepath.Join("testdata", "adamw_torch.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read fixture (make it with /usr/bin/python3 testdata/make_adamw_fixture.py): %v", err)
	}
	var f torchFixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return f
}

func TestAdamWMatchesTorch(t *testing.T) {
	f := loadFixture(t)
	cfg := AdamWConfig{Beta1: f.Config.Beta1, Beta2: f.Config.Beta2, Eps: f.Config.Eps, WeightDecay: f.Config.WeightDecay}
	sched := WarmupCosine{Peak: f.Schedule.Peak, Min: f.Schedule.Min, Warmup: f.Schedule.Warmup, Total: f.Schedule.Total}
	var params []Param
	for _, p := range f.Params {
		params = append(params, &vec{name: p.Name, data: append([]float32(nil), p.Init...), decay: p.Decay})
	}
	opt := NewAdamW(cfg, params)
	worst := 0.0
	for step := range f.Grads {
		lr := sched.LR(step)
		if !approxEq(lr, f.LRs[step], 1e-12) {
			t.Fatalf("step %d: lr %v, torch fixture used %v", step, lr, f.LRs[step])
		}
		opt.Step(lr, f.Grads[step])
		for i, p := range params {
			for j, got := range p.Data() {
				want := f.After[step][i][j]
				rel := math.Abs(float64(got-want)) / math.Max(math.Abs(float64(want)), 1e-6)
				worst = math.Max(worst, rel)
				if rel > 1e-5 {
					t.Errorf("step %d %s[%d]: got %v, torch %v (rel %.2g)", step, p.Name(), j, got, want, rel)
				}
			}
		}
	}
	t.Logf("worst relative error vs torch.optim.AdamW: %.3g", worst)
	if opt.StepCount() != len(f.Grads) {
		t.Errorf("StepCount %d, want %d", opt.StepCount(), len(f.Grads))
	}
}

func approxEq(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }

func TestAdamWNoDecayParamUntouchedAtZeroLR(t *testing.T) {
	p := &vec{name: "w", data: []float32{1, -2}, grad: []float32{0.5, 0.5}, decay: true}
	opt := NewAdamW(DefaultAdamW(), []Param{p})
	opt.Step(0, nil) // nil grads: use Grad()
	if p.data[0] != 1 || p.data[1] != -2 {
		t.Fatalf("lr 0 changed params: %v", p.data)
	}
	if st := opt.State(); st["m.w"][0] == 0 {
		t.Fatalf("moments not updated at lr 0: %v", st)
	}
}

func TestAdamWStateRoundTrip(t *testing.T) {
	mk := func() (*vec, *AdamW) {
		p := &vec{name: "w", data: []float32{1, 2, 3}, decay: true}
		return p, NewAdamW(DefaultAdamW(), []Param{p})
	}
	pa, a := mk()
	for i := range 3 {
		a.Step(0.01, [][]float32{{float32(i), -1, 0.5}})
	}
	pb, b := mk()
	copy(pb.data, pa.data)
	if err := b.SetState(a.StepCount(), a.State()); err != nil {
		t.Fatal(err)
	}
	g := [][]float32{{0.3, 0.2, -0.1}}
	a.Step(0.01, g)
	b.Step(0.01, g)
	for j := range pa.data {
		if pa.data[j] != pb.data[j] {
			t.Fatalf("restored optimizer diverged: %v vs %v", pa.data, pb.data)
		}
	}
}

func TestAdamWSetStateErrors(t *testing.T) {
	p := &vec{name: "w", data: []float32{1, 2, 3}}
	opt := NewAdamW(DefaultAdamW(), []Param{p})
	cases := map[string]struct {
		step int
		st   map[string][]float32
		want string
	}{
		"missing v":  {1, map[string][]float32{"m.w": {0, 0, 0}}, `"v.w" missing`},
		"wrong size": {1, map[string][]float32{"m.w": {0, 0}, "v.w": {0, 0, 0}}, `"m.w" has 2 values`},
		"neg step":   {-1, opt.State(), "negative"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := opt.SetState(c.step, c.st)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("SetState error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestAdamWMisalignedGradsSkipped(t *testing.T) {
	p := &vec{name: "w", data: []float32{1, 2}}
	opt := NewAdamW(DefaultAdamW(), []Param{p})
	opt.Step(0.1, [][]float32{{1}})      // too short
	opt.Step(0.1, [][]float32{{1}, {2}}) // too many
	if opt.StepCount() != 0 || p.data[0] != 1 {
		t.Fatalf("misaligned step was applied: step %d data %v", opt.StepCount(), p.data)
	}
	if err := opt.Check([][]float32{{1}}); err == nil || !strings.Contains(err.Error(), `"w"`) {
		t.Fatalf("Check error %v should name the param", err)
	}
}

func TestAdamWConfigValidate(t *testing.T) {
	if err := DefaultAdamW().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []AdamWConfig{{Beta1: 1, Beta2: 0.9, Eps: 1e-8}, {Beta1: 0.9, Beta2: 0.9}, {Beta1: 0.9, Beta2: 0.9, Eps: 1, WeightDecay: -1}, {Beta1: math.NaN(), Beta2: 0.9, Eps: 1}}
	for _, c := range bad {
		if c.Validate() == nil {
			t.Errorf("%+v validated", c)
		}
	}
}

package moestudy

import (
	"context"
	"math"
	"testing"

	"github.com/omniar/omniar/unified"
)

// TestActiveParams: the MoE and dense arms have (almost) the same active
// parameters, and the counts are those of the study's first report.
func TestActiveParams(t *testing.T) {
	for _, c := range []struct {
		s              Setup
		params, active int
	}{
		{Setups()[0], 3085440, 1905792},
		{Setups()[2], 1901696, 1901696},
	} {
		m, err := unified.NewLM(unified.LMConfig{Trunk: c.s.trunk(), Vocab: 4096, Batch: 1, Seq: 4, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, p := range m.Params() {
			n += len(p.Data())
		}
		m.Close()
		if a := activeParams(c.s.trunk(), n); n != c.params || a != c.active {
			t.Errorf("%s: %d params, %d active; want %d, %d", c.s, n, a, c.params, c.active)
		}
	}
}

// TestSummarise pairs each run with the dense run of its seed.
func TestSummarise(t *testing.T) {
	aux, dense := Setups()[0], Setups()[2]
	runs := []Run{
		{Setup: aux, Seed: 1, ValLoss: 5.0}, {Setup: dense, Seed: 1, ValLoss: 5.1},
		{Setup: aux, Seed: 2, ValLoss: 5.3}, {Setup: dense, Seed: 2, ValLoss: 5.2},
		{Setup: aux, Seed: 3, ValLoss: 5.0}, {Setup: dense, Seed: 3, ValLoss: 5.3},
	}
	s := summarise(runs)
	if len(s) != 2 || s[0].Setup != aux || s[1].Setup != dense {
		t.Fatalf("summary %+v", s)
	}
	// differences −0.1, +0.1, −0.3: mean −0.1, sd 0.2, se 0.2/√3
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if a := s[0]; a.Seeds != 3 || !near(a.ValLoss, 5.1) || !near(a.VsDense, -0.1) || !near(a.VsDenseSE, 0.2/math.Sqrt(3)) || a.Lower != 2 {
		t.Errorf("aux summary %+v", a)
	}
	if d := s[1]; !near(d.VsDense, 0) || d.Lower != 0 || !near(d.ValSD, 0.1) {
		t.Errorf("dense summary %+v", d)
	}
}

func TestLoadSpread(t *testing.T) {
	hi, lo := loadSpread([][]int{{2, 2, 2, 2}, {4, 2, 2, 0}})
	if hi != 1.5 || lo != 0.5 {
		t.Errorf("loadSpread = %v, %v; want 1.5, 0.5", hi, lo)
	}
}

func TestBadOptions(t *testing.T) {
	for _, o := range []Options{
		{Steps: 50, Seeds: []uint64{1}, ValWindows: 40},
		{Steps: 600, ValWindows: 40},
		{Steps: 600, Seeds: []uint64{1}},
		{Steps: 600, Seeds: []uint64{1}, ValWindows: 40, Tokenizer: "missing.json"},
	} {
		if _, err := Study(context.Background(), o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

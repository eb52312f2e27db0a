package unified

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/omniar/omniar/nn"
	tk "github.com/omniar/omniar/tokenizers"
)

// TestDecodeMatchesGraph runs a conditioned, bias-balanced trunk with a
// 4-axis rope on a text + image layout through the graph, then group by
// group through Decode with a KV cache, for the full model and for
// sub-models, and compares every position.
func TestDecodeMatchesGraph(t *testing.T) {
	v, err := tk.New(tk.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	lay, err := BuildLayout(v, Text(tk.BOS, 40, 41), Segment{Scales: []int{1, 2, 3}, Frames: [][][]int{{nil, nil, nil}}, Image: true}, Text(tk.EOS))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Tiny()
	cfg.Layers, cfg.Heads, cfg.RopeSplit, cfg.CondDim = 3, 2, []int{2, 2, 2, 2}, 4
	cfg.Capacity, cfg.Balance = 4, BalanceBias // capacity 4 = E/k·… keeps every token
	const bsz = 2
	tt := lay.Len()
	b := nn.NewBuilder(3)
	x := b.Param("x", false, nn.Normal(1), bsz*tt, cfg.Dim)
	cond := b.Param("cond", false, nn.Normal(1), bsz, cfg.CondDim)
	trunk, err := NewTrunk(b, "trunk", cfg)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(4, 4))
	for _, p := range b.Params() { // non-zero adaptive norms and biases, so they are tested
		if strings.Contains(p.Name(), ".ada.") {
			for i := range p.Data() {
				p.Data()[i] = float32(rng.NormFloat64() * 0.2)
			}
		}
	}
	for _, blk := range trunk.Blocks {
		for e := range blk.MoE.Bias {
			blk.MoE.Bias[e] = float32(rng.NormFloat64() * 0.3)
		}
	}
	rope, err := trunk.NewRope(bsz * tt)
	if err != nil {
		t.Fatal(err)
	}
	one, err := lay.RopePositions(0, tt, NumAxes)
	if err != nil {
		t.Fatal(err)
	}
	if err := rope.SetPositions(append(append([]float64(nil), one...), one...)); err != nil {
		t.Fatal(err)
	}
	h, _, err := trunk.Forward(x.Node(), bsz, tt, rope, lay.Mask(), cond.Node())
	if err != nil {
		t.Fatal(err)
	}
	var hV G.Value
	G.Read(h, &hV)
	vm := nn.CompileForward(b.G)
	defer vm.Close()
	for _, sub := range []Sub{{}, {Layers: []int{0, 2}}, {Experts: 5, TopK: 1}, {Layers: []int{1}, Experts: 2}} {
		if err := trunk.SetSub(sub); err != nil {
			t.Fatal(err)
		}
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		vm.Reset()
		for _, l := range trunk.Loads() {
			if l.Dropped != 0 {
				t.Fatalf("%v: %d tokens dropped; the test needs none", sub, l.Dropped)
			}
		}
		want := hV.Data().([]float32)
		d := cfg.Dim
		// Group by group, and with the leading text groups in one Prefill.
		for _, prefill := range []bool{false, true} {
			checkDecode(t, trunk, lay, x.Data(), cond.Data(), want, bsz, d, prefill, sub)
		}
	}
	c := trunk.NewCache(bsz)
	if _, err := trunk.Decode(c, make([]float32, 3), 1, []float64{0, 0, 0, 0}, cond.Data()); err == nil {
		t.Error("wrong input size accepted")
	}
	if err := trunk.SetSub(Sub{}); err != nil {
		t.Fatal(err)
	}
	if _, err := trunk.Decode(c, make([]float32, bsz*cfg.Dim), 1, []float64{0, 0, 0, 0}, cond.Data()); err == nil {
		t.Error("cache of another sub-model accepted")
	}
	// The cache keeps the adaptive norms' projections only while the
	// conditioning stays the same: a second group under another
	// conditioning must differ from the same group under the first.
	row := make([]float32, bsz*cfg.Dim)
	for i := range row {
		row[i] = float32(i%7) - 3
	}
	zero := []float64{0, 0, 0, 0}
	other := slices.Clone(cond.Data())
	other[0] += 1
	var second [2][]float32
	for i, cd := range [][]float32{cond.Data(), other} {
		c := trunk.NewCache(bsz)
		if _, err := trunk.Decode(c, row, 1, zero, cond.Data()); err != nil {
			t.Fatal(err)
		}
		if second[i], err = trunk.Decode(c, row, 1, zero, cd); err != nil {
			t.Fatal(err)
		}
	}
	if e := relErr(second[1][:cfg.Dim], second[0][:cfg.Dim]); e < 1e-3 {
		t.Errorf("a new conditioning changed the first sequence's output by %.3g only: stale adaptive norms", e)
	}
}

// checkDecode decodes lay group by group (the first prefix groups of one
// position each in one Prefill if prefill) and compares with want.
func checkDecode(t *testing.T, trunk *Trunk, lay *Layout, x, cond, want []float32, bsz, d int, prefill bool, sub Sub) {
	t.Helper()
	tt := lay.Len()
	c := trunk.NewCache(bsz)
	// run passes positions [lo, hi) of every sequence through step.
	run := func(lo, hi int, step func(*Cache, []float32, int, []float64, []float32) ([]float32, error), what string) {
		n := hi - lo
		in := make([]float32, 0, bsz*n*d)
		for s := 0; s < bsz; s++ {
			in = append(in, x[(s*tt+lo)*d:(s*tt+hi)*d]...)
		}
		pos, err := lay.RopePositions(lo, hi, NumAxes)
		if err != nil {
			t.Fatal(err)
		}
		got, err := step(c, in, n, pos, cond)
		if err != nil {
			t.Fatal(err)
		}
		for s := 0; s < bsz; s++ {
			if e := relErr(got[s*n*d:(s+1)*n*d], want[(s*tt+lo)*d:(s*tt+hi)*d]); e > 1e-4 {
				t.Errorf("%v: %s of sequence %d: rel err %.3g", sub, what, s, e)
			}
		}
	}
	g0 := 0
	if prefill {
		for lo, hi := lay.Span(g0); hi-lo == 1 && lay.Pos[lo].Kind == KindToken; lo, hi = lay.Span(g0) {
			g0++
		}
		if g0 < 2 {
			t.Fatalf("layout starts with %d text positions; the prefill check needs 2 or more", g0)
		}
		run(0, g0, trunk.Prefill, "prefill")
	}
	for g := g0; g < lay.Groups; g++ {
		lo, hi := lay.Span(g)
		run(lo, hi, trunk.Decode, fmt.Sprintf("group %d", g))
	}
}

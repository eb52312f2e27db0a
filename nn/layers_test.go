package nn

import (
	"strings"
	"testing"
)

// TestBlockTorch checks a whole pre-norm block (RMSNorm, RoPE attention,
// SwiGLU, residuals) and Program's backward pass against PyTorch.
func TestBlockTorch(t *testing.T) {
	fx := loadFixture(t, "block")
	p := func(k string) int { return int(fx.params[k].(float64)) }
	b, tt, dim, heads := p("b"), p("t"), p("dim"), p("heads")
	bld := NewBuilder(1)
	x := bld.Param("x", false, Const(0), b*tt, dim)
	blk, err := NewBlock(bld, "blk", BlockConfig{Dim: dim, Heads: heads, Hidden: p("hidden"), NormEps: 1e-5})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range bld.Params() {
		src, ok := fx.inputs[strings.TrimPrefix(q.Name(), "blk.")]
		if !ok {
			t.Fatalf("fixture has no tensor for %s", q.Name())
		}
		copy(q.Data(), src.Float32s())
	}
	rope, err := NewRope(dim/heads, []int{dim / heads / 2}, 10000, b*tt)
	if err != nil {
		t.Fatal(err)
	}
	pos := make([]float64, b*tt)
	for i := range pos {
		pos[i] = float64(i % tt)
	}
	if err := rope.SetPositions(pos); err != nil {
		t.Fatal(err)
	}
	out, err := blk.Forward(x.Node(), b, tt, rope, CausalMask(tt))
	if err != nil {
		t.Fatal(err)
	}
	loss, err := apply(weightedSumK{r: fx.r, nd: 2}, out)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := Compile(bld.G, loss, bld.Params())
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	var want float64
	for i, v := range fx.out.Float32s() {
		want += float64(v) * float64(fx.r[i])
	}
	for run := 0; run < 2; run++ { // the second run reuses every buffer
		got, err := prog.Run()
		if err != nil {
			t.Fatal(err)
		}
		if e := maxRelErr([]float32{float32(got)}, []float32{float32(want)}); e > 1e-4 {
			t.Errorf("run %d: loss %g, PyTorch %g", run, got, want)
		}
		for _, q := range bld.Params() {
			if e := maxRelErr(q.Grad(), fx.grads[strings.TrimPrefix(q.Name(), "blk.")]); e > 1e-4 {
				t.Errorf("run %d: grad %s rel err %.3g > 1e-4", run, q.Name(), e)
			}
		}
	}
}

// TestApplyMatchesForward: the slice paths of Linear, Embedding and
// RMSNorm equal their graph forms.
func TestApplyMatchesForward(t *testing.T) {
	for _, bias := range []bool{false, true} {
		b := NewBuilder(3)
		x := b.Param("x", false, Normal(1), 5, 7)
		l := NewLinear(b, "lin", 7, 4, bias)
		e := NewEmbedding(b, "emb", 10, 3)
		nrm := NewRMSNorm(b, "norm", 7, 1e-5)
		for i := range nrm.W.Data() {
			nrm.W.Data()[i] = 0.5 + float32(i)/7
		}
		ids := NewInts(3)
		copy(ids.V, []int{9, 0, 4})
		y, err := l.Forward(x.Node())
		if err != nil {
			t.Fatal(err)
		}
		r, err := e.Forward(ids)
		if err != nil {
			t.Fatal(err)
		}
		z, err := nrm.Forward(x.Node())
		if err != nil {
			t.Fatal(err)
		}
		vm := CompileForward(b.G)
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		got, want := l.Apply(x.Data(), 5), y.Value().Data().([]float32)
		for i := range want {
			if d := got[i] - want[i]; d > 1e-5 || d < -1e-5 {
				t.Fatalf("bias %v: Apply[%d] = %g, Forward %g", bias, i, got[i], want[i])
			}
		}
		normed, wantNormed := make([]float32, 5*7), z.Value().Data().([]float32)
		nrm.Apply(normed, x.Data())
		for i := range wantNormed {
			if d := normed[i] - wantNormed[i]; d > 1e-5 || d < -1e-5 {
				t.Fatalf("RMSNorm Apply[%d] = %g, Forward %g", i, normed[i], wantNormed[i])
			}
		}
		rows, wantRows := e.Rows(ids.V), r.Value().Data().([]float32)
		for i := range wantRows {
			if rows[i] != wantRows[i] {
				t.Fatalf("Rows[%d] = %g, Forward %g", i, rows[i], wantRows[i])
			}
		}
		vm.Close()
	}
}

// TestLoadBuilder checks that a load builder skips the initialisers,
// in sub-builders too, and that the usual builder runs them.
func TestLoadBuilder(t *testing.T) {
	for _, tc := range []struct {
		b        *Builder
		wantZero bool
	}{{NewLoadBuilder(), true}, {NewBuilder(1), false}} {
		p := tc.b.Sub("blk").Param("w", false, Normal(1), 4, 3)
		zero := true
		for _, v := range p.Data() {
			zero = zero && v == 0
		}
		if zero != tc.wantZero {
			t.Errorf("%s: all zero %v, want %v", p.Name(), zero, tc.wantZero)
		}
	}
}

// TestLoadByName: CheckBuild and LoadParams accept weights of the right
// names and sizes and name the tensor that is missing or of another size.
func TestLoadByName(t *testing.T) {
	build := func(b *Builder) error { NewLinear(b, "fc", 3, 2, true); return nil }
	good := map[string][]float32{"fc.weight": {1, 2, 3, 4, 5, 6}, "fc.bias": {7, 8}}
	for _, c := range []struct {
		name string
		w    map[string][]float32
		want string // "" for no error
	}{
		{"fits", good, ""},
		{"missing", map[string][]float32{"fc.weight": good["fc.weight"]}, "fc.bias"},
		{"size", map[string][]float32{"fc.weight": good["fc.weight"], "fc.bias": {1, 2, 3}}, "fc.bias"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := NewBuilder(1)
			if err := build(b); err != nil {
				t.Fatal(err)
			}
			for what, err := range map[string]error{"CheckBuild": CheckBuild(build, MapSizes(c.w)), "LoadParams": LoadParams(b.Params(), c.w)} {
				if (err == nil) != (c.want == "") || err != nil && !strings.Contains(err.Error(), c.want) {
					t.Errorf("%s: %v, want an error naming %q", what, err, c.want)
				}
			}
			if c.want == "" && (b.Params()[0].Data()[5] != 6 || b.Params()[1].Data()[1] != 8) {
				t.Errorf("loaded %v %v", b.Params()[0].Data(), b.Params()[1].Data())
			}
		})
	}
}

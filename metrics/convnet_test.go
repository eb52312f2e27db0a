package metrics

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/omniar/omniar/nn/ckpt"
	"github.com/omniar/omniar/nn/optim"
)

// tinyNet is a test network: 2 convs on [1, 3, 8, 8], 2 binary labels.
func tinyNet() NetConfig {
	return NetConfig{Name: "tiny", Input: [4]int{1, 3, 8, 8}, Features: 8, Logits: 4, Binary: true, Convs: []ConvLayer{
		{Out: 4, Kernel: [3]int{3, 3, 3}, Stride: [3]int{1, 2, 2}, Padding: [3]int{1, 1, 1}},
		{Out: 4, Kernel: [3]int{1, 3, 3}, Stride: [3]int{1, 2, 2}, Padding: [3]int{0, 1, 1}},
	}}
}

// tinyData: label 0 present if the clip is bright on the left, label 1 if
// it moves (frames differ).
func tinyData(rng *rand.Rand, n int) ([]float32, []int) {
	x := make([]float32, 0, n*192)
	var tg []int
	for i := 0; i < n; i++ {
		left, moves := rng.IntN(2), rng.IntN(2)
		for t := 0; t < 3; t++ {
			for y := 0; y < 8; y++ {
				for c := 0; c < 8; c++ {
					v := float32(0.1 * rng.Float64())
					if (c < 4) == (left == 1) {
						v += 0.5
					}
					if moves == 1 && c == (2*t+y)%8 {
						v += 1
					}
					x = append(x, v)
				}
			}
		}
		tg = append(tg, left, moves)
	}
	return x, tg
}

// TestTrainerLearns: each pooling learns the tiny task, and its frozen
// copy predicts what it does.
func TestTrainerLearns(t *testing.T) {
	for _, pool := range []string{"", "mean", "max-space"} {
		t.Run("pool="+pool, func(t *testing.T) {
			cfg := tinyNet()
			cfg.Pool = pool
			trainerLearns(t, cfg)
		})
	}
}

func trainerLearns(t *testing.T, cfg NetConfig) {
	tr, err := NewTrainer(cfg, 16, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	opt := optim.NewAdamW(optim.AdamWConfig{Beta1: 0.9, Beta2: 0.99, Eps: 1e-8}, tr.OptimParams())
	rng := rand.New(rand.NewPCG(1, 1))
	var first, last float64
	for step := 0; step < 150; step++ {
		x, tg := tinyData(rng, 16)
		loss, err := tr.Step(x, tg)
		if err != nil {
			t.Fatal(err)
		}
		if step == 0 {
			first = loss
		}
		last = loss
		var grads [][]float32
		for _, p := range tr.OptimParams() {
			grads = append(grads, p.Grad())
		}
		opt.Step(0.01, grads)
	}
	if !(last < first/3) {
		t.Fatalf("loss %g → %g", first, last)
	}
	// frozen copy at another batch size, saved and loaded, predicts the same
	path := filepath.Join(t.TempDir(), "tiny.safetensors")
	if err := tr.Net.Save(path, map[string]string{"note": "test"}); err != nil {
		t.Fatal(err)
	}
	w, err := LoadWeights(path)
	if err != nil {
		t.Fatal(err)
	}
	if w.Meta["note"] != "test" || len(w.SHA256) != 64 || w.Cfg.Name != "tiny" {
		t.Errorf("weights %+v", w)
	}
	n, err := w.Build(5)
	if err != nil {
		t.Fatal(err)
	}
	run := NewRunner(n)
	defer run.Close()
	x, tg := tinyData(rng, 23) // 5 batches, the last padded
	out, err := run.Run(x)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Feats) != 23 || len(out.Feats[0]) != 8 || len(out.Logits[0]) != 4 {
		t.Fatalf("shapes %d × %d, %d", len(out.Feats), len(out.Feats[0]), len(out.Logits[0]))
	}
	ok := 0
	for i, l := range out.Logits {
		if (l[1] > l[0]) == (tg[2*i] == 1) && (l[3] > l[2]) == (tg[2*i+1] == 1) {
			ok++
		}
	}
	if ok < 20 {
		t.Errorf("frozen net: %d of 23 right", ok)
	}
	one, _ := run.Run(x[:192]) // a sample alone gives the same output as in a batch
	for j, v := range one.Feats[0] {
		if math.Abs(float64(v-out.Feats[0][j])) > 1e-6 {
			t.Fatalf("feature %d: %g alone, %g in a batch", j, v, out.Feats[0][j])
		}
	}
	if _, err := run.Run(x[:100]); err == nil {
		t.Error("partial sample accepted")
	}
}

func TestLoadWeightsErrors(t *testing.T) {
	dir := t.TempDir()
	noConfig := filepath.Join(dir, "plain.safetensors")
	if err := ckpt.Save(noConfig, nil, []ckpt.Tensor{{Name: "w", Shape: []int{1}, Data: []float32{1}}}, ckpt.F32); err != nil {
		t.Fatal(err)
	}
	badCfg := filepath.Join(dir, "bad.safetensors")
	if err := ckpt.Save(badCfg, map[string]string{MetaConfig: `{"name":"x"}`}, []ckpt.Tensor{{Name: "w", Shape: []int{1}, Data: []float32{1}}}, ckpt.F32); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.safetensors")
	os.WriteFile(garbage, []byte("not a safetensors file"), 0o644)
	cases := []struct{ path, want string }{
		{filepath.Join(dir, "missing.safetensors"), "missing.safetensors"},
		{noConfig, "not a metrics network"},
		{badCfg, "need convs"},
		{garbage, "garbage.safetensors"},
	}
	for _, c := range cases {
		_, err := LoadWeights(c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.path, err, c.want)
		}
	}
	// a file of another config fails in Build with the tensor named
	tr, _ := NewTrainer(tinyNet(), 2, 1)
	defer tr.Close()
	path := filepath.Join(dir, "tiny.safetensors")
	tr.Net.Save(path, nil)
	w, _ := LoadWeights(path)
	w.Cfg.Features = 9
	if _, err := w.Build(1); err == nil || !strings.Contains(err.Error(), "fc.weight") || !strings.Contains(err.Error(), "elements") {
		t.Errorf("mismatched build: %v", err)
	}
	// a file whose config asks for more than it stores fails at load,
	// before anything of the config's size is built
	wide := tinyNet()
	wide.Convs = slices.Clone(wide.Convs)
	wide.Convs[0].Out *= 10
	f, err := ckpt.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var ts []ckpt.Tensor
	for _, n := range f.Names() {
		v, err := f.Get(n)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, ckpt.Tensor{Name: n, Shape: []int{len(v)}, Data: v})
	}
	wideJSON, err := json.Marshal(wide)
	if err != nil {
		t.Fatal(err)
	}
	widePath := filepath.Join(dir, "wide.safetensors")
	if err := ckpt.Save(widePath, map[string]string{MetaConfig: string(wideJSON)}, ts, ckpt.F32); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadWeights(widePath); err == nil || !strings.Contains(err.Error(), "conv0.weight") || !strings.Contains(err.Error(), "wide.safetensors") {
		t.Errorf("config wider than its tensors: %v", err)
	}
}

func TestNetConfigValidate(t *testing.T) {
	bad := []NetConfig{
		{Name: "no convs", Input: [4]int{1, 1, 8, 8}, Features: 4, Logits: 2},
		{Name: "odd binary", Input: [4]int{1, 1, 8, 8}, Features: 4, Logits: 3, Binary: true, Convs: tinyNet().Convs},
		{Name: "zero input", Input: [4]int{1, 0, 8, 8}, Features: 4, Logits: 2, Convs: tinyNet().Convs},
		{Name: "huge conv", Input: [4]int{1, 1, 8, 8}, Features: 4, Logits: 2, Convs: []ConvLayer{{Out: 1 << 20, Kernel: [3]int{1, 3, 3}, Stride: [3]int{1, 1, 1}}}},
		{Name: "zero stride", Input: [4]int{1, 1, 8, 8}, Features: 4, Logits: 2, Convs: []ConvLayer{{Out: 4, Kernel: [3]int{1, 3, 3}}}},
	}
	for _, c := range bad {
		if c.Validate() == nil {
			t.Errorf("%s accepted", c.Name)
		}
		if _, err := NewNet(c, 1, 1); err == nil {
			t.Errorf("%s built", c.Name)
		}
	}
	if _, err := NewNet(tinyNet(), 0, 1); err == nil {
		t.Error("batch 0 built")
	}
}

func TestTrainerAux(t *testing.T) {
	cfg := tinyNet()
	cfg.Aux = 3
	tr, err := NewTrainer(cfg, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if tr.Cells != 3*2*2 || tr.NumTargets() != 4*2+4*12 { // last map [4, 3, 2, 2]
		t.Errorf("cells %d, targets %d", tr.Cells, tr.NumTargets())
	}
	rng := rand.New(rand.NewPCG(2, 2))
	x, tg := tinyData(rng, 4)
	for i := 0; i < tr.Cells*4; i++ {
		tg = append(tg, i%3)
	}
	tg[len(tg)-1] = -100
	l0, err := tr.Step(x, tg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Step(x, tg[:5]); err == nil {
		t.Error("short targets accepted")
	}
	plain, _ := NewTrainer(tinyNet(), 4, 1)
	defer plain.Close()
	l1, _ := plain.Step(x, tg[:8])
	if !(l0 > l1) {
		t.Errorf("loss with the auxiliary head %g not above the plain %g", l0, l1)
	}
	path := filepath.Join(t.TempDir(), "aux.safetensors")
	if err := tr.Net.Save(path, nil); err != nil {
		t.Fatal(err)
	}
	f, _ := ckpt.Load(path)
	for _, n := range f.Names() {
		if strings.HasPrefix(n, "aux.") {
			t.Errorf("saved %s", n)
		}
	}
	w, _ := LoadWeights(path)
	if _, err := w.Build(2); err != nil {
		t.Errorf("weights without the auxiliary head do not build: %v", err)
	}
}

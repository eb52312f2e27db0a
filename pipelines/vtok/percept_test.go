package vtok

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/omniar/omniar/metrics"
)

// TestPerceptConvs: a metrics network's convolutions come out with their
// shapes and weights; networks that mix frames or read another channel
// count, and missing or corrupt files, are refused with the file named.
func TestPerceptConvs(t *testing.T) {
	dir := t.TempDir()
	save := func(name string, cfg metrics.NetConfig) string {
		n, err := metrics.NewNet(cfg, 1, 3)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := n.Save(p, nil); err != nil {
			t.Fatal(err)
		}
		return p
	}
	frame := metrics.NetConfig{Name: "f", Input: [4]int{1, 1, 12, 12}, Features: 4, Logits: 2, Convs: []metrics.ConvLayer{
		{Out: 3, Kernel: [3]int{1, 3, 3}, Stride: [3]int{1, 1, 1}, Padding: [3]int{0, 1, 1}},
		{Out: 5, Kernel: [3]int{1, 3, 3}, Stride: [3]int{1, 2, 2}, Padding: [3]int{0, 1, 1}}}}
	good := save("good.safetensors", frame)
	mix := frame
	mix.Convs = []metrics.ConvLayer{{Out: 3, Kernel: [3]int{3, 3, 3}, Stride: [3]int{1, 1, 1}, Padding: [3]int{1, 1, 1}}}
	mixes := save("mix.safetensors", mix)
	corrupt := filepath.Join(dir, "corrupt.safetensors")
	if err := os.WriteFile(corrupt, []byte("not a weights file"), 0o644); err != nil {
		t.Fatal(err)
	}

	convs, err := perceptConvs(good, 1)
	if err != nil {
		t.Fatal(err)
	}
	w, err := metrics.LoadWeights(good)
	if err != nil {
		t.Fatal(err)
	}
	n, err := w.Build(1)
	if err != nil {
		t.Fatal(err)
	}
	if len(convs) != 2 || convs[0].Cfg.In != 1 || convs[0].Cfg.Out != 3 || convs[1].Cfg.In != 3 || convs[1].Cfg.Stride != [3]int{1, 2, 2} {
		t.Fatalf("convs %+v", convs)
	}
	if !slices.Equal(convs[1].W, n.Params()[2].Data()) || !slices.Equal(convs[1].B, n.Params()[3].Data()) {
		t.Errorf("conv 1's weights are not the file's (%s, %s)", n.Params()[2].Name(), n.Params()[3].Name())
	}
	for _, c := range []struct {
		name, path string
		channels   int
		want       string
	}{
		{"mixes frames", mixes, 1, "mixes frames"},
		{"other channels", good, 3, "3"},
		{"missing", filepath.Join(dir, "none.safetensors"), 1, "none.safetensors"},
		{"corrupt", corrupt, 1, "corrupt.safetensors"},
	} {
		if _, err := perceptConvs(c.path, c.channels); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming %q", c.name, err, c.want)
		}
	}
}

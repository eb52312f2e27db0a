package ckpt

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestQ8 saves tensors blockwise as int8 and checks every value against
// its block's bound, that the scales are hidden from Names, and that F16
// tensors beside them are unchanged.
func TestQ8(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		name string
		n    int
		amp  float64
	}{{"blocks", 96, 1}, {"short last block", 70, 0.02}, {"zeros", 40, 0}, {"one", 1, 5}} {
		t.Run(tc.name, func(t *testing.T) {
			x := make([]float32, tc.n)
			for i := range x {
				x[i] = float32(rng.NormFloat64() * tc.amp * float64(1+i%7))
			}
			plain := []float32{0.1, -0.2, 0.3}
			path := filepath.Join(t.TempDir(), "q.safetensors")
			if err := Save(path, nil, []Tensor{{Name: "w", Shape: []int{tc.n}, Data: x, Store: Q8}, {Name: "b", Shape: []int{3}, Data: plain}}, F16); err != nil {
				t.Fatal(err)
			}
			f, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Names(); !slices.Equal(got, []string{"b", "w"}) {
				t.Errorf("names %v, want [b w]", got)
			}
			got, err := f.Get("w", tc.n)
			if err != nil {
				t.Fatal(err)
			}
			for b := 0; b*Q8Block < tc.n; b++ {
				blk := x[b*Q8Block : min(tc.n, (b+1)*Q8Block)]
				var m float64
				for _, v := range blk {
					m = math.Max(m, math.Abs(float64(v)))
				}
				for i, v := range blk {
					if d := math.Abs(float64(got[b*Q8Block+i] - v)); d > m/254*1.01+1e-12 {
						t.Fatalf("value %d: %g for %g, error %g over the bound %g", b*Q8Block+i, got[b*Q8Block+i], v, d, m/254)
					}
				}
			}
			pb, err := f.Get("b")
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range plain {
				if pb[i] != RoundF16(v) {
					t.Errorf("F16 tensor changed: %v", pb)
				}
			}
		})
	}
}

// TestQ8Corrupt: an I8 tensor without its scales, or with too few, is an
// error naming the tensor.
func TestQ8Corrupt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ok.safetensors")
	ts := []Tensor{{Name: "w", Shape: []int{64}, Data: make([]float32, 64), Store: Q8}, {Name: "v", Shape: []int{32}, Data: make([]float32, 32), Store: Q8}}
	if err := Save(path, nil, ts, F32); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, want string
		edit       func(string) string
	}{
		{"no scales", "no scales", func(h string) string { return strings.Replace(h, `"w.q8_scale"`, `"w.other___"`, 1) }},
		{"too few scales", "1 scales", func(h string) string { // w gets v's one scale
			h = strings.Replace(h, `"w.q8_scale"`, `"x.q8_scale"`, 1)
			h = strings.Replace(h, `"v.q8_scale"`, `"w.q8_scale"`, 1)
			return strings.Replace(h, `"x.q8_scale"`, `"v.q8_scale"`, 1)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := readFile(t, path)
			hdr := tc.edit(string(b[8:]))
			if len(hdr) != len(b)-8 {
				t.Fatal("the edit changed the header's length")
			}
			f, err := Decode("edited", append(b[:8:8], hdr...))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Get("w"); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"w"`) {
				t.Errorf("Get: %v, want an error about %q naming the tensor", err, tc.want)
			}
		})
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

package video

import (
	"regexp"
	"testing"
)

func TestWeightsID(t *testing.T) {
	w := Weights{Params: map[string][]float32{"quant.phi.weight": {0.5, -1}, "dec.x": {1}}, Codebook: []float32{0, 0, 1, 2}}
	id := w.ID()
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(id) {
		t.Fatalf("id %q is not 16 hex digits", id)
	}
	other := func(mod func(*Weights)) string {
		v := Weights{Params: map[string][]float32{"quant.phi.weight": {0.5, -1}, "dec.x": {1}}, Codebook: []float32{0, 0, 1, 2}}
		mod(&v)
		return v.ID()
	}
	for _, tc := range []struct {
		name string
		mod  func(*Weights)
		same bool
	}{
		{"copy", func(*Weights) {}, true},
		{"decoder weight (not part of the id)", func(v *Weights) { v.Params["dec.x"][0] = 2 }, true},
		{"codebook", func(v *Weights) { v.Codebook[3] = 2.5 }, false},
		{"phi", func(v *Weights) { v.Params["quant.phi.weight"][0] = 0.25 }, false},
	} {
		if got := other(tc.mod); (got == id) != tc.same {
			t.Errorf("%s: id %s, base %s, want same=%v", tc.name, got, id, tc.same)
		}
	}
}

package metrics

import (
	"encoding/json"
	"math"
	"path/filepath"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/omniar/omniar/nn/ckpt"
)

// fixture is one reference case written by tools/fixtures_metrics.py.
type fixture struct {
	f   *ckpt.File
	ref json.RawMessage
}

func loadFixture(t *testing.T, name string) fixture {
	t.Helper()
	f, err := ckpt.Load(filepath.Join("testdata", "fixtures", name+".safetensors"))
	if err != nil {
		t.Fatalf("%v (run /usr/bin/python3 tools/fixtures_metrics.py)", err)
	}
	return fixture{f: f, ref: json.RawMessage(f.Meta["ref"])}
}

// matrix reads a 2-D tensor as float64.
func (fx fixture) matrix(t *testing.T, name string) *mat.Dense {
	t.Helper()
	shape, ok := fx.f.Shape(name)
	if !ok || len(shape) != 2 {
		t.Fatalf("fixture has no 2-D tensor %q", name)
	}
	d, err := fx.f.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, len(d))
	for i, v := range d {
		out[i] = float64(v)
	}
	return mat.NewDense(shape[0], shape[1], out)
}

func (fx fixture) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(fx.ref, v); err != nil {
		t.Fatalf("fixture ref: %v", err)
	}
}

func relErr(got, want float64) float64 {
	if got == want {
		return 0
	}
	return math.Abs(got-want) / math.Max(math.Abs(want), 1e-300)
}

package bench

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ob "github.com/omniar/omniar/internal/blas"
)

// TestRunGoSide runs the benchmark harness without the PyTorch peer and
// checks the report it prints and writes (the figures themselves are for
// `make bench`, not for a timed test).
func TestRunGoSide(t *testing.T) {
	ob.Install()
	out := filepath.Join(t.TempDir(), "bench", "engine.json")
	var buf strings.Builder
	rep, err := Run(context.Background(), Options{Threads: []int{1}, TrainSteps: 1, SkipTorch: true, Out: out}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Matmul) != 3 || len(rep.Train) != 1 {
		t.Fatalf("report has %d matmul and %d train rows, want 3 and 1", len(rep.Matmul), len(rep.Train))
	}
	for _, m := range rep.Matmul {
		if m.GraphGFLOP <= 0 || m.RawGFLOP <= 0 {
			t.Errorf("matmul %d×%d·%d×%d: graph %g, raw %g GFLOP/s", m.M, m.K, m.K, m.N, m.GraphGFLOP, m.RawGFLOP)
		}
	}
	if tr := rep.Train[0]; tr.GoTokensS <= 0 || !strings.Contains(tr.OpProfile, "Linear") {
		t.Errorf("train row %+v", tr)
	}
	for _, want := range []string{"float32 matmul GFLOP/s", "reference decoder train step", "where a Go step's time goes"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("printed report lacks %q", want)
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil || len(back.Matmul) != 3 {
		t.Errorf("written report: %v, %d matmul rows", err, len(back.Matmul))
	}
}

func TestPeerErrors(t *testing.T) {
	err := peer(context.Background(), Options{Python: "/nonexistent/python3", Peer: "tools/peer_train.py"}, 1, new(struct{}), "matmul")
	if err == nil || !strings.Contains(err.Error(), "make deps") {
		t.Errorf("missing interpreter: error %v, want a hint to run make deps", err)
	}
}

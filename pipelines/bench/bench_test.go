package bench

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"os/exec"
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
	rep, err := Run(context.Background(), Options{Threads: []int{1}, TrainSteps: 1, TokenizerReps: 1, SkipTorch: true, Out: out}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Matmul) != 3 || len(rep.Train) != 1 || len(rep.Tokenizer) != 2 || len(rep.Unified) != 3 {
		t.Fatalf("report has %d matmul, %d train, %d tokenizer and %d unified rows, want 3, 1, 2 and 3", len(rep.Matmul), len(rep.Train), len(rep.Tokenizer), len(rep.Unified))
	}
	for _, r := range rep.Unified {
		if r.GoTokensS <= 0 || r.Vocab != 6400 || r.Config.Dim != 192 || r.Config.Layers != 4 {
			t.Errorf("unified row %+v: want the shipped model's size", r)
		}
	}
	for _, r := range rep.Tokenizer {
		if r.GoFPS <= 0 || r.Weights != randomInit || r.GoStages.Encode <= 0 || r.GoStages.Decode <= 0 {
			t.Errorf("tokenizer row %+v", r)
		}
	}
	for _, m := range rep.Matmul {
		if m.GraphGFLOP <= 0 || m.RawGFLOP <= 0 {
			t.Errorf("matmul %d×%d·%d×%d: graph %g, raw %g GFLOP/s", m.M, m.K, m.K, m.N, m.GraphGFLOP, m.RawGFLOP)
		}
	}
	if tr := rep.Train[0]; tr.GoTokensS <= 0 || !strings.Contains(tr.OpProfile, "Linear") {
		t.Errorf("train row %+v", tr)
	}
	for _, want := range []string{"float32 matmul GFLOP/s", "reference decoder train step", "video tokenizer encode+decode", "unified MoE decoder", "where a Go step's time goes", "where a unified Go step's time goes"} {
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

// TestOnlyKeepsOtherParts re-measures one part into an existing report:
// the other parts stay, the new one is dated in Updated.
func TestOnlyKeepsOtherParts(t *testing.T) {
	out := filepath.Join(t.TempDir(), "engine.json")
	old := Report{Date: "2026-01-01T00:00:00Z", Torch: "1.13", Matmul: []Matmul{{M: 1, K: 2, N: 3}}, Train: []Train{{Threads: 7}}, Unified: []Unified{{Mode: ModeDecode}}}
	if err := writeJSON(out, old); err != nil {
		t.Fatal(err)
	}
	rep := &Report{Date: "2026-02-02T00:00:00Z", Tokenizer: []Tokenizer{{Input: "clip"}}}
	if err := keepOtherParts(Options{Out: out, Only: []string{"tokenizer"}}, rep); err != nil {
		t.Fatal(err)
	}
	if rep.Date != old.Date || len(rep.Matmul) != 1 || len(rep.Train) != 1 || len(rep.Tokenizer) != 1 || len(rep.Unified) != 1 ||
		rep.Updated["tokenizer"] != "2026-02-02T00:00:00Z" || rep.Torch != "1.13" {
		t.Errorf("merged report %+v", rep)
	}
	if _, err := Run(context.Background(), Options{Only: []string{"tokenizers"}}, io.Discard); err == nil {
		t.Error("unknown part: no error")
	}
}

// TestFillTorch reads the peer's tokenizer output as it prints it.
func TestFillTorch(t *testing.T) {
	var out peerTokenizer
	b := `{"clip": {"frames": 17, "s": 0.1, "frames_per_s": 170}, "image": {"frames": 1, "s": 0.01, "frames_per_s": 100}, "peer": "pytorch", "version": "1.13.0a0", "threads": 1}`
	if err := json.Unmarshal([]byte(b), &out); err != nil {
		t.Fatal(err)
	}
	rows := []Tokenizer{{Input: "clip", Frames: 17, GoFPS: 85}, {Input: "image", Frames: 1, GoFPS: 50}}
	if err := fillTorch(out, 1, rows); err != nil {
		t.Fatal(err)
	}
	if math.Abs(rows[0].TorchFPS-170) > 1e-9 || math.Abs(rows[0].Ratio-0.5) > 1e-9 || math.Abs(rows[1].Ratio-0.5) > 1e-9 || out.Version != "1.13.0a0" {
		t.Errorf("rows %+v from %+v", rows, out)
	}
	if err := fillTorch(peerTokenizer{}, 1, rows); err == nil {
		t.Error("peer output without times: no error")
	}
}

// TestPeerTokenizerIsTheSameNetwork runs the shipped weights through the
// PyTorch peer and through the Go inference path: if the codes and frames
// agree, the two sides are the same network and so do the same work.
func TestPeerTokenizerIsTheSameNetwork(t *testing.T) {
	const weights, python = "../../assets/video_tokenizer.safetensors", "/usr/bin/python3"
	if testing.Short() {
		t.Skip("runs PyTorch")
	}
	if _, err := os.Stat(weights); err != nil {
		t.Skipf("no shipped tokenizer: %v", err)
	}
	if exec.Command(python, "-c", "import torch").Run() != nil {
		t.Skip("no python3-torch")
	}
	ob.Install()
	cfg, w, _, err := tokenizerWeights(weights)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := newGoTokenizer(cfg, w, clipFrames)
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	clip := movingSquare(clipFrames, cfg.Size)
	maps, frames, err := tok.run(clip)
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "clip.u8")
	if err := os.WriteFile(in, clip, 0o644); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Codes  [][]int
		Frames []int
	}
	opt := Options{Python: python, Peer: "../../tools/peer_train.py"}
	if err := peer(context.Background(), opt, 1, &out, "tokenizer-check", "--weights", weights, "--input", in); err != nil {
		t.Fatal(err)
	}
	same, n := 0, 0
	for s := range cfg.Quant.Scales {
		for f, m := range maps {
			k := len(m[s])
			for i, c := range m[s] {
				if f*k+i < len(out.Codes[s]) && out.Codes[s][f*k+i] == c {
					same++
				}
				n++
			}
		}
	}
	far := 0
	for i, v := range out.Frames {
		if d := v - int(frames[i]); d > 2 || d < -2 {
			far++
		}
	}
	if same < n*99/100 || far > len(frames)/100 || len(out.Frames) != len(frames) {
		t.Errorf("PyTorch peer against Go: %d of %d codes equal, %d of %d pixels differ by more than 2 levels", same, n, far, len(frames))
	}
	t.Logf("%d of %d codes equal, %d of %d pixels differ by more than 2 levels", same, n, far, len(frames))
}

// movingSquare is a textured square moving across a black clip: content
// like the training data's, so few codes sit near a tie.
func movingSquare(frames, size int) []uint8 {
	c := make([]uint8, frames*size*size)
	for f := 0; f < frames; f++ {
		x0, y0 := 4+2*f, 10+f
		for y := y0; y < y0+20 && y < size; y++ {
			for x := x0; x < x0+20 && x < size; x++ {
				c[(f*size+y)*size+x] = uint8(128 + 127*((x+y)%2))
			}
		}
	}
	return c
}

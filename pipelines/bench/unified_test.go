package bench

import (
	"context"
	"encoding/json"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	ob "github.com/omniar/omniar/internal/blas"
	"github.com/omniar/omniar/msvq"
	"github.com/omniar/omniar/nn/ckpt"
	"github.com/omniar/omniar/omni"
	"github.com/omniar/omniar/tokenizers"
	"github.com/omniar/omniar/unified"
)

// tinyShape is the test size: omni.Tiny's trunk (four rope axes, as the
// shipped model has) on a small vocabulary and batch.
func tinyShape() unifiedShape {
	return unifiedShape{Trunk: omni.Tiny(tokenizers.DefaultConfig(), msvq.Config{}, 0).Trunk, Vocab: 64, Batch: 2, Seq: 16, Gen: 12,
		TrainSteps: 1, DecodeReps: 1}
}

// TestUnifiedGoSide measures the three modes of the tiny model without the
// peer and checks the rows and the decoder's output.
func TestUnifiedGoSide(t *testing.T) {
	ob.Install()
	sh := tinyShape()
	rows, err := unifiedRows(context.Background(), Options{SkipTorch: true}, 1, sh, &Report{})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		mode       string
		batch, seq int
	}{{ModeTrain, 2, 16}, {ModeForward, 2, 16}, {ModeDecode, 1, 12}}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	// per layer: norms 2D, wqkv 3D², wo D², router E·D, experts 3·E·H·D, shared 3·S·H·D; final norm D; embedding and head V·D
	c := sh.Trunk
	d := c.Dim
	params := c.Layers*(2*d+4*d*d+c.Experts*d+3*(c.Experts+c.Shared)*c.ExpertHidden*d) + d + 2*sh.Vocab*d
	for i, w := range want {
		r := rows[i]
		if r.Mode != w.mode || r.Batch != w.batch || r.Seq != w.seq || r.Params != params || !(r.GoTokensS > 0) ||
			math.Abs(r.GoTokensS*r.GoS-float64(w.batch*w.seq)) > 1e-6 || r.Ratio != 0 {
			t.Errorf("row %d: %+v, want mode %s, %d×%d, %d params", i, r, w.mode, w.batch, w.seq, params)
		}
	}
	if !strings.Contains(rows[0].OpProfile, "ExpertLinear") || rows[1].OpProfile != "" {
		t.Errorf("op profiles: train %q, forward %q", rows[0].OpProfile, rows[1].OpProfile)
	}
	var buf strings.Builder
	printUnified(&buf, rows)
	for _, s := range []string{"unified MoE decoder (layers=2 experts=8 topk=2, vocab 64", "train 2×16", "decode 1×12 greedy"} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("printed table lacks %q:\n%s", s, buf.String())
		}
	}

	m, err := newLMInfer(sh)
	if err != nil {
		t.Fatal(err)
	}
	defer m.vm.Close()
	toks, err := m.dec.greedy(5, sh.Gen)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := m.dec.greedy(5, sh.Gen)
	for i, tok := range toks {
		if tok < 0 || tok >= sh.Vocab || again[i] != tok {
			t.Fatalf("greedy decoding %v then %v: want the same tokens below %d", toks, again, sh.Vocab)
		}
	}
}

// TestFillUnified reads the peer's unified output as it prints it.
func TestFillUnified(t *testing.T) {
	var out peerUnified
	b := `{"params": 100, "train": {"s": 0.5}, "forward": {"s": 0.1}, "decode": {"s": 2}, "peer": "pytorch", "version": "1.13.0a0", "threads": 2}`
	if err := json.Unmarshal([]byte(b), &out); err != nil {
		t.Fatal(err)
	}
	rows := func() []Unified {
		return []Unified{{Mode: ModeTrain, Batch: 8, Seq: 256, Params: 100, GoTokensS: 2048},
			{Mode: ModeForward, Batch: 8, Seq: 256, Params: 100, GoTokensS: 40960}, {Mode: ModeDecode, Batch: 1, Seq: 256, Params: 100, GoTokensS: 256}}
	}
	got := rows()
	if err := fillUnified(out, 2, got); err != nil {
		t.Fatal(err)
	}
	for i, want := range []float64{0.5, 2, 2} {
		if r := got[i]; math.Abs(r.Ratio-want) > 1e-9 || r.TorchParams != 100 || !strings.Contains(r.TorchSettings, "set_num_threads(2)") {
			t.Errorf("row %d: %+v, want ratio %g", i, r, want)
		}
	}
	if strings.Contains(got[0].TorchSettings, "inference_mode") || !strings.Contains(got[2].TorchSettings, "inference_mode") {
		t.Errorf("settings %q and %q: inference_mode belongs to the inference rows only", got[0].TorchSettings, got[2].TorchSettings)
	}
	out.Params = 99
	if err := fillUnified(out, 2, rows()); err == nil || !strings.Contains(err.Error(), "99 parameters") {
		t.Errorf("another parameter count: error %v", err)
	}
	if err := fillUnified(peerUnified{Params: 100}, 2, rows()); err == nil {
		t.Error("peer output without times: no error")
	}
}

// TestPeerUnifiedIsTheSameNetwork loads the weights of a tiny Go model into
// the PyTorch peer: the parameter counts must be equal, and the training
// graph's loss parts and the KV-cache decoder's logits must agree, so the
// two sides are the same network and do the same work.
func TestPeerUnifiedIsTheSameNetwork(t *testing.T) {
	const python = "/usr/bin/python3"
	if testing.Short() {
		t.Skip("runs PyTorch")
	}
	if exec.Command(python, "-c", "import torch").Run() != nil {
		t.Skip("no python3-torch")
	}
	ob.Install()
	sh := tinyShape()
	m, err := unified.NewLM(unified.LMConfig{Trunk: sh.Trunk, Vocab: sh.Vocab, Batch: sh.Batch, Seq: sh.Seq, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	seq := randomTokens(sh.Batch*(sh.Seq+1), sh.Vocab, 9)
	var ids, targets []int
	for b := 0; b < sh.Batch; b++ {
		s := seq[b*(sh.Seq+1) : (b+1)*(sh.Seq+1)]
		ids, targets = append(ids, s[:sh.Seq]...), append(targets, s[1:]...)
	}
	ce, err := m.Step(ids, targets)
	if err != nil {
		t.Fatal(err)
	}
	var aux, z float64
	dropped := 0
	for _, l := range m.Trunk.Loads() {
		aux, z, dropped = aux+float64(l.Aux), z+float64(l.Z), dropped+l.Dropped
	}
	dec := decoder{trunk: m.Trunk, text: m.Text}
	cache := m.Trunk.NewCache(1)
	var logits []float32
	for p, tok := range ids[:sh.Seq] {
		if logits, err = dec.step(cache, tok, p); err != nil {
			t.Fatal(err)
		}
	}

	var tensors []ckpt.Tensor
	params := 0
	for _, p := range m.Params() {
		tensors = append(tensors, ckpt.Tensor{Name: p.Name(), Shape: p.Shape(), Data: p.Data()})
		params += len(p.Data())
	}
	cfg, err := json.Marshal(sh.Trunk)
	if err != nil {
		t.Fatal(err)
	}
	weights := filepath.Join(t.TempDir(), "lm.safetensors")
	if err := ckpt.Save(weights, map[string]string{"config": string(cfg)}, tensors, ckpt.F32); err != nil {
		t.Fatal(err)
	}
	var csv []string
	for _, id := range seq {
		csv = append(csv, itoa(id))
	}
	var out struct {
		Params     int
		CE, Aux, Z float64
		Logits     []float64
	}
	opt := Options{Python: python, Peer: "../../tools/peer_train.py"}
	if err := peer(context.Background(), opt, 1, &out, "unified-check", "--weights", weights, "--batch", itoa(sh.Batch), "--ids", strings.Join(csv, ",")); err != nil {
		t.Fatal(err)
	}
	if out.Params != params {
		t.Fatalf("PyTorch peer has %d parameters, the Go model %d", out.Params, params)
	}
	near := func(a, b, tol float64) bool { return math.Abs(a-b) <= tol*(1+math.Abs(b)) }
	if !near(out.CE, ce, 1e-5) || !near(out.Aux, aux, 1e-4) || !near(out.Z, z, 1e-4) {
		t.Errorf("loss parts: PyTorch ce %.6f aux %.6f z %.6f, Go ce %.6f aux %.6f z %.6f", out.CE, out.Aux, out.Z, ce, aux, z)
	}
	far := 0.0
	for i, v := range out.Logits {
		far = math.Max(far, math.Abs(v-float64(logits[i])))
	}
	if len(out.Logits) != len(logits) || far > 1e-4 {
		t.Errorf("decoded logits: %d from PyTorch, %d from Go, largest difference %g", len(out.Logits), len(logits), far)
	}
	t.Logf("%d parameters; ce %.6f / %.6f, aux %.6f / %.6f, z %.6f / %.6f (%d token-expert pairs over capacity); logits differ by ≤ %.2g",
		params, out.CE, ce, out.Aux, aux, out.Z, z, dropped, far)
}

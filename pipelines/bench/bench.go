// Package bench measures the engine against PyTorch on the same machine in
// the same run: float32 matmul GFLOP/s (through a gorgonia graph, raw
// OpenBLAS sgemm, torch.mm), the training throughput of the reference
// decoder (nn/lm.Reference) against the same network in PyTorch
// (tools/peer_train.py), the encode+decode throughput of the video
// tokenizer (video.Small) against the same network in PyTorch
// (tools/peer_tokenizer.py), and the training, forward and greedy-decoding
// throughput of the unified MoE decoder at the shipped model's size
// against the same network in PyTorch (tools/peer_unified.py). Results are
// printed as a table and written as JSON under docs/bench/ for
// `make results`.
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/omniar/omniar/internal/atomicfile"
	ob "github.com/omniar/omniar/internal/blas"
	"github.com/omniar/omniar/nn"
	"github.com/omniar/omniar/nn/lm"
	"github.com/omniar/omniar/nn/optim"
)

// Options select what runs.
type Options struct {
	Threads       []int  // thread counts to compare (default 1, 2)
	TrainSteps    int    // timed training steps per side (default 5; the unified part also times 3× as many forward passes and ⌈steps/2⌉ decoding passes)
	TokenizerReps int    // timed clip encode+decodes per side (default 10; images 10×)
	Tokenizer     string // video tokenizer weights ("" or missing: a random video.Small)
	Python        string // interpreter with torch (default /usr/bin/python3)
	Peer          string // path of tools/peer_train.py
	Out           string // JSON file to write ("" = none)
	SkipTorch     bool
	// Only runs these parts (Parts); with Out, the other parts of an
	// existing report there are kept, so one part can be re-measured.
	Only []string
}

// Parts are the benchmark's parts, in the order they run.
var Parts = []string{"matmul", "train", "tokenizer", "unified"}

func (o Options) runs(part string) bool { return len(o.Only) == 0 || slices.Contains(o.Only, part) }

// Matmul is one matrix-product measurement: C[M,N] = A[M,K]·B[K,N].
type Matmul struct {
	M, K, N     int
	Threads     int
	GraphGFLOP  float64 `json:"gorgonia_graph_gflops"`
	RawGFLOP    float64 `json:"openblas_sgemm_gflops"`
	TorchGFLOP  float64 `json:"torch_mm_gflops,omitempty"`
	LinearGFLOP float64 `json:"nn_linear_graph_gflops"`
	GraphOfRaw  float64 `json:"graph_share_of_raw"`
}

// Train is one training-throughput measurement of the reference model.
type Train struct {
	Threads       int
	Config        lm.Config
	Params        int
	GoStepS       float64 `json:"go_step_s"`
	GoTokensS     float64 `json:"go_tokens_per_s"`
	TorchStepS    float64 `json:"torch_step_s,omitempty"`
	TorchTokensS  float64 `json:"torch_tokens_per_s,omitempty"`
	Ratio         float64 `json:"go_over_torch,omitempty"`
	GoSettings    string  `json:"go_settings"`
	TorchSettings string  `json:"torch_settings,omitempty"`
	OpProfile     string  `json:"go_op_profile"`
}

// Report is everything one run measured.
type Report struct {
	Date      string
	Machine   string
	BLAS      string
	Torch     string `json:",omitempty"`
	Matmul    []Matmul
	Train     []Train
	Tokenizer []Tokenizer `json:",omitempty"`
	Unified   []Unified   `json:",omitempty"`
	// Updated dates the parts re-measured alone (Options.Only) after Date.
	Updated map[string]string `json:",omitempty"`
}

// Run measures and writes the report.
func Run(ctx context.Context, opt Options, w io.Writer) (*Report, error) {
	opt = opt.withDefaults()
	for _, p := range opt.Only {
		if !slices.Contains(Parts, p) {
			return nil, fmt.Errorf("bench: unknown part %q (parts: %s)", p, strings.Join(Parts, ", "))
		}
	}
	rep := &Report{Date: time.Now().UTC().Format(time.RFC3339), Machine: machine(), BLAS: ob.Name}
	procs := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(procs)
	steps := []struct {
		part string
		run  func(context.Context, Options, *Report) error
	}{{"matmul", runMatmul}, {"train", runTrain}, {"tokenizer", runTokenizer}, {"unified", runUnified}}
	for _, s := range steps {
		if !opt.runs(s.part) {
			continue
		}
		if err := s.run(ctx, opt, rep); err != nil {
			return nil, err
		}
	}
	printReport(w, rep)
	if opt.Out == "" {
		return rep, nil
	}
	if err := keepOtherParts(opt, rep); err != nil {
		return nil, err
	}
	return rep, writeJSON(opt.Out, rep)
}

func (o Options) withDefaults() Options {
	if len(o.Threads) == 0 {
		o.Threads = []int{1, 2}
	}
	if o.TrainSteps <= 0 {
		o.TrainSteps = 5
	}
	if o.TokenizerReps <= 0 {
		o.TokenizerReps = 10
	}
	if o.Python == "" {
		o.Python = "/usr/bin/python3"
	}
	return o
}

func runMatmul(ctx context.Context, opt Options, rep *Report) error {
	for _, th := range opt.Threads {
		for _, s := range [][3]int{{512, 512, 512}, {1024, 1024, 1024}, {2048, 256, 1024}} {
			if err := ctx.Err(); err != nil {
				return err
			}
			m, err := matmul(ctx, opt, s[0], s[1], s[2], th)
			if err != nil {
				return err
			}
			rep.Matmul = append(rep.Matmul, m)
			slog.Info("matmul", "m", m.M, "k", m.K, "n", m.N, "threads", th, "graph_gflops", round(m.GraphGFLOP), "sgemm_gflops", round(m.RawGFLOP), "torch_gflops", round(m.TorchGFLOP))
		}
	}
	return nil
}

func runTrain(ctx context.Context, opt Options, rep *Report) error {
	for _, th := range opt.Threads {
		if err := ctx.Err(); err != nil {
			return err
		}
		t, err := train(ctx, opt, th, rep)
		if err != nil {
			return err
		}
		rep.Train = append(rep.Train, t)
		slog.Info("train", "threads", th, "go_tokens_per_s", round(t.GoTokensS), "torch_tokens_per_s", round(t.TorchTokensS), "ratio", round(t.Ratio))
	}
	return nil
}

func runTokenizer(ctx context.Context, opt Options, rep *Report) error {
	for _, th := range opt.Threads {
		if err := ctx.Err(); err != nil {
			return err
		}
		rows, err := tokenizer(ctx, opt, th, rep)
		if err != nil {
			return err
		}
		rep.Tokenizer = append(rep.Tokenizer, rows...)
		for _, t := range rows {
			slog.Info("tokenizer", "threads", th, "input", t.Input, "go_frames_per_s", round(t.GoFPS), "torch_frames_per_s", round(t.TorchFPS), "ratio", round(t.Ratio))
		}
	}
	return nil
}

// keepOtherParts fills the parts a partial run (Options.Only) skipped from
// the report already at opt.Out, so re-measuring one part does not erase
// the others; the re-measured parts are dated in Updated.
func keepOtherParts(opt Options, rep *Report) error {
	if len(opt.Only) == 0 {
		return nil
	}
	b, err := os.ReadFile(opt.Out)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	var old Report
	if err := json.Unmarshal(b, &old); err != nil {
		return fmt.Errorf("bench: %s: %w", opt.Out, err)
	}
	if !opt.runs("matmul") {
		rep.Matmul = old.Matmul
	}
	if !opt.runs("train") {
		rep.Train = old.Train
	}
	if !opt.runs("tokenizer") {
		rep.Tokenizer = old.Tokenizer
	}
	if !opt.runs("unified") {
		rep.Unified = old.Unified
	}
	if rep.Torch == "" {
		rep.Torch = old.Torch
	}
	rep.Updated = old.Updated
	if rep.Updated == nil {
		rep.Updated = map[string]string{}
	}
	for _, p := range opt.Only {
		rep.Updated[p] = rep.Date
	}
	rep.Date = old.Date
	return nil
}

// setThreads applies a thread count to the Go side at its best settings:
// n OpenBLAS threads and GOMAXPROCS=1. Measured on the 2-core machine: a
// second Go thread (GC workers, goroutine hand-offs) costs the BLAS threads
// more than the vectorised elementwise kernels gain from it (0.59 vs
// 0.48 s per reference step).
func setThreads(n int) string {
	ob.SetThreads(n)
	runtime.GOMAXPROCS(1)
	return fmt.Sprintf("GOMAXPROCS=1 OPENBLAS_NUM_THREADS=%d", n)
}

func matmul(ctx context.Context, opt Options, m, k, n, th int) (Matmul, error) {
	setThreads(th)
	flop := 2 * float64(m) * float64(k) * float64(n)
	reps := max(3, int(2e10/flop))
	res := Matmul{M: m, K: k, N: n, Threads: th}

	a, b := randSlice(m*k, 1), randSlice(k*n, 2)
	c := make([]float32, m*n)
	raw := timeIt(reps, true, func() error {
		ob.F32().Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 0, c, n)
		return nil
	})
	res.RawGFLOP = flop / raw / 1e9

	g := G.NewGraph()
	an := G.NewMatrix(g, tensor.Float32, G.WithShape(m, k), G.WithValue(tensor.New(tensor.WithShape(m, k), tensor.WithBacking(a))))
	bn := G.NewMatrix(g, tensor.Float32, G.WithShape(k, n), G.WithValue(tensor.New(tensor.WithShape(k, n), tensor.WithBacking(b))))
	_, err := G.Mul(an, bn)
	if err != nil {
		return res, fmt.Errorf("matmul graph: %w", err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	graph := timeIt(reps, true, func() error {
		defer vm.Reset()
		return vm.RunAll()
	})
	if graph < 0 {
		return res, fmt.Errorf("matmul graph run failed")
	}
	res.GraphGFLOP = flop / graph / 1e9
	res.GraphOfRaw = res.GraphGFLOP / res.RawGFLOP
	if res.LinearGFLOP, err = linearOp(m, k, n, reps); err != nil {
		return res, err
	}
	if !opt.SkipTorch {
		var out struct{ GFLOPs float64 }
		if err := peer(ctx, opt, th, &out, "matmul", "--m", itoa(m), "--k", itoa(k), "--n", itoa(n), "--reps", itoa(reps)); err != nil {
			return res, err
		}
		res.TorchGFLOP = out.GFLOPs
	}
	return res, nil
}

// linearOp times nn.Linear (the custom op the models use: x·Wᵀ into a
// buffer the op owns) in a gorgonia graph: x [m, k], W [n, k].
func linearOp(m, k, n, reps int) (float64, error) {
	b := nn.NewBuilder(1)
	x := b.Input("x", m, k)
	if err := x.Set(randSlice(m*k, 3)); err != nil {
		return 0, err
	}
	if _, err := nn.NewLinear(b, "lin", k, n, false).Forward(x.Node); err != nil {
		return 0, fmt.Errorf("linear graph: %w", err)
	}
	vm := nn.CompileForward(b.G)
	defer vm.Close()
	s := timeIt(reps, true, func() error {
		defer vm.Reset()
		return vm.RunAll()
	})
	if s < 0 {
		return 0, fmt.Errorf("linear graph run failed")
	}
	return 2 * float64(m) * float64(k) * float64(n) / s / 1e9, nil
}

func train(ctx context.Context, opt Options, th int, rep *Report) (Train, error) {
	cfg := lm.Reference()
	res := Train{Threads: th, Config: cfg, GoSettings: setThreads(th)}
	m, err := lm.New(cfg)
	if err != nil {
		return res, err
	}
	defer m.Close()
	res.Params = m.NumParams()
	adam := optim.NewAdamW(optim.DefaultAdamW(), m.OptimParams())
	ids, targets := lm.RandomBatch(cfg, 1)
	step := func() error {
		if _, err := m.Step(ids, targets); err != nil {
			return err
		}
		adam.Step(1e-4, nil)
		return nil
	}
	if err := step(); err != nil { // warm-up: first-touch of every buffer
		return res, err
	}
	nn.OpStats = nn.NewStats()
	s := timeIt(opt.TrainSteps, false, step)
	res.OpProfile = nn.OpStats.Table(opt.TrainSteps)
	nn.OpStats = nil
	if s < 0 {
		return res, fmt.Errorf("train step failed")
	}
	res.GoStepS, res.GoTokensS = s, float64(cfg.Batch*cfg.Seq)/s
	if opt.SkipTorch {
		return res, nil
	}
	var out struct {
		StepS   float64 `json:"step_s"`
		Version string
	}
	if err := peer(ctx, opt, th, &out, "train", "--steps", itoa(opt.TrainSteps),
		"--vocab", itoa(cfg.Vocab), "--dim", itoa(cfg.Dim), "--heads", itoa(cfg.Heads), "--layers", itoa(cfg.Layers),
		"--hidden", itoa(cfg.Hidden), "--seq", itoa(cfg.Seq), "--batch", itoa(cfg.Batch)); err != nil {
		return res, err
	}
	rep.Torch = out.Version
	res.TorchStepS, res.TorchTokensS = out.StepS, float64(cfg.Batch*cfg.Seq)/out.StepS
	res.Ratio = res.GoTokensS / res.TorchTokensS
	res.TorchSettings = fmt.Sprintf("torch.set_num_threads(%d) OMP_NUM_THREADS=%d OMP_WAIT_POLICY=PASSIVE", th, th)
	return res, nil
}

// peer runs tools/peer_train.py at its best thread settings and decodes its JSON.
func peer(ctx context.Context, opt Options, th int, out any, args ...string) error {
	cmd := exec.CommandContext(ctx, opt.Python, append([]string{opt.Peer, args[0], "--threads", itoa(th)}, args[1:]...)...)
	// PyTorch 1.13 spins its OpenMP workers without PASSIVE and is ~4× slower at 2 threads.
	cmd.Env = append(os.Environ(), "OMP_WAIT_POLICY=PASSIVE", "OMP_NUM_THREADS="+itoa(th))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("pytorch peer %s (run `make deps` for python3-torch): %w: %s", opt.Peer, err, strings.TrimSpace(stderr.String()))
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("pytorch peer %s: bad output %q: %w", opt.Peer, b, err)
	}
	return nil
}

// timeIt returns the mean seconds of reps calls (after one untimed call if
// warm), or −1 if a call fails.
func timeIt(reps int, warm bool, f func() error) float64 {
	if warm && f() != nil {
		return -1
	}
	t0 := time.Now()
	for i := 0; i < reps; i++ {
		if f() != nil {
			return -1
		}
	}
	return time.Since(t0).Seconds() / float64(reps)
}

func randSlice(n int, seed uint32) []float32 {
	s := make([]float32, n)
	x := seed*2654435761 + 1
	for i := range s {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		s[i] = float32(x%2000)/1000 - 1
	}
	return s
}

func printReport(w io.Writer, r *Report) {
	fmt.Fprintf(w, "machine: %s; BLAS: %s; PyTorch %s\n", r.Machine, r.BLAS, r.Torch)
	if len(r.Matmul) > 0 {
		fmt.Fprintf(w, "\nfloat32 matmul GFLOP/s (gorgonia: G.Mul in a graph; nn.Linear: our op in a graph)\n%-20s %7s %9s %9s %9s %9s %9s\n", "M×K·K×N", "threads", "gorgonia", "nn.Linear", "sgemm", "torch.mm", "graph/raw")
	}
	for _, m := range r.Matmul {
		fmt.Fprintf(w, "%-20s %7d %9.1f %9.1f %9.1f %9.1f %8.0f%%\n", fmt.Sprintf("%d×%d·%d×%d", m.M, m.K, m.K, m.N), m.Threads, m.GraphGFLOP, m.LinearGFLOP, m.RawGFLOP, m.TorchGFLOP, 100*m.GraphOfRaw)
	}
	if len(r.Train) > 0 {
		fmt.Fprintf(w, "\nreference decoder train step (fwd+bwd+AdamW), tokens/s\n%7s %10s %10s %8s  %s\n", "threads", "omniar", "pytorch", "ratio", "settings")
	}
	for _, t := range r.Train {
		fmt.Fprintf(w, "%7d %10.0f %10.0f %7.2f×  go: %s; torch: %s\n", t.Threads, t.GoTokensS, t.TorchTokensS, t.Ratio, t.GoSettings, t.TorchSettings)
	}
	printTokenizer(w, r.Tokenizer)
	printUnified(w, r.Unified)
	if n := len(r.Train); n > 0 {
		fmt.Fprintf(w, "\nwhere a Go step's time goes (%d threads):\n%s", r.Train[n-1].Threads, r.Train[n-1].OpProfile)
	}
	for i := len(r.Unified) - 1; i >= 0; i-- {
		if u := r.Unified[i]; u.Mode == ModeTrain {
			fmt.Fprintf(w, "\nwhere a unified Go step's time goes (%d threads):\n%s", u.Threads, u.OpProfile)
			break
		}
	}
}

func printUnified(w io.Writer, rows []Unified) {
	if len(rows) == 0 {
		return
	}
	u := rows[0]
	fmt.Fprintf(w, "\nunified MoE decoder (%s, vocab %d, untied head, %s mask), tokens/s; parameters: go %d, pytorch %d\n%7s %-22s %10s %10s %8s %15s  %s\n",
		u.Config.Shape(), u.Vocab, u.Mask, u.Params, u.TorchParams, "threads", "mode", "omniar", "pytorch", "ratio", "dropped go/pt", "settings")
	for _, u := range rows {
		fmt.Fprintf(w, "%7d %-22s %10.0f %10.0f %7.2f× %6.1f%% / %4.1f%%  go: %s; torch: %s\n", u.Threads, unifiedMode(u), u.GoTokensS, u.TorchTokensS, u.Ratio,
			100*u.GoDropped, 100*u.TorchDropped, u.GoSettings, u.TorchSettings)
	}
}

// unifiedMode names a row's mode with its shape.
func unifiedMode(u Unified) string {
	if u.Mode == ModeDecode {
		return fmt.Sprintf("decode 1×%d greedy", u.Seq)
	}
	return fmt.Sprintf("%s %d×%d", u.Mode, u.Batch, u.Seq)
}

func printTokenizer(w io.Writer, rows []Tokenizer) {
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "\nvideo tokenizer encode+decode (pixels → tokens → pixels), frames/s; weights: %s\n%7s %-16s %10s %10s %8s  %-22s %s\n",
		rows[0].Weights, "threads", "input", "omniar", "pytorch", "ratio", "go ms enc/latent/dec", "settings")
	for _, t := range rows {
		in := fmt.Sprintf("%s %d×%d×%d", t.Input, t.Frames, t.Config.Size, t.Config.Size)
		st := fmt.Sprintf("%.1f / %.1f / %.1f", 1e3*t.GoStages.Encode, 1e3*t.GoStages.Latents, 1e3*t.GoStages.Decode)
		fmt.Fprintf(w, "%7d %-16s %10.1f %10.1f %7.2f×  %-22s go: %s; torch: %s\n", t.Threads, in, t.GoFPS, t.TorchFPS, t.Ratio, st, t.GoSettings, t.TorchSettings)
	}
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := atomicfile.WriteBytes(path, append(b, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				cpu = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d cores, %s/%s", cpu, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
}

func itoa(i int) string { return strconv.Itoa(i) }

func round(x float64) float64 { return float64(int(x*100+0.5)) / 100 }

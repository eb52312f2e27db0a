// Package moestudy measures what the unified trunk's mixture of experts buys
// on the fortunes text LM: MoE against a dense FFN of equal active size, and
// aux-loss against bias (aux-loss-free) balancing, each trained from the
// same seeds on the same batches for the same steps, then scored on the
// same held-out windows. `omniar eval moe` runs it and writes
// docs/eval/unified_moe_vs_dense.json.
//
// It is a study on one modality at a small size, so several seeds run per
// setup: at 600 steps the setups differ by a few hundredths of a nat, about
// what one seed's initialisation and data order move.
package moestudy

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"gonum.org/v1/gonum/stat"

	"github.com/omniar/omniar/datasets/text"
	"github.com/omniar/omniar/nn"
	"github.com/omniar/omniar/nn/optim"
	"github.com/omniar/omniar/nn/train"
	"github.com/omniar/omniar/tokenizers"
	"github.com/omniar/omniar/unified"
)

// The study's fixed shape: small enough for a 2-core machine to train every
// setup and seed in well under an hour.
const (
	batch      = 8
	seq        = 64
	peakLR     = 3e-3
	warmup     = 30
	loadWindow = 50 // last steps whose router loads and drops are summed
	valSeed    = 0x76616c
)

// Trunk is the study's MoE trunk: 8 routed experts of hidden 128, top-2,
// one shared expert; Setup.Dense swaps the FFN for a dense SwiGLU of
// (TopK + Shared)·ExpertHidden = 384 units, the same active size.
func Trunk() unified.Config {
	c := unified.Small()
	c.Dim, c.Layers, c.Heads, c.ExpertHidden = 128, 4, 4, 128
	c.RopeSplit = []int{16}
	return c
}

// Setup is one arm of the study.
type Setup struct {
	Dense    bool    `json:"dense"`
	Balance  string  `json:"balance"`
	BiasRate float64 `json:"bias_rate,omitempty"`
}

func (s Setup) String() string {
	if s.Dense {
		return "dense"
	}
	if s.Balance == unified.BalanceBias {
		return fmt.Sprintf("moe-bias-%g", s.BiasRate)
	}
	return "moe-" + s.Balance
}

// trunk is the trunk configuration of s.
func (s Setup) trunk() unified.Config {
	c := Trunk()
	if s.Dense {
		return c.Dense()
	}
	c.Balance = s.Balance
	if s.Balance == unified.BalanceBias {
		c.BiasRate = float32(s.BiasRate)
	}
	return c
}

// Setups are the arms: MoE with aux-loss balancing (the default), MoE with
// bias balancing at the default rate, and the dense baseline.
func Setups() []Setup {
	return []Setup{
		{Balance: unified.BalanceAux},
		{Balance: unified.BalanceBias, BiasRate: f64(unified.Small().BiasRate)},
		{Dense: true, Balance: unified.BalanceAux},
	}
}

// f64 widens x to the float64 of its shortest decimal form (0.01, not
// 0.009999999776).
func f64(x float32) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(float64(x), 'g', -1, 32), 64)
	return v
}

// Options describe a study.
type Options struct {
	Data       string   // prepared data directory (fortunes train and val splits)
	Tokenizer  string   // text tokenizer (tokenizer.json)
	Steps      int      // optimizer steps per run
	Seeds      []uint64 // one run per setup and seed
	ValWindows int      // held-out windows of seq+1 tokens, the same for every run
}

// Run is one trained model's figures.
type Run struct {
	Setup
	Seed         uint64  `json:"seed"`
	Params       int     `json:"params"`
	ActiveParams int     `json:"active_params"`
	Steps        int     `json:"steps"`
	TrainLoss    float64 `json:"train_loss_last50"`
	ValLoss      float64 `json:"val_loss"`
	ValPPL       float64 `json:"val_ppl"`
	LoadMax      float64 `json:"load_max_over_mean,omitempty"`
	LoadMin      float64 `json:"load_min_over_mean,omitempty"`
	Drop         float64 `json:"drop_fraction,omitempty"`
	TrainSeconds float64 `json:"train_seconds"`
}

// Summary is one setup over the seeds.
type Summary struct {
	Setup
	Seeds   int     `json:"seeds"`
	ValLoss float64 `json:"val_loss_mean"`
	ValSD   float64 `json:"val_loss_sd"`
	// VsDense is the mean over seeds of (this − dense) val loss, the
	// runs paired by seed; VsDenseSE its standard error.
	VsDense   float64 `json:"minus_dense_mean"`
	VsDenseSE float64 `json:"minus_dense_se"`
	Lower     int     `json:"seeds_lower_than_dense"`
}

// Report is what the study writes.
type Report struct {
	What    string         `json:"what"`
	Setup   map[string]any `json:"setup"`
	Runs    []Run          `json:"runs"`
	Summary []Summary      `json:"summary"`
	Command string         `json:"command,omitempty"`
}

// Study runs every setup at every seed.
func Study(ctx context.Context, opt Options) (*Report, error) {
	if opt.Steps <= loadWindow || len(opt.Seeds) == 0 || opt.ValWindows <= 0 {
		return nil, fmt.Errorf("moe study: steps %d (need more than %d), %d seeds and %d val windows", opt.Steps, loadWindow, len(opt.Seeds), opt.ValWindows)
	}
	tok, err := tokenizers.LoadText(opt.Tokenizer)
	if err != nil {
		return nil, err
	}
	tr, err := corpus(opt.Data, "train", tok)
	if err != nil {
		return nil, err
	}
	va, err := corpus(opt.Data, "val", tok)
	if err != nil {
		return nil, err
	}
	val := windows(va, opt.ValWindows)
	rep := &Report{
		What: fmt.Sprintf("fortunes text LM on the unified trunk: MoE (%d routed experts, top-%d, %d shared, expert hidden %d) vs dense SwiGLU of equal active FFN size (hidden %d); aux vs bias balancing",
			Trunk().Experts, Trunk().TopK, Trunk().Shared, Trunk().ExpertHidden, (Trunk().TopK+Trunk().Shared)*Trunk().ExpertHidden),
		Setup: map[string]any{
			"dim": Trunk().Dim, "layers": Trunk().Layers, "heads": Trunk().Heads, "batch": batch, "seq": seq, "steps": opt.Steps,
			"lr":        fmt.Sprintf("warmup-cosine %g→%g, %d warm-up", peakLR, peakLR/10, warmup),
			"clip":      1,
			"tokenizer": fmt.Sprintf("%s (%d)", opt.Tokenizer, tok.VocabSize()),
			"data":      fmt.Sprintf("fortunes train (%d tokens); val = %d random windows of the val split (%d tokens), the same for every run", len(tr), opt.ValWindows, len(va)),
			"seeds":     opt.Seeds,
			"load_stats": fmt.Sprintf("selections summed over the last %d training steps, max/mean and min/mean per layer, averaged over layers; "+
				"dropped = token-expert pairs over capacity in those steps", loadWindow),
		},
	}
	for _, seed := range opt.Seeds {
		for _, s := range Setups() {
			r, err := runOne(ctx, s, seed, opt.Steps, tok.VocabSize(), tr, val)
			if err != nil {
				return nil, fmt.Errorf("moe study %s seed %d: %w", s, seed, err)
			}
			slog.Info("moe study", "setup", s.String(), "seed", seed, "val_loss", r.ValLoss, "train_s", math.Round(r.TrainSeconds))
			rep.Runs = append(rep.Runs, r)
		}
	}
	rep.Summary = summarise(rep.Runs)
	return rep, nil
}

// corpus is a split's quotations as one token stream, each followed by EOS
// (as the unified model's LM task reads them).
func corpus(dir, split string, tok interface {
	EncodeString(string) ([]int, error)
}) ([]int, error) {
	qs, err := text.Load(dir, split)
	if err != nil {
		return nil, err
	}
	var out []int
	for i, q := range qs {
		ids, err := tok.EncodeString(q.Text)
		if err != nil {
			return nil, fmt.Errorf("fortunes %s quote %d: %w", split, i, err)
		}
		out = append(append(out, ids...), tokenizers.EOS)
	}
	if len(out) <= seq {
		return nil, fmt.Errorf("fortunes %s: %d tokens, need more than %d", split, len(out), seq)
	}
	return out, nil
}

// windows draws n fixed windows of seq+1 tokens.
func windows(stream []int, n int) [][]int {
	rng := rand.New(rand.NewPCG(valSeed, 0))
	out := make([][]int, n)
	for i := range out {
		o := rng.IntN(len(stream) - seq)
		out[i] = stream[o : o+seq+1]
	}
	return out
}

// task trains a unified.LM on random windows of the train stream; the
// windows of micro-batch b are a function of (seed, b) only, so every
// setup of a seed reads the same batches.
type task struct {
	m         *unified.LM
	stream    []int
	seed      uint64
	steps     int
	ids, tgt  []int
	sel       [][]int // [layer][expert] selections in the last loadWindow steps
	dropped   int
	lossesEnd []float64
}

func (t *task) Params() []optim.Param {
	ps := make([]optim.Param, len(t.m.Params()))
	for i, p := range t.m.Params() {
		ps[i] = p
	}
	return ps
}

func (t *task) Run(_ context.Context, b int64) (float64, error) {
	rng := rand.New(rand.NewPCG(t.seed, uint64(b)))
	for i := 0; i < batch; i++ {
		o := rng.IntN(len(t.stream) - seq)
		copy(t.ids[i*seq:], t.stream[o:o+seq])
		copy(t.tgt[i*seq:], t.stream[o+1:o+seq+1])
	}
	loss, err := t.m.Step(t.ids, t.tgt)
	if err != nil {
		return 0, err
	}
	t.m.Trunk.UpdateBias() // no-op for aux balancing
	if int(b) >= t.steps-loadWindow {
		for l, ld := range t.m.Trunk.Loads() {
			for e, n := range ld.Selected {
				t.sel[l][e] += n
			}
			t.dropped += ld.Dropped
		}
		t.lossesEnd = append(t.lossesEnd, loss)
	}
	return loss, nil
}

func runOne(ctx context.Context, s Setup, seed uint64, steps, vocab int, stream []int, val [][]int) (Run, error) {
	tc := s.trunk()
	m, err := unified.NewLM(unified.LMConfig{Trunk: tc, Vocab: vocab, Batch: batch, Seq: seq, Seed: seed})
	if err != nil {
		return Run{}, err
	}
	defer m.Close()
	t := &task{m: m, stream: stream, seed: seed, steps: steps, ids: make([]int, batch*seq), tgt: make([]int, batch*seq)}
	t.sel = make([][]int, tc.Layers)
	for l := range t.sel {
		t.sel[l] = make([]int, tc.Experts)
	}
	r := Run{Setup: s, Seed: seed, Steps: steps}
	for _, p := range m.Params() {
		r.Params += len(p.Data())
	}
	r.ActiveParams = activeParams(tc, r.Params)
	t0 := time.Now()
	res, err := train.Run(ctx, train.Config{
		Steps: steps, ClipNorm: 1, TokensPerBatch: batch * seq, LogEvery: 100,
		Schedule: optim.WarmupCosine{Peak: peakLR, Min: peakLR / 10, Warmup: warmup, Total: steps},
	}, t, false)
	if err != nil {
		return r, err
	}
	if res.Stopped {
		return r, ctx.Err()
	}
	r.TrainSeconds = time.Since(t0).Seconds()
	r.TrainLoss = stat.Mean(t.lossesEnd, nil)
	if r.ValLoss, err = valLoss(m, val); err != nil {
		return r, err
	}
	r.ValPPL = math.Exp(r.ValLoss)
	if tc.Experts > 0 {
		r.LoadMax, r.LoadMin = loadSpread(t.sel)
		r.Drop = float64(t.dropped) / float64(loadWindow*batch*seq*tc.TopK*tc.Layers)
	}
	return r, nil
}

// activeParams is params less the routed experts a token does not use.
func activeParams(c unified.Config, params int) int {
	perExpert := 3 * c.Dim * c.ExpertHidden // SwiGLU: gate, up, down
	return params - c.Layers*(c.Experts-c.TopK)*perExpert
}

// valLoss is the mean next-token cross-entropy over the windows, batch by
// batch through the training graph (its gradients are dropped; no
// optimizer step follows). Missing rows of the last batch are ignored.
func valLoss(m *unified.LM, val [][]int) (float64, error) {
	ids, tgt := make([]int, batch*seq), make([]int, batch*seq)
	var sum float64
	var n int
	for lo := 0; lo < len(val); lo += batch {
		k := min(batch, len(val)-lo)
		for i := 0; i < batch; i++ {
			for j := 0; j < seq; j++ {
				ids[i*seq+j], tgt[i*seq+j] = 0, nn.IgnoreIndex
				if i < k {
					ids[i*seq+j], tgt[i*seq+j] = val[lo+i][j], val[lo+i][j+1]
				}
			}
		}
		ce, err := m.Step(ids, tgt)
		if err != nil {
			return 0, err
		}
		sum += ce * float64(k*seq)
		n += k * seq
	}
	return sum / float64(n), nil
}

// loadSpread is the max/mean and min/mean of the experts' selections per
// layer, averaged over the layers.
func loadSpread(sel [][]int) (hi, lo float64) {
	for _, s := range sel {
		total := 0
		for _, v := range s {
			total += v
		}
		if total == 0 {
			continue
		}
		m := float64(total) / float64(len(s))
		hi += float64(slices.Max(s)) / m
		lo += float64(slices.Min(s)) / m
	}
	return hi / float64(len(sel)), lo / float64(len(sel))
}

// summarise groups runs by setup and pairs each with the dense run of its
// seed.
func summarise(runs []Run) []Summary {
	dense := map[uint64]float64{}
	for _, r := range runs {
		if r.Dense {
			dense[r.Seed] = r.ValLoss
		}
	}
	var out []Summary
	for _, s := range Setups() {
		var vals, diffs []float64
		lower := 0
		for _, r := range runs {
			if r.Setup != s {
				continue
			}
			vals = append(vals, r.ValLoss)
			if d, ok := dense[r.Seed]; ok {
				diffs = append(diffs, r.ValLoss-d)
				if r.ValLoss < d {
					lower++
				}
			}
		}
		if len(vals) == 0 {
			continue
		}
		sm := Summary{Setup: s, Seeds: len(vals), ValLoss: stat.Mean(vals, nil), ValSD: sd(vals), Lower: lower}
		if len(diffs) > 0 {
			sm.VsDense = stat.Mean(diffs, nil)
			sm.VsDenseSE = sd(diffs) / math.Sqrt(float64(len(diffs)))
		}
		out = append(out, sm)
	}
	return out
}

// sd is the sample standard deviation (0 for fewer than two values, where
// gonum's is NaN, which JSON cannot hold).
func sd(v []float64) float64 {
	if len(v) < 2 {
		return 0
	}
	return stat.StdDev(v, nil)
}

package mm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/omniar/omniar/datasets"
	"github.com/omniar/omniar/datasets/qa"
	"github.com/omniar/omniar/internal/atomicfile"
	"github.com/omniar/omniar/omni"
	"github.com/omniar/omniar/tokenizers"
	"github.com/omniar/omniar/tokenizers/bpe"
	"github.com/omniar/omniar/unified"
)

// EvalOptions say what `omniar eval unified` measures.
type EvalOptions struct {
	Ckpt    string   // the model (weights file)
	Dense   string   // optional: the dense baseline trained alike, for MoE vs dense
	Alone   []string // optional: sub-models trained alone (TrainConfig.Alone), beside the elastic family
	Data    string   // prepared data directory
	Tokens  string   // token files (default: the model's)
	Text    string   // text tokenizer
	Out     string   // JSON report
	Limit   int      // questions per task (0 = all)
	Batches int      // held-out loss batches (of 8 per task)
	Split   string   // test (default) or val
	// BaselinesOnly measures only the baselines (Dense, Alone) and merges
	// them into the report already at Out (the rest of a run's evaluation
	// is kept).
	BaselinesOnly bool
}

// EvalReport is docs/eval/unified.json.
type EvalReport struct {
	Model         string               `json:"model"`
	Config        omni.Config          `json:"config"`
	Steps         string               `json:"train_steps"`
	Split         string               `json:"split"`
	Understanding map[string]*Accuracy `json:"understanding"`
	Perplexity    float64              `json:"text_perplexity"`
	PPLTokens     int                  `json:"text_perplexity_tokens"`
	Elastic       []SubResult          `json:"elastic"`
	MoEvsDense    *Comparison          `json:"moe_vs_dense,omitempty"`
	Alone         []AloneResult        `json:"alone,omitempty"`
	Notes         []string             `json:"notes"`
}

// Comparison is the held-out cross-entropy per task of the MoE model and
// the dense baseline (equal active parameters, same data and steps).
type Comparison struct {
	Dense       string             `json:"dense_model"`
	MoE         map[string]float64 `json:"moe_ce"`
	DenseCE     map[string]float64 `json:"dense_ce"`
	MoEActive   int                `json:"moe_active_trunk_params"`
	DenseActive int                `json:"dense_active_trunk_params"`
	MoEWins     int                `json:"tasks_moe_lower"`
	// DiffSE is the standard error of the mean MoE − dense difference over
	// the batches (both models read the same ones); a difference within
	// two of them is not one the batches resolve.
	DiffSE     map[string]float64 `json:"moe_minus_dense_se"`
	MoEClear   int                `json:"tasks_moe_lower_by_2se"`
	DenseClear int                `json:"tasks_dense_lower_by_2se"`
}

// AloneResult is a sub-model trained alone at the elastic run's steps
// beside the run's sub-models of its shape (Twins), measured alike on the
// same batches.
type AloneResult struct {
	Model string `json:"model"`
	Steps string `json:"train_steps"`
	SubResult
	Twins []SubResult `json:"elastic_twins"`
}

// Eval runs the evaluation and writes the report.
func Eval(ctx context.Context, opt EvalOptions) (*EvalReport, error) {
	if opt.Split == "" {
		opt.Split = "test"
	}
	if !slices.Contains(datasets.Splits, opt.Split) {
		return nil, fmt.Errorf("split %q: want test, val or train", opt.Split)
	}
	m, meta, err := omni.Load(opt.Ckpt)
	if err != nil {
		return nil, err
	}
	if opt.Tokens, err = TokensDir(opt.Tokens, opt.Ckpt, meta); err != nil {
		return nil, err
	}
	tok, err := tokenizers.LoadText(opt.Text)
	if err != nil {
		return nil, err
	}
	d, err := LoadData(opt.Data, opt.Tokens, opt.Split, m.Cfg, tok)
	if err != nil {
		return nil, err
	}
	train, err := qa.Load(opt.Data, "train")
	if err != nil {
		return nil, err
	}
	r := &EvalReport{Model: opt.Ckpt, Config: m.Cfg, Steps: meta["steps"], Split: opt.Split}
	if opt.BaselinesOnly {
		if opt.Dense == "" && len(opt.Alone) == 0 {
			return nil, fmt.Errorf("baselines only: name a dense model or a sub-model trained alone")
		}
		b, err := os.ReadFile(opt.Out)
		switch {
		case errors.Is(err, fs.ErrNotExist): // a report of the baselines alone
		case err != nil:
			return nil, fmt.Errorf("baselines only: the report to extend: %w", err)
		default:
			if err := json.Unmarshal(b, r); err != nil {
				return nil, fmt.Errorf("baselines only: %s: %w", opt.Out, err)
			}
			if r.Model != opt.Ckpt {
				return nil, fmt.Errorf("baselines only: %s reports %s, not %s", opt.Out, r.Model, opt.Ckpt)
			}
		}
	} else if err := evalModel(ctx, r, opt, m, meta, tok, d, train); err != nil {
		return nil, err
	}
	if opt.Dense != "" {
		if r.MoEvsDense, err = compareDense(ctx, m, opt, d); err != nil {
			return nil, err
		}
	}
	if len(opt.Alone) > 0 {
		if r.Alone, err = compareAlone(ctx, m, opt, tok, d); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(filepath.Dir(opt.Out), 0o755); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return nil, err
	}
	return r, atomicfile.WriteBytes(opt.Out, b)
}

func evalModel(ctx context.Context, r *EvalReport, opt EvalOptions, m *omni.Model, meta map[string]string, tok *bpe.Tokenizer, d *Data, train []qa.Pair) error {
	var err error
	if r.Understanding, err = Understand(ctx, m, tok, d, train, opt.Limit, 32); err != nil {
		return err
	}
	if r.Perplexity, r.PPLTokens, err = Perplexity(ctx, m, d, 400); err != nil {
		return err
	}
	slog.Info("perplexity", "ppl", r.Perplexity, "tokens", r.PPLTokens)
	if m.Cfg.Trunk.Experts > 0 {
		if r.Elastic, err = Elastic(ctx, m, tok, d, opt.Batches, 8, 100); err != nil {
			return err
		}
	}
	r.Notes = append(r.Notes,
		"understanding: greedy answers through the KV cache, exact match of the decoded text; alsa_words = the real ALSA recordings (test only), word = espeak words, spoken = espeak digits of held-out voices",
		"elastic: every sub-model of unified.DefaultElastic from the same run; held-out cross-entropy on the same batches, digit accuracy on 100 test images spread over the classes, latency of one image question (batch 1, fastest of 20) on the shared, contended CPU",
		fmt.Sprintf("video tokenizer %s, audio codec %s (snapshots; retrain when the shipped tokenizers change)", meta[MetaVideoTok], meta[MetaCodec]))
	return nil
}

func compareDense(ctx context.Context, m *omni.Model, opt EvalOptions, d *Data) (*Comparison, error) {
	dm, _, err := omni.Load(opt.Dense)
	if err != nil {
		return nil, err
	}
	c := &Comparison{Dense: opt.Dense, MoEActive: activeParams(m.Cfg.Trunk, m.Trunk.Sub()), DenseActive: activeParams(dm.Cfg.Trunk, dm.Trunk.Sub())}
	moe, err := heldOutBatches(ctx, m, d, opt.Batches, 8)
	if err != nil {
		return nil, err
	}
	dense, err := heldOutBatches(ctx, dm, d, opt.Batches, 8)
	if err != nil {
		return nil, err
	}
	c.MoE, c.DenseCE, c.DiffSE = map[string]float64{}, map[string]float64{}, map[string]float64{}
	for t, mv := range moe {
		dv := dense[t]
		diff := make([]float64, len(mv))
		for i := range mv {
			diff[i] = mv[i] - dv[i]
		}
		c.MoE[t], c.DenseCE[t], c.DiffSE[t] = mean(mv), mean(dv), stdErr(diff)
		delta := mean(diff)
		if delta < 0 {
			c.MoEWins++
		}
		switch {
		case delta < -2*c.DiffSE[t]:
			c.MoEClear++
		case delta > 2*c.DiffSE[t]:
			c.DenseClear++
		}
	}
	return c, nil
}

// stdErr is the standard error of the mean of x (0 for fewer than two).
func stdErr(x []float64) float64 {
	if len(x) < 2 {
		return 0
	}
	m := mean(x)
	var ss float64
	for _, v := range x {
		ss += (v - m) * (v - m)
	}
	return math.Sqrt(ss / float64(len(x)-1) / float64(len(x)))
}

// compareAlone measures each sub-model trained alone and the sub-models of
// m's elastic family (and m itself) with its shape.
func compareAlone(ctx context.Context, m *omni.Model, opt EvalOptions, tok *bpe.Tokenizer, d *Data) ([]AloneResult, error) {
	var out []AloneResult
	for _, path := range opt.Alone {
		am, meta, err := omni.Load(path)
		if err != nil {
			return nil, err
		}
		shape := am.Cfg.Trunk.Shape()
		var twins []unified.Sub
		for _, s := range append([]unified.Sub{{}}, unified.DefaultElastic(m.Cfg.Trunk).Family...) {
			if s.Config(m.Cfg.Trunk).Shape() == shape {
				twins = append(twins, s)
			}
		}
		if len(twins) == 0 {
			return nil, fmt.Errorf("%s: no sub-model of %s has its shape (%s)", path, opt.Ckpt, shape)
		}
		rs, err := measureSubs(ctx, am, tok, d, []unified.Sub{{}}, opt.Batches, 8, 100)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		a := AloneResult{Model: path, Steps: meta["steps"], SubResult: rs[0]}
		a.Sub = shape
		if a.Twins, err = measureSubs(ctx, m, tok, d, twins, opt.Batches, 8, 100); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

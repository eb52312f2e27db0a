package mm

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/omniar/omniar/datasets/qa"
	"github.com/omniar/omniar/omni"
	"github.com/omniar/omniar/tokenizers/bpe"
	"github.com/omniar/omniar/unified"
)

// Accuracy is one understanding task's score.
type Accuracy struct {
	Task     string   `json:"task"`
	N        int      `json:"n"`
	Correct  int      `json:"correct"`
	Accuracy float64  `json:"accuracy"`
	Baseline float64  `json:"majority_baseline,omitempty"` // share of the most frequent train answer
	Examples []string `json:"examples,omitempty"`          // a few "answer → model" pairs
	// Misses counts the wrong answers as "answer → model", the
	// maxMisses most frequent (the rest under otherMisses): which digits
	// are read as which.
	Misses map[string]int `json:"misses,omitempty"`
	// Parts splits the clip-digits row into clips of one and of two digits.
	Parts map[string]*Part `json:"parts,omitempty"`
}

// Part is the score of a subset of a row.
type Part struct {
	N        int     `json:"n"`
	Correct  int     `json:"correct"`
	Accuracy float64 `json:"accuracy"`
}

// partOf names the subset of a row an item belongs to ("" for none).
func partOf(row string, it Item) string {
	if row != "digits" {
		return ""
	}
	if strings.Contains(it.Answer, " and ") {
		return "two digits"
	}
	return "one digit"
}

// rowName is the report row of an item: the pair's task, with the ALSA
// recordings and espeak words apart.
func rowName(it Item) string {
	if strings.Contains(it.Ref, "speech/alsa/") {
		return "alsa_words"
	}
	return it.QATask
}

// Understand scores greedy answers to at most limit questions of each row
// (spread over the split); batch questions are decoded together.
func Understand(ctx context.Context, m *omni.Model, tok *bpe.Tokenizer, d *Data, train []qa.Pair, limit, batch int) (map[string]*Accuracy, error) {
	rows := map[string][]Item{}
	for _, task := range omni.Tasks {
		if !omni.Understanding(task) {
			continue
		}
		for _, it := range d.ByTask[task] {
			rows[rowName(it)] = append(rows[rowName(it)], it)
		}
	}
	out := map[string]*Accuracy{}
	for _, name := range slices.Sorted(maps.Keys(rows)) { // the log in the same order every run
		items := rows[name]
		if limit > 0 && len(items) > limit {
			step := float64(len(items)) / float64(limit)
			sub := make([]Item, limit)
			for i := range sub {
				sub[i] = items[int(float64(i)*step)]
			}
			items = sub
		}
		acc := &Accuracy{Task: name}
		// batches must share a task (one template)
		byTask := map[string][]Item{}
		for _, it := range items {
			byTask[it.Ex.Task] = append(byTask[it.Ex.Task], it)
		}
		for _, its := range byTask {
			for lo := 0; lo < len(its); lo += batch {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				part := its[lo:min(lo+batch, len(its))]
				exs := make([]omni.Example, len(part))
				for i, it := range part {
					exs[i] = it.Ex
				}
				ans, err := m.Answer(exs)
				if err != nil {
					return nil, err
				}
				for i, a := range ans {
					b, err := tok.Decode(a)
					if err != nil {
						return nil, err
					}
					got := strings.TrimSpace(string(b))
					right := got == part[i].Answer
					acc.N++
					if right {
						acc.Correct++
					}
					if k := partOf(name, part[i]); k != "" {
						if acc.Parts == nil {
							acc.Parts = map[string]*Part{}
						}
						if acc.Parts[k] == nil {
							acc.Parts[k] = &Part{}
						}
						acc.Parts[k].N++
						if right {
							acc.Parts[k].Correct++
						}
					}
					if len(acc.Examples) < 4 {
						acc.Examples = append(acc.Examples, part[i].Answer+" → "+got)
					}
					if !right {
						if acc.Misses == nil {
							acc.Misses = map[string]int{}
						}
						acc.Misses[part[i].Answer+" → "+got]++
					}
				}
			}
		}
		acc.Accuracy = float64(acc.Correct) / float64(max(1, acc.N))
		acc.Misses = topMisses(acc.Misses, maxMisses)
		for _, p := range acc.Parts {
			p.Accuracy = float64(p.Correct) / float64(max(1, p.N))
		}
		if name == "category" {
			acc.Baseline = majority(train, items)
		}
		out[name] = acc
		slog.Info("understanding", "task", name, "n", acc.N, "accuracy", fmt.Sprintf("%.3f", acc.Accuracy))
	}
	return out, nil
}

// maxMisses is how many kinds of wrong answer a row's report keeps.
const maxMisses = 30

// otherMisses is the key of the wrong answers topMisses leaves out.
const otherMisses = "(other)"

// byCount is the keys of m, most frequent first (ties in key order).
func byCount(m map[string]int) []string {
	return slices.SortedFunc(maps.Keys(m), func(a, b string) int {
		if m[a] != m[b] {
			return m[b] - m[a]
		}
		return strings.Compare(a, b)
	})
}

// topMisses keeps the n most frequent keys of m and counts the rest
// under otherMisses.
func topMisses(m map[string]int, n int) map[string]int {
	if len(m) <= n {
		return m
	}
	out := map[string]int{}
	for i, k := range byCount(m) {
		if i < n {
			out[k] = m[k]
		} else {
			out[otherMisses] += m[k]
		}
	}
	return out
}

// FrequentMisses lists the n most frequent wrong answers of misses
// (Accuracy.Misses) as "answer → model ×count", most frequent first.
func FrequentMisses(misses map[string]int, n int) string {
	var parts []string
	for _, k := range byCount(misses) {
		if k != otherMisses && len(parts) < n {
			parts = append(parts, fmt.Sprintf("%s ×%d", k, misses[k]))
		}
	}
	return strings.Join(parts, ", ")
}

// majority is the accuracy on items of always answering the most frequent
// train answer of the category task.
func majority(train []qa.Pair, items []Item) float64 {
	count := map[string]int{}
	best := ""
	for _, p := range train {
		if p.Task == "category" {
			count[p.Answer]++
			if count[p.Answer] > count[best] {
				best = p.Answer
			}
		}
	}
	n := 0
	for _, it := range items {
		if it.Answer == best {
			n++
		}
	}
	return float64(n) / float64(max(1, len(items)))
}

// HeldOut is the mean cross-entropy of each task on batches × batch
// examples of a split, drawn with a fixed seed (the same for every model).
func HeldOut(ctx context.Context, m *omni.Model, d *Data, batches, batch int) (map[string]float64, error) {
	per, err := heldOutBatches(ctx, m, d, batches, batch)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for t, v := range per {
		out[t] = mean(v)
	}
	return out, nil
}

// heldOutBatches is HeldOut's cross-entropy of each task per batch: two
// models measured on the same batches compare batch by batch.
func heldOutBatches(ctx context.Context, m *omni.Model, d *Data, batches, batch int) (map[string][]float64, error) {
	var slots []omni.Slot
	for _, task := range omni.Tasks {
		if task == omni.TaskLM || len(d.ByTask[task]) > 0 {
			slots = append(slots, omni.Slot{Task: task, Batch: batch})
		}
	}
	net, err := omni.NetFrom(m, slots, false)
	if err != nil {
		return nil, err
	}
	defer net.Close()
	if err := net.Trunk.SetSub(m.Trunk.Sub()); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(11, 13))
	per := map[string][]float64{}
	for range batches {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b := omni.Batch{}
		for _, sl := range slots {
			exs, err := d.Sample(sl.Task, sl.Batch, m.Cfg.LMSeq, rng)
			if err != nil {
				return nil, err
			}
			for _, ex := range exs {
				s, err := m.Cfg.Layout(m.V, ex)
				if err != nil {
					return nil, err
				}
				b[sl.Task] = append(b[sl.Task], s)
			}
		}
		ce, err := net.Run(b)
		if err != nil {
			return nil, err
		}
		for t, v := range ce {
			per[t] = append(per[t], v)
		}
	}
	return per, nil
}

// Perplexity is exp of the mean next-token cross-entropy of the split's
// fortunes, in consecutive windows of the model's LM length (at most
// windows of them).
func Perplexity(ctx context.Context, m *omni.Model, d *Data, windows int) (ppl float64, tokens int, err error) {
	const batch = 8
	net, err := omni.NetFrom(m, []omni.Slot{{Task: omni.TaskLM, Batch: batch}}, false)
	if err != nil {
		return 0, 0, err
	}
	defer net.Close()
	if err := net.Trunk.SetSub(m.Trunk.Sub()); err != nil {
		return 0, 0, err
	}
	n := m.Cfg.LMSeq
	var sum float64
	var runs int
	for o := 0; o+batch*(n+1) <= len(d.LM) && runs*batch < windows; o += batch * n {
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		b := omni.Batch{}
		for i := range batch {
			s, err := m.Cfg.Layout(m.V, omni.Example{Task: omni.TaskLM, Text: d.LM[o+i*n : o+(i+1)*n]})
			if err != nil {
				return 0, 0, err
			}
			b[omni.TaskLM] = append(b[omni.TaskLM], s)
		}
		ce, err := net.Run(b)
		if err != nil {
			return 0, 0, err
		}
		sum += ce[omni.TaskLM]
		runs++
	}
	if runs == 0 {
		return 0, 0, fmt.Errorf("perplexity: the %s split has too little text", d.Split)
	}
	return math.Exp(sum / float64(runs)), runs * batch * (n - 1), nil
}

// SubResult is one elastic sub-model's quality and speed.
type SubResult struct {
	Sub          string             `json:"sub"`
	ActiveParams int                `json:"active_params"` // trunk parameters one token uses
	HeldOut      map[string]float64 `json:"held_out_ce"`
	MeanCE       float64            `json:"mean_ce"`
	DigitAcc     float64            `json:"digit_accuracy"`
	MsPerAnswer  float64            `json:"ms_per_answer"` // one image question, KV-cache path, batch 1, fastest of 20
	Speedup      float64            `json:"speedup_vs_full"`
}

// Elastic evaluates the full model and each sub-model of the default
// family: held-out cross-entropy per task, digit accuracy and latency.
func Elastic(ctx context.Context, m *omni.Model, tok *bpe.Tokenizer, d *Data, batches, batch, digits int) ([]SubResult, error) {
	fam := unified.DefaultElastic(m.Cfg.Trunk)
	out, err := measureSubs(ctx, m, tok, d, append([]unified.Sub{{}}, fam.Family...), batches, batch, digits)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Speedup = out[0].MsPerAnswer / out[i].MsPerAnswer
	}
	return out, nil
}

// measureSubs measures sub-models subs of m as Elastic does.
func measureSubs(ctx context.Context, m *omni.Model, tok *bpe.Tokenizer, d *Data, subs []unified.Sub, batches, batch, digits int) ([]SubResult, error) {
	var out []SubResult
	defer m.Trunk.SetSub(unified.Sub{})
	// every k-th question: the split lists the digits class by class
	all := d.ByTask[omni.TaskImageQA]
	var imgs []Item
	for i := 0; i < digits && len(all) > 0; i++ {
		imgs = append(imgs, all[i*len(all)/digits])
	}
	if len(imgs) == 0 {
		return nil, fmt.Errorf("elastic: no image questions in the %s split", d.Split)
	}
	for _, s := range subs {
		if err := m.Trunk.SetSub(s); err != nil {
			return nil, err
		}
		r := SubResult{Sub: s.String(), ActiveParams: activeParams(m.Cfg.Trunk, s)}
		var err error
		if r.HeldOut, err = HeldOut(ctx, m, d, batches, batch); err != nil {
			return nil, err
		}
		for _, v := range r.HeldOut {
			r.MeanCE += v / float64(len(r.HeldOut))
		}
		acc, err := Understand(ctx, m, tok, &Data{Split: d.Split, ByTask: map[string][]Item{omni.TaskImageQA: imgs}}, nil, 0, 32)
		if err != nil {
			return nil, err
		}
		r.DigitAcc = acc["digit"].Accuracy
		// latency: the fastest of 20 answers to one question (the CPU is
		// shared, so the minimum is the least disturbed measurement)
		one := []omni.Example{imgs[0].Ex}
		r.MsPerAnswer = math.Inf(1)
		for range 20 {
			t0 := time.Now()
			if _, err := m.Answer(one); err != nil {
				return nil, err
			}
			r.MsPerAnswer = math.Min(r.MsPerAnswer, float64(time.Since(t0).Microseconds())/1000)
		}
		out = append(out, r)
		slog.Info("elastic", "sub", r.Sub, "mean_ce", fmt.Sprintf("%.3f", r.MeanCE), "digit_acc", r.DigitAcc, "ms", r.MsPerAnswer)
	}
	return out, nil
}

// activeParams counts the trunk parameters one token uses in sub-model s.
func activeParams(c unified.Config, s unified.Sub) int {
	layers := c.Layers
	if s.Layers != nil {
		layers = len(s.Layers)
	}
	k := c.TopK
	if s.TopK > 0 {
		k = s.TopK
	}
	e := c.Experts
	if s.Experts > 0 {
		e = s.Experts
	}
	per := 4*c.Dim*c.Dim + 3*c.Dim*c.ExpertHidden*(k+c.Shared) + e*c.Dim + 2*c.Dim
	return layers * per
}

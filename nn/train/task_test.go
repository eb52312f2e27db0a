package train

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/omniar/omniar/nn/optim"
)

// vec is a Param backed by plain slices.
type vec struct {
	name       string
	data, grad []float32
	decay      bool
}

func (v *vec) Name() string    { return v.name }
func (v *vec) Data() []float32 { return v.data }
func (v *vec) Grad() []float32 { return v.grad }
func (v *vec) Decay() bool     { return v.decay }

func newVec(name string, n int, decay bool) *vec {
	return &vec{name: name, data: make([]float32, n), grad: make([]float32, n), decay: decay}
}

// regTask is linear regression y = w·x + b on a fixed synthetic set, with
// hand-written gradients. The rows of a micro-batch are drawn by a
// generator seeded with the batch index; the targets get noise from a PCG
// that persists across batches and is the task's Stateful state.
type regTask struct {
	w, b    *vec
	xs      [][]float64
	ys      []float64
	batch   int
	noise   *rand.PCG
	sleep   time.Duration     // per micro-batch, for the kill test
	onBatch func(batch int64) // called after each micro-batch, if set
}

const (
	nRows = 64
	nIn   = 4
)

func newRegTask() *regTask {
	data := rand.New(rand.NewPCG(1, 2))
	trueW := []float64{1.5, -2, 0.5, 3}
	t := &regTask{w: newVec("w", nIn, true), b: newVec("b", 1, false), batch: 8, noise: rand.NewPCG(7, 8)}
	for range nRows {
		x := make([]float64, nIn)
		y := 0.7 // true bias
		for j := range x {
			x[j] = data.NormFloat64()
			y += trueW[j] * x[j]
		}
		t.xs, t.ys = append(t.xs, x), append(t.ys, y)
	}
	return t
}

func (t *regTask) Params() []optim.Param { return []optim.Param{t.w, t.b} }

func (t *regTask) Run(_ context.Context, batch int64) (float64, error) {
	if t.sleep > 0 {
		time.Sleep(t.sleep)
	}
	order := rand.New(rand.NewPCG(uint64(batch), 42)).Perm(nRows)[:t.batch]
	noise := rand.New(t.noise)
	gw := make([]float64, nIn)
	var gb, loss float64
	for _, r := range order {
		pred := float64(t.b.data[0])
		for j, x := range t.xs[r] {
			pred += float64(t.w.data[j]) * x
		}
		d := pred - (t.ys[r] + 0.1*noise.NormFloat64())
		loss += 0.5 * d * d
		for j, x := range t.xs[r] {
			gw[j] += d * x
		}
		gb += d
	}
	n := float64(len(order))
	for j := range gw {
		t.w.grad[j] = float32(gw[j] / n)
	}
	t.b.grad[0] = float32(gb / n)
	if t.onBatch != nil {
		t.onBatch(batch)
	}
	return loss / n, nil
}

func (t *regTask) MarshalState() ([]byte, error) { return t.noise.MarshalBinary() }

func (t *regTask) UnmarshalState(b []byte) error {
	if err := t.noise.UnmarshalBinary(b); err != nil {
		return fmt.Errorf("regTask noise state: %w", err)
	}
	return nil
}

// testConfig is the shared configuration of the tests: steps optimizer
// steps of two micro-batches each.
func testConfig(steps int, path string) Config {
	return Config{
		Steps:          steps,
		Accum:          2,
		ClipNorm:       5,
		Schedule:       optim.WarmupCosine{Peak: 0.1, Min: 0.01, Warmup: 3, Total: 30},
		AdamW:          optim.AdamWConfig{Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.01},
		CkptPath:       path,
		LogEvery:       5,
		TokensPerBatch: 8,
		ModelConfig:    `{"kind":"linear","in":4}`,
	}
}

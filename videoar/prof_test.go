package videoar

import (
	"context"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/omniar/omniar/msvq"
	"github.com/omniar/omniar/nn"
)

// TestProfileSmall prints the per-op time of a Small training step:
// OMNIAR_PROFILE=1 (or =detail) go test -run ProfileSmall ./videoar.
func TestProfileSmall(t *testing.T) {
	if os.Getenv("OMNIAR_PROFILE") == "" {
		t.Skip("set OMNIAR_PROFILE=1")
	}
	q := msvq.Default(32)
	cfg := Small(q, 4096)
	tr, err := NewTrainer(cfg, TrainConfig{Batch: 4, Frames: cfg.Frames, MaxFlip: 0.2, FrameMask: 0.1, Seed: 1}, randomDecoder(q, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	rng := rand.New(rand.NewPCG(1, 1))
	batch := make([]Example, 4)
	for i := range batch {
		batch[i] = randomExample(rng, tr.inputs.L, q.Codes)
	}
	if _, err := tr.Step(batch, rng); err != nil {
		t.Fatal(err)
	}
	nn.OpStats = nn.NewStats()
	nn.OpStats.Detail = os.Getenv("OMNIAR_PROFILE") == "detail"
	t0 := time.Now()
	if _, err := tr.Step(batch, rng); err != nil {
		t.Fatal(err)
	}
	t.Logf("step %.2fs\n%s", time.Since(t0).Seconds(), nn.OpStats.Table(1))
}

// TestProfileGenerate times sampling one clip with the Small config:
// OMNIAR_PROFILE=1 go test -run ProfileGenerate ./videoar.
func TestProfileGenerate(t *testing.T) {
	if os.Getenv("OMNIAR_PROFILE") == "" {
		t.Skip("set OMNIAR_PROFILE=1")
	}
	q := msvq.Default(32)
	cfg := Small(q, 4096)
	dec := randomDecoder(q, 1)
	g, err := NewGenerator(cfg, initialWeights(t, cfg, dec), dec)
	if err != nil {
		t.Fatal(err)
	}
	nn.OpStats = nn.NewStats()
	t0 := time.Now()
	if _, err := g.Codes(context.Background(), []int{300, 301}, DefaultOptions(), nil); err != nil {
		t.Fatal(err)
	}
	t.Logf("one clip %.2fs\n%s", time.Since(t0).Seconds(), nn.OpStats.Table(1))
}

package video

import (
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/omniar/omniar/nn"
)

func TestProfileSmall(t *testing.T) {
	if os.Getenv("OMNIAR_PROFILE") == "" {
		t.Skip("set OMNIAR_PROFILE=1")
	}
	cfg := Small()
	tr, err := NewTrainer(cfg, TrainConfig{Batch: 2, Frames: 17, PartialWeight: 0.5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	clip := squares(rng, 2, 17, cfg.Size)
	tr.Step(clip)
	nn.OpStats = nn.NewStats()
	nn.OpStats.Detail = os.Getenv("OMNIAR_PROFILE") == "detail"
	t0 := time.Now()
	tr.Step(clip)
	t.Logf("step %.2fs\n%s", time.Since(t0).Seconds(), nn.OpStats.Table(1))
}

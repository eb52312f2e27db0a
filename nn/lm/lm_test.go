package lm

import (
	"os"
	"testing"
	"time"

	"github.com/omniar/omniar/nn"

	"github.com/omniar/omniar/internal/blas"
	"github.com/omniar/omniar/nn/optim"
)

func TestMain(m *testing.M) {
	blas.Install()
	os.Exit(m.Run())
}

// TestLearns trains the tiny model to predict a fixed permutation of tokens.
func TestLearns(t *testing.T) {
	cfg := Tiny()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	opt := optim.NewAdamW(optim.DefaultAdamW(), m.OptimParams())
	n := cfg.Batch * cfg.Seq
	ids, targets := make([]int, n), make([]int, n)
	var first, last float64
	for step := 0; step < 60; step++ {
		r, _ := RandomBatch(cfg, uint64(step))
		for i := range ids {
			ids[i] = r[i]
			targets[i] = (r[i]*7 + 3) % cfg.Vocab
		}
		loss, err := m.Step(ids, targets)
		if err != nil {
			t.Fatal(err)
		}
		if step == 0 {
			first = loss
		}
		last = loss
		opt.Step(3e-3, nil)
	}
	if last > 0.3*first {
		t.Errorf("loss %g → %g: did not learn a fixed token map", first, last)
	}
}

func TestBadInput(t *testing.T) {
	m, err := New(Tiny())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	n := m.Cfg.Batch * m.Cfg.Seq
	ids := make([]int, n)
	ids[3] = m.Cfg.Vocab
	if _, err := m.Step(ids, make([]int, n)); err == nil {
		t.Error("out-of-vocabulary token accepted")
	}
	if _, err := m.Step(make([]int, n-1), make([]int, n)); err == nil {
		t.Error("short batch accepted")
	}
	if _, err := New(Config{Vocab: 8, Dim: 10, Heads: 3, Layers: 1, Hidden: 8, Seq: 4, Batch: 1}); err == nil {
		t.Error("dim 10 with 3 heads accepted")
	}
}

func BenchmarkReferenceStep(b *testing.B) {
	cfg := Reference()
	m, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	opt := optim.NewAdamW(optim.DefaultAdamW(), m.OptimParams())
	ids, targets := RandomBatch(cfg, 1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Step(ids, targets); err != nil {
			b.Fatal(err)
		}
		opt.Step(1e-4, nil)
	}
	b.ReportMetric(float64(b.N*cfg.Batch*cfg.Seq)/b.Elapsed().Seconds(), "tok/s")
}

func TestProfileReference(t *testing.T) {
	if os.Getenv("OMNIAR_PROFILE") == "" {
		t.Skip("set OMNIAR_PROFILE=1")
	}
	cfg := Reference()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ids, targets := RandomBatch(cfg, 1)
	m.Step(ids, targets)
	nn.OpStats = nn.NewStats()
	t0 := time.Now()
	for i := 0; i < 3; i++ {
		m.Step(ids, targets)
	}
	t.Logf("step %.3fs\n%s", time.Since(t0).Seconds()/3, nn.OpStats.Table(3))
	nn.OpStats = nil
}

package lmtrain

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/omniar/omniar/internal/blas"
	"github.com/omniar/omniar/nn/ckpt"
)

func TestMain(m *testing.M) {
	blas.Install()
	os.Exit(m.Run())
}

// corpus is real text: this package's own source.
const corpus = "lmtrain.go"

func opts(ckpt string, steps int) Options {
	return Options{Data: corpus, Ckpt: ckpt, Size: "tiny", Steps: steps, Accum: 2, LR: 3e-3, Warmup: 3, CkptEvery: 1, Seed: 7}
}

func TestLearnsText(t *testing.T) {
	res, err := Run(context.Background(), opts(filepath.Join(t.TempDir(), "lm.safetensors"), 40))
	if err != nil {
		t.Fatal(err)
	}
	first, last := res.Losses[0], res.Losses[len(res.Losses)-1]
	if last > first-1 {
		t.Errorf("loss %.3f → %.3f: a byte LM should drop by more than 1 nat in 40 steps", first, last)
	}
}

// TestKillAndResume trains in a child process, SIGKILLs it mid-run, resumes
// in another child and checks the losses are bit-identical to an
// uninterrupted run of the real model (graph, custom ops, AdamW, data order).
func TestKillAndResume(t *testing.T) {
	if os.Getenv("LMTRAIN_CHILD") != "" {
		t.Skip("child process")
	}
	const steps = 16
	want, err := Run(context.Background(), opts(filepath.Join(t.TempDir(), "ref.safetensors"), steps))
	if err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(t.TempDir(), "killed.safetensors")
	child := exec.Command(os.Args[0], "-test.run=^TestChild$")
	child.Env = append(os.Environ(), "LMTRAIN_CHILD="+ckpt, "LMTRAIN_STEPS="+strconv.Itoa(steps))
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	// the child sleeps 25 ms a micro-batch (two a step): kill it mid-run,
	// a few checkpoints in
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := os.Stat(ckpt); err == nil {
			time.Sleep(200 * time.Millisecond)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("child wrote no checkpoint")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	if st, err := readStep(ckpt); err != nil || st == 0 || st >= steps {
		t.Fatalf("killed at step %d of %d (%v): want mid-run", st, steps, err)
	}
	o := opts(ckpt, steps)
	o.Resume = true
	got, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Losses) != len(want.Losses) {
		t.Fatalf("resumed run has %d losses, want %d", len(got.Losses), len(want.Losses))
	}
	for i := range want.Losses {
		if got.Losses[i] != want.Losses[i] {
			t.Errorf("step %d: loss %v after kill+resume, %v uninterrupted", i, got.Losses[i], want.Losses[i])
		}
	}
}

// TestChild is the training process TestKillAndResume kills.
func TestChild(t *testing.T) {
	ckpt := os.Getenv("LMTRAIN_CHILD")
	if ckpt == "" {
		t.Skip("only runs as TestKillAndResume's child")
	}
	steps, _ := strconv.Atoi(os.Getenv("LMTRAIN_STEPS"))
	slowDown = func() { time.Sleep(25 * time.Millisecond) }
	if _, err := Run(context.Background(), opts(ckpt, steps)); err != nil {
		t.Fatal(err)
	}
	t.Error("child finished before it was killed")
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short.txt")
	os.WriteFile(short, []byte("too short"), 0o644)
	for _, c := range []struct {
		name string
		o    Options
		want string
	}{
		{"missing corpus", Options{Data: filepath.Join(dir, "nope.txt"), Size: "tiny", Steps: 1, LR: 1e-3}, "nope.txt"},
		{"short corpus", Options{Data: short, Size: "tiny", Steps: 1, LR: 1e-3}, "short.txt"},
		{"bad size", Options{Data: corpus, Size: "huge", Steps: 1, LR: 1e-3}, "huge"},
	} {
		if _, err := Run(context.Background(), c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming %q", c.name, err, c.want)
		}
	}
}

// readStep is the step a training checkpoint was written at.
func readStep(path string) (int, error) {
	f, err := ckpt.Load(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(f.Meta["step"])
}

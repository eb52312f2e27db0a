package train

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/omniar/omniar/nn/ckpt"
	"github.com/omniar/omniar/nn/optim"
)

// uninterrupted runs steps in one go without checkpoints.
func uninterrupted(t *testing.T, steps int) (Result, *regTask) {
	t.Helper()
	task := newRegTask()
	res, err := Run(context.Background(), testConfig(steps, ""), task, false)
	if err != nil {
		t.Fatal(err)
	}
	return res, task
}

func sameLosses(t *testing.T, got, want []float64) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("losses differ:\n got %v\nwant %v", got, want)
	}
}

func TestLossDecreases(t *testing.T) {
	res, _ := uninterrupted(t, 30)
	if res.Steps != 30 || len(res.Losses) != 30 || res.Stopped {
		t.Fatalf("result %+v", res)
	}
	first, last := res.Losses[0], res.Losses[len(res.Losses)-1]
	t.Logf("loss %.4f -> %.4f", first, last)
	if !(last < 0.05*first) {
		t.Fatalf("loss did not decrease enough: %.4f -> %.4f (%v)", first, last, res.Losses)
	}
}

func TestResumeBitIdentical(t *testing.T) {
	want, wantTask := uninterrupted(t, 20)
	path := filepath.Join(t.TempDir(), "run.safetensors")
	cfg := testConfig(8, path)
	cfg.CkptEvery = 4
	first, err := Run(context.Background(), cfg, newRegTask(), false)
	if err != nil {
		t.Fatal(err)
	}
	if first.Steps != 8 {
		t.Fatalf("first part did %d steps", first.Steps)
	}
	cfg.Steps = 20
	task := newRegTask()
	got, err := Run(context.Background(), cfg, task, true)
	if err != nil {
		t.Fatal(err)
	}
	sameLosses(t, got.Losses, want.Losses)
	if !slices.Equal(task.w.data, wantTask.w.data) || !slices.Equal(task.b.data, wantTask.b.data) {
		t.Fatalf("params differ: %v %v vs %v %v", task.w.data, task.b.data, wantTask.w.data, wantTask.b.data)
	}
	f, err := ckpt.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Meta["step"] != "20" || f.Meta["optim_step"] != "20" || f.Meta["format"] != "omniar-train-v1" || f.Meta["config"] != cfg.ModelConfig {
		t.Fatalf("final checkpoint metadata %v", f.Meta)
	}
	for _, name := range []string{"w", "b", "optim.m.w", "optim.v.w", "optim.m.b", "optim.v.b"} {
		if !f.Has(name) {
			t.Errorf("checkpoint lacks %q (has %v)", name, f.Names())
		}
	}
}

func TestResumeWithoutFileStartsFresh(t *testing.T) {
	want, _ := uninterrupted(t, 6)
	path := filepath.Join(t.TempDir(), "sub", "none.safetensors")
	got, err := Run(context.Background(), testConfig(6, path), newRegTask(), true)
	if err != nil {
		t.Fatal(err)
	}
	sameLosses(t, got.Losses, want.Losses)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no checkpoint at the end: %v", err)
	}
}

func TestCancelStopsAndSaves(t *testing.T) {
	want, _ := uninterrupted(t, 12)
	path := filepath.Join(t.TempDir(), "run.safetensors")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	task := newRegTask()
	task.onBatch = func(batch int64) {
		if batch == 2*4 { // first micro-batch of step 4: step 4 still finishes
			cancel()
		}
	}
	res, err := Run(ctx, testConfig(12, path), task, false)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Stopped || res.Steps != 5 || len(res.Losses) != 5 {
		t.Fatalf("result %+v, want Stopped after 5 steps", res)
	}
	f, err := ckpt.Load(path)
	if err != nil {
		t.Fatalf("no checkpoint after stop: %v", err)
	}
	if f.Meta["step"] != "5" {
		t.Fatalf("checkpoint at step %s, want 5", f.Meta["step"])
	}
	got, err := Run(context.Background(), testConfig(12, path), newRegTask(), true)
	if err != nil {
		t.Fatal(err)
	}
	sameLosses(t, got.Losses, want.Losses)
}

func TestCancelledBeforeStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.safetensors")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Run(ctx, testConfig(5, path), newRegTask(), false)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Stopped || res.Steps != 0 {
		t.Fatalf("result %+v", res)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no checkpoint after stop: %v", err)
	}
}

// writeCheckpoint makes a valid 3-step checkpoint at path.
func writeCheckpoint(t *testing.T, path string) {
	t.Helper()
	if _, err := Run(context.Background(), testConfig(3, path), newRegTask(), false); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptCheckpoint(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name    string
		corrupt func(t *testing.T, path string)
		want    string // besides the path
	}{
		{"truncated", func(t *testing.T, path string) {
			b, _ := os.ReadFile(path)
			if err := os.WriteFile(path, b[:len(b)/2], 0o644); err != nil {
				t.Fatal(err)
			}
		}, ""},
		{"garbage", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("not a checkpoint at all"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, ""},
		{"empty", func(t *testing.T, path string) {
			if err := os.WriteFile(path, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}, ""},
		{"param of wrong size", func(t *testing.T, path string) {
			rewrite(t, path, func(meta map[string]string, ts []ckpt.Tensor) []ckpt.Tensor {
				return replaceTensor(ts, "w", make([]float32, nIn+1))
			})
		}, `"w"`},
		{"missing param", func(t *testing.T, path string) {
			rewrite(t, path, func(meta map[string]string, ts []ckpt.Tensor) []ckpt.Tensor {
				return slices.DeleteFunc(ts, func(x ckpt.Tensor) bool { return x.Name == "b" })
			})
		}, `"b"`},
		{"missing moment", func(t *testing.T, path string) {
			rewrite(t, path, func(meta map[string]string, ts []ckpt.Tensor) []ckpt.Tensor {
				return slices.DeleteFunc(ts, func(x ckpt.Tensor) bool { return x.Name == "optim.v.w" })
			})
		}, `"optim.v.w"`},
		{"bad step", func(t *testing.T, path string) {
			rewrite(t, path, func(meta map[string]string, ts []ckpt.Tensor) []ckpt.Tensor {
				meta["step"] = "-3"
				return ts
			})
		}, `"step"`},
		{"losses do not match step", func(t *testing.T, path string) {
			rewrite(t, path, func(meta map[string]string, ts []ckpt.Tensor) []ckpt.Tensor {
				meta["losses"] = "[1,2]"
				return ts
			})
		}, "losses"},
		{"bad task state", func(t *testing.T, path string) {
			rewrite(t, path, func(meta map[string]string, ts []ckpt.Tensor) []ckpt.Tensor {
				meta["task_state"] = "AAAA"
				return ts
			})
		}, "task state"},
		{"wrong format", func(t *testing.T, path string) {
			rewrite(t, path, func(meta map[string]string, ts []ckpt.Tensor) []ckpt.Tensor {
				meta["format"] = "something-else"
				return ts
			})
		}, "format"},
		{"another model config", func(t *testing.T, path string) {
			rewrite(t, path, func(meta map[string]string, ts []ckpt.Tensor) []ckpt.Tensor {
				meta["config"] = `{"kind":"linear","in":4,"past":2}`
				return ts
			})
		}, "past"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strconv.Itoa(i)+".safetensors")
			writeCheckpoint(t, path)
			c.corrupt(t, path)
			task := newRegTask()
			_, err := Run(context.Background(), testConfig(6, path), task, true)
			if err == nil {
				t.Fatal("resume from a corrupt checkpoint succeeded")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q should name %s and %q", err, path, c.want)
			}
			if slices.ContainsFunc(task.w.data, func(x float32) bool { return x != 0 }) {
				t.Fatalf("failed resume changed the params: %v", task.w.data)
			}
			t.Log(err)
		})
	}
}

// rewrite loads the checkpoint at path, lets edit change it and saves it.
func rewrite(t *testing.T, path string, edit func(map[string]string, []ckpt.Tensor) []ckpt.Tensor) {
	t.Helper()
	f, err := ckpt.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var ts []ckpt.Tensor
	for _, name := range f.Names() {
		v, err := f.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, ckpt.Tensor{Name: name, Shape: []int{len(v)}, Data: v})
	}
	ts = edit(f.Meta, ts)
	if err := ckpt.Save(path, f.Meta, ts, ckpt.F32); err != nil {
		t.Fatal(err)
	}
}

func replaceTensor(ts []ckpt.Tensor, name string, data []float32) []ckpt.Tensor {
	for i := range ts {
		if ts[i].Name == name {
			ts[i] = ckpt.Tensor{Name: name, Shape: []int{len(data)}, Data: data}
		}
	}
	return ts
}

func TestConfigErrors(t *testing.T) {
	ok := testConfig(2, "")
	cases := map[string]func(*Config){
		"no schedule":    func(c *Config) { c.Schedule = nil },
		"negative steps": func(c *Config) { c.Steps = -1 },
		"negative accum": func(c *Config) { c.Accum = -2 },
		"bad adamw":      func(c *Config) { c.AdamW = optim.AdamWConfig{Beta1: 2} },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			c := ok
			mutate(&c)
			if _, err := Run(context.Background(), c, newRegTask(), false); err == nil {
				t.Fatal("accepted a bad config")
			}
		})
	}
	if _, err := Run(context.Background(), ok, newRegTask(), true); err == nil {
		t.Fatal("resume without CkptPath accepted")
	}
	if _, err := Run(context.Background(), ok, nil, false); err == nil {
		t.Fatal("nil task accepted")
	}
}

// badGradTask returns a gradient of the wrong length.
type badGradTask struct{ p *vec }

func (b badGradTask) Params() []optim.Param { return []optim.Param{b.p} }
func (b badGradTask) Run(context.Context, int64) (float64, error) {
	b.p.grad = b.p.grad[:1]
	return 1, nil
}

func TestTaskErrors(t *testing.T) {
	_, err := Run(context.Background(), testConfig(2, ""), badGradTask{newVec("w", 3, true)}, false)
	if err == nil || !strings.Contains(err.Error(), `"w"`) {
		t.Fatalf("error %v should name the param", err)
	}
	task := newRegTask()
	boom := errors.New("boom")
	failing := failAt{task, 3, boom}
	res, err := Run(context.Background(), testConfig(5, ""), failing, false)
	if !errors.Is(err, boom) || res.Steps != 1 {
		t.Fatalf("err %v, steps %d", err, res.Steps)
	}
}

// failAt fails micro-batch n.
type failAt struct {
	*regTask
	n   int64
	err error
}

func (f failAt) Run(ctx context.Context, batch int64) (float64, error) {
	if batch == f.n {
		return 0, f.err
	}
	return f.regTask.Run(ctx, batch)
}

func TestSignalContext(t *testing.T) {
	ctx, cancel := SignalContext(context.Background())
	defer cancel()
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("SIGINT did not cancel the context")
	}
	if cause := context.Cause(ctx); cause == nil || !strings.Contains(cause.Error(), "interrupt") {
		t.Fatalf("cause %v", cause)
	}
}

// Environment of the helper process of TestKillAndResume.
const (
	envHelper = "OMNIAR_TRAIN_HELPER"
	envCkpt   = "OMNIAR_TRAIN_CKPT"
	envOut    = "OMNIAR_TRAIN_OUT"
	envResume = "OMNIAR_TRAIN_RESUME"
	killSteps = 30
)

// TestHelperProcess is not a test: TestKillAndResume runs the test binary
// with it to train in a child process that can be killed.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(envHelper) != "1" {
		t.Skip("helper process for TestKillAndResume")
	}
	cfg := testConfig(killSteps, os.Getenv(envCkpt))
	cfg.CkptEvery = 1
	task := newRegTask()
	task.sleep = 20 * time.Millisecond
	res, err := Run(context.Background(), cfg, task, os.Getenv(envResume) == "1")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(res.Losses)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(os.Getenv(envOut), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func helper(path, out string, resume bool) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	r := "0"
	if resume {
		r = "1"
	}
	cmd.Env = append(os.Environ(), envHelper+"=1", envCkpt+"="+path, envOut+"="+out, envResume+"="+r)
	return cmd
}

// savedStep is the step recorded in the checkpoint at path, or -1.
func savedStep(path string) int {
	f, err := ckpt.Load(path)
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(f.Meta["step"])
	if err != nil {
		return -1
	}
	return n
}

func TestKillAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	want, _ := uninterrupted(t, killSteps)
	dir := t.TempDir()
	path, out := filepath.Join(dir, "run.safetensors"), filepath.Join(dir, "losses.json")

	child := helper(path, out, false)
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for savedStep(path) < 5 {
		if time.Now().After(deadline) {
			_ = child.Process.Kill()
			t.Fatal("child made no checkpoint in 30s")
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait() // "signal: killed"
	killedAt := savedStep(path)
	t.Logf("killed the child with its checkpoint at step %d of %d", killedAt, killSteps)
	if killedAt >= killSteps {
		t.Fatalf("child finished before it was killed")
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("killed child wrote its result")
	}

	resumed := helper(path, out, true)
	if b, err := resumed.CombinedOutput(); err != nil {
		t.Fatalf("resumed child: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var got []float64
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	sameLosses(t, got, want.Losses)
}

// TestStopAt: a run ended at StopAt has the losses of the full run's first
// steps (the schedule is Steps'), and resuming finishes it identically.
func TestStopAt(t *testing.T) {
	want, _ := uninterrupted(t, 20)
	path := filepath.Join(t.TempDir(), "run.safetensors")
	cfg := testConfig(20, path)
	cfg.StopAt = 7
	first, err := Run(context.Background(), cfg, newRegTask(), false)
	if err != nil {
		t.Fatal(err)
	}
	if first.Steps != 7 || first.Stopped {
		t.Fatalf("StopAt 7 gave %+v", first)
	}
	sameLosses(t, first.Losses, want.Losses[:7])
	cfg.StopAt = 0
	got, err := Run(context.Background(), cfg, newRegTask(), true)
	if err != nil {
		t.Fatal(err)
	}
	sameLosses(t, got.Losses, want.Losses)
}

func TestWillResume(t *testing.T) {
	dir := t.TempDir()
	have := filepath.Join(dir, "have.safetensors")
	if err := os.WriteFile(have, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path   string
		resume bool
		want   bool
	}{{have, true, true}, {have, false, false}, {filepath.Join(dir, "none"), true, false}, {"", true, false}} {
		if got := WillResume(c.path, c.resume); got != c.want {
			t.Errorf("WillResume(%q, %v) = %v, want %v", c.path, c.resume, got, c.want)
		}
	}
}

// frozenTask is regTask whose bias is frozen (a Freezer): the bias keeps
// its value through training and is saved and restored with the checkpoint.
type frozenTask struct{ *regTask }

func (t frozenTask) Params() []optim.Param { return []optim.Param{t.w} }
func (t frozenTask) Frozen() []optim.Param { return []optim.Param{t.b} }

func TestFrozenSavedNotTrained(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.safetensors")
	task := frozenTask{newRegTask()}
	task.b.data[0] = 0.25
	if _, err := Run(context.Background(), testConfig(6, path), task, false); err != nil {
		t.Fatal(err)
	}
	if task.b.data[0] != 0.25 {
		t.Errorf("frozen bias trained: %v", task.b.data[0])
	}
	f, err := ckpt.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Has("b") || f.Has("optim.m.b") {
		t.Errorf("checkpoint tensors %v: want the frozen b, without moments", f.Names())
	}
	again := frozenTask{newRegTask()} // bias 0 until the resume restores it
	cfg := testConfig(8, path)
	if _, err := Run(context.Background(), cfg, again, true); err != nil {
		t.Fatal(err)
	}
	if again.b.data[0] != 0.25 {
		t.Errorf("resume left the frozen bias at %v, want 0.25", again.b.data[0])
	}
	dup := frozenTask{newRegTask()}
	dup.b.name = "w"
	if _, err := Run(context.Background(), testConfig(1, ""), dup, false); err == nil {
		t.Error("a frozen tensor named like a param was accepted")
	}
}

func TestConfigDiff(t *testing.T) {
	for _, c := range []struct{ a, b, want string }{
		{`{"a":1}`, `{"a":1}`, ""},
		{`{"a":1,"b":{"c":2}}`, `{"b":{"c":2},"a":1}`, ""}, // the same config, written otherwise
		{`{"a":1,"b":{"c":2,"d":3}}`, `{"a":1,"b":{"c":4,"d":3},"e":5}`, "fields b.c, e"},
		{`{"a":[1,2]}`, `{"a":[1,3]}`, "fields a"},
		{`{"a":1}`, `not json`, `"{\"a\":1}" and "not json"`},
	} {
		if got := configDiff(c.a, c.b); got != c.want {
			t.Errorf("configDiff(%s, %s) = %q, want %q", c.a, c.b, got, c.want)
		}
	}
}

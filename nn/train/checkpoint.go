package train

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/omniar/omniar/nn/ckpt"
)

// Checkpoint layout: every param under its own name, the AdamW moments under
// optimPrefix+"m."+name and optimPrefix+"v."+name, and these metadata keys.
const (
	optimPrefix  = "optim."
	formatV1     = "omniar-train-v1"
	metaFormat   = "format"
	metaConfig   = "config"
	metaStep     = "step"
	metaOptStep  = "optim_step"
	metaLosses   = "losses"
	metaTaskStat = "task_state"
)

// save writes a checkpoint of the current state unless one was already
// written (or loaded) at this step.
func (t *trainer) save() error {
	if t.cfg.CkptPath == "" || t.lastSaved == t.step {
		return nil
	}
	meta, err := t.meta()
	if err != nil {
		return fmt.Errorf("train: checkpoint %s: %w", t.cfg.CkptPath, err)
	}
	if dir := filepath.Dir(t.cfg.CkptPath); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("train: checkpoint %s: %w", t.cfg.CkptPath, err)
		}
	}
	if err := ckpt.Save(t.cfg.CkptPath, meta, t.tensors(), ckpt.F32); err != nil {
		return fmt.Errorf("train: save checkpoint %s at step %d: %w", t.cfg.CkptPath, t.step, err)
	}
	t.lastSaved = t.step
	slog.Debug("train: checkpoint saved", "path", t.cfg.CkptPath, "step", t.step)
	return nil
}

// tensors lists the params, the frozen tensors and the AdamW moments, flat.
func (t *trainer) tensors() []ckpt.Tensor {
	st := t.opt.State()
	out := make([]ckpt.Tensor, 0, 3*len(t.params)+len(t.frozen))
	for _, p := range append(slices.Clone(t.params), t.frozen...) {
		out = append(out, flat(p.Name(), p.Data()))
	}
	for _, p := range t.params {
		for _, k := range []string{"m.", "v."} {
			out = append(out, flat(optimPrefix+k+p.Name(), st[k+p.Name()]))
		}
	}
	return out
}

func flat(name string, data []float32) ckpt.Tensor {
	return ckpt.Tensor{Name: name, Shape: []int{len(data)}, Data: data}
}

// meta is the checkpoint metadata of the current state.
func (t *trainer) meta() (map[string]string, error) {
	losses, err := json.Marshal(t.losses)
	if err != nil {
		return nil, fmt.Errorf("encode losses: %w", err)
	}
	meta := map[string]string{
		metaFormat:  formatV1,
		metaConfig:  t.cfg.ModelConfig,
		metaStep:    strconv.Itoa(t.step),
		metaOptStep: strconv.Itoa(t.opt.StepCount()),
		metaLosses:  string(losses),
	}
	if s, ok := t.task.(Stateful); ok {
		b, err := s.MarshalState()
		if err != nil {
			return nil, fmt.Errorf("task state: %w", err)
		}
		meta[metaTaskStat] = base64.StdEncoding.EncodeToString(b)
	}
	return meta, nil
}

// saved is a checkpoint read and checked against the task, not yet applied.
type saved struct {
	step, optStep int
	losses        []float64
	params        [][]float32
	frozen        [][]float32
	moments       map[string][]float32
	taskState     []byte
	hasTaskState  bool
}

// resume loads cfg.CkptPath if it exists. Nothing changes unless the whole
// checkpoint is valid.
func (t *trainer) resume() error {
	path := t.cfg.CkptPath
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		slog.Info("train: no checkpoint to resume from; starting fresh", "path", path)
		return nil
	}
	s, err := t.read(path)
	if err != nil {
		return fmt.Errorf("train: resume from %s: %w", path, err)
	}
	if err := t.apply(s); err != nil {
		return fmt.Errorf("train: resume from %s: %w", path, err)
	}
	slog.Info("train: resumed", "path", path, "step", t.step, "of", t.cfg.Steps)
	return nil
}

// read loads and validates a checkpoint.
func (t *trainer) read(path string) (*saved, error) {
	f, err := ckpt.Load(path)
	if err != nil {
		return nil, err
	}
	s, err := t.readMeta(f.Meta)
	if err != nil {
		return nil, err
	}
	for _, p := range t.params {
		v, err := getFlat(f, p.Name(), len(p.Data()))
		if err != nil {
			return nil, err
		}
		s.params = append(s.params, v)
		for _, k := range []string{"m.", "v."} {
			if s.moments[k+p.Name()], err = getFlat(f, optimPrefix+k+p.Name(), len(p.Data())); err != nil {
				return nil, err
			}
		}
	}
	for _, p := range t.frozen {
		v, err := getFlat(f, p.Name(), len(p.Data()))
		if err != nil {
			return nil, err
		}
		s.frozen = append(s.frozen, v)
	}
	return s, nil
}

// getFlat reads tensor name and checks that it holds n values.
func getFlat(f *ckpt.File, name string, n int) ([]float32, error) {
	v, err := f.Get(name, n) // names the file and the tensor
	if err != nil {
		return nil, err
	}
	if len(v) != n {
		return nil, fmt.Errorf("tensor %q has %d values, the task's param has %d", name, len(v), n)
	}
	return v, nil
}

// readMeta parses and checks the metadata.
func (t *trainer) readMeta(meta map[string]string) (*saved, error) {
	if meta[metaFormat] != formatV1 {
		return nil, fmt.Errorf("format %q, want %q", meta[metaFormat], formatV1)
	}
	s := &saved{moments: make(map[string][]float32, 2*len(t.params))}
	var err error
	if s.step, err = metaInt(meta, metaStep); err != nil {
		return nil, err
	}
	if s.optStep, err = metaInt(meta, metaOptStep); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(meta[metaLosses]), &s.losses); err != nil {
		return nil, fmt.Errorf("metadata %q: %w", metaLosses, err)
	}
	if len(s.losses) != s.step {
		return nil, fmt.Errorf("metadata has %d losses for %d steps", len(s.losses), s.step)
	}
	if enc, ok := meta[metaTaskStat]; ok {
		if s.taskState, err = base64.StdEncoding.DecodeString(enc); err != nil {
			return nil, fmt.Errorf("metadata %q: %w", metaTaskStat, err)
		}
		s.hasTaskState = true
	}
	// Same-shaped tensors can still mean another model (a RoPE split, the
	// frames a position sees), so a changed config would resume silently
	// into a different run.
	if d := configDiff(meta[metaConfig], t.cfg.ModelConfig); d != "" {
		return nil, fmt.Errorf("trained with another model config (%s differ); resume with the flags it was started with, or train into a new checkpoint", d)
	}
	return s, nil
}

// configDiff names the JSON fields in which model configs a and b differ
// (dotted paths into nested objects), quotes both if either is not a JSON
// object, and is "" when they are the same config.
func configDiff(a, b string) string {
	if a == b {
		return ""
	}
	var x, y map[string]any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return fmt.Sprintf("%q and %q", a, b)
	}
	var diff []string
	var walk func(prefix string, x, y map[string]any)
	walk = func(prefix string, x, y map[string]any) {
		keys := slices.Collect(maps.Keys(x))
		for k := range y {
			if _, ok := x[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			xo, xok := x[k].(map[string]any)
			yo, yok := y[k].(map[string]any)
			switch {
			case xok && yok:
				walk(prefix+k+".", xo, yo)
			case !reflect.DeepEqual(x[k], y[k]):
				diff = append(diff, prefix+k)
			}
		}
	}
	walk("", x, y)
	if len(diff) == 0 {
		return ""
	}
	return "fields " + strings.Join(diff, ", ")
}

func metaInt(meta map[string]string, key string) (int, error) {
	v, ok := meta[key]
	if !ok {
		return 0, fmt.Errorf("metadata %q missing", key)
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("metadata %q is %q, want a non-negative integer", key, v)
	}
	return n, nil
}

// apply installs a validated checkpoint: task state first (the step that
// can fail), then optimizer state, then params.
func (t *trainer) apply(s *saved) error {
	st, stateful := t.task.(Stateful)
	switch {
	case stateful && !s.hasTaskState:
		return fmt.Errorf("metadata %q missing but the task is Stateful", metaTaskStat)
	case stateful:
		if err := st.UnmarshalState(s.taskState); err != nil {
			return fmt.Errorf("task state: %w", err)
		}
	case s.hasTaskState:
		slog.Warn("train: checkpoint has task state but the task is not Stateful; ignoring it")
	}
	if err := t.opt.SetState(s.optStep, s.moments); err != nil {
		return err
	}
	for i, p := range t.params {
		copy(p.Data(), s.params[i])
	}
	for i, p := range t.frozen {
		copy(p.Data(), s.frozen[i])
	}
	t.step, t.losses, t.lastSaved = s.step, s.losses, s.step
	return nil
}

package omni

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/omniar/omniar/internal/blas"
	"github.com/omniar/omniar/msvq"
	"github.com/omniar/omniar/nn/optim"
	"github.com/omniar/omniar/tokenizers"
	"github.com/omniar/omniar/tokenizers/bpe"
)

func TestMain(m *testing.M) {
	blas.Install()
	os.Exit(m.Run())
}

// fixture is a tiny configuration with a tiny text tokenizer and random
// media code vectors.
func fixture(t *testing.T) (Config, Media, *bpe.Tokenizer) {
	t.Helper()
	tok, err := tokenizers.TrainText([]string{"what digit is this? seven three left right up down", "which way does the seven move?"}, 300)
	if err != nil {
		t.Fatal(err)
	}
	q := msvq.Config{Codes: 16, Dim: 8, Scales: []int{1, 2, 4}, Beta: 0.25, Decay: 0.9, PhiRatio: 0.5}
	v := tokenizers.Config{TextSize: tok.VocabSize(), VisualBooks: 1, VisualCodes: 16, AudioDepths: 3, AudioCodes: 16}
	cfg := Tiny(v, q, 8)
	rng := rand.New(rand.NewPCG(1, 2))
	rnd := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	cb := rnd(q.Codes * q.Dim)
	clear(cb[:q.Dim]) // code 0 is zero
	md := Media{Vis: &msvq.Decoder{Cfg: q, Codebook: cb, PhiW: rnd(q.Dim * q.Dim * 9)}, AudioBooks: rnd(cfg.AudioDepths * 16 * 8)}
	return cfg, md, tok
}

func randomExample(cfg Config, task string, rng *rand.Rand) Example {
	ex := Example{Task: task, Text: []int{40, 41, 42}, Question: []int{50, 51}, Answer: []int{60, 61}}
	codes := func() []int {
		c := make([]int, cfg.Quant.Tokens())
		for i := range c {
			c[i] = rng.IntN(cfg.Quant.Codes)
		}
		return c
	}
	switch task {
	case TaskImageQA, TaskImageGen:
		ex.Visual = [][]int{codes()}
	case TaskVideoQA:
		for range cfg.VideoFrames {
			ex.Visual = append(ex.Visual, codes())
		}
	case TaskAudioQA:
		for range cfg.AudioFrames {
			ex.Audio = append(ex.Audio, []int{rng.IntN(16), rng.IntN(16), rng.IntN(16)})
		}
	}
	return ex
}

func TestTemplates(t *testing.T) {
	cfg, md, _ := fixture(t)
	m, err := New(cfg, md, 1)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, task := range Tasks {
		tmpl, err := m.Template(task)
		if err != nil {
			t.Fatalf("%s: %v", task, err)
		}
		ex := randomExample(cfg, task, rng)
		s, err := cfg.Layout(m.V, ex)
		if err != nil {
			t.Fatalf("%s: %v", task, err)
		}
		if s.L.Len() != tmpl.L.Len() || s.L.Groups != tmpl.L.Groups || !slices.Equal(s.Loss, tmpl.Loss) {
			t.Errorf("%s: example layout (%d positions) differs from the template's (%d)", task, s.L.Len(), tmpl.L.Len())
		}
		tg := s.Targets()
		switch {
		case Understanding(task):
			// <answer> predicts the answer, then <eos>, then nothing.
			want := []int{60, 61, tokenizers.EOS}
			for len(want) < len(tg) {
				want = append(want, -100)
			}
			if !slices.Equal(tg, want) {
				t.Errorf("%s: answer targets %v, want %v", task, tg, want)
			}
		case task == TaskImageGen:
			if len(tg) != cfg.Quant.Tokens() {
				t.Errorf("image_gen scores %d rows, want %d", len(tg), cfg.Quant.Tokens())
			}
			lo, _ := m.V.Range(tokenizers.Visual)
			if tg[0] != lo+ex.Visual[0][0] {
				t.Errorf("image_gen first target %d, want code %d", tg[0], lo+ex.Visual[0][0])
			}
		case task == TaskLM:
			if !slices.Equal(tg[:4], []int{40, 41, 42, -100}) {
				t.Errorf("lm targets %v", tg[:4])
			}
		}
		in, err := m.Inputs(s)
		if err != nil {
			t.Fatalf("%s inputs: %v", task, err)
		}
		if len(in.Tokens)+len(in.Kinds) != s.L.Len() {
			t.Errorf("%s: %d token and %d vector inputs for %d positions", task, len(in.Tokens), len(in.Kinds), s.L.Len())
		}
	}
}

func TestBadExamples(t *testing.T) {
	cfg, md, _ := fixture(t)
	m, err := New(cfg, md, 1)
	if err != nil {
		t.Fatal(err)
	}
	long := make([]int, cfg.Question+1)
	for _, ex := range []Example{
		{Task: TaskImageQA, Question: long, Visual: [][]int{make([]int, cfg.Quant.Tokens())}},
		{Task: TaskImageQA, Visual: [][]int{make([]int, 3)}},
		{Task: TaskImageQA, Visual: [][]int{slices.Repeat([]int{99}, cfg.Quant.Tokens())}},
		{Task: TaskAudioQA, Audio: make([][]int, 3)},
		{Task: "nope"},
	} {
		if _, err := cfg.Layout(m.V, ex); err == nil {
			t.Errorf("%s example %+v: no error", ex.Task, ex.Question)
		}
	}
}

// TestLearnsAnswers trains a tiny net on two images per task and checks
// that the cached greedy decoder returns the trained answers, and that a
// weights file round-trips.
func TestLearnsAnswers(t *testing.T) {
	cfg, md, _ := fixture(t)
	rng := rand.New(rand.NewPCG(5, 6))
	tasks := []string{TaskImageQA, TaskAudioQA, TaskLM}
	net, err := NewNet(cfg, md, []Slot{{TaskImageQA, 2}, {TaskAudioQA, 2}, {TaskLM, 1}}, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	exs := map[string][]Example{}
	b := Batch{}
	for _, task := range tasks {
		n := 2
		if task == TaskLM {
			n = 1
		}
		for i := range n {
			ex := randomExample(cfg, task, rng)
			ex.Answer = []int{60 + i, 70 + i}
			s, err := cfg.Layout(net.V, ex)
			if err != nil {
				t.Fatal(err)
			}
			exs[task] = append(exs[task], ex)
			b[task] = append(b[task], s)
		}
	}
	opt := optim.NewAdamW(optim.AdamWConfig{Beta1: 0.9, Beta2: 0.95, Eps: 1e-8}, net.OptimParams())
	var first, last map[string]float64
	for step := range 150 {
		ce, err := net.Run(b)
		if err != nil {
			t.Fatal(err)
		}
		if step == 0 {
			first = ce
		}
		last = ce
		grads := make([][]float32, len(net.Params()))
		for i, p := range net.Params() {
			grads[i] = p.Grad()
		}
		opt.Step(3e-3, grads)
	}
	for _, task := range tasks {
		if !(last[task] < first[task]/4) {
			t.Errorf("%s: cross-entropy %.3f → %.3f", task, first[task], last[task])
		}
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := SaveWeights(path, net.Model, nil); err != nil {
		t.Fatal(err)
	}
	loaded, _, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	// the same weights under a deeper configuration (as a damaged file
	// could carry) are rejected by tensor name before the model is built
	deep := *net.Model
	deep.Cfg.Trunk.Layers += 1000
	deepPath := filepath.Join(t.TempDir(), "deep.safetensors")
	if err := SaveWeights(deepPath, &deep, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(deepPath); err == nil || !strings.Contains(err.Error(), "not stored") {
		t.Errorf("deeper configuration than its weights: %v", err)
	}
	for _, m := range []*Model{net.Model, loaded} {
		for _, task := range []string{TaskImageQA, TaskAudioQA} {
			got, err := m.Answer(exs[task])
			if err != nil {
				t.Fatal(err)
			}
			for i, ex := range exs[task] {
				if !slices.Equal(got[i], ex.Answer) {
					t.Errorf("%s example %d: answer %v, want %v", task, i, got[i], ex.Answer)
				}
			}
		}
	}
}

// TestInputsSeeWhatTheyShould: generation inputs never carry the codes of
// the group being predicted (the finest scale, the last depth), while
// understanding inputs carry every code, so an image's finest scale and a
// recording's last depth reach the model.
func TestInputsSeeWhatTheyShould(t *testing.T) {
	cfg, md, _ := fixture(t)
	m, err := New(cfg, md, 1)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	last := cfg.Quant.Tokens() - cfg.Quant.Scales[len(cfg.Quant.Scales)-1]*cfg.Quant.Scales[len(cfg.Quant.Scales)-1]
	for _, tc := range []struct {
		task string
		sees bool
	}{{TaskImageGen, false}, {TaskImageQA, true}, {TaskVideoQA, true}, {TaskAudioQA, true}} {
		ex := randomExample(cfg, tc.task, rng)
		inputs := func(ex Example) Inputs {
			s, err := cfg.Layout(m.V, ex)
			if err != nil {
				t.Fatal(err)
			}
			in, err := m.Inputs(s)
			if err != nil {
				t.Fatal(err)
			}
			return in
		}
		a := inputs(ex)
		if tc.task == TaskAudioQA {
			for f := range ex.Audio { // the last depth the model reads
				ex.Audio[f][cfg.AudioDepths-1] = (ex.Audio[f][cfg.AudioDepths-1] + 1) % 16
			}
		} else {
			for f := range ex.Visual { // the finest scale
				for i := last; i < len(ex.Visual[f]); i++ {
					ex.Visual[f][i] = (ex.Visual[f][i] + 1) % cfg.Quant.Codes
				}
			}
		}
		b := inputs(ex)
		changed := !slices.Equal(a.Vis, b.Vis) || !slices.Equal(a.Aud, b.Aud)
		if changed != tc.sees {
			t.Errorf("%s: inputs changed with the last group's codes: %v, want %v", tc.task, changed, tc.sees)
		}
	}
}

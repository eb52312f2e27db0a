package omni

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/omniar/omniar/internal/blas"
	"github.com/omniar/omniar/msvq"
	"github.com/omniar/omniar/nn"
	"github.com/omniar/omniar/nn/optim"
	"github.com/omniar/omniar/tokenizers"
	"github.com/omniar/omniar/tokenizers/bpe"
	"github.com/omniar/omniar/unified"
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
	for _, glance := range []bool{false, true} {
		t.Run(fmt.Sprintf("glance=%v", glance), func(t *testing.T) { learnsAnswers(t, glance) })
	}
}

// learnsAnswers: the graph learns a few answers, and the inference path
// (Answer, on the trained and on the reloaded weights) gives them back.
func learnsAnswers(t *testing.T, glance bool) {
	cfg, md, _ := fixture(t)
	cfg.Glance = glance
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

// layoutInputs lays ex out for m and builds its inputs.
func layoutInputs(t *testing.T, m *Model, ex Example) (*Sequence, Inputs) {
	t.Helper()
	s, err := m.Cfg.Layout(m.V, ex)
	if err != nil {
		t.Fatal(err)
	}
	in, err := m.Inputs(s)
	if err != nil {
		t.Fatal(err)
	}
	return s, in
}

// TestGlance: with Config.Glance the first row of every frame of an
// understanding question sees the frame's finest codes and no other row
// changes; generation inputs are not glanced; a fresh glance adds nothing
// (it grows into a trained model).
func TestGlance(t *testing.T) {
	cfg, md, _ := fixture(t)
	cfg.Glance = true
	m, err := New(cfg, md, 1)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	embed := func(ex Example) ([]float32, *Sequence) {
		s, in := layoutInputs(t, m, ex)
		return m.embedRows(s, in, 0, s.L.Len()), s
	}
	ex := randomExample(cfg, TaskVideoQA, rng)
	fresh, _ := embed(ex)
	plain := cfg
	plain.Glance = false
	m0, err := New(plain, md, 1)
	if err != nil {
		t.Fatal(err)
	}
	s0, _ := plain.Layout(m0.V, ex)
	in0, _ := m0.Inputs(s0)
	if !slices.Equal(fresh, m0.embedRows(s0, in0, 0, s0.L.Len())) {
		t.Error("a fresh glance changes the embedding")
	}
	for _, p := range []*nn.Param{m.Glance.Out.W, m.Glance.Out.B} {
		for i := range p.Data() {
			p.Data()[i] = float32(rng.NormFloat64())
		}
	}
	a, s := embed(ex)
	// the glanced grid of a frame is its finest scale's rows
	in, err := m.Inputs(s)
	if err != nil {
		t.Fatal(err)
	}
	var fine []float32
	vi, qd := 0, cfg.Quant.Dim
	for _, p := range s.L.Pos {
		if p.Kind == unified.KindToken {
			continue
		}
		if p.Scale == len(cfg.Quant.Scales)-1 {
			fine = append(fine, in.Vis[vi*qd:(vi+1)*qd]...)
		}
		vi++
	}
	if !slices.Equal(in.Glance, fine) || len(in.GlanceRow) != cfg.VideoFrames {
		t.Errorf("glance of %d frames is not their finest rows", len(in.GlanceRow))
	}
	last := cfg.Quant.Tokens() - cfg.Quant.Side()*cfg.Quant.Side()
	for f := range ex.Visual {
		for i := last; i < len(ex.Visual[f]); i++ {
			ex.Visual[f][i] = (ex.Visual[f][i] + 1) % cfg.Quant.Codes
		}
	}
	b, _ := embed(ex)
	d := cfg.Trunk.Dim
	for i, p := range s.L.Pos {
		changed := !slices.Equal(a[i*d:(i+1)*d], b[i*d:(i+1)*d])
		first := p.Kind != unified.KindToken && p.Scale == 0
		fine := p.Kind != unified.KindToken && p.Scale == len(cfg.Quant.Scales)-1
		if changed != (first || fine) {
			t.Errorf("row %d (scale %d, frame %d): changed %v", i, p.Scale, p.Frame, changed)
		}
	}
	if _, in := layoutInputs(t, m, randomExample(cfg, TaskImageGen, rng)); in.Glance != nil {
		t.Error("a generation sequence is glanced")
	}
}

// TestGraphMatchesCache: the training graph and the KV-cache path (the
// one Answer decodes with) give the same cross-entropy of the answers,
// with and without a (trained, here random) glance.
func TestGraphMatchesCache(t *testing.T) {
	for _, glance := range []bool{false, true} {
		cfg, md, _ := fixture(t)
		cfg.Glance = glance
		cfg.Trunk.Capacity = 8 // no dropped tokens: the cache path drops none
		slots := []Slot{{TaskImageQA, 2}, {TaskVideoQA, 2}}
		net, err := NewNet(cfg, md, slots, 1, false)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(13, 14))
		if glance {
			for _, p := range []*nn.Param{net.Glance.Out.W, net.Glance.Out.B} {
				for i := range p.Data() {
					p.Data()[i] = float32(rng.NormFloat64())
				}
			}
		}
		b := Batch{}
		for _, sl := range slots {
			for range sl.Batch {
				s, err := cfg.Layout(net.V, randomExample(cfg, sl.Task, rng))
				if err != nil {
					t.Fatal(err)
				}
				b[sl.Task] = append(b[sl.Task], s)
			}
		}
		ce, err := net.Run(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, sl := range slots {
			var sum float64
			var n int
			for _, s := range b[sl.Task] {
				in, err := net.Inputs(s)
				if err != nil {
					t.Fatal(err)
				}
				cache := net.Trunk.NewCache(1)
				var h []float32
				for g := range s.L.Groups {
					lo, hi := s.L.Span(g)
					pos, err := s.L.RopePositions(lo, hi, len(cfg.Trunk.RopeSplit))
					if err != nil {
						t.Fatal(err)
					}
					y, err := net.Trunk.Decode(cache, net.embedRows(s, in, lo, hi), hi-lo, pos, nil)
					if err != nil {
						t.Fatal(err)
					}
					h = append(h, y...)
				}
				d := cfg.Trunk.Dim
				for j, tg := range s.Targets() {
					if tg < 0 {
						continue
					}
					r := s.Loss[j]
					logits := net.Text.Head.Apply(h[r*d:(r+1)*d], 1)
					mx := slices.Max(logits)
					var z float64
					for _, v := range logits {
						z += math.Exp(float64(v - mx))
					}
					sum += math.Log(z) + float64(mx-logits[tg])
					n++
				}
			}
			if got := sum / float64(n); math.Abs(got-ce[sl.Task]) > 1e-5*ce[sl.Task] {
				t.Errorf("glance %v %s: cache path CE %.5f, graph %.5f", glance, sl.Task, got, ce[sl.Task])
			}
		}
		net.Close()
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
			_, in := layoutInputs(t, m, ex)
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

package mm

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/omniar/omniar/datasets/digits"
	"github.com/omniar/omniar/datasets/qa"
	"github.com/omniar/omniar/datasets/store"
	"github.com/omniar/omniar/msvq"
	"github.com/omniar/omniar/omni"
	"github.com/omniar/omniar/tokenizers"
)

func TestReadTrainConfig(t *testing.T) {
	dir := t.TempDir()
	good := `{"size":"tiny","tokens":"t","video_tokenizer":"v","audio_codec":"a","out":"o","stages":[{"name":"s","steps":2,"lr":0.001,"mix":{"lm":1,"image_qa":2}}]}`
	tests := []struct {
		name, json, err string
	}{
		{"good", good, ""},
		{"shipped tiny", "", ""},
		{"unknown field", strings.Replace(good, `"size"`, `"sise":"x","size"`, 1), "unknown field"},
		{"bad size", strings.Replace(good, `"tiny"`, `"huge"`, 1), "size"},
		{"no stages", strings.Replace(good, `"stages":[{"name":"s","steps":2,"lr":0.001,"mix":{"lm":1,"image_qa":2}}]`, `"stages":[]`, 1), "no stages"},
		{"unknown task", strings.Replace(good, `"lm":1`, `"poetry":1`, 1), "poetry"},
		{"zero steps", strings.Replace(good, `"steps":2`, `"steps":0`, 1), "steps"},
		{"no out", strings.Replace(good, `"out":"o",`, ``, 1), "required"},
		{"not json", "{", "train config"},
		{"alone", strings.Replace(good, `"stages"`, `"alone":{"layers":[0]},"stages"`, 1), ""},
		{"stage frames", strings.Replace(good, `"mix"`, `"video_frames":3,"mix"`, 1), ""},
		{"clip images", strings.Replace(good, `"mix"`, `"clip_images":0.5,"mix"`, 1), ""},
		{"clip images over 1", strings.Replace(good, `"mix"`, `"clip_images":1.5,"mix"`, 1), "clip_images"},
		{"view images", strings.Replace(good, `"mix"`, `"view_images":0.5,"mix"`, 1), "digit_views"},
		{"view images with views", strings.Replace(strings.Replace(good, `"mix"`, `"view_images":0.5,"mix"`, 1), `"stages"`, `"digit_views":4,"stages"`, 1), ""},
		{"image shares over 1", strings.Replace(strings.Replace(good, `"mix"`, `"clip_images":0.6,"view_images":0.5,"mix"`, 1), `"stages"`, `"digit_views":4,"stages"`, 1), "add up"},
		{"negative views", strings.Replace(good, `"stages"`, `"digit_views":-1,"stages"`, 1), "digit_views"},
		{"audio views", strings.Replace(good, `"mix"`, `"audio_views":0.5,"mix"`, 1), "speech_views"},
		{"audio views with views", strings.Replace(strings.Replace(good, `"mix"`, `"audio_views":0.5,"mix"`, 1), `"stages"`, `"speech_views":4,"stages"`, 1), ""},
		{"audio views over 1", strings.Replace(strings.Replace(good, `"mix"`, `"audio_views":1.5,"mix"`, 1), `"stages"`, `"speech_views":4,"stages"`, 1), "audio_views"},
		{"pair views share", strings.Replace(good, `"mix"`, `"pair_views":0.3,"mix"`, 1), "pair_views pictures"},
		{"pair views with pictures", strings.Replace(strings.Replace(good, `"mix"`, `"pair_views":0.3,"mix"`, 1), `"stages"`, `"pair_views":100,"stages"`, 1), ""},
		{"pair shares over 1", strings.Replace(good, `"mix"`, `"clip_images":0.5,"pair_images":0.6,"mix"`, 1), "add up"},
		{"negative speech views", strings.Replace(good, `"stages"`, `"speech_views":-1,"stages"`, 1), "speech_views"},
		{"negative pair views", strings.Replace(good, `"stages"`, `"pair_views":-2,"stages"`, 1), "pair_views"},
		{"negative frames", strings.Replace(good, `"mix"`, `"video_frames":-1,"mix"`, 1), "video_frames"},
		{"negative warmup", strings.Replace(good, `"stages"`, `"warmup":-1,"stages"`, 1), "warmup"},
		{"negative ckpt_every", strings.Replace(good, `"stages"`, `"ckpt_every":-5,"stages"`, 1), "ckpt_every"},
		{"negative clips", strings.Replace(good, `"stages"`, `"clips":{"train":-1},"stages"`, 1), "clips train"},
		{"unknown split", strings.Replace(good, `"stages"`, `"clips":{"tset":10},"stages"`, 1), "clips tset"},
		{"alone and elastic", strings.Replace(good, `"stages"`, `"alone":{"layers":[0]},"elastic":{"p_full":0.5},"stages"`, 1), "exclude"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join("..", "..", "configs", "tiny.json")
			if tc.json != "" {
				p = filepath.Join(dir, tc.name+".json")
				if err := os.WriteFile(p, []byte(tc.json), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := ReadTrainConfig(p)
			if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("error %v, want %q", err, tc.err)
			}
		})
	}
	shipped, err := filepath.Glob(filepath.Join("..", "..", "configs", "*.json"))
	if err != nil || len(shipped) == 0 {
		t.Fatalf("configs/*.json: %d files, %v", len(shipped), err)
	}
	for _, p := range shipped {
		if _, err := ReadTrainConfig(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

func TestAudioCodes(t *testing.T) {
	codes := [][]int{{1, 2, 3}, {4, 5, 6}}
	got := AudioCodes(codes, 3, 2)
	if !slices.Equal(got[0], []int{1, 2}) || !slices.Equal(got[1], []int{4, 5}) || !slices.Equal(got[2], []int{0, 0}) {
		t.Errorf("padded codes %v", got)
	}
	if got := AudioCodes(codes, 1, 3); len(got) != 1 || !slices.Equal(got[0], []int{1, 2, 3}) {
		t.Errorf("cut codes %v", got)
	}
}

func TestSummarize(t *testing.T) {
	// two layers of 4 experts, top-2: uniform, then one expert never chosen
	ml := summarize([][]float64{{10, 10, 10, 10}, {20, 10, 10, 0}}, 2)
	if ml.Tokens != 20 {
		t.Errorf("tokens %d, want 20", ml.Tokens)
	}
	if math.Abs(ml.Entropy[0]-math.Log(4)) > 1e-9 || ml.Entropy[1] >= ml.Entropy[0] {
		t.Errorf("entropies %v", ml.Entropy)
	}
	if ml.MinLoad != 0 || math.Abs(ml.Load[1][0]-0.5) > 1e-9 {
		t.Errorf("min load %g, load %v", ml.MinLoad, ml.Load[1])
	}
}

func TestDigitCanvas(t *testing.T) {
	g := make([]uint8, 28*28)
	for i := range g {
		g[i] = 255
	}
	c := DigitCanvas(g)
	var n int
	for _, v := range c {
		if v == 255 {
			n++
		}
	}
	if len(c) != 64*64 || n != 28*28 || c[18*64+18] != 255 || c[17*64+17] != 0 || c[45*64+45] != 255 || c[46*64+46] != 0 {
		t.Errorf("canvas: %d pixels, %d lit; glyph not centred", len(c), n)
	}
}

func TestCheckTokens(t *testing.T) {
	p := filepath.Join(t.TempDir(), "digits.store")
	if err := store.Write(p, store.Shape{T: 1, H: 1, W: 2, C: 1}, []uint8{1, 2}, TokenIndex{Tokenizer: "aaa", Refs: []string{"digits:0"}}); err != nil {
		t.Fatal(err)
	}
	if err := checkTokens(p, "tok.safetensors", "aaa"); err != nil {
		t.Errorf("same tokenizer: %v", err)
	}
	err := checkTokens(p, "tok.safetensors", "bbb")
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "aaa") {
		t.Errorf("other tokenizer: error %v, want one naming the file and its tokenizer", err)
	}
}

func TestStaleClipsRetokenized(t *testing.T) {
	for _, c := range []struct {
		frames, clips int
		kept          bool
	}{{1, 1, true}, {2, 1, true}, {3, 1, false}, {2, 2, false}} {
		p := filepath.Join(t.TempDir(), "video_train.store")
		if err := store.Write(p, store.Shape{T: 2, H: 1, W: 1, C: 1}, []uint8{1, 2}, TokenIndex{Tokenizer: "aaa", Refs: []string{"moving:train:0"}}); err != nil {
			t.Fatal(err)
		}
		if err := staleClips(p, c.frames, c.clips); err != nil {
			t.Fatal(err)
		}
		if exists(p) != c.kept {
			t.Errorf("%d frames of %d clips wanted from a file of 2 frames of 1 clip: kept %v, want %v", c.frames, c.clips, exists(p), c.kept)
		}
	}
}

func TestPartOf(t *testing.T) {
	for _, c := range []struct {
		row, answer, want string
	}{
		{"digits", "three", "one digit"},
		{"digits", "one and seven", "two digits"},
		{"direction", "up and to the left", ""},
		{"digit", "five", ""},
	} {
		if got := partOf(c.row, Item{Answer: c.answer}); got != c.want {
			t.Errorf("%s %q: part %q, want %q", c.row, c.answer, got, c.want)
		}
	}
}

func TestStdErr(t *testing.T) {
	for _, c := range []struct {
		x    []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 0},
		{[]float64{1, 1, 1}, 0},
		{[]float64{1, 3}, 1}, // sd √2, /√2
		{[]float64{2, 4, 4, 4, 5, 5, 7, 9}, math.Sqrt(32.0/7) / math.Sqrt(8)},
	} {
		if got := stdErr(c.x); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("stdErr(%v) = %g, want %g", c.x, got, c.want)
		}
	}
}

func TestLoadDigitViews(t *testing.T) {
	dir := t.TempDir()
	refs := []string{ViewRef(3, 0), ViewRef(3, 1), ViewRef(4, 0), ViewRef(4, 1)}
	if err := store.Write(filepath.Join(dir, fmt.Sprintf(fileViews, 2)), store.Shape{T: 1, H: 1, W: 2, C: 1},
		[]uint8{30, 31, 32, 33, 40, 41, 42, 43}, TokenIndex{Tokenizer: "aaa", Refs: refs}); err != nil {
		t.Fatal(err)
	}
	q := func(ref, task string) Item {
		return Item{Ex: omni.Example{Task: omni.TaskImageQA, Question: []int{1}, Answer: []int{2}, Visual: [][]int{{0, 0}}}, QATask: task, Ref: ref}
	}
	d := &Data{Split: "train", ByTask: map[string][]Item{omni.TaskImageQA: {q("digits:3", "digit"), q("digits:4", "digit"), q("moving:train:0", "digits")}}}
	if err := d.LoadDigitViews(dir, 2); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range d.DigitViews {
		got = append(got, fmt.Sprintf("%s %v %v", it.Ref, it.Ex.Visual, it.Ex.Answer))
	}
	want := []string{"digits:3:view0 [[30 31]] [2]", "digits:3:view1 [[32 33]] [2]", "digits:4:view0 [[40 41]] [2]", "digits:4:view1 [[42 43]] [2]"}
	if !slices.Equal(got, want) {
		t.Errorf("views %v, want %v", got, want)
	}
	if d.ByTask[omni.TaskImageQA][0].Ex.Visual[0][0] != 0 {
		t.Error("the centred image's question was changed")
	}
	d.ByTask[omni.TaskImageQA] = append(d.ByTask[omni.TaskImageQA], q("digits:5", "digit"))
	if err := d.LoadDigitViews(dir, 2); err == nil || !strings.Contains(err.Error(), "digit_views2.store") {
		t.Errorf("a digit without views: error %v, want one naming the file", err)
	}
	if err := d.LoadDigitViews(dir, 3); err == nil || !strings.Contains(err.Error(), "digit_views3.store") {
		t.Errorf("no file of 3 views: error %v, want one naming the file", err)
	}
}

func TestOtherImages(t *testing.T) {
	ex := func(n int) omni.Example { return omni.Example{Task: omni.TaskImageQA, Answer: []int{n}} }
	d := &Data{ClipDigits: []Item{{Ex: ex(1)}}, DigitViews: []Item{{Ex: ex(2)}}, ClipPairs: []Item{{Ex: ex(3)}}}
	tt := &trainTask{d: d, stage: Stage{Name: "s", ClipImages: 0.25, ViewImages: 0.4, PairImages: 0.2}}
	exs := make([]omni.Example, 4000)
	for i := range exs {
		exs[i] = ex(0)
	}
	if err := tt.otherExamples(omni.TaskImageQA, exs, rand.New(rand.NewPCG(1, 2))); err != nil {
		t.Fatal(err)
	}
	var n [4]float64
	for _, e := range exs {
		n[e.Answer[0]]++
	}
	for k, want := range []float64{0.15, 0.25, 0.4, 0.2} {
		if got := n[k] / float64(len(exs)); math.Abs(got-want) > 0.03 {
			t.Errorf("share of kind %d %.3f, want %.2f", k, got, want)
		}
	}
	aud := make([]omni.Example, 4000)
	d.SpeechViews = []Item{{Ex: ex(1)}}
	tt.stage.AudioViews = 0.3
	if err := tt.otherExamples(omni.TaskAudioQA, aud, rand.New(rand.NewPCG(1, 2))); err != nil {
		t.Fatal(err)
	}
	var views float64
	for _, e := range aud {
		if len(e.Answer) > 0 {
			views++
		}
	}
	if got := views / float64(len(aud)); math.Abs(got-0.3) > 0.03 {
		t.Errorf("share of audio views %.3f, want 0.30", got)
	}
	tt.d = &Data{ClipDigits: d.ClipDigits, DigitViews: d.DigitViews}
	if err := tt.otherExamples(omni.TaskImageQA, exs, rand.New(rand.NewPCG(1, 2))); err == nil || !strings.Contains(err.Error(), "pair_images") {
		t.Errorf("pair_images without pairs: error %v, want one naming pair_images", err)
	}
}

func TestInitState(t *testing.T) {
	state := `{"curves":{"lm":{"steps":[0,1],"ce":[5,4]}},"bias":{"x":[1]},"subs":{"full":2}}`
	st, err := initState("w", map[string]string{"steps": "1300", "state": state})
	if err != nil {
		t.Fatal(err)
	}
	if st.Base != 1300 || len(st.Curves["lm"].CE) != 2 || st.Subs["full"] != 2 || st.Bias != nil {
		t.Errorf("history %+v: want base 1300, the curve and the draws, no biases", st)
	}
	st, err = initState("w", map[string]string{}) // weights without a history
	if err != nil || st.Base != 0 || st.Curves == nil || st.Subs == nil {
		t.Errorf("no history: %+v, %v", st, err)
	}
	for _, meta := range []map[string]string{{"steps": "many"}, {"steps": "-3"}, {"state": "{"}} {
		if _, err := initState("w.safetensors", meta); err == nil || !strings.Contains(err.Error(), "w.safetensors") {
			t.Errorf("metadata %v: error %v, want one naming the file", meta, err)
		}
	}
}

func TestEvalSplit(t *testing.T) {
	_, err := Eval(context.Background(), EvalOptions{Split: "tset", Ckpt: "none.safetensors"})
	if err == nil || !strings.Contains(err.Error(), `split "tset"`) {
		t.Errorf("unknown split: error %v, want one naming it", err)
	}
}

func TestTokensDir(t *testing.T) {
	here := t.TempDir()
	gone := filepath.Join(here, "gone")
	meta := func(dir string) map[string]string {
		return map[string]string{"train_config": `{"tokens":"` + dir + `"}`}
	}
	tests := []struct {
		name, dir string
		meta      map[string]string
		want, err string
	}{
		{"flag", here, meta(gone), here, ""},
		{"flag missing", gone, meta(here), "", gone},
		{"recorded", "", meta(here), here, ""},
		{"recorded missing", "", meta(gone), "", "m.safetensors"},
		{"none", "", map[string]string{}, "", "--tokens"},
	}
	for _, tc := range tests {
		got, err := TokensDir(tc.dir, "m.safetensors", tc.meta)
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: %q, %v; want %q and an error naming %q", tc.name, got, err, tc.want, tc.err)
		}
	}
}

// TestWithGlance: weights without a glance get a fresh one (and nothing
// else changes); weights with one are kept as they are.
func TestWithGlance(t *testing.T) {
	q := msvq.Config{Codes: 16, Dim: 4, Scales: []int{1, 2}, Beta: 0.25, Decay: 0.9, PhiRatio: 0.5}
	v := tokenizers.Config{TextSize: 300, VisualBooks: 1, VisualCodes: 16, AudioDepths: 2, AudioCodes: 8}
	cfg := omni.Tiny(v, q, 4)
	md := omni.Media{Vis: &msvq.Decoder{Cfg: q, Codebook: make([]float32, 16*4), PhiW: make([]float32, 4*4*9)}, AudioBooks: make([]float32, cfg.AudioDepths*8*4)}
	m, err := omni.New(cfg, md, 1)
	if err != nil {
		t.Fatal(err)
	}
	w := m.Weights()
	cfg.Glance = true
	g, err := withGlance(w, cfg, md)
	if err != nil {
		t.Fatal(err)
	}
	gm, err := omni.New(cfg, md, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := gm.Load(g); err != nil {
		t.Fatalf("grown weights do not load into a model with a glance: %v", err)
	}
	if _, ok := w[glanceIn]; ok {
		t.Error("withGlance changed its argument")
	}
	for name, x := range w {
		if !slices.Equal(g[name], x) {
			t.Errorf("%s changed", name)
		}
	}
	g[glanceIn][0] = 42
	again, err := withGlance(g, cfg, md)
	if err != nil || again[glanceIn][0] != 42 {
		t.Errorf("a trained glance was replaced (%v)", err)
	}
}

func TestAddFirstFrame(t *testing.T) {
	enc := func(s string) ([]int, error) { return []int{len(s)}, nil }
	clip := [][]int{{1}, {2}, {3}}
	d := &Data{}
	for _, ans := range []string{"four", "four and eight", "two"} {
		it := Item{Ex: omni.Example{Task: omni.TaskVideoQA, Answer: []int{len(ans)}, Visual: clip}, QATask: "digits", Answer: ans, Ref: "moving:train:" + ans}
		if err := d.addFirstFrame(it, enc); err != nil {
			t.Fatal(err)
		}
	}
	if len(d.ClipDigits) != 2 || len(d.ClipPairs) != 1 {
		t.Fatalf("%d one-digit and %d two-digit first frames, want 2 and 1", len(d.ClipDigits), len(d.ClipPairs))
	}
	p := d.ClipPairs[0]
	if p.QATask != "digits" || p.Answer != "four and eight" || p.Ex.Task != omni.TaskImageQA || len(p.Ex.Visual) != 1 || p.Ex.Visual[0][0] != 1 {
		t.Errorf("pair item %+v: want an image question about the first frame with the clip's answer", p)
	}
	if q := d.ClipDigits[1].Ex.Question[0]; q != len(qa.Phrasings["digit"][1]) {
		t.Errorf("second one-digit question %d, want the second digit phrasing", q)
	}
	if q := p.Ex.Question[0]; q != len(qa.Phrasings["digits"][0]) {
		t.Errorf("pair question %d, want the first digits phrasing", q)
	}
}

func TestPairClips(t *testing.T) {
	s := &digits.Set{Pixels: make([]uint8, digits.Count*digits.Size*digits.Size), Digits: make([]digits.Digit, digits.Count)}
	for id := range s.Digits {
		s.Digits[id] = digits.Digit{ID: id, Label: id / digits.PerClass, Split: "train"}
	}
	a, b := PairClips(s, 50), PairClips(s, 60)
	if len(a) != 50 || len(b) != 60 {
		t.Fatalf("%d and %d clips, want 50 and 60", len(a), len(b))
	}
	for i, c := range a {
		if len(c.Movers) != 2 || c.Index < pairClips || PairViewRef(c) != PairViewRef(b[i]) {
			t.Fatalf("clip %d: %d digits, index %d, ref %s vs %s: want two digits past the stored clips, the same clips for any count",
				i, len(c.Movers), c.Index, PairViewRef(c), PairViewRef(b[i]))
		}
	}
}

func TestTopMisses(t *testing.T) {
	m := map[string]int{"a → b": 3, "c → d": 1, "e → f": 2, "g → h": 1}
	got := topMisses(m, 2)
	want := map[string]int{"a → b": 3, "e → f": 2, otherMisses: 2}
	if !maps.Equal(got, want) {
		t.Errorf("top 2 of %v: %v, want %v", m, got, want)
	}
	if got := topMisses(m, 4); !maps.Equal(got, m) {
		t.Errorf("top 4 of 4: %v", got)
	}
}

func TestFrequentMisses(t *testing.T) {
	m := map[string]int{"four → nine": 3, "one → seven": 1, otherMisses: 9, "five → six": 2}
	if got, want := FrequentMisses(m, 2), "four → nine ×3, five → six ×2"; got != want {
		t.Errorf("FrequentMisses: %q, want %q", got, want)
	}
	if got := FrequentMisses(nil, 5); got != "" {
		t.Errorf("no misses: %q", got)
	}
}

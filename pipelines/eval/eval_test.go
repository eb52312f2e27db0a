package eval

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/omniar/omniar/datasets/digits"
	"github.com/omniar/omniar/internal/blas"
	"github.com/omniar/omniar/metrics"
	"github.com/omniar/omniar/video/vio"
)

func TestMain(m *testing.M) {
	blas.Install()
	os.Exit(m.Run())
}

// writeClip writes a GIF of n moving-square frames of size w×h.
func writeClip(t *testing.T, path string, n, w, h int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	v := &vio.Video{W: w, H: h}
	x, y := rng.IntN(w/2), rng.IntN(h/2)
	for i := 0; i < n; i++ {
		f := make([]uint8, w*h)
		for j := 0; j < 8; j++ {
			for k := 0; k < 8; k++ {
				px, py := (x+i+k)%w, (y+j)%h
				f[py*w+px] = 200
			}
		}
		v.Frames = append(v.Frames, f)
	}
	if err := vio.Write(path, v); err != nil {
		t.Fatal(err)
	}
}

func TestLoadClipsDir(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 3; i++ {
		writeClip(t, filepath.Join(dir, "c"+string(rune('a'+i))+".gif"), 20, 80, 80, uint64(i))
	}
	seq := filepath.Join(dir, "seq")
	os.Mkdir(seq, 0o755)
	for i := 0; i < 17; i++ {
		writeClip(t, filepath.Join(seq, "f"+string(rune('a'+i))+".png"), 1, 80, 80, 9)
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("ignored"), 0o644)
	cs, err := LoadClips(dir, "", 0, 17, 64)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs.Clips) != 4 || cs.SrcW != 80 || len(cs.Clips[0]) != 17 || len(cs.Clips[0][0]) != 64*64 {
		t.Fatalf("%d clips of %d frames, source %d×%d", len(cs.Clips), len(cs.Clips[0]), cs.SrcW, cs.SrcH)
	}
	if cs, _ := LoadClips(dir, "", 2, 17, 64); len(cs.Clips) != 2 {
		t.Errorf("n=2 gave %d clips", len(cs.Clips))
	}
}

func TestLoadClipsErrors(t *testing.T) {
	root := t.TempDir()
	mk := func(name string, fill func(dir string)) string {
		d := filepath.Join(root, name)
		os.Mkdir(d, 0o755)
		fill(d)
		return d
	}
	cases := []struct {
		name, dir, want string
	}{
		{"empty", mk("empty", func(string) {}), "holds no clips"},
		{"garbage", mk("garbage", func(d string) { os.WriteFile(filepath.Join(d, "x.gif"), []byte("GIF89a nonsense"), 0o644) }), "x.gif"},
		{"short", mk("short", func(d string) { writeClip(t, filepath.Join(d, "s.gif"), 5, 64, 64, 1) }), "has 5 frames, need 17"},
		{"mixed", mk("mixed", func(d string) {
			writeClip(t, filepath.Join(d, "a.gif"), 17, 64, 64, 1)
			writeClip(t, filepath.Join(d, "b.gif"), 17, 96, 64, 2)
		}), "one resolution"},
		{"missing", filepath.Join(root, "nope"), "nope"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadClips(c.dir, "", 0, 17, 64)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
	if _, err := LoadClips("test", t.TempDir(), 0, 17, 32); err == nil {
		t.Error("a split at 32×32 accepted")
	}
}

// randomVideoWeights saves an untrained video classifier.
func randomVideoWeights(t *testing.T) string {
	t.Helper()
	n, err := metrics.NewNet(metrics.VideoNetConfig(), 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "video.safetensors")
	if err := n.Save(p, nil); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFVDPipeline(t *testing.T) {
	w := randomVideoWeights(t)
	real, fake, small := t.TempDir(), t.TempDir(), t.TempDir()
	for i := 0; i < 4; i++ {
		writeClip(t, filepath.Join(real, "r"+string(rune('a'+i))+".gif"), 17, 64, 64, uint64(i))
		writeClip(t, filepath.Join(fake, "f"+string(rune('a'+i))+".gif"), 17, 64, 64, uint64(10+i))
		writeClip(t, filepath.Join(small, "s"+string(rune('a'+i))+".gif"), 17, 48, 48, uint64(i))
	}
	rep, err := FVD(FVDOptions{Real: real, Fake: fake, Features: "omniar", Weights: w, Bootstrap: 5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.NReal != 4 || rep.NFake != 4 || rep.FeatureDim != 128 || !rep.RankDeficient || rep.Frechet.Reps != 5 || len(rep.WeightsSHA256) != 64 {
		t.Errorf("report %+v", rep)
	}
	same, err := FVD(FVDOptions{Real: real, Fake: real, Features: "omniar", Weights: w})
	if err != nil || same.Frechet.Value > 1e-6 {
		t.Errorf("real vs itself: %g, %v", same.Frechet.Value, err)
	}
	var sb strings.Builder
	PrintFVD(&sb, rep)
	for _, want := range []string{metrics.VideoNetConfig().Name, rep.WeightsSHA256, "4 clips", "17 frames", "64×64", "KVD", "warning"} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, sb.String())
		}
	}
	// The real clips as the second generated set are at distance ~0, so
	// they are closer than the fake set by its whole distance.
	vs, err := FVD(FVDOptions{Real: real, Fake: fake, Versus: real, Features: "omniar", Weights: w, Bootstrap: 5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if v := vs.Versus; v == nil || v.NFake != 4 || v.Frechet.Value > 1e-6 || v.FrechetDiff.Reps != 5 ||
		math.Abs(v.FrechetDiff.Value+rep.Frechet.Value) > 1e-6*rep.Frechet.Value || math.Abs(v.KVDDiff.Value+rep.KVD.Value-v.KVD.Value) > 1e-6*math.Abs(rep.KVD.Value) {
		t.Errorf("versus the real clips: %+v against %+v", vs.Versus, rep)
	}
	sb.Reset()
	PrintFVD(&sb, vs)
	if !strings.Contains(sb.String(), "paired bootstrap") {
		t.Errorf("report lacks the paired comparison:\n%s", sb.String())
	}
	three := t.TempDir()
	for i := 0; i < 3; i++ {
		writeClip(t, filepath.Join(three, "t"+string(rune('a'+i))+".gif"), 17, 64, 64, uint64(20+i))
	}
	bad := []struct {
		opt  FVDOptions
		want string
	}{
		{FVDOptions{Real: real, Fake: fake, Versus: three, Features: "omniar", Weights: w}, "needs the same prompts"},
		{FVDOptions{Real: real, Fake: fake, Versus: small, Features: "omniar", Weights: w}, "compare at one resolution"},
		{FVDOptions{Real: real, Fake: small, Features: "omniar", Weights: w}, "compare at one resolution"},
		{FVDOptions{Real: real, Fake: fake, Features: "i3d", Weights: w}, "load i3d"},
		{FVDOptions{Real: real, Fake: fake, Features: "i3d"}, "need --weights"},
		{FVDOptions{Real: real, Fake: fake, Features: "clip", Weights: w}, "unknown feature network"},
		{FVDOptions{Real: real, Fake: fake, Features: "omniar", Weights: w, Frames: 16}, "not 16"},
		{FVDOptions{Real: real, Fake: fake, Features: "omniar", Weights: filepath.Join(real, "none")}, "none"},
	}
	for _, b := range bad {
		if _, err := FVD(b.opt); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%+v: %v, want %q", b.opt, err, b.want)
		}
	}
	one := t.TempDir()
	writeClip(t, filepath.Join(one, "a.gif"), 17, 64, 64, 1)
	if _, err := FVD(FVDOptions{Real: real, Fake: one, Features: "omniar", Weights: w}); !errors.Is(err, metrics.ErrTooFew) {
		t.Errorf("one fake clip: %v", err)
	}
}

func TestFVDI3D(t *testing.T) {
	w := filepath.Join("..", "..", "metrics", "testdata", "fixtures", "i3d_w0125.safetensors")
	real, fake := t.TempDir(), t.TempDir()
	for i := 0; i < 2; i++ {
		writeClip(t, filepath.Join(real, "r"+string(rune('a'+i))+".gif"), 16, 64, 64, uint64(i))
		writeClip(t, filepath.Join(fake, "f"+string(rune('a'+i))+".gif"), 16, 64, 64, uint64(10+i))
	}
	rep, err := FVD(FVDOptions{Real: real, Fake: fake, Features: "i3d", Weights: w, Layer: I3DPool})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Features != "i3d-pool" || rep.FeatureDim != 128 || rep.NetRes != 224 || rep.Frames != 16 || rep.Frechet.Value <= 0 {
		t.Errorf("report %+v", rep)
	}
	if _, err := FVD(FVDOptions{Real: real, Fake: fake, Features: "i3d", Weights: w, Layer: "fc7"}); err == nil {
		t.Error("layer fc7 accepted")
	}
}

// realData returns the prepared data directory and a shipped weights
// file, or skips.
func realData(t *testing.T, weights string) (string, *metrics.Weights) {
	t.Helper()
	dir := os.Getenv("OMNIAR_DATA")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "omniar", "data")
	}
	if _, err := os.Stat(filepath.Join(dir, "moving", "test.u8")); err != nil {
		t.Skipf("no prepared data in %s (omniar data prepare)", dir)
	}
	w, err := metrics.LoadWeights(filepath.Join("..", "..", "assets", "metrics", weights))
	if err != nil {
		t.Skipf("no shipped weights: %v", err)
	}
	return dir, w
}

func TestJudgeRealClips(t *testing.T) {
	dir, w := realData(t, "digits.safetensors")
	_, pw := realData(t, "pairs.safetensors")
	rep, err := JudgeSplit(dir, "test", 80, metrics.JudgeWeights{Digits: w, Pairs: pw})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", rep)
	if rep.Clips != 80 || rep.OneMatch < 0.95 || rep.OneDir < 0.98 || rep.Match < 0.85 {
		t.Errorf("judge on the first 80 test clips: %+v", rep)
	}
	acc, err := DigitAccuracyOf(dir, "test", w)
	if err != nil || acc.Accuracy < 0.98 || acc.Digits != 500 {
		t.Errorf("digit classifier on the digits test split: %+v, %v", acc, err)
	}
}

func TestAsset(t *testing.T) {
	t.Setenv("OMNIAR_ROOT", filepath.Join("..", ".."))
	if got := Asset("go.mod"); got != filepath.Join("..", "..", "go.mod") {
		t.Errorf("Asset(go.mod) = %q", got)
	}
	if got := Asset("no/such/file"); got != "no/such/file" {
		t.Errorf("missing: %q", got)
	}
	if got := Asset("/abs/path"); got != "/abs/path" {
		t.Errorf("absolute: %q", got)
	}
}

func TestVideoFeaturesRealClips(t *testing.T) {
	dir, _ := realData(t, "video.safetensors")
	ex, err := NewExtractor("omniar", filepath.Join("..", "..", DefaultVideoWeights), "")
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()
	cs, err := LoadClips("test", dir, 300, ex.Frames, ex.Size)
	if err != nil {
		t.Fatal(err)
	}
	half := func(lo, hi int, c corruption) *ClipSet {
		out := &ClipSet{Source: cs.Source}
		rng := rand.New(rand.NewPCG(1, 1))
		for i := lo; i < hi; i++ {
			out.Names, out.Clips = append(out.Names, cs.Names[i]), append(out.Clips, c.fn(cs.Clips[i], rng))
		}
		return out
	}
	clean := corruption{"clean", func(c [][]uint8, _ *rand.Rand) [][]uint8 { return c }}
	a, err := ex.Features(half(0, 150, clean))
	if err != nil {
		t.Fatal(err)
	}
	var prev float64
	for i, c := range []corruption{clean, noise(32), freeze} {
		b, err := ex.Features(half(150, 300, c))
		if err != nil {
			t.Fatal(err)
		}
		fd, err := metrics.Frechet(a, b)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: FVD-style %.1f", c.name, fd)
		if i > 0 && fd < 1.5*prev {
			t.Errorf("%s: %.1f, not well above real vs real %.1f", c.name, fd, prev)
		}
		if i == 0 {
			prev = fd
		}
	}
}

// TestInitFrom: a net with another pooling takes every tensor of the same
// name and size from a saved net and keeps its own hidden layer.
func TestInitFrom(t *testing.T) {
	src := metrics.NetConfig{Name: "src", Input: [4]int{1, 3, 8, 8}, Features: 4, Logits: 4, Binary: true, Pool: "mean",
		Convs: []metrics.ConvLayer{{Out: 4, Kernel: [3]int{1, 3, 3}, Stride: [3]int{1, 2, 2}, Padding: [3]int{0, 1, 1}}}}
	n, err := metrics.NewNet(src, 1, 7)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "src.safetensors")
	if err := n.Save(path, nil); err != nil {
		t.Fatal(err)
	}
	dst := src
	dst.Pool = "max-space" // hidden layer 4·3 → 4 instead of 4 → 4
	tr, err := metrics.NewTrainer(dst, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	before := map[string][]float32{}
	for _, p := range tr.Net.Params() {
		before[p.Name()] = append([]float32(nil), p.Data()...)
	}
	if err := initFrom(tr, path); err != nil {
		t.Fatal(err)
	}
	srcW := map[string][]float32{}
	for _, p := range n.Params() {
		srcW[p.Name()] = p.Data()
	}
	for _, p := range tr.Net.Params() {
		same := func(a []float32) bool {
			for i, v := range a {
				if d := v - p.Data()[i]; d > 1e-3 || d < -1e-3 { // F16 storage
					return false
				}
			}
			return true
		}
		switch want := p.Name() == "fc.weight"; {
		case want && !same(before[p.Name()]):
			t.Errorf("%s was overwritten", p.Name())
		case !want && !same(srcW[p.Name()]):
			t.Errorf("%s was not taken from the file", p.Name())
		}
	}
	other := metrics.NetConfig{Name: "other", Input: [4]int{1, 3, 8, 8}, Features: 2, Logits: 2,
		Convs: []metrics.ConvLayer{{Out: 3, Kernel: [3]int{1, 1, 1}, Stride: [3]int{1, 1, 1}}}}
	o, err := metrics.NewNet(other, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "other.safetensors")
	if err := o.Save(bad, nil); err != nil {
		t.Fatal(err)
	}
	if err := initFrom(tr, bad); err == nil {
		t.Error("a file with no matching tensor accepted")
	}
	if err := initFrom(tr, filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing file accepted")
	}
}

// TestClipGen: the classifier's training clips are fresh (numbered past
// the stored ones), reproducible, drawn from train instances only, and their
// labels are the instances' labels.
func TestClipGen(t *testing.T) {
	dir, _ := realData(t, "video.safetensors")
	s, err := digits.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	g := clipGen{s: s, glyphs: s.Glyphs(), ids: s.IDs("train")}
	draw := func(i int64) (digits.Clip, []uint8) {
		px := make([]uint8, digits.ClipBytes)
		return g.clip(i, px, rand.New(rand.NewPCG(3, uint64(i)))), px
	}
	for i := int64(0); i < 20; i++ {
		c, px := draw(i)
		c2, px2 := draw(i)
		if !slices.Equal(px, px2) || len(c.Movers) != len(c2.Movers) {
			t.Fatalf("clip %d is not reproducible", i)
		}
		if c.Index < freshClips {
			t.Errorf("clip %d has the index %d of a stored clip", i, c.Index)
		}
		ref := digits.NewClip(s, "train", freshClips+int(i), g.ids)
		for j, m := range c.Movers {
			if id := ref.Movers[j].ID; s.Digits[id].Split != "train" || s.Digits[id].Label != m.Label || m.ID != j {
				t.Errorf("clip %d mover %d: instance %d (%s, label %d), drawn label %d, glyph index %d", i, j, id, s.Digits[id].Split, s.Digits[id].Label, m.Label, m.ID)
			}
		}
		var ink int
		for _, v := range px {
			ink += int(v)
		}
		if ink == 0 {
			t.Errorf("clip %d is empty", i)
		}
	}
	// --two-share: the asked share of two-digit clips, each still fresh.
	for _, share := range []float64{0.1, 0.9} {
		g.twoShare = share
		var two int
		const n = 400
		for i := int64(0); i < n; i++ {
			c, _ := draw(i)
			two += len(c.Movers) - 1
			if c.Index < freshClips {
				t.Errorf("two-share %.1f: clip %d has the index %d of a stored clip", share, i, c.Index)
			}
		}
		if got := float64(two) / n; math.Abs(got-share) > 0.06 {
			t.Errorf("two-share %.1f: %.3f of the clips have two digits", share, got)
		}
	}
}

// TestVideoClassifierRealClips guards the shipped video classifier's
// held-out figures (assets/metrics/README.md).
func TestVideoClassifierRealClips(t *testing.T) {
	dir, w := realData(t, "video.safetensors")
	_, reader := realData(t, "digits.safetensors")
	acc, err := VideoAccuracyOf(dir, "test", w, 1, reader)
	if err != nil {
		t.Fatal(err)
	}
	if acc.Clips != 1000 || acc.Digit < 0.95 || acc.Direction < 0.98 {
		t.Errorf("video classifier on the test split: %+v", acc)
	}
	// The oracle reads each glyph once: 465 glyphs in the test clips, 4 of
	// them misread (session 19), so 98.7 % of the clips' digit sets.
	if o := acc.Oracle; o == nil || o.Glyphs != 465 || o.Misread > 8 || o.Digit < 0.97 || o.Digit > 1 {
		t.Errorf("glyph oracle on the test split: %+v", o)
	}
	if _, err := VideoAccuracyOf(dir, "test", w, 1, w); err == nil {
		t.Error("a video classifier was taken for the oracle's digit reader")
	}
}

func TestShiftFrames(t *testing.T) {
	const s = metrics.VideoSize
	x := make([]float32, 2*s*s) // two frames, one lit pixel each
	x[10*s+20], x[s*s+5*s+63] = 1, 0.5
	for _, c := range []struct {
		dx, dy int
		want   map[int]float32 // lit pixels after the shift
	}{
		{0, 0, map[int]float32{10*s + 20: 1, s*s + 5*s + 63: 0.5}},
		{2, 0, map[int]float32{10*s + 22: 1}}, // the edge pixel leaves the frame
		{-2, 0, map[int]float32{10*s + 18: 1, s*s + 5*s + 61: 0.5}},
		{0, 2, map[int]float32{12*s + 20: 1, s*s + 7*s + 63: 0.5}},
		{0, -2, map[int]float32{8*s + 20: 1, s*s + 3*s + 63: 0.5}},
	} {
		got := shiftFrames(x, c.dx, c.dy)
		for i, v := range got {
			if v != c.want[i] {
				t.Errorf("shift (%d, %d): pixel %d = %g, want %g", c.dx, c.dy, i, v, c.want[i])
			}
		}
	}
}

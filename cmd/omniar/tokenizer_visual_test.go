package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omniar/omniar/tokenizers/tokfile"
	"github.com/omniar/omniar/video"
	"github.com/omniar/omniar/video/vio"
)

// tinyTokenizer saves an untrained video.Tiny tokenizer (16×16 frames).
func tinyTokenizer(t *testing.T, path string, seed uint64) string {
	t.Helper()
	cfg := video.Tiny()
	tr, err := video.NewTrainer(cfg, video.TrainConfig{Batch: 1, Frames: 1, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	w := tr.Weights()
	tr.Close()
	if err := video.SaveWeights(path, cfg, w); err != nil {
		t.Fatal(err)
	}
	return path
}

// testVideo writes n frames of w×h with a moving bright bar.
func testVideo(t *testing.T, path string, n, w, h int) string {
	t.Helper()
	v := &vio.Video{W: w, H: h, FPS: 10}
	for i := 0; i < n; i++ {
		f := make([]uint8, w*h)
		for y := 0; y < h; y++ {
			f[y*w+(i*2)%w] = 255
		}
		v.Frames = append(v.Frames, f)
	}
	if err := vio.Write(path, v); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestVisualTokenizerCLI(t *testing.T) {
	dir := t.TempDir()
	tok := tinyTokenizer(t, filepath.Join(dir, "tok.safetensors"), 1)
	other := tinyTokenizer(t, filepath.Join(dir, "other.safetensors"), 2)
	png := testVideo(t, filepath.Join(dir, "in.png"), 1, 30, 20)
	gif := testVideo(t, filepath.Join(dir, "in.gif"), 11, 24, 24)
	short := testVideo(t, filepath.Join(dir, "short.gif"), 3, 24, 24)
	tokens := video.Tiny().Quant.Tokens()
	for _, tc := range []struct {
		modality, in string
		frames       int // kept: 1 + 4k ≤ 11
		out          string
	}{{"image", png, 1, "rec.png"}, {"image", gif, 1, "rec1.gif"}, {"video", gif, 9, "rec.gif"}} {
		tf := filepath.Join(dir, tc.modality+filepath.Ext(tc.in)+".tok")
		if code, _, errs := runCLI(t, "tokenizer", "encode", "--modality", tc.modality, "--ckpt", tok, "--in", tc.in, "--out", tf); code != 0 {
			t.Fatalf("encode %s %s: exit %d: %s", tc.modality, tc.in, code, errs)
		}
		f, err := tokfile.Read(tf)
		if err != nil {
			t.Fatal(err)
		}
		lf := 1 + (tc.frames-1)/4
		if d, _ := f.Dim("frames"); f.Modality != tc.modality || d != tc.frames || f.Count != lf*tokens {
			t.Errorf("%s: modality %s, %d frames, %d indices; want %s, %d, %d", tf, f.Modality, d, f.Count, tc.modality, tc.frames, lf*tokens)
		}
		out := filepath.Join(dir, tc.out)
		if code, _, errs := runCLI(t, "tokenizer", "decode", "--modality", tc.modality, "--ckpt", tok, "--in", tf, "--out", out); code != 0 {
			t.Fatalf("decode %s: exit %d: %s", tf, code, errs)
		}
		v, err := vio.Read(out, vio.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Frames) != tc.frames || v.W != 16 || v.H != 16 {
			t.Errorf("%s: %d frames of %d×%d, want %d of 16×16", out, len(v.Frames), v.W, v.H, tc.frames)
		}
	}
	imgTok := filepath.Join(dir, "image.png.tok")
	vidTok := filepath.Join(dir, "video.gif.tok")
	b, err := os.ReadFile(vidTok)
	if err != nil {
		t.Fatal(err)
	}
	trunc := filepath.Join(dir, "trunc.tok")
	if err := os.WriteFile(trunc, b[:len(b)-7], 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.png")
	corrupt := filepath.Join(dir, "corrupt.gif")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(corrupt, []byte("GIF89a\x10\x00garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	t.Setenv("OMNIAR_HOME", home)
	for _, tc := range []struct {
		name string
		args []string
		want []string // in the error
	}{
		{"too few frames", []string{"encode", "--modality", "video", "--ckpt", tok, "--in", short, "--out", filepath.Join(dir, "x.tok")}, []string{short, "3 frames", "--modality image"}},
		{"empty image", []string{"encode", "--modality", "image", "--ckpt", tok, "--in", empty, "--out", filepath.Join(dir, "x.tok")}, []string{empty}},
		{"corrupt gif", []string{"encode", "--modality", "video", "--ckpt", tok, "--in", corrupt, "--out", filepath.Join(dir, "x.tok")}, []string{corrupt}},
		{"missing input", []string{"encode", "--modality", "image", "--ckpt", tok, "--in", filepath.Join(dir, "nope.png"), "--out", filepath.Join(dir, "x.tok")}, []string{"nope.png"}},
		{"frames below 5", []string{"encode", "--modality", "video", "--ckpt", tok, "--in", gif, "--out", filepath.Join(dir, "x.tok"), "--frames", "4"}, []string{"--frames 4"}},
		{"other tokenizer", []string{"decode", "--modality", "video", "--ckpt", other, "--in", vidTok, "--out", filepath.Join(dir, "x.gif")}, []string{vidTok, "codebook"}},
		{"wrong modality", []string{"decode", "--modality", "video", "--ckpt", tok, "--in", imgTok, "--out", filepath.Join(dir, "x.gif")}, []string{imgTok, "image tokens"}},
		{"truncated tok", []string{"decode", "--modality", "video", "--ckpt", tok, "--in", trunc, "--out", filepath.Join(dir, "x.gif")}, []string{trunc}},
		{"video into one png", []string{"decode", "--modality", "video", "--ckpt", tok, "--in", vidTok, "--out", filepath.Join(dir, "x.png")}, []string{"x.png"}},
		{"no shipped tokenizer", []string{"encode", "--modality", "image", "--in", png, "--out", filepath.Join(dir, "x.tok")}, []string{filepath.Join(home, assetVideoTok)}},
	} {
		code, _, errs := runCLI(t, append([]string{"tokenizer"}, tc.args...)...)
		if code == 0 {
			t.Errorf("%s: exit 0", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(errs, w) {
				t.Errorf("%s: error %q does not mention %q", tc.name, strings.TrimSpace(errs), w)
			}
		}
	}
	// The shipped tokenizer is found through $OMNIAR_HOME.
	if err := os.Rename(tok, filepath.Join(home, assetVideoTok)); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI(t, "tokenizer", "decode", "--modality", "image", "--in", imgTok, "--out", filepath.Join(dir, "home.png")); code != 0 {
		t.Errorf("decode with $OMNIAR_HOME's tokenizer: exit %d: %s", code, errs)
	}
}

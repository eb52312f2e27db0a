package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omniar/omniar/msvq"
	"github.com/omniar/omniar/tokenizers"
	"github.com/omniar/omniar/video"
	"github.com/omniar/omniar/video/vio"
	"github.com/omniar/omniar/videoar"
)

// tinyAssets writes an untrained tiny tokenizer and generator (the
// shipped text tokenizer's vocabulary) to dir.
func tinyAssets(t *testing.T, dir string) (gen, tok, text string) {
	t.Helper()
	text = filepath.Join("..", "..", "assets", assetText)
	tt, err := tokenizers.LoadText(text)
	if err != nil {
		t.Fatal(err)
	}
	vcfg := video.Tiny()
	tr, err := video.NewTrainer(vcfg, video.TrainConfig{Batch: 1, Frames: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	vw := tr.Weights()
	tr.Close()
	tok = filepath.Join(dir, "tok.safetensors")
	if err := video.SaveWeights(tok, vcfg, vw); err != nil {
		t.Fatal(err)
	}
	dec, err := vw.QuantDecoder(vcfg)
	if err != nil {
		t.Fatal(err)
	}
	gen = filepath.Join(dir, "gen.safetensors")
	tinyGenerator(t, gen, videoar.Tiny(vcfg.Quant, tt.VocabSize()), dec)
	return gen, tok, text
}

// tinyGenerator writes an untrained generator of configuration cfg.
func tinyGenerator(t *testing.T, path string, cfg videoar.Config, dec *msvq.Decoder) {
	t.Helper()
	gt, err := videoar.NewTrainer(cfg, videoar.TrainConfig{Batch: 1, Frames: 1, Seed: 1}, dec)
	if err != nil {
		t.Fatal(err)
	}
	gw := gt.Weights()
	gt.Close()
	if err := videoar.SaveWeights(path, cfg, gw); err != nil {
		t.Fatal(err)
	}
}

func TestGenerateVideo(t *testing.T) {
	dir := t.TempDir()
	gen, tok, text := tinyAssets(t, dir)
	corrupt := filepath.Join(dir, "corrupt.safetensors")
	if err := os.WriteFile(corrupt, []byte("not a checkpoint"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "clip.gif")
	assets := []string{"--ckpt", gen, "--tokenizer", tok, "--text", text}
	// the raster-order baseline runs through the same command
	gcfg, _, err := videoar.LoadWeights(gen)
	if err != nil {
		t.Fatal(err)
	}
	vcfg, vw, err := video.LoadCheckpoint(tok)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := vw.QuantDecoder(vcfg)
	if err != nil {
		t.Fatal(err)
	}
	raster := filepath.Join(dir, "raster.safetensors")
	tinyGenerator(t, raster, gcfg.RasterOrder(), dec)
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"generates", append([]string{"generate", "video", "--prompt", "a 7 left", "--frames", "5", "--out", out}, assets...), 0, ""},
		{"image", append([]string{"generate", "image", "--prompt", "a 7", "--out", filepath.Join(dir, "img.png")}, assets...), 0, ""},
		{"raster", []string{"generate", "video", "--prompt", "a 7 left", "--frames", "5", "--out", filepath.Join(dir, "raster.gif"), "--ckpt", raster, "--tokenizer", tok, "--text", text}, 0, ""},
		{"continues", append([]string{"generate", "video", "--prompt", "a 7 left", "--frames", "5", "--init", filepath.Join(dir, "img.png"), "--out", filepath.Join(dir, "cont.gif")}, assets...), 0, ""},
		{"init missing", append([]string{"generate", "video", "--prompt", "a 7", "--frames", "5", "--init", filepath.Join(dir, "none.png"), "--out", out}, assets...), 1, "--init"},
		{"frames out of range", append([]string{"generate", "video", "--prompt", "a 7", "--frames", "17", "--out", out}, assets...), 2, "--frames"},
		{"frames not 1+4k", append([]string{"generate", "video", "--prompt", "a 7", "--frames", "4", "--out", out}, assets...), 2, "--frames"},
		{"unknown extension", append([]string{"generate", "video", "--prompt", "a 7", "--out", filepath.Join(dir, "x.txt")}, assets...), 2, "unknown extension"},
		{"no such directory", append([]string{"generate", "video", "--prompt", "a 7", "--out", filepath.Join(dir, "no", "x.gif")}, assets...), 1, "does not exist"},
		{"no out", append([]string{"generate", "video", "--prompt", "a 7"}, assets...), 2, "--out is required"},
		{"empty prompt", append([]string{"generate", "video", "--prompt", " ", "--frames", "5", "--out", out}, assets...), 2, "empty"},
		{"long prompt", append([]string{"generate", "video", "--prompt", strings.Repeat("seven ", 40), "--frames", "5", "--out", out}, assets...), 2, "at most"},
		{"missing generator", []string{"generate", "video", "--prompt", "a 7", "--out", out, "--ckpt", filepath.Join(dir, "none"), "--tokenizer", tok, "--text", text}, 1, "generator"},
		{"corrupt generator", []string{"generate", "video", "--prompt", "a 7", "--out", out, "--ckpt", corrupt, "--tokenizer", tok, "--text", text}, 1, "corrupt.safetensors"},
		{"tokenizer as generator", []string{"generate", "video", "--prompt", "a 7", "--out", out, "--ckpt", tok, "--tokenizer", tok, "--text", text}, 1, "tok.safetensors"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), tc.args, &stdout, &stderr); code != tc.code {
				t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, &stdout, &stderr)
			}
			if !strings.Contains(stderr.String(), tc.stderr) {
				t.Fatalf("stderr %q does not contain %q", &stderr, tc.stderr)
			}
		})
	}
	v, err := vio.Read(out, vio.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s := video.Tiny().Size; len(v.Frames) != 5 || v.W != s || v.H != s {
		t.Fatalf("generated %d frames of %d×%d, want 5 of %d×%d", len(v.Frames), v.W, v.H, s, s)
	}
	if v, err = vio.Read(filepath.Join(dir, "raster.gif"), vio.ReadOptions{}); err != nil || len(v.Frames) != 5 {
		t.Fatalf("raster baseline: %v", err)
	}
}

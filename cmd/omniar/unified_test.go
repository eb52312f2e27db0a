package main

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/omniar/omniar/audio"
	"github.com/omniar/omniar/audio/codec"
	"github.com/omniar/omniar/omni"
	"github.com/omniar/omniar/pipelines/mm"
	"github.com/omniar/omniar/tokenizers"
	"github.com/omniar/omniar/video"
)

// tinyUnified writes an untrained tiny unified model over a tiny video
// tokenizer and audio codec (the shipped text tokenizer's vocabulary).
func tinyUnified(t *testing.T, dir string) (model, vtok, cdc, text string) {
	t.Helper()
	_, vtok, text = tinyAssets(t, dir)
	cdc = tinyCodec(t, dir, 1)
	tt, err := tokenizers.LoadText(text)
	if err != nil {
		t.Fatal(err)
	}
	vcfg, vw, err := video.LoadCheckpoint(vtok)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := vw.QuantDecoder(vcfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := codec.Load(cdc)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	v := tokenizers.Config{TextSize: tt.VocabSize(), VisualBooks: 1, VisualCodes: vcfg.Quant.Codes, AudioDepths: c.Cfg.Depths, AudioCodes: c.Cfg.Codes}
	cfg := omni.Tiny(v, vcfg.Quant, c.Cfg.Latent)
	md := omni.Media{Vis: dec, AudioBooks: slices.Clone(c.W.Codebooks[:cfg.AudioDepths*c.Cfg.Codes*c.Cfg.Latent])}
	m, err := omni.New(cfg, md, 1)
	if err != nil {
		t.Fatal(err)
	}
	model = filepath.Join(dir, "unified.safetensors")
	if err := omni.SaveWeights(model, m, map[string]string{mm.MetaVideoTok: vw.ID(), mm.MetaCodec: c.CodebookID()}); err != nil {
		t.Fatal(err)
	}
	return model, vtok, cdc, text
}

func TestUnderstand(t *testing.T) {
	dir := t.TempDir()
	model, vtok, cdc, text := tinyUnified(t, dir)
	other := tinyCodec(t, dir, 2)
	img := filepath.Join(dir, "digit.png")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	g := image.NewGray(image.Rect(0, 0, 20, 20))
	for i := range g.Pix {
		g.Pix[i] = uint8(i * 7)
	}
	if err := png.Encode(f, g); err != nil {
		t.Fatal(err)
	}
	f.Close()
	wav := filepath.Join(dir, "seven.wav")
	samples := make([]float32, 8000)
	for i := range samples {
		samples[i] = float32(i%40) / 80
	}
	if err := audio.WriteFile(wav, &audio.Clip{Rate: audio.ModelRate, Samples: samples}); err != nil {
		t.Fatal(err)
	}
	corrupt := filepath.Join(dir, "corrupt.png")
	if err := os.WriteFile(corrupt, []byte("\x89PNG\r\n\x1a\nnot really"), 0o644); err != nil {
		t.Fatal(err)
	}
	corruptWav := filepath.Join(dir, "corrupt.wav")
	if err := os.WriteFile(corruptWav, []byte("RIFF\x10\x00\x00\x00WAVEjunk"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"understand", "--ckpt", model, "--video-tokenizer", vtok, "--audio-codec", cdc, "--text-tokenizer", text}
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"image", []string{"--image", img, "--question", "what digit is this?"}, 0, ""},
		{"audio", []string{"--audio", wav, "--question", "what number was said?"}, 0, ""},
		{"text", []string{"--text", "Money is the root of all evil.", "--question", "which category is this quote from?"}, 0, ""},
		{"sub-model", []string{"--image", img, "--question", "what digit is this?", "--layers", "0", "--topk", "1"}, 0, ""},
		{"missing file", []string{"--image", filepath.Join(dir, "none.png"), "--question", "what digit?"}, 1, "no such file"},
		{"corrupt image", []string{"--image", corrupt, "--question", "what digit?"}, 1, "corrupt.png"},
		{"corrupt audio", []string{"--audio", corruptWav, "--question", "what number?"}, 1, "corrupt.wav"},
		{"too few frames", []string{"--video", img, "--question", "where does it go?"}, 1, "frames"},
		{"empty question", []string{"--image", img, "--question", "  "}, 2, "must not be empty"},
		{"no input", []string{"--question", "what?"}, 2, "exactly one"},
		{"two inputs", []string{"--image", img, "--audio", wav, "--question", "what?"}, 2, "exactly one"},
		{"long question", []string{"--image", img, "--question", strings.Repeat("seven ", 40)}, 1, "at most"},
		{"long text", []string{"--text", strings.Repeat("money ", 80), "--question", "which category?"}, 1, "at most"},
		{"bad sub-model", []string{"--image", img, "--question", "what?", "--layers", "9"}, 1, "sub-model"},
		{"other codec", []string{"--audio", wav, "--question", "what?", "--audio-codec", other}, 1, "trained on the codes"},
		{"missing model", []string{"--image", img, "--question", "what?", "--ckpt", filepath.Join(dir, "none.safetensors")}, 1, "none.safetensors"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append(slices.Clone(base), tc.args...)
			if tc.name == "other codec" || tc.name == "missing model" {
				args = append([]string{"understand"}, tc.args...)
				args = append(args, "--video-tokenizer", vtok, "--text-tokenizer", text)
				if tc.name == "missing model" {
					args = append(args, "--audio-codec", cdc)
				} else {
					args = append(args, "--ckpt", model)
				}
			}
			code, _, stderr := runCLI(t, args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want %d containing %q", code, stderr, tc.code, tc.stderr)
			}
			if strings.Contains(stderr, "panic") {
				t.Errorf("panic: %s", stderr)
			}
		})
	}
}

// TestInitWeights: train unified --init takes weights of the run's own
// trunk and tokenizers and names the file and the mismatch otherwise.
func TestInitWeights(t *testing.T) {
	dir := t.TempDir()
	model, vtok, cdc, text := tinyUnified(t, dir)
	other := tinyCodec(t, dir, 2)
	broken := filepath.Join(dir, "broken.safetensors")
	b, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(broken, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, size, codec, path, want string
	}{
		{"same run", "tiny", cdc, model, ""},
		{"other codec", "tiny", other, model, "audio codec"},
		{"other size", "small", cdc, model, "trunk"},
		{"truncated", "tiny", cdc, broken, "broken.safetensors"},
		{"missing", "tiny", cdc, filepath.Join(dir, "none.safetensors"), "none.safetensors"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			su, err := mm.NewSetup(tc.size, vtok, tc.codec, text)
			if err != nil {
				t.Fatal(err)
			}
			defer su.Codec.Close()
			w, _, _, err := mm.InitWeights(tc.path, su.Cfg, su)
			if tc.want == "" {
				if err != nil || len(w) == 0 {
					t.Fatalf("got %d weights, %v", len(w), err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

// TestTokenizeOnly: train unified --tokenize-only writes the token files
// and trains nothing; without prepared data it names the directory.
func TestTokenizeOnly(t *testing.T) {
	dir := t.TempDir()
	_, vtok, cdc, text := tinyUnified(t, dir)
	cfg := filepath.Join(dir, "tiny.json")
	data := filepath.Join(dir, "nodata")
	js := `{"size":"tiny","data":"` + data + `","tokens":"` + filepath.Join(dir, "tok") + `","video_tokenizer":"` + vtok +
		`","audio_codec":"` + cdc + `","text_tokenizer":"` + text + `","out":"` + filepath.Join(dir, "run") +
		`","stages":[{"name":"s","steps":2,"lr":0.001,"mix":{"lm":1}}]}`
	if err := os.WriteFile(cfg, []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "train", "unified", "--config", cfg, "--tokenize-only", "--tokens", filepath.Join(dir, "tok2"))
	if code != 1 || !strings.Contains(stderr, "nodata") || strings.Contains(stderr, "panic") {
		t.Errorf("exit %d, stderr %q; want 1 naming the data directory", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "run")); err == nil {
		t.Error("--tokenize-only made a run directory")
	}
	if _, err := os.Stat(filepath.Join(dir, "tok")); err == nil {
		t.Error("--tokens did not replace the config's token directory")
	}
}

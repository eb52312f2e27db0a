package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omniar/omniar/audio"
	"github.com/omniar/omniar/audio/codec"
	"github.com/omniar/omniar/tokenizers/tokfile"
)

// tinyCodec writes an untrained tiny codec (a few steps are not needed:
// the CLI only has to move tokens and samples through it).
func tinyCodec(t *testing.T, dir string, seed uint64) string {
	t.Helper()
	tr, err := codec.NewTrainer(codec.Tiny(), codec.TrainConfig{Batch: 1, Samples: 400, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	path := filepath.Join(dir, "codec.safetensors")
	if seed != 1 {
		path = filepath.Join(dir, "other.safetensors")
	}
	w := tr.Weights()
	w.Codebooks[len(w.Codebooks)-1] += float32(seed) // codebooks of distinct seeds differ
	if err := codec.SaveWeights(path, codec.Tiny(), w); err != nil {
		t.Fatal(err)
	}
	return path
}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestAudioTokenizerCLI(t *testing.T) {
	dir := t.TempDir()
	ckpt := tinyCodec(t, dir, 1)
	other := tinyCodec(t, dir, 2)
	// a 22.05 kHz clip: the encoder resamples it to 16 kHz
	wave := make([]float32, 11025)
	for i := range wave {
		wave[i] = float32(0.3 * float64((i/20)%2*2-1))
	}
	in := filepath.Join(dir, "in.wav")
	if err := audio.WriteFile(in, &audio.Clip{Rate: 22050, Samples: wave}); err != nil {
		t.Fatal(err)
	}
	tok, out := filepath.Join(dir, "in.tok"), filepath.Join(dir, "out.wav")
	code, stdout, stderr := runCLI(t, "tokenizer", "encode", "--modality", "audio", "--ckpt", ckpt, "--in", in, "--out", tok)
	if code != 0 || !strings.Contains(stdout, "frames × 3 depths") {
		t.Fatalf("encode: exit %d\n%s%s", code, stdout, stderr)
	}
	f, err := tokfile.Read(tok)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := f.Dim("samples"); s != 8000 {
		t.Fatalf("tok file says %d samples, want 8000 (0.5 s at 16 kHz)", s)
	}
	code, stdout, stderr = runCLI(t, "tokenizer", "decode", "--modality", "audio", "--ckpt", ckpt, "--in", tok, "--out", out, "--depths", "2")
	if code != 0 || !strings.Contains(stdout, "× 2 depths") {
		t.Fatalf("decode: exit %d\n%s%s", code, stdout, stderr)
	}
	c, err := audio.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if c.Rate != 16000 || len(c.Samples) != 8000 {
		t.Fatalf("decoded %d Hz, %d samples; want 16000 Hz, 8000", c.Rate, len(c.Samples))
	}

	bad := filepath.Join(dir, "bad.wav")
	if err := os.WriteFile(bad, []byte("RIFF\x10\x00\x00\x00WAVEfmt "), 0o644); err != nil {
		t.Fatal(err)
	}
	corrupt := filepath.Join(dir, "corrupt.tok")
	if err := os.WriteFile(corrupt, []byte("OMNIATOK garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad wav", []string{"encode", "--in", bad, "--out", tok}, 1, bad},
		{"missing wav", []string{"encode", "--in", filepath.Join(dir, "none.wav"), "--out", tok}, 1, "none.wav"},
		{"no out", []string{"encode", "--in", in}, 2, "--out"},
		{"corrupt tok", []string{"decode", "--in", corrupt, "--out", out}, 1, corrupt},
		{"other codec", []string{"decode", "--in", tok, "--out", out, "--ckpt", other}, 1, "codebook"},
		{"too many depths", []string{"decode", "--in", tok, "--out", out, "--depths", "9"}, 1, "depths"},
		{"not a wav out", []string{"decode", "--in", tok, "--out", filepath.Join(dir, "x.mp3")}, 1, ".wav"},
		{"unknown config", []string{"train", "--config", "bogus", "--data", dir, "--out", filepath.Join(dir, "c.safetensors")}, 2, "bogus"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"tokenizer", c.args[0], "--modality", "audio"}, c.args[1:]...)
			if !strings.Contains(strings.Join(args, " "), "--ckpt") {
				args = append(args, "--ckpt", ckpt)
			}
			code, stdout, stderr := runCLI(t, args...)
			if code != c.code || !strings.Contains(stderr, c.want) {
				t.Fatalf("exit %d (want %d), stderr %q does not name %q\n%s", code, c.code, stderr, c.want, stdout)
			}
		})
	}
}

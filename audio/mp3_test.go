package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// burst is silence, a 440 Hz sine with 20 ms fades, and silence: a signal
// whose alignment is unambiguous.
func burst(rate int) []float64 {
	n := rate // one second
	x := make([]float64, n)
	on, off, fade := n/10, n*9/10, rate/50
	for i := on; i < off; i++ {
		env := math.Min(1, math.Min(float64(i-on), float64(off-i))/float64(fade))
		x[i] = 0.5 * env * math.Sin(2*math.Pi*440*float64(i)/float64(rate))
	}
	return x
}

// pcm16 encodes x as interleaved 16-bit samples on ch identical channels.
func pcm16(x []float64, ch int) []byte {
	var b []byte
	for _, v := range x {
		for c := 0; c < ch; c++ {
			b = binary.LittleEndian.AppendUint16(b, uint16(int16(math.Round(v*32767))))
		}
	}
	return b
}

// bestLag returns the lag (got[i+lag] ≈ want[i]) in [-maxLag, maxLag] with
// the highest normalised correlation, and that correlation.
func bestLag(got []float32, want []float64, maxLag int) (int, float64) {
	bestL, bestC := 0, math.Inf(-1)
	for lag := -maxLag; lag <= maxLag; lag++ {
		var xy, xx, yy float64
		for i, w := range want {
			j := i + lag
			if j < 0 || j >= len(got) {
				continue
			}
			g := float64(got[j])
			xy, xx, yy = xy+g*w, xx+g*g, yy+w*w
		}
		if c := xy / math.Sqrt(xx*yy+1e-30); c > bestC {
			bestL, bestC = lag, c
		}
	}
	return bestL, bestC
}

func needLame(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("lame")
	if err != nil {
		t.Skip("lame is not installed (Debian package lame; run `make data-deps`)")
	}
	return p
}

// lameEncode writes x as a WAV and encodes it with lame and extra flags.
func lameEncode(t *testing.T, lame string, rate, ch int, x []float64, flags ...string) []byte {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.wav"), filepath.Join(dir, "out.mp3")
	if err := os.WriteFile(in, buildWAV(wavPCM, rate, ch, 16, pcm16(x, ch), false), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--quiet", "--nohist"}, flags...)
	if b, err := exec.Command(lame, append(args, in, out)...).CombinedOutput(); err != nil {
		t.Fatalf("lame: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeMP3LameSine(t *testing.T) {
	lame := needLame(t)
	for _, tc := range []struct {
		rate, ch int
		flags    []string
	}{
		{16000, 1, []string{"-m", "m", "-b", "64"}}, // MPEG-2, 576 samples a frame
		{22050, 1, []string{"-m", "m", "-b", "64"}},
		{24000, 2, []string{"-b", "96"}},
		{32000, 1, []string{"-m", "m", "-b", "96"}}, // MPEG-1, 1152 samples a frame
		{44100, 2, []string{"-b", "128"}},
		{48000, 2, []string{"-V", "4"}}, // VBR: Xing header
	} {
		x := burst(tc.rate)
		c, err := DecodeMP3(bytes.NewReader(lameEncode(t, lame, tc.rate, tc.ch, x, tc.flags...)))
		if err != nil {
			t.Fatalf("%d Hz: %v", tc.rate, err)
		}
		lag, corr := bestLag(c.Samples, x, 2000)
		t.Logf("%5d Hz %dch %v: %d samples (input %d), lag %d, correlation %.5f", tc.rate, tc.ch, tc.flags, len(c.Samples), len(x), lag, corr)
		if c.Rate != tc.rate || corr < 0.99 {
			t.Errorf("%d Hz: got %d Hz, correlation %.4f (want ≥ 0.99)", tc.rate, c.Rate, corr)
		}
		if lag != 0 || len(c.Samples) != len(x) {
			t.Errorf("%d Hz: LAME tag trimming left lag %d and %d samples, want 0 and %d", tc.rate, lag, len(c.Samples), len(x))
		}
	}
}

func TestDecodeMP3WithoutLAMETagKeepsPadding(t *testing.T) {
	lame := needLame(t)
	x := burst(16000)
	c, err := DecodeMP3(bytes.NewReader(lameEncode(t, lame, 16000, 1, x, "-t", "-m", "m", "-b", "64")))
	if err != nil {
		t.Fatal(err)
	}
	lag, corr := bestLag(c.Samples, x, 2000)
	t.Logf("no tag: %d samples (input %d), lag %d, correlation %.5f", len(c.Samples), len(x), lag, corr)
	if corr < 0.99 || lag != 576+decoderDelay || len(c.Samples) < len(x)+lag {
		t.Errorf("untagged MP3: lag %d (want %d), correlation %.4f, %d samples", lag, 576+decoderDelay, corr, len(c.Samples))
	}
}

func TestDecodeMP3Seed(t *testing.T) {
	c, err := ReadFile("testdata/seed.mp3")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := ReadFile("testdata/seed16k.wav")
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float64, len(ref.Samples))
	for i, v := range ref.Samples {
		want[i] = float64(v)
	}
	lag, corr := bestLag(c.Samples, want, 50)
	if c.Rate != 16000 || len(c.Samples) != len(ref.Samples) || lag != 0 || corr < 0.9 {
		t.Errorf("seed.mp3: %d Hz × %d samples, lag %d, correlation %.3f; want 16000 Hz × %d, lag 0, ≥ 0.9",
			c.Rate, len(c.Samples), lag, corr, len(ref.Samples))
	}
}

func TestDecodeMP3Corrupt(t *testing.T) {
	seed, err := os.ReadFile("testdata/seed.mp3")
	if err != nil {
		t.Fatal(err)
	}
	wavFile, err := os.ReadFile("testdata/seed.wav")
	if err != nil {
		t.Fatal(err)
	}
	noise := make([]byte, 20000)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range noise {
		noise[i] = byte(r.UintN(256))
	}
	// An MPEG-2.5 layer III frame (8 kHz, 8 kbit/s: 72 bytes), twice.
	v25 := make([]byte, 144)
	copy(v25, []byte{0xFF, 0xE3, 0x18, 0xC4})
	copy(v25[72:], []byte{0xFF, 0xE3, 0x18, 0xC4})
	for _, tc := range []struct {
		name string
		in   []byte
		want string
		is   error
	}{
		{"empty", nil, "no MPEG layer III frames", ErrCorrupt},
		{"noise", noise, "no MPEG layer III frames", ErrCorrupt},
		{"wav", wavFile, "no MPEG layer III frames", ErrCorrupt},
		{"first bytes", seed[:100], "no MPEG layer III frames", ErrCorrupt},
		{"id3 too big", append([]byte("ID3\x04\x00\x00\x7f\x7f\x7f\x7f"), seed...), "ID3 tag says", ErrCorrupt},
		{"id3 only", []byte("ID3\x04\x00\x00\x00\x00\x00\x00"), "no MPEG layer III frames", ErrCorrupt},
		{"mpeg 2.5", v25, "MPEG-2.5", ErrUnsupported},
	} {
		c, err := DecodeMP3(bytes.NewReader(tc.in))
		if err == nil {
			t.Errorf("%s: decoded %d samples, want an error", tc.name, len(c.Samples))
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !errors.Is(err, tc.is) {
			t.Errorf("%s: error %q, want one containing %q wrapping %v", tc.name, err, tc.want, tc.is)
		}
	}
	// A truncated file decodes what it has.
	c, err := DecodeMP3(bytes.NewReader(seed[:len(seed)/2]))
	if err != nil || len(c.Samples) == 0 {
		t.Errorf("half a file: %v", err)
	}
}

package audio

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// fuzzSeeds adds files to the seed corpus. The targets seed with the
// committed real files (testdata/make_seeds.py), the ALSA recordings when
// they are installed (cut to 4 KB: the header is what matters), and
// generated files of every sample format.
func fuzzSeeds(f *testing.F, files ...string) {
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzDecodeWAV(f *testing.F) {
	fuzzSeeds(f, "testdata/seed.wav", "testdata/seed16k.wav")
	alsa, _ := filepath.Glob("/usr/share/sounds/alsa/*.wav")
	for _, p := range alsa[:min(2, len(alsa))] {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b[:min(len(b), 4096)])
		}
	}
	x := [][]float64{{0.5, -0.25, 0.125, 1}, {-1, 0, 0.75, 0.5}}
	f.Add(buildWAV(wavFloat, 44100, 2, 32, floatData(x, 32), false))
	f.Add(buildWAV(wavFloat, 8000, 2, 64, floatData(x, 64), true))
	f.Add(buildWAV(wavPCM, 22050, 3, 24, make([]byte, 18), true))
	f.Add(buildWAV(wavPCM, 11025, 1, 8, []byte{0, 128, 255}, false))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeWAV(bytes.NewReader(b))
		if err != nil {
			return
		}
		if len(c.Samples) == 0 || c.Rate < MinRate || c.Rate > MaxRate || len(c.Samples) > len(b) {
			t.Fatalf("accepted %d Hz × %d samples from %d bytes", c.Rate, len(c.Samples), len(b))
		}
		for _, v := range c.Samples {
			if !(v >= -1 && v <= 1) {
				t.Fatalf("sample %v outside [-1, 1]", v)
			}
		}
	})
}

func FuzzDecodeMP3(f *testing.F) {
	// The real file, and cuts of it: its Info frame and a few audio frames.
	// testdata/fuzz/FuzzDecodeMP3 holds an input that made go-mp3 panic.
	fuzzSeeds(f, "testdata/seed.mp3")
	seed, err := os.ReadFile("testdata/seed.mp3")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed[:1300])
	f.Add(seed[216:1300])
	f.Add(append([]byte("ID3\x03\x00\x00\x00\x00\x00\x04TAG!"), seed[:700]...))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeMP3(bytes.NewReader(b))
		if err != nil {
			return
		}
		if len(c.Samples) == 0 || c.Rate < MinRate || c.Rate > MaxRate {
			t.Fatalf("accepted %d Hz × %d samples from %d bytes", c.Rate, len(c.Samples), len(b))
		}
	})
}

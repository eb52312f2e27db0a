package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	goaudio "github.com/go-audio/audio"
	"github.com/go-audio/wav"
)

// testSignal returns ch channels of n integer samples of a bits-deep PCM
// stream: different sines per channel, with the extreme values included.
func testSignal(n, ch, bits int) [][]int {
	full := 1 << (bits - 1)
	out := make([][]int, ch)
	for c := range out {
		out[c] = make([]int, n)
		for i := range out[c] {
			v := 0.9 * math.Sin(2*math.Pi*float64(i*(c+1))/37)
			out[c][i] = int(math.Round(v * float64(full-1)))
		}
		out[c][0], out[c][n-1] = full-1, -full
	}
	return out
}

// mean is the expected downmix of integer channels at a bit depth.
func mean(chans [][]int, bits int, i int) float64 {
	var s float64
	for _, c := range chans {
		s += float64(c[i]) / float64(int64(1)<<(bits-1))
	}
	return s / float64(len(chans))
}

// writeGoAudioWAV writes integer PCM with go-audio/wav's encoder (an
// independent implementation of the format) and returns the file's bytes.
func writeGoAudioWAV(t *testing.T, rate, bits int, chans [][]int) []byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), "in.wav")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	ch, n := len(chans), len(chans[0])
	buf := &goaudio.IntBuffer{Format: &goaudio.Format{NumChannels: ch, SampleRate: rate}, SourceBitDepth: bits, Data: make([]int, n*ch)}
	for i := 0; i < n; i++ {
		for c := 0; c < ch; c++ {
			v := chans[c][i]
			if bits == 8 {
				v += 128 // 8-bit WAV is unsigned
			}
			buf.Data[i*ch+c] = v
		}
	}
	enc := wav.NewEncoder(f, rate, bits, ch, 1)
	if err := enc.Write(buf); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// buildWAV assembles a WAV file from a format and raw data; extensible
// wraps the tag in a WAVE_FORMAT_EXTENSIBLE fmt chunk.
func buildWAV(tag uint16, rate, ch, bits int, data []byte, extensible bool) []byte {
	le := binary.LittleEndian
	fmtc := le.AppendUint16(nil, tag)
	if extensible {
		fmtc = le.AppendUint16(nil, wavExtensible)
	}
	fmtc = le.AppendUint16(fmtc, uint16(ch))
	fmtc = le.AppendUint32(fmtc, uint32(rate))
	fmtc = le.AppendUint32(fmtc, uint32(rate*ch*bits/8))
	fmtc = le.AppendUint16(fmtc, uint16(ch*bits/8))
	fmtc = le.AppendUint16(fmtc, uint16(bits))
	if extensible {
		fmtc = le.AppendUint16(fmtc, 22)
		fmtc = le.AppendUint16(fmtc, uint16(bits))
		fmtc = le.AppendUint32(fmtc, 0)
		fmtc = le.AppendUint16(fmtc, tag)
		fmtc = append(fmtc, extensibleGUIDTail...)
	}
	return riff(chunk("fmt ", fmtc), chunk("data", data))
}

// chunk is a RIFF chunk with its pad byte.
func chunk(id string, body []byte) []byte {
	b := binary.LittleEndian.AppendUint32([]byte(id), uint32(len(body)))
	b = append(b, body...)
	if len(body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

func riff(chunks ...[]byte) []byte {
	body := []byte("WAVE")
	for _, c := range chunks {
		body = append(body, c...)
	}
	return append(binary.LittleEndian.AppendUint32([]byte("RIFF"), uint32(len(body))), body...)
}

// floatData encodes channels of float samples, interleaved.
func floatData(chans [][]float64, bits int) []byte {
	var b []byte
	for i := range chans[0] {
		for _, c := range chans {
			if bits == 32 {
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(c[i])))
			} else {
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(c[i]))
			}
		}
	}
	return b
}

func TestDecodeWAVIntegerPCM(t *testing.T) {
	const n = 500
	for _, bits := range []int{8, 16, 24, 32} {
		for _, ch := range []int{1, 2, 6} {
			for _, rate := range []int{8000, 11025, 16000, 22050, 44100, 48000} {
				chans := testSignal(n, ch, bits)
				b := writeGoAudioWAV(t, rate, bits, chans)
				c, err := DecodeWAV(bytes.NewReader(b))
				if err != nil {
					t.Fatalf("%d-bit %dch %d Hz: %v", bits, ch, rate, err)
				}
				checkDecoded(t, c, rate, n, func(i int) float64 { return mean(chans, bits, i) })
			}
		}
	}
}

func TestDecodeWAVFloatAndExtensible(t *testing.T) {
	const n = 300
	sig := func(ch int) [][]float64 {
		out := make([][]float64, ch)
		for c := range out {
			out[c] = make([]float64, n)
			for i := range out[c] {
				out[c][i] = 0.8 * math.Sin(float64(i*(c+1))/7)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name       string
		bits, ch   int
		rate       int
		extensible bool
	}{
		{"float32 mono 8k", 32, 1, 8000, false},
		{"float32 stereo 44.1k", 32, 2, 44100, false},
		{"float64 mono 16k", 64, 1, 16000, false},
		{"float64 stereo 48k", 64, 2, 48000, false},
		{"float32 extensible 4ch 22.05k", 32, 4, 22050, true},
		{"float64 extensible stereo 11.025k", 64, 2, 11025, true},
	} {
		chans := sig(tc.ch)
		c, err := DecodeWAV(bytes.NewReader(buildWAV(wavFloat, tc.rate, tc.ch, tc.bits, floatData(chans, tc.bits), tc.extensible)))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		checkDecoded(t, c, tc.rate, n, func(i int) float64 {
			var s float64
			for _, ch := range chans {
				s += ch[i]
			}
			return s / float64(len(chans))
		})
	}
	// Integer PCM in an extensible header: 24-bit stereo.
	chans := testSignal(n, 2, 24)
	var data []byte
	for i := 0; i < n; i++ {
		for _, ch := range chans {
			v := uint32(int32(ch[i]))
			data = append(data, byte(v), byte(v>>8), byte(v>>16))
		}
	}
	c, err := DecodeWAV(bytes.NewReader(buildWAV(wavPCM, 48000, 2, 24, data, true)))
	if err != nil {
		t.Fatalf("24-bit extensible: %v", err)
	}
	checkDecoded(t, c, 48000, n, func(i int) float64 { return mean(chans, 24, i) })
}

func checkDecoded(t *testing.T, c *Clip, rate, n int, want func(int) float64) {
	t.Helper()
	if c.Rate != rate || len(c.Samples) != n {
		t.Fatalf("got %d Hz × %d samples, want %d Hz × %d", c.Rate, len(c.Samples), rate, n)
	}
	for i, v := range c.Samples {
		if w := want(i); math.Abs(float64(v)-w) > 1e-6 {
			t.Fatalf("%d Hz sample %d = %v, want %v", rate, i, v, w)
		}
	}
}

func TestDecodeWAVSkipsOtherChunks(t *testing.T) {
	pcm := []byte{0x00, 0x40, 0x00, 0xC0} // 0.5, -0.5
	f := buildWAV(wavPCM, 16000, 1, 16, pcm, false)
	// Insert an odd-sized LIST chunk (with its pad byte) before fmt and a
	// trailing chunk after data.
	body := append(chunk("LIST", []byte("INFOx")), f[12:]...)
	body = append(body, chunk("junk", []byte{1, 2, 3})...)
	b := riff(body)
	c, err := DecodeWAV(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Samples) != 2 || c.Samples[0] != 0.5 || c.Samples[1] != -0.5 {
		t.Fatalf("samples %v, want [0.5 -0.5]", c.Samples)
	}
}

func TestDecodeWAVFloatClampsAndNaN(t *testing.T) {
	data := floatData([][]float64{{2, -3, math.NaN(), math.Inf(1), 0.25}}, 32)
	c, err := DecodeWAV(bytes.NewReader(buildWAV(wavFloat, 8000, 1, 32, data, false)))
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{1, -1, 0, 1, 0.25}
	for i, v := range c.Samples {
		if v != want[i] {
			t.Fatalf("samples %v, want %v", c.Samples, want)
		}
	}
}

func TestDecodeWAVAlsaRecordings(t *testing.T) {
	files, _ := filepath.Glob("/usr/share/sounds/alsa/*.wav")
	if len(files) == 0 {
		t.Skip("no /usr/share/sounds/alsa/*.wav (Debian package alsa-utils; run `make data-deps`)")
	}
	for _, p := range files {
		c, err := ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if c.Rate != 48000 || c.Duration().Seconds() < 0.5 {
			t.Errorf("%s: %d Hz, %v", p, c.Rate, c.Duration())
		}
		if r := rms(c.Samples); r < 1e-3 {
			t.Errorf("%s: silent (rms %g)", p, r)
		}
	}
}

func TestDecodeWAVCorrupt(t *testing.T) {
	good := buildWAV(wavPCM, 16000, 1, 16, make([]byte, 100), false)
	set := func(off int, v ...byte) []byte {
		b := bytes.Clone(good)
		copy(b[off:], v)
		return b
	}
	u32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	u16 := func(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
	for _, tc := range []struct {
		name string
		in   []byte
		want string
		is   error
	}{
		{"empty", nil, "too short", ErrCorrupt},
		{"riff only", []byte("RIFF"), "too short", ErrCorrupt},
		{"not riff", []byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00"), "not a RIFF/WAVE", ErrCorrupt},
		{"rifx", set(0, 'R', 'I', 'F', 'X'), "RIFX", ErrUnsupported},
		{"header only", good[:12], "no fmt chunk", ErrCorrupt},
		{"truncated data", good[:len(good)-10], "truncated", ErrCorrupt},
		{"truncated fmt", good[:30], "truncated", ErrCorrupt},
		{"fmt too small", set(16, u32(8)...), "fmt chunk has 8 bytes", ErrCorrupt},
		{"fmt size huge", set(16, u32(0x31000010)...), "remain", ErrCorrupt},
		{"data size huge", set(40, u32(0xFFFFFFF0)...), "truncated", ErrCorrupt},
		{"zero channels", set(22, u16(0)...), "zero channels", ErrCorrupt},
		{"too many channels", set(22, u16(1000)...), "1000 channels", ErrCorrupt},
		{"rate zero", set(24, u32(0)...), "sample rate 0 Hz", ErrCorrupt},
		{"rate absurd", set(24, u32(4000000000)...), "sample rate 4000000000", ErrCorrupt},
		{"12-bit", set(34, u16(12)...), "12-bit integer PCM", ErrUnsupported},
		{"adpcm", set(20, u16(2)...), "MS ADPCM", ErrUnsupported},
		{"block align", set(32, u16(4)...), "block align 4", ErrCorrupt},
		{"float16", buildWAV(wavFloat, 8000, 1, 16, make([]byte, 8), false), "16-bit float", ErrUnsupported},
		{"empty data", buildWAV(wavPCM, 8000, 1, 16, nil, false), "data chunk is empty", ErrCorrupt},
		{"partial frame", buildWAV(wavPCM, 8000, 2, 16, make([]byte, 6), false), "whole number", ErrCorrupt},
		{"no data", riff(good[12:36]), "no data chunk", ErrCorrupt},
		{"data first", riff(good[36:], good[12:36]), "before the fmt", ErrCorrupt},
		{"two fmt", riff(good[12:36], good[12:]), "second fmt", ErrCorrupt},
		{"extensible short", func() []byte {
			b := buildWAV(wavPCM, 8000, 1, 16, make([]byte, 4), false)
			b[20], b[21] = 0xFE, 0xFF
			return b
		}(), "EXTENSIBLE", ErrCorrupt},
		{"extensible guid", func() []byte {
			b := buildWAV(wavPCM, 8000, 1, 16, make([]byte, 4), true)
			b[20+26] = 0x42
			return b
		}(), "sub-format", ErrUnsupported},
	} {
		c, err := DecodeWAV(bytes.NewReader(tc.in))
		if err == nil {
			t.Errorf("%s: decoded %d samples, want an error", tc.name, len(c.Samples))
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !errors.Is(err, tc.is) {
			t.Errorf("%s: error %q, want one containing %q wrapping %v", tc.name, err, tc.want, tc.is)
		}
	}
}

func TestWriteWAVRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		clip *Clip
		want []float32
	}{
		{"exact levels", &Clip{Rate: 16000, Samples: []float32{0, 0.5, -1, 32767.0 / 32768, -0.25}}, nil},
		{"clamped", &Clip{Rate: 8000, Samples: []float32{2, -2, float32(math.NaN())}}, []float32{32767.0 / 32768, -1, 0}},
		{"odd rate", &Clip{Rate: 44100, Samples: []float32{0.1}}, []float32{float32(math.Round(0.1*32768) / 32768)}},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".wav")
		if err := WriteFile(p, tc.clip); err != nil {
			t.Fatal(err)
		}
		c, err := ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		want := tc.want
		if want == nil {
			want = tc.clip.Samples
		}
		if c.Rate != tc.clip.Rate || len(c.Samples) != len(want) {
			t.Fatalf("%s: got %d Hz × %d, want %d Hz × %d", tc.name, c.Rate, len(c.Samples), tc.clip.Rate, len(want))
		}
		for i := range want {
			if c.Samples[i] != want[i] {
				t.Fatalf("%s: samples %v, want %v", tc.name, c.Samples, want)
			}
		}
	}
}

func TestFileErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.wav")
	if err := os.WriteFile(bad, []byte("RIFF\x04\x00\x00\x00WAVE"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"missing", func() error { _, err := ReadFile(filepath.Join(dir, "none.wav")); return err }(), "none.wav"},
		{"corrupt", func() error { _, err := ReadFile(bad); return err }(), "decode " + bad + ": wav: no fmt chunk"},
		{"extension", func() error { _, err := ReadFile(filepath.Join(dir, "x.flac")); return err }(), "x.flac"},
		{"write extension", WriteFile(filepath.Join(dir, "x.mp3"), &Clip{Rate: 16000, Samples: []float32{0}}), "x.mp3"},
		{"write bad rate", WriteFile(filepath.Join(dir, "y.wav"), &Clip{Rate: 5, Samples: []float32{0}}), "y.wav"},
		{"write nil", WriteFile(filepath.Join(dir, "z.wav"), nil), "z.wav"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, tc.err, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "y.wav")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed WriteFile left y.wav behind: %v", err)
	}
}

// rms is the root mean square of s.
func rms(s []float32) float64 {
	if len(s) == 0 {
		return 0
	}
	var sum float64
	for _, v := range s {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(s)))
}

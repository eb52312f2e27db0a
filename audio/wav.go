package audio

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// The WAV decoder walks the RIFF chunks itself instead of using
// github.com/go-audio/wav (v1.1.0), because that library cannot do what is
// needed here: it decodes IEEE-float WAV (format 3) as integers and rejects
// 64-bit floats, it ignores the sub-format of WAVE_FORMAT_EXTENSIBLE files
// (so it cannot tell float from integer samples there), and it sizes its
// buffers from unchecked chunk sizes, so a 44-byte file whose fmt chunk
// claims 0x31000010 bytes makes it allocate ~800 MB and hang (found by
// fuzzing it). Every size below is checked against the file's length before
// anything is allocated. The tests use go-audio/wav's encoder as an
// independent writer of integer PCM files.

// WAV format tags (the fmt chunk's first field).
const (
	wavPCM        = 0x0001
	wavFloat      = 0x0003
	wavExtensible = 0xFFFE
)

// Header limits: anything outside is rejected as corrupt.
const (
	maxChannels = 64
	maxFmtSize  = 1 << 16
)

// extensibleGUIDTail is the part of KSDATAFORMAT_SUBTYPE_PCM/IEEE_FLOAT
// after the two bytes that carry the format tag.
var extensibleGUIDTail = []byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

// wavFormat is a validated fmt chunk.
type wavFormat struct {
	tag      uint16 // wavPCM or wavFloat (extensible resolved)
	channels int
	rate     int
	bits     int // bits per sample in the data (the container size)
}

func (f *wavFormat) blockAlign() int { return f.channels * f.bits / 8 }

// DecodeWAV decodes a RIFF/WAVE file of integer PCM (8, 16, 24 or 32 bits)
// or IEEE float (32 or 64 bits) samples, plain or WAVE_FORMAT_EXTENSIBLE,
// with any number of channels, and downmixes it to mono (the mean of the
// channels) at the file's rate. Float samples are clamped to [-1, 1] and NaN
// becomes 0. Chunks after the data chunk are not read.
func DecodeWAV(r io.ReadSeeker) (*Clip, error) {
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("wav: %w", err)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("wav: %w", err)
	}
	if err := readRIFFHeader(r, size); err != nil {
		return nil, err
	}
	return walkChunks(r, size)
}

// readRIFFHeader checks the 12-byte "RIFF" <size> "WAVE" header.
func readRIFFHeader(r io.Reader, size int64) error {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return corrupt("wav: file has %d bytes, too short for a RIFF header", size)
	}
	switch {
	case string(hdr[0:4]) == "RIFX" || string(hdr[0:4]) == "RF64":
		return unsupported("wav: %q container", hdr[0:4])
	case string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE":
		return corrupt("wav: not a RIFF/WAVE file (starts with %q)", hdr[0:4])
	}
	return nil
}

// walkChunks reads chunks from byte 12 up to the data chunk and decodes it.
func walkChunks(r io.ReadSeeker, size int64) (*Clip, error) {
	pos := int64(12)
	var f *wavFormat
	for {
		var h [8]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			if f == nil {
				return nil, corrupt("wav: no fmt chunk before byte %d (end of file)", pos)
			}
			return nil, corrupt("wav: no data chunk before byte %d (end of file)", pos)
		}
		id, n := string(h[0:4]), int64(binary.LittleEndian.Uint32(h[4:8]))
		pos += 8
		if n > size-pos {
			return nil, corrupt("wav: %q chunk at byte %d says %d bytes but only %d remain (truncated?)", id, pos-8, n, size-pos)
		}
		switch id {
		case "fmt ":
			if f != nil {
				return nil, corrupt("wav: second fmt chunk at byte %d", pos-8)
			}
			var err error
			if f, err = readFmt(r, n); err != nil {
				return nil, err
			}
		case "data":
			if f == nil {
				return nil, corrupt("wav: data chunk at byte %d comes before the fmt chunk", pos-8)
			}
			return readData(r, n, f)
		}
		pos += n + n&1
		if _, err := r.Seek(pos, io.SeekStart); err != nil {
			return nil, fmt.Errorf("wav: %w", err)
		}
	}
}

// readFmt reads and validates a fmt chunk of n bytes.
func readFmt(r io.Reader, n int64) (*wavFormat, error) {
	if n < 16 || n > maxFmtSize {
		return nil, corrupt("wav: fmt chunk has %d bytes (want 16 to %d)", n, maxFmtSize)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, corrupt("wav: fmt chunk: %v", err)
	}
	le := binary.LittleEndian
	f := &wavFormat{
		tag:      le.Uint16(b[0:2]),
		channels: int(le.Uint16(b[2:4])),
		rate:     int(le.Uint32(b[4:8])),
		bits:     int(le.Uint16(b[14:16])),
	}
	if f.tag == wavExtensible {
		tag, err := extensibleTag(b)
		if err != nil {
			return nil, err
		}
		f.tag = tag
	}
	if err := f.validate(int(le.Uint16(b[12:14]))); err != nil {
		return nil, err
	}
	return f, nil
}

// extensibleTag returns the format tag hidden in a WAVE_FORMAT_EXTENSIBLE
// fmt chunk's sub-format GUID.
func extensibleTag(b []byte) (uint16, error) {
	if len(b) < 40 || binary.LittleEndian.Uint16(b[16:18]) < 22 {
		return 0, corrupt("wav: WAVE_FORMAT_EXTENSIBLE fmt chunk has %d bytes (want 40)", len(b))
	}
	if !bytes.Equal(b[26:40], extensibleGUIDTail) {
		return 0, unsupported("wav: WAVE_FORMAT_EXTENSIBLE sub-format %x", b[24:40])
	}
	return binary.LittleEndian.Uint16(b[24:26]), nil
}

// validate checks the format against what can be decoded.
func (f *wavFormat) validate(blockAlign int) error {
	switch {
	case f.channels == 0:
		return corrupt("wav: zero channels")
	case f.channels > maxChannels:
		return corrupt("wav: %d channels (at most %d)", f.channels, maxChannels)
	}
	if err := checkRate(f.rate); err != nil {
		return fmt.Errorf("wav: %w", err)
	}
	switch f.tag {
	case wavPCM:
		if f.bits != 8 && f.bits != 16 && f.bits != 24 && f.bits != 32 {
			return unsupported("wav: %d-bit integer PCM (want 8, 16, 24 or 32)", f.bits)
		}
	case wavFloat:
		if f.bits != 32 && f.bits != 64 {
			return unsupported("wav: %d-bit float (want 32 or 64)", f.bits)
		}
	default:
		return unsupported("wav: format tag 0x%04x%s (only PCM and IEEE float)", f.tag, tagName(f.tag))
	}
	if blockAlign != f.blockAlign() {
		return corrupt("wav: block align %d does not match %d channels of %d bits", blockAlign, f.channels, f.bits)
	}
	return nil
}

// tagName names a few common compressed WAV formats for error messages.
func tagName(tag uint16) string {
	switch tag {
	case 0x0002:
		return " (MS ADPCM)"
	case 0x0006:
		return " (A-law)"
	case 0x0007:
		return " (µ-law)"
	case 0x0011:
		return " (IMA ADPCM)"
	case 0x0055:
		return " (MPEG layer 3)"
	}
	return ""
}

// readData reads a data chunk of n bytes and downmixes it.
func readData(r io.Reader, n int64, f *wavFormat) (*Clip, error) {
	ba := int64(f.blockAlign())
	switch {
	case n == 0:
		return nil, corrupt("wav: data chunk is empty")
	case n%ba != 0:
		return nil, corrupt("wav: data chunk has %d bytes, not a whole number of %d-byte frames", n, ba)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, corrupt("wav: data chunk: %v", err)
	}
	return &Clip{Rate: f.rate, Samples: downmix(b, f)}, nil
}

// downmix converts interleaved frames to the mean of their channels.
func downmix(b []byte, f *wavFormat) []float32 {
	dec := sampleDecoder(f)
	width, ch := f.bits/8, f.channels
	out := make([]float32, len(b)/(width*ch))
	inv := 1 / float64(ch)
	for i := range out {
		frame := b[i*width*ch:]
		var sum float64
		for c := 0; c < ch; c++ {
			sum += dec(frame[c*width:])
		}
		out[i] = clamp(sum * inv)
	}
	return out
}

// sampleDecoder returns the function that reads one little-endian sample
// as a float in [-1, 1] (floats are returned as stored).
func sampleDecoder(f *wavFormat) func([]byte) float64 {
	le := binary.LittleEndian
	switch {
	case f.tag == wavFloat && f.bits == 32:
		return func(b []byte) float64 { return float64(math.Float32frombits(le.Uint32(b))) }
	case f.tag == wavFloat:
		return func(b []byte) float64 { return math.Float64frombits(le.Uint64(b)) }
	case f.bits == 8: // unsigned, 128 is zero
		return func(b []byte) float64 { return (float64(b[0]) - 128) / 128 }
	case f.bits == 16:
		return func(b []byte) float64 { return float64(int16(le.Uint16(b))) / (1 << 15) }
	case f.bits == 24:
		return func(b []byte) float64 {
			v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
			return float64(v) / (1 << 23)
		}
	default:
		return func(b []byte) float64 { return float64(int32(le.Uint32(b))) / (1 << 31) }
	}
}

// WriteWAV writes c as a 16-bit PCM mono WAV file. Samples are rounded to
// the nearest of the 65,536 levels (x·32768, clamped), so a clip decoded from
// a 16-bit file is written back bit-exactly.
func WriteWAV(w io.Writer, c *Clip) error {
	if c == nil {
		return fmt.Errorf("write wav: nil clip")
	}
	if err := checkRate(c.Rate); err != nil {
		return fmt.Errorf("write wav: %w", err)
	}
	n := int64(len(c.Samples)) * 2
	if n > math.MaxUint32-36 {
		return fmt.Errorf("write wav: %d samples do not fit in a WAV file", len(c.Samples))
	}
	if _, err := w.Write(wavHeader(c.Rate, uint32(n))); err != nil {
		return fmt.Errorf("write wav: %w", err)
	}
	return writePCM16(w, c.Samples)
}

// wavHeader is the 44-byte header of a 16-bit mono PCM file with n data bytes.
func wavHeader(rate int, n uint32) []byte {
	le := binary.LittleEndian
	h := make([]byte, 0, 44)
	h = append(h, "RIFF"...)
	h = le.AppendUint32(h, 36+n)
	h = append(h, "WAVEfmt "...)
	h = le.AppendUint32(h, 16)
	h = le.AppendUint16(h, wavPCM)
	h = le.AppendUint16(h, 1)
	h = le.AppendUint32(h, uint32(rate))
	h = le.AppendUint32(h, uint32(rate)*2)
	h = le.AppendUint16(h, 2)
	h = le.AppendUint16(h, 16)
	h = append(h, "data"...)
	return le.AppendUint32(h, n)
}

// writePCM16 writes samples as little-endian int16 in blocks.
func writePCM16(w io.Writer, s []float32) error {
	buf := make([]byte, 0, 8192)
	for i, x := range s {
		buf = binary.LittleEndian.AppendUint16(buf, uint16(toInt16(x)))
		if len(buf) == cap(buf) || i == len(s)-1 {
			if _, err := w.Write(buf); err != nil {
				return fmt.Errorf("write wav: %w", err)
			}
			buf = buf[:0]
		}
	}
	return nil
}

// toInt16 quantises a sample in [-1, 1] to 16 bits (NaN → 0).
func toInt16(x float32) int16 {
	v := math.Round(float64(x) * 32768)
	switch {
	case v != v:
		return 0
	case v > math.MaxInt16:
		return math.MaxInt16
	case v < math.MinInt16:
		return math.MinInt16
	}
	return int16(v)
}

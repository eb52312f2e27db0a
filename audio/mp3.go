package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hajimehoshi/go-mp3"
)

// MP3 decoding uses github.com/hajimehoshi/go-mp3, which decodes MPEG-1 and
// MPEG-2 layer III (not MPEG-2.5, i.e. not 8, 11.025 or 12 kHz files) to
// 16-bit stereo, and does not trim what encoders add: it plays the
// LAME/Xing "Info" frame as one frame of silence, then the encoder delay
// (576 samples for LAME) and the synthesis filter bank's delay (529
// samples), and at the end the padding that fills the last frame (≈ 60 ms
// in all). When the first frame carries a LAME (or FFmpeg "Lavc"/"Lavf")
// tag, DecodeMP3 cuts all of that away, so the clip has exactly the
// encoded samples (tests check this to the sample for MPEG-1 and MPEG-2,
// CBR and VBR). Files without one keep the extra 1,105 samples of silence
// at the start and the padding at the end; note that LAME writes no tag
// when its first frame is too small to hold one (e.g. 32 kbit/s at 16 kHz),
// so encode at 48 kbit/s or more for exact lengths.

// decoderDelay is the delay of the MP3 synthesis filter bank in samples.
const decoderDelay = 529

// maxMP3Expansion bounds decoded bytes per input byte; no valid stream
// comes near it (a 576-sample frame takes at least 24 bytes: 96 bytes of
// PCM per byte), so larger output means the decoder is looping on garbage.
const maxMP3Expansion = 512

// DecodeMP3 decodes an MPEG-1/2 layer III stream to a mono clip (the mean of
// the two channels) at the stream's rate, trimming the encoder delay and
// padding when a LAME tag gives them. Input without two consecutive valid
// layer III frame headers in its first 64 KiB is rejected as corrupt.
func DecodeMP3(r io.Reader) (*Clip, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("mp3: %w", err)
	}
	if err := checkID3(data); err != nil {
		return nil, err
	}
	first, err := findFrames(data)
	if err != nil {
		return nil, err
	}
	pcm, rate, err := decodeMP3PCM(data)
	if err != nil {
		return nil, err
	}
	if len(pcm) < 4 {
		return nil, corrupt("mp3: no audio frames")
	}
	samples := stereoToMono(pcm)
	if tag, ok := parseLAMETag(data, first); ok {
		samples = tag.trim(samples)
	}
	return &Clip{Rate: rate, Samples: samples}, nil
}

// decodeMP3PCM runs go-mp3 and returns interleaved 16-bit stereo PCM.
//
// go-mp3 v0.3.4 indexes its tables with values read from the stream
// without checking them, so some malformed frames make it panic (index out
// of range in getScaleFactorsMpeg2 and readHuffman; found by FuzzDecodeMP3,
// and reported upstream against earlier versions). Each call decodes with a
// fresh decoder that shares no state, so the panic is recovered here and
// returned as an ErrCorrupt error: DecodeMP3 itself never panics.
func decodeMP3PCM(data []byte) (pcm []byte, rate int, err error) {
	defer func() {
		if r := recover(); r != nil {
			pcm, rate, err = nil, 0, corrupt("mp3: malformed frame data (go-mp3: %v)", r)
		}
	}()
	return runGoMP3(data)
}

// runGoMP3 decodes data with go-mp3, bounding the output.
func runGoMP3(data []byte) ([]byte, int, error) {
	if len(data) == 0 {
		return nil, 0, corrupt("mp3: empty input")
	}
	d, err := mp3.NewDecoder(bytes.NewReader(data))
	if err != nil {
		return nil, 0, corrupt("mp3: %s", strings.TrimPrefix(err.Error(), "mp3: "))
	}
	if err := checkRate(d.SampleRate()); err != nil {
		return nil, 0, fmt.Errorf("mp3: %w", err)
	}
	limit := int64(len(data)) * maxMP3Expansion
	pcm, err := io.ReadAll(io.LimitReader(d, limit+1))
	switch {
	case err != nil && !errors.Is(err, io.EOF):
		return nil, 0, corrupt("mp3: %s", strings.TrimPrefix(err.Error(), "mp3: "))
	case int64(len(pcm)) > limit:
		return nil, 0, corrupt("mp3: decoded more than %d bytes from %d input bytes", limit, len(data))
	}
	return pcm, d.SampleRate(), nil
}

// checkID3 rejects an ID3v2 tag that claims more bytes than the file has
// (go-mp3 would allocate its claimed size, up to 256 MB, before reading).
func checkID3(data []byte) error {
	if len(data) < 10 || string(data[:3]) != "ID3" {
		return nil
	}
	if n := id3Size(data); n > len(data) {
		return corrupt("mp3: ID3 tag says %d bytes, the file has %d", n, len(data))
	}
	return nil
}

// id3Size is the total size of the ID3v2 tag at the start of data
// (header, body and footer).
func id3Size(data []byte) int {
	body := int(data[6]&0x7f)<<21 | int(data[7]&0x7f)<<14 | int(data[8]&0x7f)<<7 | int(data[9]&0x7f)
	n := 10 + body
	if data[5]&0x10 != 0 { // footer present
		n += 10
	}
	return n
}

// stereoToMono averages the channels of interleaved 16-bit stereo PCM.
func stereoToMono(pcm []byte) []float32 {
	out := make([]float32, len(pcm)/4)
	for i := range out {
		l := int16(binary.LittleEndian.Uint16(pcm[4*i:]))
		r := int16(binary.LittleEndian.Uint16(pcm[4*i+2:]))
		out[i] = float32((int32(l) + int32(r))) / (2 << 15)
	}
	return out
}

// lameTag is the gapless playback information of an MP3's Info frame.
type lameTag struct {
	samplesPerFrame int
	frames          int // audio frames after the Info frame; 0 if not given
	delay, padding  int // encoder delay and end padding, in samples
}

// trim cuts the Info frame, the encoder and decoder delays and the end
// padding from the decoded samples. If the tag's numbers do not fit the
// decoded length, s is returned unchanged.
func (t lameTag) trim(s []float32) []float32 {
	skip := t.samplesPerFrame + t.delay + decoderDelay
	if skip >= len(s) {
		return s
	}
	end := len(s)
	if t.frames > 0 {
		want := t.frames*t.samplesPerFrame - t.delay - t.padding
		if want <= 0 {
			return s
		}
		end = min(end, skip+want)
	}
	return s[skip:end]
}

// parseLAMETag reads the Xing/Info header and its LAME extension from the
// frame at first. ok is false when there is none.
func parseLAMETag(data []byte, first int) (lameTag, bool) {
	off, spf := xingOffset(data[first : first+4])
	p := first + off
	if p+8 > len(data) || (string(data[p:p+4]) != "Xing" && string(data[p:p+4]) != "Info") {
		return lameTag{}, false
	}
	return readXing(data, p, spf)
}

// xingOffset returns where the Xing header starts in a layer III frame
// with header h (after the side information) and the samples per frame.
func xingOffset(h []byte) (off, samplesPerFrame int) {
	mpeg1 := (h[1]>>3)&3 == 3
	mono := (h[3]>>6)&3 == 3
	off = 4
	if h[1]&1 == 0 { // protected: a 16-bit CRC follows the header
		off += 2
	}
	switch {
	case mpeg1 && mono:
		off += 17
	case mpeg1:
		off += 32
	case mono:
		off += 9
	default:
		off += 17
	}
	if mpeg1 {
		return off, 1152
	}
	return off, 576
}

// readXing parses the Xing header at p and the LAME extension after it.
func readXing(data []byte, p, spf int) (lameTag, bool) {
	be := binary.BigEndian
	flags := be.Uint32(data[p+4:])
	t := lameTag{samplesPerFrame: spf}
	q := p + 8
	if flags&1 != 0 {
		if q+4 > len(data) {
			return lameTag{}, false
		}
		t.frames = int(be.Uint32(data[q:]))
		q += 4
	}
	for _, f := range []struct {
		bit  uint32
		size int
	}{{2, 4}, {4, 100}, {8, 4}} {
		if flags&f.bit != 0 {
			q += f.size
		}
	}
	if q+24 > len(data) {
		return lameTag{}, false
	}
	switch string(data[q : q+4]) {
	case "LAME", "Lavc", "Lavf":
	default:
		return lameTag{}, false
	}
	t.delay = int(data[q+21])<<4 | int(data[q+22])>>4
	t.padding = int(data[q+22]&0x0f)<<8 | int(data[q+23])
	return t, true
}

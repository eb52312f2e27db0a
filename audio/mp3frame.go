package audio

// MPEG audio frame headers, parsed only to find where the stream starts and
// to reject input that is not MP3 before go-mp3 (which scans any bytes for
// a sync word and decodes whatever it finds) sees it.

// syncWindow is how far into the input (after an ID3v2 tag) the first frame
// is looked for.
const syncWindow = 64 << 10

// Layer III bit rates in kbit/s by header index, for MPEG-1 and MPEG-2/2.5.
var (
	bitratesV1 = [16]int{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0}
	bitratesV2 = [16]int{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0}
)

// Sample rates by header index for MPEG-1, MPEG-2 and MPEG-2.5.
var (
	ratesV1  = [3]int{44100, 48000, 32000}
	ratesV2  = [3]int{22050, 24000, 16000}
	ratesV25 = [3]int{11025, 12000, 8000}
)

// frameHeader is a decoded 4-byte MPEG audio frame header.
type frameHeader struct {
	version int // 1, 2, or 25 for MPEG-2.5
	rate    int
	size    int // frame length in bytes, header included
}

// parseFrameHeader decodes a layer III header at b (len ≥ 4); ok is false
// for anything else, including free-format and reserved values.
func parseFrameHeader(b []byte) (frameHeader, bool) {
	if b[0] != 0xFF || b[1]&0xE0 != 0xE0 || (b[1]>>1)&3 != 1 {
		return frameHeader{}, false
	}
	ver, bi, ri, pad := (b[1]>>3)&3, int(b[2]>>4), int(b[2]>>2)&3, int(b[2]>>1)&1
	if ver == 1 || ri == 3 || bi == 0 || bi == 15 {
		return frameHeader{}, false
	}
	h := frameHeader{}
	var kbps, coef int
	switch ver {
	case 3:
		h.version, h.rate, kbps, coef = 1, ratesV1[ri], bitratesV1[bi], 144
	case 2:
		h.version, h.rate, kbps, coef = 2, ratesV2[ri], bitratesV2[bi], 72
	default:
		h.version, h.rate, kbps, coef = 25, ratesV25[ri], bitratesV2[bi], 72
	}
	h.size = coef*kbps*1000/h.rate + pad
	return h, true
}

// findFrames returns the offset of the first layer III frame that is
// followed by another valid frame header (or ends exactly at the end of
// the input), searching the first syncWindow bytes after an ID3v2 tag.
func findFrames(data []byte) (int, error) {
	start := 0
	if len(data) >= 10 && string(data[:3]) == "ID3" {
		start = id3Size(data)
	}
	end := min(len(data)-4, start+syncWindow)
	for i := start; i <= end; i++ {
		h, ok := parseFrameHeader(data[i:])
		if !ok {
			continue
		}
		next := i + h.size
		if next == len(data) || next+4 <= len(data) && isFrameHeader(data[next:]) {
			if h.version == 25 {
				return 0, unsupported("mp3: MPEG-2.5 stream (%d Hz); go-mp3 decodes only MPEG-1 and MPEG-2", h.rate)
			}
			return i, nil
		}
	}
	return 0, corrupt("mp3: no MPEG layer III frames in the first %d bytes", min(len(data)-start, syncWindow))
}

func isFrameHeader(b []byte) bool {
	_, ok := parseFrameHeader(b)
	return ok
}

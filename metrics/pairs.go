package metrics

// The pair reader. When two digits touch in almost every frame of a clip,
// the 2-means split cuts both glyphs apart and the digit classifier reads
// the pieces (73 % of such real test clips right with the per-track rule).
// The pair reader reads the union instead: a multi-label classifier over
// the PairSize² window centred on all of a frame's ink, saying which of the
// ten digits are present (one label for two of a kind). It is trained on
// pairs of augmented train-split glyphs pasted close together.

// PairSize is the side of the pair reader's window: a glyph plus the
// largest offset at which two glyphs still touch.
const PairSize = 48

// PairNetConfig is the pair reader: [1, 1, 48, 48] → 32@48² → 32@24² →
// 64@12² → 128@6² → 128 → 10 (absent, present) pairs.
func PairNetConfig() NetConfig {
	k := [3]int{1, 3, 3}
	p := [3]int{0, 1, 1}
	s2 := [3]int{1, 2, 2}
	return NetConfig{
		Name: "omniar-pairs-v1", Input: [4]int{1, 1, PairSize, PairSize}, Features: 128, Logits: 20, Binary: true,
		Convs: []ConvLayer{
			{Out: 32, Kernel: k, Stride: [3]int{1, 1, 1}, Padding: p},
			{Out: 32, Kernel: k, Stride: s2, Padding: p},
			{Out: 64, Kernel: k, Stride: s2, Padding: p},
			{Out: 128, Kernel: k, Stride: s2, Padding: p},
		},
	}
}

// PairCrop appends the pair reader's window of a frame [h, w]: PairSize²
// centred on the centre of mass of all its ink, in [0, 1].
func PairCrop(dst []float32, frame []uint8, w, h int) []float32 {
	f := newFrameInk(frame, w, h)
	return f.crop(dst, f.centre(-1), -1, PairSize)
}

// presentLogOdds is the log-odds of each digit being present, from the
// pair reader's (absent, present) logits.
func presentLogOdds(l []float32) [10]float64 {
	var out [10]float64
	for d := range out {
		out[d] = float64(l[2*d+1] - l[2*d])
	}
	return out
}

//go:build !purego

package nn

import "golang.org/x/sys/cpu"

var haveAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func expAVX2(dst, src []float32)

//go:noescape
func sigmoidAVX2(dst, src []float32)

//go:noescape
func maxAVX2(x []float32) float32

//go:noescape
func expShiftAVX2(dst, src []float32, m float32)

//go:noescape
func scaleAVX2(x []float32, a float32)

//go:noescape
func sumAVX2(x []float32) float32

//go:noescape
func addAVX2(dst, src []float32)

//go:noescape
func gather2AVX2(dst, src []float32)

//go:noescape
func scatter2AVX2(dst, src []float32)

// expVec writes e^src[i] into dst for the leading multiple of 8 elements
// and returns how many it did.
func expVec(dst, src []float32) int {
	n := len(src) &^ 7
	if !haveAVX2 || n == 0 {
		return 0
	}
	expAVX2(dst[:n], src[:n])
	return n
}

// sigmoidVec is expVec for σ.
func sigmoidVec(dst, src []float32) int {
	n := len(src) &^ 7
	if !haveAVX2 || n == 0 {
		return 0
	}
	sigmoidAVX2(dst[:n], src[:n])
	return n
}

// maxVec returns the maximum of the leading multiple of 8 elements and
// how many it read (0: none, and m is meaningless).
func maxVec(x []float32) (m float32, n int) {
	n = len(x) &^ 7
	if !haveAVX2 || n == 0 {
		return 0, 0
	}
	return maxAVX2(x[:n]), n
}

// sumVec is maxVec for the sum.
func sumVec(x []float32) (s float32, n int) {
	n = len(x) &^ 7
	if !haveAVX2 || n == 0 {
		return 0, 0
	}
	return sumAVX2(x[:n]), n
}

// expShiftVec is expVec of src−m.
func expShiftVec(dst, src []float32, m float32) int {
	n := len(src) &^ 7
	if !haveAVX2 || n == 0 {
		return 0
	}
	expShiftAVX2(dst[:n], src[:n], m)
	return n
}

// scaleVec multiplies the leading multiple of 8 elements by a and returns
// how many it did.
func scaleVec(x []float32, a float32) int {
	n := len(x) &^ 7
	if !haveAVX2 || n == 0 {
		return 0
	}
	scaleAVX2(x[:n], a)
	return n
}

// addVec adds src to dst over the leading multiple of 8 elements of src
// and returns how many it did.
func addVec(dst, src []float32) int {
	n := len(src) &^ 7
	if !haveAVX2 || n == 0 {
		return 0
	}
	addAVX2(dst[:n], src[:n])
	return n
}

// gather2Vec sets dst[j] = src[2j] for the leading multiple of 8 of the
// j that both slices hold whole vectors for, and returns how many it did.
func gather2Vec(dst, src []float32) int {
	n := min(len(dst), len(src)/2) &^ 7
	if !haveAVX2 || n == 0 {
		return 0
	}
	gather2AVX2(dst[:n], src[:2*n])
	return n
}

// scatter2Vec adds src[j] to dst[2j] like gather2Vec and returns how many
// it did.
func scatter2Vec(dst, src []float32) int {
	n := min(len(src), len(dst)/2) &^ 7
	if !haveAVX2 || n == 0 {
		return 0
	}
	scatter2AVX2(dst[:2*n], src[:n])
	return n
}

//go:build !purego

package nn

import "golang.org/x/sys/cpu"

var haveAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func expAVX2(dst, src []float32)

//go:noescape
func sigmoidAVX2(dst, src []float32)

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

package nn

import "math"

// exp32 is e^x in float32 within 2 ulp of math.Exp for x in
// [−87.33, 88.37]. It saturates outside, at ≈ 1.2e−38 below and ≈ 2.4e38
// above (callers take it of shifted arguments ≤ 0, where masked entries are
// zeroed explicitly, and inside σ, where saturation is exact to float32);
// NaN stays NaN.
//
// Softmax, SiLU and GELU spend most of their time in exp; math.Exp works in
// float64 with edge-case branches. This is a Cody–Waite reduction and a
// degree-6 polynomial, the scalar twin of the AVX2 kernel in exp_amd64.s.
func exp32(x float32) float32 {
	const (
		ln2Hi  = 0.693359375
		ln2Lo  = -2.12194440e-4
		log2e  = 1.44269504088896341
		maxArg = 88.37625885 // just under 127.5·ln 2: the rounded exponent stays ≤ 127
		minArg = -87.33654
	)
	x = min(max(x, minArg), maxArg) // Go's min/max keep NaN
	// round x·log2(e) to the nearest integer with the 1.5·2²³ trick
	const magic = 12582912
	fn := x*log2e + magic
	fn -= magic
	r := x - fn*ln2Hi - fn*ln2Lo
	// e^r on |r| ≤ ln2/2 (Taylor coefficients, error < 2e-8 there)
	p := float32(1.0/720)*r + 1.0/120
	p = p*r + 1.0/24
	p = p*r + 1.0/6
	p = p*r + 0.5
	p = p*r + 1
	p = p*r + 1
	return p * math.Float32frombits(uint32(int32(fn)+127)<<23)
}

// sigmoid32 is 1/(1+e^−x). It is branch-free on purpose (a sign test
// mispredicts half the time on activations); e^−x overflowing to +Inf
// gives the right limit 0.
func sigmoid32(x float32) float32 { return 1 / (1 + exp32(-x)) }

// ExpSlice writes e^src[i] into dst[i] (dst may be src): 8 lanes at a time
// with AVX2 where the CPU has it, exp32 for the rest.
func ExpSlice(dst, src []float32) {
	dst = dst[:len(src)]
	for i := expVec(dst, src); i < len(src); i++ {
		dst[i] = exp32(src[i])
	}
}

// SigmoidSlice writes σ(src[i]) into dst[i] (dst may be src).
func SigmoidSlice(dst, src []float32) {
	dst = dst[:len(src)]
	for i := sigmoidVec(dst, src); i < len(src); i++ {
		dst[i] = sigmoid32(src[i])
	}
}

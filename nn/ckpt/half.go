package ckpt

import "math"

// f32ToF16 converts f to IEEE 754 binary16 bits, rounding to nearest even.
// Values too large for half become ±Inf, values too small become subnormals
// or ±0, and NaN stays a (quiet) NaN with the sign and top payload bits kept.
func f32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	man := b & 0x7fffff

	if exp == 0xff {
		if man == 0 {
			return sign | 0x7c00 // ±Inf
		}
		return sign | 0x7e00 | uint16(man>>13) // quiet NaN
	}

	e := exp - 127 + 15 // rebias
	if e >= 0x1f {
		return sign | 0x7c00 // overflow to ±Inf
	}
	if e <= 0 {
		// Half subnormal (or zero): value is m × 2^-24 with m = M >> shift,
		// where M is the float32 significand including the implicit bit.
		shift := uint(14 - e)
		if shift > 24 {
			return sign // below half of the smallest subnormal: ±0
		}
		m := man | 0x800000
		h := m >> shift
		rem := m & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && h&1 == 1) {
			h++ // may carry into the smallest normal, which is correct
		}
		return sign | uint16(h)
	}

	h := uint32(e)<<10 | man>>13
	rem := man & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && h&1 == 1) {
		h++ // may carry into the exponent, up to Inf, which is correct
	}
	return sign | uint16(h)
}

// f16ToF32 converts IEEE 754 binary16 bits to float32 exactly.
func f16ToF32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	man := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	case exp == 0 && man == 0: // ±0
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: normalize
		e := uint32(127 - 15 + 1)
		for man&0x400 == 0 {
			man <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (man&0x3ff)<<13)
	default:
		return math.Float32frombits(sign | (exp+127-15)<<23 | man<<13)
	}
}

// f32ToBF16 converts f to bfloat16 bits (the top half of a float32),
// rounding to nearest even; NaN stays a quiet NaN.
func f32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40 // quiet NaN
	}
	return uint16((b + 0x7fff + (b>>16)&1) >> 16)
}

// bf16ToF32 converts bfloat16 bits to float32 exactly.
func bf16ToF32(h uint16) float32 {
	return math.Float32frombits(uint32(h) << 16)
}

// RoundF16 is f rounded to IEEE 754 binary16 (nearest even), as the F16
// dtype stores it.
func RoundF16(f float32) float32 { return f16ToF32(f32ToF16(f)) }

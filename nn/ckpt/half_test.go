package ckpt

import (
	"math"
	"testing"
)

func TestF16Table(t *testing.T) {
	tests := []struct {
		name string
		in   float32
		want uint16
	}{
		{"zero", 0, 0x0000},
		{"negative zero", float32(math.Copysign(0, -1)), 0x8000},
		{"one", 1, 0x3c00},
		{"minus two", -2, 0xc000},
		{"max half", 65504, 0x7bff},
		{"just below max+half ulp", 65519.996, 0x7bff},
		{"max+half ulp rounds to inf", 65520, 0x7c00},
		{"6.1e-5 rounds to largest subnormal", 6.1e-5, 0x03ff},
		{"smallest normal", 6.103515625e-05, 0x0400},
		{"smallest subnormal", 5.960464477539063e-08, 0x0001},
		{"subnormal 3*2^-24", 3 * 5.960464477539063e-08, 0x0003},
		{"half of smallest subnormal ties to zero", 2.9802322387695312e-08, 0x0000},
		{"1.5 smallest subnormal ties to even 2", 8.940696716308594e-08, 0x0002},
		{"2.5 smallest subnormal ties to even 2", 1.4901161193847656e-07, 0x0002},
		{"0.75 smallest subnormal rounds to 1", 4.470348358154297e-08, 0x0001},
		{"tiny underflows to zero", 1e-10, 0x0000},
		{"tiny negative underflows to -0", -1e-10, 0x8000},
		{"1+2^-11 ties to even 1", 1.00048828125, 0x3c00},
		{"1+3*2^-11 ties to even 1+2^-9", 1.00146484375, 0x3c02},
		{"just above tie rounds up", math.Float32frombits(0x3f801001), 0x3c01},
		{"just below tie rounds down", math.Float32frombits(0x3f800fff), 0x3c00},
		{"0.1", 0.1, 0x2e66},
		{"inf", float32(math.Inf(1)), 0x7c00},
		{"-inf", float32(math.Inf(-1)), 0xfc00},
		{"overflow", 1e10, 0x7c00},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := f32ToF16(tt.in); got != tt.want {
				t.Errorf("f32ToF16(%g) = %#04x, want %#04x", tt.in, got, tt.want)
			}
		})
	}
	if h := f32ToF16(float32(math.NaN())); h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
		t.Errorf("f32ToF16(NaN) = %#04x, not a NaN", h)
	}
	if v := f16ToF32(0x7e00); !math.IsNaN(float64(v)) {
		t.Errorf("f16ToF32(0x7e00) = %g, want NaN", v)
	}
	for h, want := range map[uint16]float32{0x0001: 5.960464477539063e-08, 0x03ff: 6.097555160522461e-05, 0x7bff: 65504, 0x8000: float32(math.Copysign(0, -1)), 0xfc00: float32(math.Inf(-1))} {
		if got := f16ToF32(h); math.Float32bits(got) != math.Float32bits(want) {
			t.Errorf("f16ToF32(%#04x) = %g, want %g", h, got, want)
		}
	}
}

// torchTable holds float32 bits and what PyTorch 1.13 converts them to with
// .to(torch.float16) and .to(torch.bfloat16) (generated once with
// /usr/bin/python3 and torch; NaN payloads are compared only as NaN).
var torchTable = []struct {
	f32       uint32
	f16, bf16 uint16
}{
	{0x00000000, 0x0000, 0x0000}, // 0.0
	{0x80000000, 0x8000, 0x8000}, // -0.0
	{0x3f800000, 0x3c00, 0x3f80}, // 1.0
	{0xbf800000, 0xbc00, 0xbf80}, // -1.0
	{0x40000000, 0x4000, 0x4000}, // 2.0
	{0x3f000000, 0x3800, 0x3f00}, // 0.5
	{0x477fe000, 0x7bff, 0x4780}, // 65504.0
	{0xc77fe000, 0xfbff, 0xc780}, // -65504.0
	{0x477fef00, 0x7bff, 0x4780}, // 65519.0
	{0x477fefff, 0x7bff, 0x4780}, // 65519.996
	{0x477ff000, 0x7c00, 0x4780}, // 65520.0
	{0x47c35000, 0x7c00, 0x47c3}, // 100000.0
	{0x387fda40, 0x03ff, 0x3880}, // 6.1e-05
	{0x38800000, 0x0400, 0x3880}, // 6.103515625e-05
	{0x387fc000, 0x03ff, 0x3880}, // 6.097555160522461e-05
	{0x33800000, 0x0001, 0x3380}, // 5.960464477539063e-08
	{0x33000000, 0x0000, 0x3300}, // 2.9802322387695312e-08
	{0x33000001, 0x0001, 0x3300}, // 2.980232594040899e-08
	{0x33400000, 0x0001, 0x3340}, // 4.470348358154297e-08
	{0x33a00000, 0x0001, 0x33a0}, // 7.450580596923828e-08
	{0x30800000, 0x0000, 0x3080}, // 9.313225746154785e-10
	{0x2edbe6ff, 0x0000, 0x2edc}, // 1e-10
	{0x3f801000, 0x3c00, 0x3f80}, // 1.00048828125
	{0x3f803000, 0x3c02, 0x3f80}, // 1.00146484375
	{0x3f801001, 0x3c01, 0x3f80}, // 1.0004884004592896
	{0x3f800fff, 0x3c00, 0x3f80}, // 1.0004881620407104
	{0x3f808000, 0x3c04, 0x3f80}, // 1.00390625
	{0x3f818000, 0x3c0c, 0x3f82}, // 1.01171875
	{0x3f808001, 0x3c04, 0x3f81}, // 1.0039063692092896
	{0x3a83126f, 0x1419, 0x3a83}, // 0.001
	{0x3dcccccd, 0x2e66, 0x3dcd}, // 0.1
	{0xbdcccccd, 0xae66, 0xbdcd}, // -0.1
	{0x40490fdb, 0x4248, 0x4049}, // 3.14159265
	{0x501502f9, 0x7c00, 0x5015}, // 10000000000.0
	{0xd01502f9, 0xfc00, 0xd015}, // -10000000000.0
	{0x7f7f0000, 0x7c00, 0x7f7f}, // 3.3895314e+38
	{0x7f7fffff, 0x7c00, 0x7f80}, // 3.4028235e+38
	{0x00800000, 0x0000, 0x0080}, // 1.1754944e-38
	{0x000116c2, 0x0000, 0x0001}, // 1e-40
	{0x80000001, 0x8000, 0x8000}, // -1e-45
	{0x7f800000, 0x7c00, 0x7f80}, // inf
	{0xff800000, 0xfc00, 0xff80}, // -inf
	{0x7fc00000, 0x7e00, 0xffff}, // nan
	{0x58f16adf, 0x7c00, 0x58f1}, // 2123530481172480.0
	{0xb4dfb076, 0x8007, 0xb4e0}, // -4.166537905803125e-07
	{0xc44ee275, 0xe277, 0xc44f}, // -827.5383911132812
	{0xc09480ce, 0xc4a4, 0xc095}, // -4.64072322845459
	{0x55f4b3b2, 0x7c00, 0x55f5}, // 33631577833472.0
	{0x305c0874, 0x0000, 0x305c}, // 8.004754636914413e-10
	{0xb7ef470b, 0x81df, 0xb7ef}, // -2.8524102162919007e-05
	{0xbb4ba8e2, 0x9a5d, 0xbb4c}, // -0.0031076003797352314
	{0x06839eb9, 0x0000, 0x0684}, // 4.950994516868202e-35
	{0xbd7b497e, 0xabda, 0xbd7b}, // -0.06134938448667526
	{0x48702619, 0x7c00, 0x4870}, // 245912.390625
	{0x38c0c8fd, 0x0606, 0x38c1}, // 9.192710422212258e-05
	{0x42e0da80, 0x5707, 0x42e1}, // 112.4267578125
	{0x3b1a11df, 0x18d1, 0x3b1a}, // 0.0023509187158197165
	{0x3a059af1, 0x102d, 0x3a06}, // 0.0005096635431982577
	{0xc1aba9da, 0xcd5d, 0xc1ac}, // -21.457935333251953
	{0xc54cccc4, 0xea66, 0xc54d}, // -3276.7978515625
	{0x34b84ae9, 0x0006, 0x34b8}, // 3.4327175058024295e-07
	{0x47ca88dc, 0x7c00, 0x47cb}, // 103697.71875
	{0x416f362f, 0x4b7a, 0x416f}, // 14.950728416442871
	{0x3a2e6495, 0x1173, 0x3a2e}, // 0.0006652561132796109
	{0x79341c68, 0x7c00, 0x7934}, // 5.844934885837954e+34
	{0x413140ca, 0x498a, 0x4131}, // 11.078317642211914
	{0x4034e229, 0x41a7, 0x4035}, // 2.826303720474243
}

func TestConversionsMatchTorch(t *testing.T) {
	for _, tt := range torchTable {
		f := math.Float32frombits(tt.f32)
		if math.IsNaN(float64(f)) {
			if h := f32ToF16(f); !math.IsNaN(float64(f16ToF32(h))) {
				t.Errorf("f32ToF16(NaN) = %#04x, not a NaN", h)
			}
			if h := f32ToBF16(f); !math.IsNaN(float64(bf16ToF32(h))) {
				t.Errorf("f32ToBF16(NaN) = %#04x, not a NaN", h)
			}
			continue
		}
		if got := f32ToF16(f); got != tt.f16 {
			t.Errorf("f32ToF16(%g [%#08x]) = %#04x, torch gives %#04x", f, tt.f32, got, tt.f16)
		}
		if got := f32ToBF16(f); got != tt.bf16 {
			t.Errorf("f32ToBF16(%g [%#08x]) = %#04x, torch gives %#04x", f, tt.f32, got, tt.bf16)
		}
	}
}

func isNaN16(h uint16, expMask uint16) bool { return h&expMask == expMask && h&^(expMask|0x8000) != 0 }

// TestHalfExhaustive checks every 16-bit pattern: decoding then encoding
// gives the same bits, and the midpoint between each pair of neighbouring
// values rounds to the even one while values either side of it round to
// the nearer neighbour.
func TestHalfExhaustive(t *testing.T) {
	formats := []struct {
		name    string
		expMask uint16
		enc     func(float32) uint16
		dec     func(uint16) float32
	}{
		{"F16", 0x7c00, f32ToF16, f16ToF32},
		{"BF16", 0x7f80, f32ToBF16, bf16ToF32},
	}
	for _, fm := range formats {
		t.Run(fm.name, func(t *testing.T) {
			for i := 0; i < 1<<16; i++ {
				h := uint16(i)
				f := fm.dec(h)
				if isNaN16(h, fm.expMask) {
					if !math.IsNaN(float64(f)) || !isNaN16(fm.enc(f), fm.expMask) {
						t.Fatalf("NaN %#04x decodes to %g and re-encodes to %#04x", h, f, fm.enc(f))
					}
					continue
				}
				if got := fm.enc(f); got != h {
					t.Fatalf("%#04x -> %g -> %#04x", h, f, got)
				}
				// Neighbour pairs (h, h+1) of the same sign, both finite
				// (rounding to Inf is in the tables).
				if h&0x7fff >= fm.expMask-1 {
					continue
				}
				lo, hi := float64(f), float64(fm.dec(h+1))
				mid := float32((lo + hi) / 2) // exact in float32
				want := h
				if h&1 == 1 {
					want = h + 1
				}
				if got := fm.enc(mid); got != want {
					t.Fatalf("midpoint %g of %#04x and %#04x -> %#04x, want %#04x", mid, h, h+1, got, want)
				}
				below := math.Nextafter32(mid, float32(lo))
				above := math.Nextafter32(mid, float32(hi))
				if got := fm.enc(below); got != h {
					t.Fatalf("%g just inside %#04x's half -> %#04x", below, h, got)
				}
				if got := fm.enc(above); got != h+1 {
					t.Fatalf("%g just inside %#04x's half -> %#04x", above, h+1, got)
				}
			}
		})
	}
}

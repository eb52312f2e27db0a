//go:build !purego

#include "textflag.h"

// Vectorised e^x and σ(x) over 8 float32 lanes with AVX2 + FMA: the same
// Cody–Waite reduction and degree-6 polynomial as exp32 in fastmath.go.
// Operands are in Go (AT&T-like) order: the destination is last.

#define BCAST(bits, reg) MOVL $bits, AX; MOVQ AX, X15; VPBROADCASTD X15, reg

#define EXP_CONSTS \
	BCAST(0x42b0c0a5, Y1)  \ // 88.37625, just under 127.5·ln2: largest argument
	BCAST(0xc2aeac50, Y2)  \ // -87.33654, smallest argument
	BCAST(0x3fb8aa3b, Y3)  \ // log2(e)
	BCAST(0x3f318000, Y4)  \ // ln2 high part 0.693359375
	BCAST(0xb95e8083, Y5)  \ // ln2 low part -2.12194440e-4
	BCAST(0x3ab60b61, Y6)  \ // 1/720
	BCAST(0x3c088889, Y10) \ // 1/120
	BCAST(0x3d2aaaab, Y11) \ // 1/24
	BCAST(0x3e2aaaab, Y12) \ // 1/6
	BCAST(0x3f000000, Y13) \ // 1/2
	BCAST(0x3f800000, Y14) \ // 1
	MOVL $127, AX; MOVQ AX, X15; VPBROADCASTD X15, Y9

// EXP computes Y8 = e^Y0 (Y0, Y7, Y15 clobbered). min/max take Y0 as the
// second source so a NaN passes through.
#define EXP \
	VMINPS Y0, Y1, Y0          \
	VMAXPS Y0, Y2, Y0          \
	VMULPS Y3, Y0, Y7          \
	VROUNDPS $0, Y7, Y7        \
	VFNMADD231PS Y4, Y7, Y0    \
	VFNMADD231PS Y5, Y7, Y0    \
	VMOVAPS Y6, Y8             \
	VFMADD213PS Y10, Y0, Y8    \
	VFMADD213PS Y11, Y0, Y8    \
	VFMADD213PS Y12, Y0, Y8    \
	VFMADD213PS Y13, Y0, Y8    \
	VFMADD213PS Y14, Y0, Y8    \
	VFMADD213PS Y14, Y0, Y8    \
	VCVTPS2DQ Y7, Y15          \
	VPADDD Y9, Y15, Y15        \
	VPSLLD $23, Y15, Y15       \
	VMULPS Y15, Y8, Y8

// func expAVX2(dst, src []float32)
// len(src) must be a multiple of 8 and len(dst) ≥ len(src).
TEXT ·expAVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	SHRQ $3, CX
	JZ   expdone
	EXP_CONSTS
exploop:
	VMOVUPS (SI), Y0
	EXP
	VMOVUPS Y8, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  exploop
expdone:
	VZEROUPPER
	RET

// func sigmoidAVX2(dst, src []float32)
// dst = 1/(1+e^−src); len(src) must be a multiple of 8.
TEXT ·sigmoidAVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	SHRQ $3, CX
	JZ   sigdone
	EXP_CONSTS
sigloop:
	VXORPS  Y0, Y0, Y0
	VSUBPS  (SI), Y0, Y0
	EXP
	VADDPS  Y14, Y8, Y8
	VDIVPS  Y8, Y14, Y8
	VMOVUPS Y8, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  sigloop
sigdone:
	VZEROUPPER
	RET

// func maxAVX2(x []float32) float32
// len(x) must be a positive multiple of 8. A NaN may be lost from the
// maximum; callers that care see it again in e^(x−max).
TEXT ·maxAVX2(SB), NOSPLIT, $0-28
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	SHRQ $3, CX
	VMOVUPS (SI), Y0
	ADDQ $32, SI
	DECQ CX
	JZ   maxreduce
maxloop:
	VMAXPS (SI), Y0, Y0
	ADDQ $32, SI
	DECQ CX
	JNZ  maxloop
maxreduce:
	VEXTRACTF128 $1, Y0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0x4e, X0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0xb1, X0, X1
	VMAXPS X1, X0, X0
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func sumAVX2(x []float32) float32
// len(x) must be a multiple of 8; two accumulators hide the add latency.
TEXT ·sumAVX2(SB), NOSPLIT, $0-28
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	SHRQ $3, CX
	JZ   sumreduce
	TESTQ $1, CX
	JZ   sumpairs
	VADDPS (SI), Y0, Y0
	ADDQ $32, SI
	DECQ CX
	JZ   sumreduce
sumpairs:
	VADDPS (SI), Y0, Y0
	VADDPS 32(SI), Y1, Y1
	ADDQ $64, SI
	SUBQ $2, CX
	JNZ  sumpairs
sumreduce:
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VPERMILPS $0x4e, X0, X1
	VADDPS X1, X0, X0
	VPERMILPS $0xb1, X0, X1
	VADDPS X1, X0, X0
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func expShiftAVX2(dst, src []float32, m float32)
// dst = e^(src−m); len(src) must be a multiple of 8.
TEXT ·expShiftAVX2(SB), NOSPLIT, $0-52
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	SHRQ $3, CX
	JZ   expshiftdone
	EXP_CONSTS
expshiftloop:
	VBROADCASTSS m+48(FP), Y7
	VMOVUPS (SI), Y0
	VSUBPS Y7, Y0, Y0
	EXP
	VMOVUPS Y8, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  expshiftloop
expshiftdone:
	VZEROUPPER
	RET

// func scaleAVX2(x []float32, a float32)
// x *= a; len(x) must be a multiple of 8.
TEXT ·scaleAVX2(SB), NOSPLIT, $0-28
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	SHRQ $3, CX
	JZ   scaledone
	VBROADCASTSS a+24(FP), Y1
scaleloop:
	VMULPS (SI), Y1, Y0
	VMOVUPS Y0, (SI)
	ADDQ $32, SI
	DECQ CX
	JNZ  scaleloop
scaledone:
	VZEROUPPER
	RET

// func addAVX2(dst, src []float32): dst[i] += src[i], len(src) a multiple of 8.
TEXT ·addAVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	SHRQ $3, CX
	JZ   adddone
addloop:
	VMOVUPS (DI), Y0
	VADDPS  (SI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     addloop
adddone:
	VZEROUPPER
	RET

// func gather2AVX2(dst, src []float32): dst[j] = src[2j], len(dst) a
// multiple of 8, len(src) = 2·len(dst).
TEXT ·gather2AVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ src_base+24(FP), SI
	SHRQ $3, CX
	JZ   gather2done
gather2loop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VSHUFPS $0x88, Y1, Y0, Y2 // s0 s2 s8 s10 | s4 s6 s12 s14
	VPERMPD $0xd8, Y2, Y2     // s0 s2 s4 s6 s8 s10 s12 s14
	VMOVUPS Y2, (DI)
	ADDQ    $64, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     gather2loop
gather2done:
	VZEROUPPER
	RET

// func scatter2AVX2(dst, src []float32): dst[2j] += src[j], len(src) a
// multiple of 8, len(dst) = 2·len(src); the odd cells of dst are written
// back unchanged.
TEXT ·scatter2AVX2(SB), NOSPLIT, $0-48
	MOVQ   dst_base+0(FP), DI
	MOVQ   src_base+24(FP), SI
	MOVQ   src_len+32(FP), CX
	SHRQ   $3, CX
	JZ     scatter2done
	VXORPS Y7, Y7, Y7
scatter2loop:
	VMOVUPS    (SI), Y0
	VUNPCKLPS  Y7, Y0, Y1       // s0 0 s1 0 | s4 0 s5 0
	VUNPCKHPS  Y7, Y0, Y2       // s2 0 s3 0 | s6 0 s7 0
	VPERM2F128 $0x20, Y2, Y1, Y3 // s0 0 s1 0 s2 0 s3 0
	VPERM2F128 $0x31, Y2, Y1, Y4 // s4 0 s5 0 s6 0 s7 0
	VMOVUPS    (DI), Y5
	VADDPS     Y5, Y3, Y3
	VBLENDPS   $0xaa, Y5, Y3, Y3 // odd cells as they were
	VMOVUPS    Y3, (DI)
	VMOVUPS    32(DI), Y6
	VADDPS     Y6, Y4, Y4
	VBLENDPS   $0xaa, Y6, Y4, Y4
	VMOVUPS    Y4, 32(DI)
	ADDQ       $32, SI
	ADDQ       $64, DI
	DECQ       CX
	JNZ        scatter2loop
scatter2done:
	VZEROUPPER
	RET

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

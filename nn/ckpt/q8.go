package ckpt

import (
	"fmt"
	"math"
	"strings"
)

// Q8 is a storage format of Save, not a safetensors dtype: the tensor is
// stored as I8 in blocks of Q8Block consecutive values, each block with
// its scale (absmax/127, F16) in the companion tensor name+Q8ScaleSuffix.
// Get dequantizes it. A weight's error is at most half its block's step,
// absmax/254, for 1 + 2/Q8Block bytes a value — about half of F16's size —
// for the large matrices of a model (the experts of a mixture), where that
// error is noise.
const Q8 DType = "Q8"

// Q8Block is the number of values that share a scale.
const Q8Block = 32

// Q8ScaleSuffix names the scales of a Q8 tensor.
const Q8ScaleSuffix = ".q8_scale"

// quantizeQ8 returns the int8 codes (as bytes) and per-block scales of x.
func quantizeQ8(x []float32) ([]byte, []float32) {
	codes := make([]byte, len(x))
	scales := make([]float32, (len(x)+Q8Block-1)/Q8Block)
	for b := range scales {
		blk := x[b*Q8Block : min(len(x), (b+1)*Q8Block)]
		var m float32
		for _, v := range blk {
			m = max(m, float32(math.Abs(float64(v))))
		}
		// The scale is stored as F16: quantize against the rounded value.
		sc := RoundF16(m / 127)
		scales[b] = sc
		if sc == 0 {
			continue
		}
		for i, v := range blk {
			q := math.Round(float64(v / sc))
			codes[b*Q8Block+i] = byte(int8(max(-127, min(127, q))))
		}
	}
	return codes, scales
}

func dequantizeQ8(dst []float32, codes []byte, scales []float32) {
	for i, c := range codes {
		dst[i] = float32(int8(c)) * scales[i/Q8Block]
	}
}

// checkQ8 checks that I8 tensor t has the scales Get needs.
func (f *File) checkQ8(name string, t tensorInfo) error {
	sc, ok := f.tensors[name+Q8ScaleSuffix]
	if !ok {
		return fmt.Errorf("ckpt %s: tensor %q has dtype I8 and no scales %q (not Q8; use Raw)", f.Path, name, name+Q8ScaleSuffix)
	}
	if !sc.dtype.IsFloat() {
		return fmt.Errorf("ckpt %s: scales of %q have dtype %s, not a float type", f.Path, name, sc.dtype)
	}
	if want := (len(t.data) + Q8Block - 1) / Q8Block; len(sc.data)/sc.dtype.Size() != want {
		return fmt.Errorf("ckpt %s: %q has %d values and %d scales, want %d", f.Path, name, len(t.data), len(sc.data)/sc.dtype.Size(), want)
	}
	return nil
}

// isQ8Scale reports whether n holds the scales of an I8 tensor.
func (f *File) isQ8Scale(n string) bool {
	base, ok := strings.CutSuffix(n, Q8ScaleSuffix)
	if !ok {
		return false
	}
	t, ok := f.tensors[base]
	return ok && t.dtype == I8
}

// Package blas installs the BLAS that every matrix product in OmniAR runs on.
//
// With cgo (the default build) it is OpenBLAS through gonum's netlib binding;
// built with the `purego` tag, or without cgo, it is gonum's pure-Go BLAS,
// about eight times slower but with no C dependency. Install must be called
// once at start-up, before any graph runs.
package blas

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gorgonia.org/gorgonia"
)

// Install makes impl the BLAS of gorgonia, gorgonia/tensor and gonum's
// blas32/blas64 packages (the custom ops call blas32 directly).
func install(impl interface {
	blas.Float32
	blas.Float64
	blas.Complex64
	blas.Complex128
}) {
	gorgonia.Use(impl)
	blas32.Use(impl)
	blas64.Use(impl)
}

// F32 is the float32 BLAS the custom ops call.
func F32() blas.Float32 { return blas32.Implementation() }

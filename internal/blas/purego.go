//go:build !cgo || purego

package blas

import "gonum.org/v1/gonum/blas/gonum"

// Name says which BLAS Install installs.
const Name = "gonum (pure Go)"

// Install installs gonum's pure-Go BLAS.
func Install() { install(gonum.Implementation{}) }

// SetThreads is a no-op: gonum's BLAS threads through GOMAXPROCS.
func SetThreads(int) {}

// Threads reports 1: the pure-Go BLAS parallelism is GOMAXPROCS.
func Threads() int { return 1 }

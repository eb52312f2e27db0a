//go:build !amd64 || purego

package nn

func expVec(dst, src []float32) int     { return 0 }
func sigmoidVec(dst, src []float32) int { return 0 }

//go:build !amd64 || purego

package nn

func expVec(dst, src []float32) int             { return 0 }
func sigmoidVec(dst, src []float32) int         { return 0 }
func maxVec([]float32) (float32, int)           { return 0, 0 }
func sumVec([]float32) (float32, int)           { return 0, 0 }
func expShiftVec(_, _ []float32, _ float32) int { return 0 }
func scaleVec([]float32, float32) int           { return 0 }
func addVec(_, _ []float32) int                 { return 0 }
func gather2Vec(_, _ []float32) int             { return 0 }
func scatter2Vec(_, _ []float32) int            { return 0 }

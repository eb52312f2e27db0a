package nn

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestFramesChooseGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	x := func(s ...int) *tensor.Dense { return randTensor(rng, 1, s...) }
	choice := 1
	cases := []testCase{
		{name: "frames_to_batch", inputs: map[string]*tensor.Dense{"x": x(2, 3, 4, 2, 2)}, build: func(n map[string]*G.Node) (*G.Node, error) { return FramesToBatch(n["x"]) }},
		{name: "batch_to_frames", inputs: map[string]*tensor.Dense{"x": x(8, 3, 2, 2)}, build: func(n map[string]*G.Node) (*G.Node, error) { return BatchToFrames(n["x"], 2, 4) }},
		{name: "choose", inputs: map[string]*tensor.Dense{"a": x(3, 2), "b": x(3, 2), "c": x(3, 2)}, build: func(n map[string]*G.Node) (*G.Node, error) {
			return Choose(&choice, n["a"], n["b"], n["c"])
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradients(t, c, 1e-2, 1e-2) })
	}
}

// TestFramesRoundTrip: BatchToFrames undoes FramesToBatch, and frame t of
// video b is batch row b·T+t.
func TestFramesRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	in := randTensor(rng, 1, 2, 3, 4, 2, 2)
	res := evaluate(t, testCase{name: "frames", inputs: map[string]*tensor.Dense{"x": in}, build: func(n map[string]*G.Node) (*G.Node, error) {
		y, err := FramesToBatch(n["x"])
		if err != nil {
			return nil, err
		}
		return BatchToFrames(y, 2, 4)
	}}, nil)
	if maxRelErr(res.out, in.Float32s()) != 0 {
		t.Error("round trip changed the video")
	}
	one := evaluate(t, testCase{name: "frames", inputs: map[string]*tensor.Dense{"x": in}, build: func(n map[string]*G.Node) (*G.Node, error) {
		return FramesToBatch(n["x"])
	}}, nil)
	// video 1, channel 2, frame 3, pixel 0 is at batch row 1·4+3, channel 2
	if got, want := one.out[((1*4+3)*3+2)*4], in.Float32s()[((1*3+2)*4+3)*4]; got != want {
		t.Errorf("frame moved to the wrong place: %g vs %g", got, want)
	}
}

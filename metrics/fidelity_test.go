package metrics

import "testing"

// TestTallyByFrame: the per-frame share counts one-digit clips only;
// two-digit clips split by whether their digits move the same way.
func TestTallyByFrame(t *testing.T) {
	var tl Tally
	seven := []Target{{Label: 7, Dir: "left"}}
	tl.Add(Verdict{Digit: true}, []Reading{{Digit: 7, Frames: []int{7, 7, 1}, Velocity: [2]float64{3, 4}}}, seven)
	tl.Add(Verdict{}, []Reading{{Digit: 1, Frames: []int{7, 1, 1}}}, seven)
	two := []Target{{Label: 7, Dir: "up"}, {Label: 1, Dir: "left"}}
	tl.Add(Verdict{Digit: true}, []Reading{{Digit: 7}, {Digit: 1}}, two)
	same := []Target{{Label: 7, Dir: "up"}, {Label: 1, Dir: "up"}}
	tl.Add(Verdict{Direction: true}, []Reading{{Digit: 7, Dir: "up"}, {Digit: 1, Dir: "up"}}, same)
	tl.Add(Verdict{Direction: true}, []Reading{{Digit: 7, Dir: "left"}, {Digit: 1, Dir: "up"}}, two)
	tl.Add(Verdict{}, []Reading{{Digit: 7, Dir: "left"}, {Digit: 1, Dir: "left"}}, two)
	f := tl.Fidelity()
	want := []float64{1, 0.5, 0}
	if f.OneClips != 2 || f.TwoClips != 4 || len(f.OneByFrame) != len(want) || f.OneSpeed != 2.5 || f.OneDigit != 0.5 || f.TwoDigit != 0.25 || f.TwoDirection != 0.5 {
		t.Fatalf("fidelity %+v", f)
	}
	if f.TwoSameClips != 1 || f.TwoSameDirection != 1 || f.TwoDiffDirection != share(1, 3) {
		t.Fatalf("same-direction split: %d clips, %v / %v", f.TwoSameClips, f.TwoSameDirection, f.TwoDiffDirection)
	}
	// right: none (no readings of direction), both, both, one (left for up and left)
	if f.TwoDirsRight != [3]float64{0.25, 0.25, 0.5} || f.TwoDiffAlike != share(1, 3) {
		t.Fatalf("directions right %v, prompted apart but moving alike %v", f.TwoDirsRight, f.TwoDiffAlike)
	}
	for i, w := range want {
		if f.OneByFrame[i] != w {
			t.Errorf("frame %d: %v, want %v", i, f.OneByFrame[i], w)
		}
	}
}

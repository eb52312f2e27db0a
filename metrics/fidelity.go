package metrics

import "math"

// Fidelity is the judge's verdict over a set of clips against their
// prompts' metadata: what `omniar eval videoar` reports for generated
// clips and for the ceiling, the tokenizer's reconstructions of real ones.
type Fidelity struct {
	Clips     int     `json:"clips"`
	Match     float64 `json:"match"` // digit(s) and direction(s) both right
	Digit     float64 `json:"digit"`
	Direction float64 `json:"direction"`
	OneClips  int     `json:"one_clips"`
	OneMatch  float64 `json:"one_match"`
	TwoClips  int     `json:"two_clips"`
	TwoMatch  float64 `json:"two_match"`
	// digit(s) and direction(s) right, by how many digits the prompt names
	OneDigit     float64 `json:"one_digit"`
	OneDirection float64 `json:"one_direction"`
	TwoDigit     float64 `json:"two_digit"`
	TwoDirection float64 `json:"two_direction"`
	// two-digit clips whose digits move the same way, and the others:
	// only the others need the prompt to say which digit goes where
	TwoSameClips     int     `json:"two_same_clips"`
	TwoSameDirection float64 `json:"two_same_direction"`
	TwoDiffDirection float64 `json:"two_different_direction"`
	// TwoDirsRight is the share of two-digit clips in which 0, 1 or 2
	// digits move as prompted (the best pairing); TwoDiffAlike the share
	// of those prompted to move apart whose two digits move the same
	// way: a generator that applies one motion to the whole frame.
	TwoDirsRight [3]float64 `json:"two_directions_right"`
	TwoDiffAlike float64    `json:"two_different_read_alike"`
	// OneByFrame is, per video frame, the share of one-digit clips whose
	// frame alone reads as the prompted digit: drift shows as a fall
	// along the clip.
	OneByFrame []float64 `json:"one_digit_by_frame,omitempty"`
	// OneSpeed is the mean speed (pixels per frame) the judge reads off
	// one-digit clips' trajectories: a generator that copies the last
	// frame in place moves its digits too little.
	OneSpeed float64 `json:"one_speed"`
}

// Tally adds up verdicts (Score) into a Fidelity.
type Tally struct {
	n, match, digit, dir [2]int
	same, sameDir        int     // two-digit clips whose digits move the same way; their directions right
	dirsRight            [3]int  // two-digit clips by how many directions are right
	diffAlike            int     // two-digit clips prompted apart whose readings move alike
	byFrame              []int   // one-digit clips whose frame t reads right
	speed                float64 // summed speed of one-digit clips
}

// Add counts the verdict v on readings r of a clip with targets ts.
func (t *Tally) Add(v Verdict, r []Reading, ts []Target) {
	k := len(ts) - 1
	t.n[k]++
	t.match[k] += b2i(v.Match)
	t.digit[k] += b2i(v.Digit)
	t.dir[k] += b2i(v.Direction)
	if k == 1 {
		t.dirsRight[dirsRight(r, ts)]++
		if ts[0].Dir == ts[1].Dir {
			t.same++
			t.sameDir += b2i(v.Direction)
		} else if r[0].Dir != "" && r[0].Dir == r[1].Dir {
			t.diffAlike++
		}
	}
	if k == 0 {
		t.speed += math.Hypot(r[0].Velocity[0], r[0].Velocity[1])
		for f, d := range r[0].Frames {
			if f >= len(t.byFrame) {
				t.byFrame = append(t.byFrame, 0)
			}
			t.byFrame[f] += b2i(d == ts[0].Label)
		}
	}
}

// Fidelity is the shares counted so far.
func (t *Tally) Fidelity() Fidelity {
	n := t.n[0] + t.n[1]
	r := func(a, b int) float64 { return share(float64(a), b) }
	f := Fidelity{Clips: n, Match: r(t.match[0]+t.match[1], n), Digit: r(t.digit[0]+t.digit[1], n), Direction: r(t.dir[0]+t.dir[1], n),
		OneClips: t.n[0], OneMatch: r(t.match[0], t.n[0]), TwoClips: t.n[1], TwoMatch: r(t.match[1], t.n[1]),
		OneDigit: r(t.digit[0], t.n[0]), OneDirection: r(t.dir[0], t.n[0]), TwoDigit: r(t.digit[1], t.n[1]), TwoDirection: r(t.dir[1], t.n[1])}
	f.TwoSameClips, f.TwoSameDirection = t.same, r(t.sameDir, t.same)
	f.TwoDiffDirection = r(t.dir[1]-t.sameDir, t.n[1]-t.same)
	f.TwoDiffAlike = r(t.diffAlike, t.n[1]-t.same)
	for i, c := range t.dirsRight {
		f.TwoDirsRight[i] = r(c, t.n[1])
	}
	f.OneSpeed = share(t.speed, t.n[0])
	for _, c := range t.byFrame {
		f.OneByFrame = append(f.OneByFrame, r(c, t.n[0]))
	}
	return f
}

// dirsRight is how many of two readings move as their targets say,
// under the pairing that gets the most right.
func dirsRight(r []Reading, ts []Target) int {
	n := 0
	for _, perm := range pairings(len(ts)) {
		k := 0
		for i, j := range perm {
			k += b2i(r[i].Dir == ts[j].Dir)
		}
		n = max(n, k)
	}
	return n
}

// share is a / b, 0 for no samples.
func share(a float64, b int) float64 {
	if b == 0 {
		return 0
	}
	return a / float64(b)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

package metrics

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/omniar/omniar/datasets/digits"
)

// The attribute judge reads a Moving-digits clip (generated or real) and
// scores it against its prompt's metadata.
//
// One digit: in every frame the classifier reads the 28×28 window centred
// on the ink's centre of mass; the clip's digit is the majority of the
// per-frame readings. The direction comes from the centre-of-mass
// trajectory: the least-squares velocity over the frames before the first
// bounce (a reversal on an axis that lasts two steps, or the clip's end),
// mapped to the nearest of the 8 directions (none if it moves less than
// MinSpeed px/frame).
//
// Two digits (the rule for two-digit prompts): each frame's ink is split
// into two clusters by a weighted 2-means on the pixel positions (seeded in
// every frame after the first by the previous centres advanced by their
// last step), and the classifier reads each cluster alone (the other's ink
// blanked). A frame is clean when the clusters do not touch and each holds
// at least MinShare of the ink. With three clean frames or more, the clip's
// two digits are the two most read labels over the clean frames' crops (one
// label read in at least 2/3 of them means two of a kind); in each clean
// frame the clusters are given to the two labels by likelihood, which
// yields one trajectory per digit (the frames where the digits touch filled
// in by template matching, see track.go). With fewer (digits that overlap
// all along) the 2-means tracks are the trajectories, and the two labels
// and which track carries which are those most likely under the pair reader
// (pairs.go; it reads every frame's union of ink) and the digit
// classifier's readings of the tracks over the third of the frames in which
// the two are farthest apart, together; when the clip's two motions (below)
// go two different directions, the classifier reads the crops cut out by
// motion over the straight frames instead of the tracks (motion.go), and
// each label goes with its motion. Either way, the two directions are
// not those of the trajectories, which wander from one glyph to the other
// where the digits touch (3.8 % of val two-digit clips got a direction
// wrong so), but the clip's two motions found from the ink itself
// (motion.go), each given to the digit whose trajectory moves most like it
// (or read on it, as above).
// The clip matches when the readings can be paired with the prompt's two
// digits so that each pair agrees on the digit and the direction; the digit
// and direction checks each take their own best pairing.

// Judge settings.
const (
	MinSpeed = 0.3  // px/frame below which a track has no direction
	MinShare = 0.15 // of the ink, for a cluster of a clean frame
	minClean = 3    // clean frames for the clean-frame rule
	// trackWeight weighs the digit classifier's reading of the tracks
	// against the pair reader's in overlapping clips (chosen among 0, 0.3,
	// 1, 3 on the val split's clips: 96.7, 97.7, 97.8, 97.7 % match).
	trackWeight = 1
)

// DigitNetConfig is the digit classifier of the judge and of image
// features: [1, 1, 28, 28] → 32@28² → 64@14² → 64@7² → 128 → 10.
func DigitNetConfig() NetConfig {
	k := [3]int{1, 3, 3}
	p := [3]int{0, 1, 1}
	return NetConfig{
		Name: "omniar-digits-v2", Input: [4]int{1, 1, CropSize, CropSize}, Features: 128, Logits: 10,
		Convs: []ConvLayer{
			{Out: 32, Kernel: k, Stride: [3]int{1, 1, 1}, Padding: p},
			{Out: 64, Kernel: k, Stride: [3]int{1, 2, 2}, Padding: p},
			{Out: 64, Kernel: k, Stride: [3]int{1, 2, 2}, Padding: p},
		},
	}
}

// Judge reads clips with a frozen digit classifier and pair reader.
type Judge struct {
	Run   *Runner // digit classifier
	Pairs *Runner // pair reader
}

// JudgeWeights are the judge's two networks.
type JudgeWeights struct {
	Digits, Pairs *Weights
}

// LoadJudgeWeights reads the digit classifier and the pair reader.
func LoadJudgeWeights(digits, pairs string) (JudgeWeights, error) {
	d, err := LoadWeights(digits)
	if err != nil {
		return JudgeWeights{}, fmt.Errorf("judge: %w", err)
	}
	p, err := LoadWeights(pairs)
	if err != nil {
		return JudgeWeights{}, fmt.Errorf("judge: %w", err)
	}
	return JudgeWeights{Digits: d, Pairs: p}, nil
}

// SHA256 names both networks' files: "digits-sha+pairs-sha".
func (w JudgeWeights) SHA256() string { return w.Digits.SHA256 + "+" + w.Pairs.SHA256 }

// NewJudge builds the judge's networks.
func NewJudge(w JudgeWeights) (*Judge, error) {
	d, p := w.Digits, w.Pairs
	if d == nil || d.Cfg.Input != DigitNetConfig().Input || d.Cfg.Logits != 10 || d.Cfg.Binary {
		return nil, fmt.Errorf("judge: %s is not a digit classifier", name(d))
	}
	if p == nil || p.Cfg.Input != PairNetConfig().Input || p.Cfg.Logits != 20 || !p.Cfg.Binary {
		return nil, fmt.Errorf("judge: %s is not a pair reader", name(p))
	}
	dn, err := d.Build(64)
	if err != nil {
		return nil, err
	}
	pn, err := p.Build(32)
	if err != nil {
		return nil, err
	}
	return &Judge{Run: NewRunner(dn), Pairs: NewRunner(pn)}, nil
}

func name(w *Weights) string {
	if w == nil {
		return "<none>"
	}
	return fmt.Sprintf("%s (%s)", w.Path, w.Cfg.Name)
}

// Close releases the networks.
func (j *Judge) Close() error { return errors.Join(j.Run.Close(), j.Pairs.Close()) }

// Clip is a clip to judge: grey frames [h, w] and the number of digits its
// prompt names (1 or 2).
type Clip struct {
	Frames [][]uint8
	W, H   int
	Digits int
}

// Reading is what the judge reads of one digit of a clip.
type Reading struct {
	Digit int     `json:"digit"` // majority label
	Votes [10]int `json:"votes"` // per-frame readings that counted
	Dir   string  `json:"dir"`   // "" when it does not move
	// Velocity is px/frame: the trajectory's for one digit; for two, the
	// motion's (motion.go: along one of the 8 directions, in steps of
	// motionStep).
	Velocity [2]float64 `json:"velocity"`
	// Frames is each frame's own reading (one-digit clips only): where
	// along a clip a generator loses the digit.
	Frames []int `json:"frames,omitempty"`
}

// clipInk is what locateClip finds in a clip: per frame, the centre of
// each of the k clusters (tracked from frame to frame) and whether the
// frame shows the clusters cleanly apart.
type clipInk struct {
	k     int
	blobs [][]Blob        // [T][k]
	clean []bool          // [T]
	logp  [][][10]float64 // [T][k] per-crop log-probabilities
	crops [][][]float32   // [T][k] the crops, for templates
	pair  [][10]float64   // [T] pair reader log-odds (overlapping clips only)
	clip  Clip
	// the two motions (two digits; moves is false for clips too short)
	// and, for overlapping clips whose two motions differ, the
	// log-probabilities of the crops cut by motion [straight T][a, b]
	motions [2][2]float64
	moves   bool
	mlogp   [][2][10]float64
}

// overlapping says whether a two-digit clip shows its digits apart in
// fewer than minClean frames (the pair reader's case).
func (ink *clipInk) overlapping() bool {
	if ink.k != 2 {
		return false
	}
	n := 0
	for _, c := range ink.clean {
		if c {
			n++
		}
	}
	return n < minClean
}

// Read reads every clip: one Reading per digit its prompt names.
func (j *Judge) Read(clips []Clip) ([][]Reading, error) {
	var x, xp []float32
	inks := make([]*clipInk, len(clips))
	for i, c := range clips {
		if err := c.check(); err != nil {
			return nil, fmt.Errorf("judge: clip %d: %w", i, err)
		}
		x, inks[i] = locateClip(x, c)
		ink := inks[i]
		if c.Digits == 2 {
			a, b, ok := twoMotions(c)
			ink.motions, ink.moves = [2][2]float64{a, b}, ok
		}
		if ink.overlapping() {
			for _, f := range c.Frames {
				xp = PairCrop(xp, f, c.W, c.H)
			}
			// the crops cut by motion follow the clip's own crops in x;
			// only for motions of two directions: digits that go the same
			// way at nearly the same speed share most of their shifted ink
			// (11 of 399 val clips read two of a kind so), and then which
			// digit moves how does not matter
			if ink.moves && DirectionOf(ink.motions[0]) != DirectionOf(ink.motions[1]) {
				for _, cs := range motionCrops(c, ink.motions) {
					x = append(append(x, cs[0]...), cs[1]...)
					ink.mlogp = append(ink.mlogp, [2][10]float64{})
				}
			}
		}
	}
	res, err := j.Run.Run(x)
	if err != nil {
		return nil, fmt.Errorf("judge: %w", err)
	}
	var pres Output
	if len(xp) > 0 {
		if pres, err = j.Pairs.Run(xp); err != nil {
			return nil, fmt.Errorf("judge: pair reader: %w", err)
		}
	}
	out := make([][]Reading, len(clips))
	next, nextPair := 0, 0
	for i, ink := range inks {
		for t := range ink.logp {
			for k := range ink.logp[t] {
				ink.logp[t][k] = logSoftmax10(res.Logits[next])
				next++
			}
		}
		for t := range ink.mlogp {
			for k := range ink.mlogp[t] {
				ink.mlogp[t][k] = logSoftmax10(res.Logits[next])
				next++
			}
		}
		if ink.overlapping() {
			for range ink.logp {
				ink.pair = append(ink.pair, presentLogOdds(pres.Logits[nextPair]))
				nextPair++
			}
		}
		out[i] = ink.read()
	}
	return out, nil
}

func (c Clip) check() error {
	switch {
	case c.Digits != 1 && c.Digits != 2:
		return fmt.Errorf("%d digits; the judge reads 1 or 2", c.Digits)
	case len(c.Frames) < 2:
		return fmt.Errorf("%d frames; need at least 2 for a direction", len(c.Frames))
	case c.W < CropSize || c.H < CropSize:
		return fmt.Errorf("frames are %d×%d, smaller than %d×%d", c.W, c.H, CropSize, CropSize)
	}
	for t, f := range c.Frames {
		if len(f) != c.W*c.H {
			return fmt.Errorf("frame %d has %d pixels, want %d×%d", t, len(f), c.W, c.H)
		}
	}
	return nil
}

// locateClip finds the digits of every frame, appending their crops
// [T·k, 28, 28] (frame-major) to x.
func locateClip(x []float32, c Clip) ([]float32, *clipInk) {
	ink := &clipInk{k: c.Digits, clip: c}
	size := CropSize * CropSize
	for _, f := range c.Frames {
		var bs []Blob
		var clean bool
		n := len(x)
		x, bs, clean = locateFrame(x, f, c.W, c.H, c.Digits, ink.predict())
		crops := make([][]float32, c.Digits)
		for k := range crops {
			crops[k] = slices.Clone(x[n+k*size : n+(k+1)*size])
		}
		ink.crops = append(ink.crops, crops)
		ink.blobs = append(ink.blobs, bs)
		ink.clean = append(ink.clean, clean)
		ink.logp = append(ink.logp, make([][10]float64, c.Digits))
	}
	return x, ink
}

// predict is the next frame's centres: the last ones advanced by their
// last step (nil before the first frame).
func (ink *clipInk) predict() []Blob {
	n := len(ink.blobs)
	if n == 0 {
		return nil
	}
	out := slices.Clone(ink.blobs[n-1])
	if n >= 2 {
		for k := range out {
			out[k].X += ink.blobs[n-1][k].X - ink.blobs[n-2][k].X
			out[k].Y += ink.blobs[n-1][k].Y - ink.blobs[n-2][k].Y
		}
	}
	return out
}

// read turns the located clip and the per-crop log-probabilities into
// readings.
func (ink *clipInk) read() []Reading {
	if ink.k == 1 {
		r := Reading{}
		var ts []float64
		var ps [][2]float64
		var lps [][10]float64
		for t, bs := range ink.blobs {
			ts, ps, lps = append(ts, float64(t)), append(ps, [2]float64{bs[0].X, bs[0].Y}), append(lps, ink.logp[t][0])
		}
		r.Digit, r.Votes = vote(lps)
		for _, lp := range lps {
			r.Frames = append(r.Frames, argmax10(lp))
		}
		r.Velocity = straightVelocity(ts, ps)
		r.Dir = DirectionOf(r.Velocity)
		return []Reading{r}
	}
	return ink.readTwo()
}

// readTwo reads a two-digit clip (see the package rule).
func (ink *clipInk) readTwo() []Reading {
	var frames []int
	for t, c := range ink.clean {
		if c {
			frames = append(frames, t)
		}
	}
	clean := len(frames) >= minClean
	if !clean {
		frames = ink.farthest()
	}
	var l1, l2 int
	var votes [10]int
	if clean {
		for _, t := range frames {
			for k := 0; k < 2; k++ {
				votes[argmax10(ink.logp[t][k])]++
			}
		}
		l1, l2 = topTwo(votes)
		if 3*votes[l1] >= 2*2*len(frames) { // both clusters read l1 mostly: two of a kind
			l2 = l1
		}
	} else {
		l1, l2, votes = ink.readOverlapping(frames)
	}
	rs := []Reading{{Digit: l1}, {Digit: l2}}
	T := len(ink.blobs)
	known := [2][][2]float64{make([][2]float64, T), make([][2]float64, T)}
	ok := [2][]bool{make([]bool, T), make([]bool, T)}
	var tps [2]*template
	for _, t := range frames {
		lp, bs := ink.logp[t], ink.blobs[t]
		swap := l1 != l2 && clean && lp[0][l2]+lp[1][l1] > lp[0][l1]+lp[1][l2]
		for k := 0; k < 2; k++ {
			src := k
			if swap {
				src = 1 - k
			}
			known[k][t], ok[k][t] = [2]float64{bs[src].X, bs[src].Y}, true
			rs[k].Votes[argmax10(lp[src])]++
			if tps[k] == nil {
				tp := newTemplate(ink.crops[t][src], bs[src])
				tps[k] = &tp
			}
		}
	}
	ts := make([]float64, T)
	for t := range ts {
		ts[t] = float64(t)
	}
	for k := range rs {
		ps := known[k]
		if clean {
			ps = trackDigit(ink.clip.Frames, ink.clip.W, ink.clip.H, *tps[k], known[k], ok[k])
		} else { // the 2-means tracks, the pair reader's labels
			for t, bs := range ink.blobs {
				ps[t] = [2]float64{bs[k].X, bs[k].Y}
			}
			rs[k].Votes = votes
		}
		rs[k].Velocity = straightVelocity(ts, ps)
		rs[k].Dir = DirectionOf(rs[k].Velocity)
	}
	switch {
	case ink.mlogp != nil: // the labels were read on the motions' own crops
		for k := range rs {
			rs[k].Velocity = ink.motions[k]
			rs[k].Dir = DirectionOf(rs[k].Velocity)
		}
	case ink.moves:
		giveMotions(rs, ink.motions[0], ink.motions[1])
	}
	return rs
}

// giveMotions replaces the two readings' track velocities by the clip's
// two motions (see motion.go), each to the reading whose track moves most
// like it.
func giveMotions(rs []Reading, a, b [2]float64) {
	d := func(u, v [2]float64) float64 { return math.Hypot(u[0]-v[0], u[1]-v[1]) }
	if d(rs[0].Velocity, b)+d(rs[1].Velocity, a) < d(rs[0].Velocity, a)+d(rs[1].Velocity, b) {
		a, b = b, a
	}
	rs[0].Velocity, rs[1].Velocity = a, b
	rs[0].Dir, rs[1].Dir = DirectionOf(a), DirectionOf(b)
}

// readOverlapping reads the two digits of a clip whose digits overlap all
// along: the labels (a, b) and their order over the two tracks that
// maximise the pair reader's log-likelihood over all frames plus
// trackWeight × the digit classifier's over the farthest-apart frames, or
// over the crops cut by the two motions (a for the first, b for the
// second) when the clip has them.
func (ink *clipInk) readOverlapping(frames []int) (l1, l2 int, votes [10]int) {
	var pair [10][2]float64 // Σ_t log p(absent), log p(present) per label
	for _, o := range ink.pair {
		for d, v := range o {
			pair[d][0] += logSigmoid(-v)
			pair[d][1] += logSigmoid(v)
			if v > 0 {
				votes[d]++
			}
		}
	}
	var absent float64
	for d := range pair {
		absent += pair[d][0]
	}
	best := math.Inf(-1)
	for a := 0; a < 10; a++ {
		for b := 0; b < 10; b++ {
			ll := absent - pair[a][0] + pair[a][1]
			if b != a {
				ll += pair[b][1] - pair[b][0]
			}
			var tr float64
			if ink.mlogp != nil {
				for _, lp := range ink.mlogp {
					tr += lp[0][a] + lp[1][b]
				}
			} else {
				for _, t := range frames {
					tr += ink.logp[t][0][a] + ink.logp[t][1][b]
				}
			}
			if s := ll + trackWeight*tr; s > best {
				best, l1, l2 = s, a, b
			}
		}
	}
	return l1, l2, votes
}

func logSigmoid(x float64) float64 {
	if x < 0 {
		return x - math.Log1p(math.Exp(x))
	}
	return -math.Log1p(math.Exp(-x))
}

// farthest are the frames in which the two centres are at least as far
// apart as in two thirds of the frames: where touching digits overlap
// least.
func (ink *clipInk) farthest() []int {
	d := make([]float64, len(ink.blobs))
	for t, bs := range ink.blobs {
		d[t] = math.Hypot(bs[0].X-bs[1].X, bs[0].Y-bs[1].Y)
	}
	sorted := slices.Clone(d)
	slices.Sort(sorted)
	med := sorted[len(sorted)*2/3]
	var out []int
	for t, v := range d {
		if v >= med {
			out = append(out, t)
		}
	}
	return out
}

// vote is the majority label of per-frame log-probabilities (ties: the
// larger summed log-probability) and the votes.
func vote(lps [][10]float64) (int, [10]int) {
	var votes [10]int
	var sum [10]float64
	for _, lp := range lps {
		votes[argmax10(lp)]++
		for d, v := range lp {
			sum[d] += v
		}
	}
	best := 0
	for d := range votes {
		if votes[d] > votes[best] || (votes[d] == votes[best] && sum[d] > sum[best]) {
			best = d
		}
	}
	return best, votes
}

func argmax10(lp [10]float64) int {
	b := 0
	for d, v := range lp {
		if v > lp[b] {
			b = d
		}
	}
	return b
}

// topTwo are the labels with the most and second most votes.
func topTwo(v [10]int) (int, int) {
	a, b := 0, 1
	if v[b] > v[a] {
		a, b = b, a
	}
	for d := 2; d < 10; d++ {
		switch {
		case v[d] > v[a]:
			a, b = d, a
		case v[d] > v[b]:
			b = d
		}
	}
	return a, b
}

func logSoftmax10(l []float32) [10]float64 {
	var out [10]float64
	m := math.Inf(-1)
	for _, v := range l[:10] {
		m = math.Max(m, float64(v))
	}
	var s float64
	for _, v := range l[:10] {
		s += math.Exp(float64(v) - m)
	}
	for i, v := range l[:10] {
		out[i] = float64(v) - m - math.Log(s)
	}
	return out
}

// straightVelocity is the least-squares velocity of a trajectory (times ts,
// centres ps) over its samples before the first bounce.
func straightVelocity(ts []float64, ps [][2]float64) [2]float64 {
	end := firstBounce(ts, ps)
	if end < 1 {
		return [2]float64{}
	}
	xs, ys := make([]float64, end+1), make([]float64, end+1)
	for i := range xs {
		xs[i], ys[i] = ps[i][0], ps[i][1]
	}
	return [2]float64{slope(ts[:end+1], xs), slope(ts[:end+1], ys)}
}

// firstBounce is the index of the last sample of the first straight run
// of a trajectory: the sample after which the motion reverses on an axis
// (a step of at least 0.5 px/frame against the mean motion so far) and the
// next step reverses too (or the trajectory ends).
func firstBounce(ts []float64, ps [][2]float64) int {
	n := len(ts)
	rate := func(i, a int) float64 { return (ps[i+1][a] - ps[i][a]) / (ts[i+1] - ts[i]) }
	for i := 2; i < n-1; i++ {
		for a := 0; a < 2; a++ {
			mean := (ps[i][a] - ps[0][a]) / (ts[i] - ts[0])
			if math.Abs(mean) < 0.5 {
				continue
			}
			step := rate(i, a)
			lasts := i+2 >= n || rate(i+1, a)*mean < 0
			if step*mean < 0 && math.Abs(step) >= 0.5 && lasts {
				return i
			}
		}
	}
	return n - 1
}

func slope(ts, ys []float64) float64 {
	var mt, my float64
	for i := range ts {
		mt += ts[i]
		my += ys[i]
	}
	mt /= float64(len(ts))
	my /= float64(len(ts))
	var num, den float64
	for i := range ts {
		num += (ts[i] - mt) * (ys[i] - my)
		den += (ts[i] - mt) * (ts[i] - mt)
	}
	if den == 0 {
		return 0
	}
	return num / den
}

// DirectionOf maps a velocity (image y down) to the nearest of the 8
// directions, or "" below MinSpeed.
func DirectionOf(v [2]float64) string {
	if math.Hypot(v[0], v[1]) < MinSpeed {
		return ""
	}
	a := math.Atan2(-v[1], v[0]) // counter-clockwise from right, y up
	k := int(math.Round(a/(math.Pi/4))) % 8
	if k < 0 {
		k += 8
	}
	return digits.Directions[k].Name
}

// Target is what a prompt says about one digit.
type Target struct {
	Label int    `json:"label"`
	Dir   string `json:"dir"`
}

// Targets are a Moving-digits clip's prompt metadata.
func Targets(c digits.Clip) []Target {
	out := make([]Target, len(c.Movers))
	for i, m := range c.Movers {
		out[i] = Target{Label: m.Label, Dir: m.Dir}
	}
	return out
}

// Verdict is how a clip's readings agree with its prompt.
type Verdict struct {
	Digit     bool `json:"digit"`     // every digit read as prompted
	Direction bool `json:"direction"` // every direction as prompted
	Match     bool `json:"match"`     // both, under one pairing
}

// Score compares readings with targets (the same count, 1 or 2): each
// check takes the best pairing of readings with targets.
func Score(rs []Reading, ts []Target) (Verdict, error) {
	if len(rs) != len(ts) || len(ts) == 0 || len(ts) > 2 {
		return Verdict{}, errors.New("judge: readings and targets differ in count")
	}
	var v Verdict
	for _, perm := range pairings(len(ts)) {
		okD, okR := true, true
		for i, j := range perm {
			okD = okD && rs[i].Digit == ts[j].Label
			okR = okR && rs[i].Dir == ts[j].Dir
		}
		v.Digit, v.Direction, v.Match = v.Digit || okD, v.Direction || okR, v.Match || (okD && okR)
	}
	return v, nil
}

func pairings(n int) [][]int {
	if n == 1 {
		return [][]int{{0}}
	}
	return [][]int{{0, 1}, {1, 0}}
}

// ImageFeatures are the digit classifier's penultimate-layer features of
// lone-digit images [h, w] (each centred on its ink first), for FID/KID-
// style image scores: → [N, 128].
func (j *Judge) ImageFeatures(imgs [][]uint8, w, h int) (*mat.Dense, error) {
	var x []float32
	for i, img := range imgs {
		if len(img) != w*h {
			return nil, fmt.Errorf("image features: image %d has %d pixels, want %d×%d", i, len(img), w, h)
		}
		x = CentreCrop(x, img, w, h)
	}
	out, err := j.Run.Run(x)
	if err != nil {
		return nil, fmt.Errorf("image features: %w", err)
	}
	return FromFloat32(out.Feats)
}

// CleanFrames counts the frames of a two-digit clip in which the judge
// sees the digits apart (for reports on how often they overlap).
func CleanFrames(c Clip) int {
	if c.check() != nil || c.Digits != 2 {
		return 0
	}
	_, ink := locateClip(nil, c)
	n := 0
	for _, ok := range ink.clean {
		if ok {
			n++
		}
	}
	return n
}

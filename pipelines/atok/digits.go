package atok

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/omniar/omniar/audio"
	"github.com/omniar/omniar/audio/codec"
	"github.com/omniar/omniar/datasets/speech"
)

// The intelligibility proxy of the codec: a spoken-digit classifier
// trained here on real training audio (log-mel features, k nearest
// neighbours), tested on the held-out voices' digits as recorded and after the
// codec; the codec keeps intelligibility if the accuracy on resynthesised
// audio is ≥ 90% of that on the originals.

const (
	digitSegments = 8 // time segments of the voiced span, averaged
	digitK        = 5 // neighbours that vote
)

// digitFeatures is the log-mel spectrogram's voiced span (frames within
// 40 dB of the loudest) cut into digitSegments equal parts, each averaged:
// a fixed-length vector whatever the speed of the voice.
func digitFeatures(samples []float32, rate int) []float64 {
	mel := audio.MelSpectrogram(&audio.Clip{Rate: rate, Samples: samples}, audio.DefaultMelConfig())
	nm := len(mel[0])
	energy := make([]float64, len(mel))
	top := math.Inf(-1)
	for t, fr := range mel {
		for _, v := range fr {
			energy[t] = math.Max(energy[t], float64(v))
		}
		top = math.Max(top, energy[t])
	}
	lo, hi := 0, len(mel)-1
	const span = 9.2 // 40 dB in natural-log power
	for lo < hi && energy[lo] < top-span {
		lo++
	}
	for hi > lo && energy[hi] < top-span {
		hi--
	}
	n := hi - lo + 1
	out := make([]float64, digitSegments*nm)
	for s := 0; s < digitSegments; s++ {
		a, b := lo+s*n/digitSegments, lo+(s+1)*n/digitSegments
		b = max(b, a+1)
		for t := a; t < b; t++ {
			for j, v := range mel[min(t, len(mel)-1)] {
				out[s*nm+j] += float64(v) / float64(b-a)
			}
		}
	}
	// subtract the mean log-mel: a louder or quieter take of the same
	// word has the same features
	var mean float64
	for _, v := range out {
		mean += v / float64(len(out))
	}
	for i := range out {
		out[i] -= mean
	}
	return out
}

// knn is a k-nearest-neighbour classifier on standardised features:
// nothing to train, so nothing to tune or diverge, and it is fast enough
// to score every depth's resynthesis.
type knn struct {
	k         int
	mean, std []float64
	xs        [][]float64 // standardised training vectors
	ys        []int
	classes   int
}

func newKNN(xs [][]float64, ys []int, classes, k int) *knn {
	in := len(xs[0])
	m := &knn{k: k, mean: make([]float64, in), std: make([]float64, in), ys: ys, classes: classes}
	for _, x := range xs {
		for i, v := range x {
			m.mean[i] += v / float64(len(xs))
		}
	}
	for _, x := range xs {
		for i, v := range x {
			m.std[i] += (v - m.mean[i]) * (v - m.mean[i]) / float64(len(xs))
		}
	}
	for i := range m.std {
		m.std[i] = math.Sqrt(m.std[i]) + 1e-6
	}
	for _, x := range xs {
		m.xs = append(m.xs, m.standardise(x))
	}
	return m
}

func (m *knn) standardise(x []float64) []float64 {
	z := make([]float64, len(x))
	for i, v := range x {
		z[i] = (v - m.mean[i]) / m.std[i]
	}
	return z
}

// predict votes among the k nearest training vectors (ties: the nearer).
func (m *knn) predict(x []float64) int {
	z := m.standardise(x)
	type nb struct {
		d float64
		y int
	}
	best := make([]nb, 0, m.k+1)
	for j, t := range m.xs {
		var d float64
		for i, v := range z {
			e := v - t[i]
			d += e * e
		}
		if len(best) == m.k && d >= best[m.k-1].d {
			continue
		}
		best = append(best, nb{d, m.ys[j]})
		for i := len(best) - 1; i > 0 && best[i].d < best[i-1].d; i-- {
			best[i], best[i-1] = best[i-1], best[i]
		}
		if len(best) > m.k {
			best = best[:m.k]
		}
	}
	votes := make([]float64, m.classes)
	for r, b := range best {
		votes[b.y] += 1 + 1e-3*float64(m.k-r) // rank breaks ties
	}
	arg := 0
	for c, v := range votes {
		if v > votes[arg] {
			arg = c
		}
	}
	return arg
}

// digitClips are the WAV digit utterances of a split with their digits.
func digitClips(data, split string) ([]*audio.Clip, []int, error) {
	items, err := speech.Load(data, split)
	if err != nil {
		return nil, nil, err
	}
	var clips []*audio.Clip
	var ys []int
	for i := range items {
		it := &items[i]
		d, ok := it.Labels["digit"]
		if !ok || it.Kind != speech.KindWAV {
			continue
		}
		y, err := strconv.Atoi(d)
		if err != nil || y < 0 || y > 9 {
			return nil, nil, fmt.Errorf("speech %s: digit label %q", it.Path, d)
		}
		c, err := it.Audio()
		if err != nil {
			return nil, nil, err
		}
		clips, ys = append(clips, c), append(ys, y)
	}
	if len(clips) == 0 {
		return nil, nil, fmt.Errorf("speech %s split: no digit utterances", split)
	}
	return clips, ys, nil
}

func accuracy(m *knn, xs [][]float64, ys []int) float64 {
	ok := 0
	for i, x := range xs {
		if m.predict(x) == ys[i] {
			ok++
		}
	}
	return float64(ok) / float64(len(xs))
}

// intelligibility trains the digit classifier on the train split and
// scores a held-out split's digits, original and through the codec with
// 1…D depths.
func intelligibility(ctx context.Context, data, split string, cdc *codec.Codec, progress func(string)) (*Intelligibility, error) {
	trClips, trY, err := digitClips(data, "train")
	if err != nil {
		return nil, err
	}
	teClips, teY, err := digitClips(data, split)
	if err != nil {
		return nil, err
	}
	trX := make([][]float64, len(trClips))
	for i, c := range trClips {
		trX[i] = digitFeatures(c.Samples, c.Rate)
	}
	m := newKNN(trX, trY, 10, digitK)
	teX := make([][]float64, len(teClips))
	for i, c := range teClips {
		teX[i] = digitFeatures(c.Samples, c.Rate)
	}
	r := &Intelligibility{Classifier: fmt.Sprintf("%d-nearest neighbours on %d×%d mean log-mels of the voiced span, level-normalised", digitK, digitSegments, audio.DefaultMelConfig().Mels),
		Split: split, TrainClips: len(trClips), TestClips: len(teClips), Original: accuracy(m, teX, teY), Depths: cdc.Cfg.Depths}
	if progress != nil {
		progress(fmt.Sprintf("digit classifier: %.1f%% on %d held-out originals", 100*r.Original, len(teClips)))
	}
	resX := make([][][]float64, cdc.Cfg.Depths)
	for _, c := range teClips {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		codes, err := cdc.Encode(c.Samples)
		if err != nil {
			return nil, err
		}
		for d := 1; d <= cdc.Cfg.Depths; d++ {
			y, err := cdc.Decode(codes, d)
			if err != nil {
				return nil, err
			}
			resX[d-1] = append(resX[d-1], digitFeatures(y[:len(c.Samples)], c.Rate))
		}
	}
	for d := range resX {
		r.ResynthBy = append(r.ResynthBy, accuracy(m, resX[d], teY))
	}
	r.Resynth = r.ResynthBy[len(r.ResynthBy)-1]
	r.Kept = r.Resynth / math.Max(r.Original, 1e-9)
	for _, ch := range benignChannels() {
		xs := make([][]float64, len(teClips))
		for i, c := range teClips {
			xs[i] = digitFeatures(ch.apply(c, uint64(i)), c.Rate)
		}
		acc := accuracy(m, xs, teY)
		r.Channels = append(r.Channels, ChannelScore{Channel: ch.name, Accuracy: acc, Kept: acc / math.Max(r.Original, 1e-9)})
	}
	return r, nil
}

// channel is a change to a clip that a listener would not call less
// intelligible; apply may use seed for its randomness.
type channel struct {
	name  string
	apply func(c *audio.Clip, seed uint64) []float32
}

func benignChannels() []channel {
	return []channel{
		{"white noise 20 dB under the clip's mean power", func(c *audio.Clip, seed uint64) []float32 {
			return addNoise(c.Samples, 20, seed)
		}},
		{"8 kHz round trip (band-limited resampling: low-pass at 3.7 kHz)", func(c *audio.Clip, _ uint64) []float32 {
			y := audio.Resample(audio.Resample(c, 8000), c.Rate).Samples
			return y[:min(len(y), len(c.Samples))]
		}},
	}
}

// addNoise returns x plus Gaussian white noise snrDB under x's mean power.
func addNoise(x []float32, snrDB float64, seed uint64) []float32 {
	var p float64
	for _, v := range x {
		p += float64(v) * float64(v)
	}
	sd := math.Sqrt(p / float64(max(len(x), 1)) / math.Pow(10, snrDB/10))
	rng := rand.New(rand.NewPCG(seed, 20))
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = v + float32(sd*rng.NormFloat64())
	}
	return y
}

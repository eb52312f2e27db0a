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
// trained here on real training audio (log-mel features, a one-hidden-layer
// MLP), tested on the held-out voices' digits as recorded and after the
// codec; the codec keeps intelligibility if the accuracy on resynthesised
// audio is ≥ 90% of that on the originals.

const (
	digitSegments = 8   // time segments of the voiced span, averaged
	digitHidden   = 128 // MLP width
	digitEpochs   = 60
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
	return out
}

// mlp is x → ReLU(W1·x + b1) → W2·h + b2 on standardised features.
type mlp struct {
	mean, std      []float64
	w1, b1, w2, b2 []float64
	in, hid, out   int
}

func (m *mlp) forward(x []float64, h []float64, logits []float64) {
	for j := 0; j < m.hid; j++ {
		s := m.b1[j]
		w := m.w1[j*m.in : (j+1)*m.in]
		for i, v := range x {
			s += w[i] * (v - m.mean[i]) / m.std[i]
		}
		h[j] = math.Max(s, 0)
	}
	for k := 0; k < m.out; k++ {
		s := m.b2[k]
		w := m.w2[k*m.hid : (k+1)*m.hid]
		for j, v := range h {
			s += w[j] * v
		}
		logits[k] = s
	}
}

func (m *mlp) predict(x []float64) int {
	h, l := make([]float64, m.hid), make([]float64, m.out)
	m.forward(x, h, l)
	best := 0
	for k, v := range l {
		if v > l[best] {
			best = k
		}
	}
	return best
}

// trainMLP fits the classifier with SGD (momentum 0.9, batch 1, weight
// decay), a fixed seed and a decaying rate.
func trainMLP(xs [][]float64, ys []int, classes int) *mlp {
	in := len(xs[0])
	m := &mlp{in: in, hid: digitHidden, out: classes, mean: make([]float64, in), std: make([]float64, in)}
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
	rng := rand.New(rand.NewPCG(7, 7))
	init := func(n, fan int) []float64 {
		w := make([]float64, n)
		for i := range w {
			w[i] = rng.NormFloat64() * math.Sqrt(2/float64(fan))
		}
		return w
	}
	m.w1, m.b1 = init(m.hid*in, in), make([]float64, m.hid)
	m.w2, m.b2 = init(classes*m.hid, m.hid), make([]float64, classes)
	params := [][]float64{m.w1, m.b1, m.w2, m.b2}
	vel := make([][]float64, len(params))
	for i, p := range params {
		vel[i] = make([]float64, len(p))
	}
	h, logits, dh, z := make([]float64, m.hid), make([]float64, classes), make([]float64, m.hid), make([]float64, in)
	grads := [][]float64{make([]float64, len(m.w1)), make([]float64, m.hid), make([]float64, len(m.w2)), make([]float64, classes)}
	const lr0, decay = 0.01, 1e-4
	for ep := 0; ep < digitEpochs; ep++ {
		lr := lr0 * 0.5 * (1 + math.Cos(math.Pi*float64(ep)/digitEpochs))
		for _, idx := range rng.Perm(len(xs)) {
			x := xs[idx]
			m.forward(x, h, logits)
			// softmax cross-entropy gradient
			mx := logits[0]
			for _, v := range logits {
				mx = math.Max(mx, v)
			}
			var s float64
			for k, v := range logits {
				logits[k] = math.Exp(v - mx)
				s += logits[k]
			}
			for k := range logits {
				logits[k] /= s
			}
			logits[ys[idx]]--
			clear(dh)
			for k, g := range logits {
				grads[3][k] = g
				for j := 0; j < m.hid; j++ {
					grads[2][k*m.hid+j] = g * h[j]
					dh[j] += g * m.w2[k*m.hid+j]
				}
			}
			for i, v := range x {
				z[i] = (v - m.mean[i]) / m.std[i]
			}
			for j := 0; j < m.hid; j++ {
				g := dh[j]
				if h[j] <= 0 {
					g = 0
				}
				grads[1][j] = g
				row := grads[0][j*in : (j+1)*in]
				for i := range row {
					row[i] = g * z[i]
				}
			}
			for pi, p := range params {
				for i := range p {
					vel[pi][i] = 0.9*vel[pi][i] - lr*(grads[pi][i]+decay*p[i])
					p[i] += vel[pi][i]
				}
			}
		}
	}
	return m
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

func accuracy(m *mlp, xs [][]float64, ys []int) float64 {
	ok := 0
	for i, x := range xs {
		if m.predict(x) == ys[i] {
			ok++
		}
	}
	return float64(ok) / float64(len(xs))
}

// intelligibility trains the digit classifier on the train split and
// scores the test split's digits, original and through the codec with
// 1…D depths.
func intelligibility(ctx context.Context, data string, cdc *codec.Codec, progress func(string)) (*Intelligibility, error) {
	trClips, trY, err := digitClips(data, "train")
	if err != nil {
		return nil, err
	}
	teClips, teY, err := digitClips(data, "test")
	if err != nil {
		return nil, err
	}
	trX := make([][]float64, len(trClips))
	for i, c := range trClips {
		trX[i] = digitFeatures(c.Samples, c.Rate)
	}
	m := trainMLP(trX, trY, 10)
	teX := make([][]float64, len(teClips))
	for i, c := range teClips {
		teX[i] = digitFeatures(c.Samples, c.Rate)
	}
	r := &Intelligibility{Classifier: fmt.Sprintf("MLP (%d hidden) on %d×%d mean log-mels of the voiced span", digitHidden, digitSegments, audio.DefaultMelConfig().Mels),
		TrainClips: len(trClips), TestClips: len(teClips), Original: accuracy(m, teX, teY), Depths: cdc.Cfg.Depths}
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
	return r, nil
}

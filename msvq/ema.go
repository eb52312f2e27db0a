package msvq

// emaState is the exponential moving average of the codebook: per code the
// (smoothed) number of vectors assigned to it and their sum.
type emaState struct {
	count []float64 // [K]
	sum   []float64 // [K, C]
	fresh bool      // no update yet, and not restored
}

func newEMA(cb []float32, cfg Config) emaState {
	e := emaState{count: make([]float64, cfg.Codes), sum: make([]float64, len(cb)), fresh: true}
	for k := range e.count {
		e.count[k] = 1
	}
	for i, v := range cb {
		e.sum[i] = float64(v)
	}
	return e
}

// DeadBelow is the smoothed count under which a code is restarted from a
// recent residual vector.
const DeadBelow = 0.03

// UpdateCodebook applies the statistics gathered since the last call:
// cb_k ← EMA(sum_k) / EMA(count_k), code 0 stays zero, dead codes restart
// from sampled vectors. It returns the number of restarted codes.
func (q *Quantizer) UpdateCodebook() int {
	st, d, c := q.Stats, q.Cfg.Decay, q.Cfg.Dim
	cb := q.CodebookData()
	if q.ema.fresh && q.SeedCodes && len(st.Sample) > 0 {
		return q.seedCodes()
	}
	q.ema.fresh = false
	restarted := 0
	for k := 1; k < q.Cfg.Codes; k++ {
		q.ema.count[k] = d*q.ema.count[k] + (1-d)*st.Count[k]
		for j := 0; j < c; j++ {
			q.ema.sum[k*c+j] = d*q.ema.sum[k*c+j] + (1-d)*st.Sum[k*c+j]
		}
		if q.ema.count[k] < DeadBelow && len(st.Sample) > 0 {
			row := st.Sample[q.rng.IntN(len(st.Sample))]
			for j, v := range row {
				q.ema.sum[k*c+j] = float64(v)
			}
			q.ema.count[k] = 1
			restarted++
		}
		for j := 0; j < c; j++ {
			cb[k*c+j] = float32(q.ema.sum[k*c+j] / q.ema.count[k])
		}
	}
	st.Reset()
	return restarted
}

// seedCodes sets codes 1 … K−1 to residual vectors sampled in this step:
// the random initial codes lie far from the encoder's first outputs, so
// nearly everything takes one code and the decoder sees a constant
// latent until dead-code restarts, hundreds of steps later, bring the
// codes to the data. It returns the number of codes set.
func (q *Quantizer) seedCodes() int {
	st, c, cb := q.Stats, q.Cfg.Dim, q.CodebookData()
	perm := q.rng.Perm(len(st.Sample)) // distinct vectors while they last
	for k := 1; k < q.Cfg.Codes; k++ {
		row := st.Sample[perm[(k-1)%len(perm)]]
		for j, v := range row {
			q.ema.sum[k*c+j] = float64(v)
			cb[k*c+j] = v
		}
		q.ema.count[k] = 1
	}
	q.ema.fresh = false
	st.Reset()
	return q.Cfg.Codes - 1
}

// EMAState exposes the moving averages for checkpoints.
func (q *Quantizer) EMAState() (count, sum []float64) { return q.ema.count, q.ema.sum }

// SetEMAState restores them.
func (q *Quantizer) SetEMAState(count, sum []float64) {
	copy(q.ema.count, count)
	copy(q.ema.sum, sum)
	q.ema.fresh = false
}

package nn

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Mask says which keys each query may attend to: Allow[i*T+j] lets query i
// see key j. One mask serves every sequence of a batch.
type Mask struct {
	T     int
	Allow []bool
}

// CausalMask lets position i see positions j ≤ i.
func CausalMask(t int) *Mask {
	m := &Mask{T: t, Allow: make([]bool, t*t)}
	for i := 0; i < t; i++ {
		for j := 0; j <= i; j++ {
			m.Allow[i*t+j] = true
		}
	}
	return m
}

// BlockCausalMask lets position i see j when group[j] ≤ group[i]: every
// earlier group and its own group (next-group-of-tokens prediction).
func BlockCausalMask(group []int) *Mask {
	t := len(group)
	m := &Mask{T: t, Allow: make([]bool, t*t)}
	for i := 0; i < t; i++ {
		for j := 0; j < t; j++ {
			m.Allow[i*t+j] = group[j] <= group[i]
		}
	}
	return m
}

// attnK is multi-head scaled dot-product attention on q, k, v [B·T, H·hd]
// (rows are batch-major, heads are column blocks) → [B·T, H·hd]. It runs
// two sgemms per (batch, head) on strided views, so no transposes are
// materialised; the attention probabilities are kept for the backward pass.
type attnK struct {
	b, t, h int
	mask    *Mask
	probs   *[]float32 // [B, H, T, T]
}

func (k attnK) String() string   { return fmt.Sprintf("Attention{B=%d,T=%d,H=%d}", k.b, k.t, k.h) }
func (attnK) dims() ([]int, int) { return []int{2, 2, 2}, 2 }
func (k attnK) shape(in []tensor.Shape) (tensor.Shape, error) {
	for _, s := range in {
		if !s.Eq(in[0]) || s[0] != k.b*k.t || s[1]%k.h != 0 {
			return nil, fmt.Errorf("%v: q, k, v shapes %v, want equal [B·T, H·hd]", k, in)
		}
	}
	if k.mask != nil && (k.mask.T != k.t || len(k.mask.Allow) != k.t*k.t) {
		return nil, fmt.Errorf("%v: mask is for T=%d", k, k.mask.T)
	}
	return in[0].Clone(), nil
}

func (k attnK) forward(o []float32, in []*tensor.Dense) error {
	q, kk, v := in[0].Float32s(), in[1].Float32s(), in[2].Float32s()
	d := in[0].Shape()[1]
	hd, t := d/k.h, k.t
	scale := float32(1 / math.Sqrt(float64(hd)))
	if len(*k.probs) != k.b*k.h*t*t {
		*k.probs = make([]float32, k.b*k.h*t*t)
	}
	for b := 0; b < k.b; b++ {
		for h := 0; h < k.h; h++ {
			off := b*t*d + h*hd
			p := (*k.probs)[(b*k.h+h)*t*t : (b*k.h+h+1)*t*t]
			// S = scale · Q Kᵀ  [T, T]
			sgemm(false, true, t, t, hd, scale, q[off:], d, kk[off:], d, 0, p, t)
			k.maskedSoftmax(p)
			// O = P V  [T, hd]
			sgemm(false, false, t, hd, t, 1, p, t, v[off:], d, 0, o[off:], d)
		}
	}
	return nil
}

// maskedSoftmax turns scores into probabilities in place; a query that may
// see no key gets all-zero probabilities (and so a zero output).
func (k attnK) maskedSoftmax(p []float32) {
	t := k.t
	for i := 0; i < t; i++ {
		row := p[i*t : (i+1)*t]
		var allow []bool
		if k.mask != nil {
			allow = k.mask.Allow[i*t : (i+1)*t]
		}
		m := float32(math.Inf(-1))
		for j, s := range row {
			if allow == nil || allow[j] {
				m = max(m, s)
			}
		}
		if math.IsInf(float64(m), -1) {
			clear(row)
			continue
		}
		var sum float32
		for j, s := range row {
			e := float32(0)
			if allow == nil || allow[j] {
				e = exp32(s - m)
			}
			row[j] = e
			sum += e
		}
		inv := 1 / sum
		for j := range row {
			row[j] *= inv
		}
	}
}

func (attnK) diffWRT() []bool { return []bool{true, true, true} }
func (k attnK) backward(in G.Nodes, _, dy *G.Node) (G.Nodes, error) {
	packed, err := apply(attnGradK(k), in[0], in[1], in[2], dy)
	if err != nil {
		return nil, err
	}
	grads := make(G.Nodes, 3)
	for i := range grads {
		if grads[i], err = apply(pickK{i: i}, packed); err != nil {
			return nil, err
		}
	}
	return grads, nil
}

// attnGradK computes [dQ; dK; dV] → [3, B·T, H·hd] from q, k, v, dO and the
// cached probabilities:
//
//	dV = Pᵀ dO,  dP = dO Vᵀ,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),
//	dQ = scale · dS K,  dK = scale · dSᵀ Q.
type attnGradK attnK

func (k attnGradK) String() string   { return "AttentionGrad" }
func (attnGradK) dims() ([]int, int) { return []int{2, 2, 2, 2}, 3 }
func (attnGradK) shape(in []tensor.Shape) (tensor.Shape, error) {
	return tensor.Shape{3, in[0][0], in[0][1]}, nil
}
func (k attnGradK) forward(out []float32, in []*tensor.Dense) error {
	q, kk, v, do := in[0].Float32s(), in[1].Float32s(), in[2].Float32s(), in[3].Float32s()
	n, d := in[0].Shape()[0], in[0].Shape()[1]
	dq, dk, dv := out[:n*d], out[n*d:2*n*d], out[2*n*d:]
	hd, t := d/k.h, k.t
	scale := float32(1 / math.Sqrt(float64(hd)))
	ds := make([]float32, t*t)
	for b := 0; b < k.b; b++ {
		for h := 0; h < k.h; h++ {
			off := b*t*d + h*hd
			p := (*k.probs)[(b*k.h+h)*t*t : (b*k.h+h+1)*t*t]
			sgemm(true, false, t, hd, t, 1, p, t, do[off:], d, 0, dv[off:], d)
			sgemm(false, true, t, t, hd, 1, do[off:], d, v[off:], d, 0, ds, t)
			for i := 0; i < t; i++ {
				pr, gr := p[i*t:(i+1)*t], ds[i*t:(i+1)*t]
				var dot float32
				for j, pj := range pr {
					dot += pj * gr[j]
				}
				for j, pj := range pr {
					gr[j] = pj * (gr[j] - dot)
				}
			}
			sgemm(false, false, t, hd, t, scale, ds, t, kk[off:], d, 0, dq[off:], d)
			sgemm(true, false, t, hd, t, scale, ds, t, q[off:], d, 0, dk[off:], d)
		}
	}
	return nil
}

// pickK takes slice i of a packed [K, N, D] tensor → [N, D].
type pickK struct{ i int }

func (k pickK) String() string   { return fmt.Sprintf("Pick{%d}", k.i) }
func (pickK) dims() ([]int, int) { return []int{3}, 2 }
func (pickK) shape(in []tensor.Shape) (tensor.Shape, error) {
	return tensor.Shape{in[0][1], in[0][2]}, nil
}
func (k pickK) forward(y []float32, in []*tensor.Dense) error {
	copy(y, in[0].Float32s()[k.i*len(y):])
	return nil
}

// Attention runs multi-head attention for batch b of sequences of length t
// with h heads; mask nil means every query sees every key.
func Attention(q, k, v *G.Node, b, t, h int, mask *Mask) (*G.Node, error) {
	return apply(attnK{b: b, t: t, h: h, mask: mask, probs: new([]float32)}, q, k, v)
}

package nn

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Routing is the run-time state of one MoE layer's router: its settings
// (read on every run, so a compiled graph can change them between steps)
// and what the last forward pass decided.
//
// Gates are the softmax over the selected logits (equal to softmax over the
// usable experts followed by top-k renormalisation). The selection may add
// a per-expert Bias to the logits (aux-loss-free balancing); the gates never
// see it. Experts fill their capacity in token order; a token over an
// expert's capacity is dropped from that expert (its gate is not
// renormalised) and rides the residual and the shared expert.
//
// The dispatch buffer is packed: expert e's kept tokens occupy rows
// [Offset[e], Offset[e]+Kept[e]) of a buffer of Slots = N·K rows, so the
// expert matmuls run on kept tokens only and the shape never changes.
type Routing struct {
	N, E, K  int     // tokens, routed experts, largest top-k
	Capacity float64 // capacity factor: an expert keeps ceil(Capacity·N·k/active) tokens

	// Settings read at run time.
	Active int       // usable experts: the first Active (0 = all E)
	TopK   int       // experts per token (0 = K)
	Off    bool      // the layer is skipped: nothing is routed, no loss
	Bias   []float32 // [E] selection-only bias, nil = none
	Tags   []int     // [N] caller's tag per token (e.g. modality) for LoadByTag; nil = none

	// Loss weights of RouterLoss.
	AuxWeight, ZWeight float32

	// Results of the last forward pass.
	Token     *Ints         // [Slots] token of each buffer row (0 on empty rows)
	Offset    []int         // [E] first buffer row of each expert
	Kept      []int         // [E] tokens kept per expert
	Selected  []int         // [E] tokens that selected each expert (before capacity)
	Dropped   int           // token-expert pairs dropped by capacity
	LoadByTag map[int][]int // tag → [E] selections of tokens with that tag
	Aux, Z    float32       // the last load-balance and z-loss values (unweighted)

	choice []int     // [N·K] expert of each token's j-th choice (−1 unused)
	gate   []float32 // [N·K] gate of each choice
	slot   []int     // [N·K] buffer row of each choice (−1 dropped or unused)
	probs  []float32 // [N·E] softmax over the usable experts
	lse    []float32 // [N] log-sum-exp over the usable experts
}

// NewRouting makes the state of a router over n tokens and e experts with top-k ≤ k.
func NewRouting(n, e, k int, capacity float64) (*Routing, error) {
	if n <= 0 || e <= 0 || k <= 0 || k > e || !(capacity > 0) {
		return nil, fmt.Errorf("routing: %d tokens, %d experts, top-%d, capacity %g", n, e, k, capacity)
	}
	return &Routing{N: n, E: e, K: k, Capacity: capacity, Token: NewInts(n * k),
		Offset: make([]int, e), Kept: make([]int, e), Selected: make([]int, e),
		choice: make([]int, n*k), gate: make([]float32, n*k), slot: make([]int, n*k),
		probs: make([]float32, n*e), lse: make([]float32, n)}, nil
}

// Slots is the number of rows of the dispatch buffer.
func (r *Routing) Slots() int { return r.N * r.K }

// Settings returns the usable experts and the top-k of the next run.
func (r *Routing) Settings() (active, k int) {
	active, k = r.E, r.K
	if r.Active > 0 && r.Active < r.E {
		active = r.Active
	}
	if r.TopK > 0 && r.TopK < k {
		k = r.TopK
	}
	return active, min(k, active)
}

// CapacityOf is the tokens an expert keeps with active experts and top-k.
func (r *Routing) CapacityOf(active, k int) int {
	return int(math.Ceil(r.Capacity * float64(r.N*k) / float64(active)))
}

// Choices returns token n's experts and gates of the last run (dropped
// choices included, with kept[j] false).
func (r *Routing) Choices(n int) (experts []int, gates []float32, kept []bool) {
	for j := 0; j < r.K; j++ {
		i := n*r.K + j
		if r.choice[i] < 0 {
			break
		}
		experts = append(experts, r.choice[i])
		gates = append(gates, r.gate[i])
		kept = append(kept, r.slot[i] >= 0)
	}
	return experts, gates, kept
}

// route decides the routing of logits [N, E] and writes the gate of every
// buffer row into w [Slots].
func (r *Routing) route(w, logits []float32) error {
	if r.Bias != nil && len(r.Bias) != r.E {
		return fmt.Errorf("routing: bias has %d values for %d experts", len(r.Bias), r.E)
	}
	if r.Tags != nil && len(r.Tags) != r.N {
		return fmt.Errorf("routing: %d tags for %d tokens", len(r.Tags), r.N)
	}
	clear(w)
	clear(r.Token.V)
	clear(r.Kept)
	clear(r.Selected)
	clear(r.Offset)
	r.Dropped = 0
	r.LoadByTag = nil
	for i := range r.choice {
		r.choice[i], r.slot[i] = -1, -1
	}
	if r.Off {
		return nil
	}
	a, k := r.Settings()
	if r.Tags != nil {
		r.LoadByTag = map[int][]int{}
	}
	score := make([]float32, a)
	for n := 0; n < r.N; n++ {
		row, p := logits[n*r.E:n*r.E+a], r.probs[n*r.E:(n+1)*r.E]
		clear(p)
		r.lse[n] = SoftmaxRow(p[:a], row)
		copy(score, row)
		if r.Bias != nil {
			for e := range score {
				score[e] += r.Bias[e]
			}
		}
		ch := r.choice[n*r.K : n*r.K+k]
		for j := range ch { // top-k by selection score, ties to the lower index
			best := -1
			for e, s := range score {
				if s > float32(math.Inf(-1)) && (best < 0 || s > score[best]) {
					best = e
				}
			}
			if best < 0 {
				return fmt.Errorf("routing: token %d has non-finite router logits", n)
			}
			ch[j] = best
			score[best] = float32(math.Inf(-1))
		}
		var sum float32
		for _, e := range ch {
			sum += p[e]
		}
		for j, e := range ch {
			r.gate[n*r.K+j] = p[e] / sum
			r.Selected[e]++
			if r.Tags != nil {
				l := r.LoadByTag[r.Tags[n]]
				if l == nil {
					l = make([]int, r.E)
					r.LoadByTag[r.Tags[n]] = l
				}
				l[e]++
			}
		}
	}
	// Capacity in token order, then packed offsets, then the rows.
	c := r.CapacityOf(a, k)
	for n := 0; n < r.N; n++ {
		for j := 0; j < k; j++ {
			i := n*r.K + j
			if e := r.choice[i]; r.Kept[e] < c {
				r.slot[i] = r.Kept[e] // position within the expert for now
				r.Kept[e]++
			} else {
				r.Dropped++
			}
		}
	}
	off := 0
	for e := range r.Offset {
		r.Offset[e] = off
		off += r.Kept[e]
	}
	for i, s := range r.slot {
		if s >= 0 {
			row := r.Offset[r.choice[i]] + s
			r.slot[i] = row
			r.Token.V[row] = i / r.K
			w[row] = r.gate[i]
		}
	}
	return nil
}

// routeK is the router: logits [N, E] → gate per buffer row [Slots],
// differentiable in the logits through the gates of kept choices.
type routeK struct{ r *Routing }

func (routeK) String() string     { return "MoERoute" }
func (routeK) dims() ([]int, int) { return []int{2}, 1 }
func (k routeK) shape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0][0] != k.r.N || in[0][1] != k.r.E {
		return nil, fmt.Errorf("%v: logits %v, want [%d, %d]", k, in[0], k.r.N, k.r.E)
	}
	return tensor.Shape{k.r.Slots()}, nil
}
func (k routeK) forward(w []float32, in []*tensor.Dense) error {
	return k.r.route(w, in[0].Float32s())
}
func (routeK) diffWRT() []bool { return []bool{true} }
func (k routeK) backward(in G.Nodes, _, dw *G.Node) (G.Nodes, error) {
	dx, err := apply(routeGradK(k), in[0], dw)
	return G.Nodes{dx}, err
}

// routeGradK: with g the gates of a token's choices and dg their
// gradients (0 for dropped ones), dlogit[e_j] = g_j·(dg_j − Σ_i g_i·dg_i).
type routeGradK routeK

func (routeGradK) String() string                                { return "MoERouteGrad" }
func (routeGradK) dims() ([]int, int)                            { return []int{2, 1}, 2 }
func (routeGradK) shape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }
func (k routeGradK) forward(dx []float32, in []*tensor.Dense) error {
	r, dw := k.r, in[1].Float32s()
	clear(dx)
	for n := 0; n < r.N; n++ {
		var dot float32
		for j := n * r.K; j < (n+1)*r.K && r.choice[j] >= 0; j++ {
			if s := r.slot[j]; s >= 0 {
				dot += r.gate[j] * dw[s]
			}
		}
		for j := n * r.K; j < (n+1)*r.K && r.choice[j] >= 0; j++ {
			var dg float32
			if s := r.slot[j]; s >= 0 {
				dg = dw[s]
			}
			dx[n*r.E+r.choice[j]] = r.gate[j] * (dg - dot)
		}
	}
	return nil
}

// Route runs the router on logits [N, E] and returns the gate of every
// dispatch buffer row [Slots]; r holds the decisions.
func Route(logits *G.Node, r *Routing) (*G.Node, error) { return apply(routeK{r: r}, logits) }

// gatherAfterK is gatherK with a second input that only orders it after
// the op that fills the indices.
type gatherAfterK struct{ idx *Ints }

func (gatherAfterK) String() string     { return "GatherRowsAfter" }
func (gatherAfterK) dims() ([]int, int) { return []int{2, 1}, 2 }
func (k gatherAfterK) shape(in []tensor.Shape) (tensor.Shape, error) {
	return gatherK(k).shape(in[:1])
}
func (k gatherAfterK) forward(y []float32, in []*tensor.Dense) error {
	return gatherK(k).forward(y, in[:1])
}
func (gatherAfterK) diffWRT() []bool { return []bool{true, false} }
func (k gatherAfterK) backward(in G.Nodes, _, dy *G.Node) (G.Nodes, error) {
	dx, err := apply(scatterAddK{idx: k.idx, n: in[0].Shape()[0]}, dy)
	return G.Nodes{dx, nil}, err
}

// Dispatch gathers the rows of x [N, D] into the MoE buffer [Slots, D]
// (row m = x[r.Token[m]]) once gates = Route(…, r) has run.
func Dispatch(x, gates *G.Node, r *Routing) (*G.Node, error) {
	return apply(gatherAfterK{idx: r.Token}, x, gates)
}

// expertLinearK is the batched expert matmul: rows of expert e in the
// buffer x [Slots, in] are multiplied by W[e]ᵀ, W [E, out, in] → [Slots,
// out]; one sgemm per expert over its kept rows; other rows are zero.
type expertLinearK struct{ r *Routing }

func (expertLinearK) String() string     { return "ExpertLinear" }
func (expertLinearK) dims() ([]int, int) { return []int{2, 3}, 2 }
func (k expertLinearK) shape(in []tensor.Shape) (tensor.Shape, error) {
	x, w := in[0], in[1]
	if x[0] != k.r.Slots() || w[0] != k.r.E || w[2] != x[1] {
		return nil, fmt.Errorf("%v: buffer %v and weights %v, want [%d, in] and [%d, out, in]", k, x, w, k.r.Slots(), k.r.E)
	}
	return tensor.Shape{x[0], w[1]}, nil
}
func (k expertLinearK) forward(y []float32, in []*tensor.Dense) error {
	x, w := in[0].Float32s(), in[1].Float32s()
	dOut, dIn := in[1].Shape()[1], in[1].Shape()[2]
	clear(y)
	for e, n := range k.r.Kept {
		if n > 0 {
			o := k.r.Offset[e]
			sgemm(false, true, n, dOut, dIn, 1, x[o*dIn:], dIn, w[e*dOut*dIn:], dIn, 0, y[o*dOut:], dOut)
		}
	}
	return nil
}
func (expertLinearK) diffWRT() []bool { return []bool{true, true} }
func (k expertLinearK) backward(in G.Nodes, _, dy *G.Node) (G.Nodes, error) {
	dx, err := apply(expertLinearDxK(k), dy, in[1])
	if err != nil {
		return nil, err
	}
	dw, err := apply(expertLinearDwK{r: k.r, w: in[1].Shape().Clone()}, dy, in[0])
	return G.Nodes{dx, dw}, err
}

// expertLinearDxK is dx_e = dy_e·W[e] per expert's rows.
type expertLinearDxK expertLinearK

func (expertLinearDxK) String() string     { return "ExpertLinearDx" }
func (expertLinearDxK) dims() ([]int, int) { return []int{2, 3}, 2 }
func (expertLinearDxK) shape(in []tensor.Shape) (tensor.Shape, error) {
	return tensor.Shape{in[0][0], in[1][2]}, nil
}
func (k expertLinearDxK) forward(dx []float32, in []*tensor.Dense) error {
	dy, w := in[0].Float32s(), in[1].Float32s()
	dOut, dIn := in[1].Shape()[1], in[1].Shape()[2]
	clear(dx)
	for e, n := range k.r.Kept {
		if n > 0 {
			o := k.r.Offset[e]
			sgemm(false, false, n, dIn, dOut, 1, dy[o*dOut:], dOut, w[e*dOut*dIn:], dIn, 0, dx[o*dIn:], dIn)
		}
	}
	return nil
}

// expertLinearDwK is dW[e] = dy_eᵀ·x_e (zero for experts with no rows).
type expertLinearDwK struct {
	r *Routing
	w tensor.Shape
}

func (expertLinearDwK) String() string     { return "ExpertLinearDw" }
func (expertLinearDwK) dims() ([]int, int) { return []int{2, 2}, 3 }
func (k expertLinearDwK) shape([]tensor.Shape) (tensor.Shape, error) {
	return k.w.Clone(), nil
}
func (k expertLinearDwK) forward(dw []float32, in []*tensor.Dense) error {
	dy, x := in[0].Float32s(), in[1].Float32s()
	dOut, dIn := k.w[1], k.w[2]
	clear(dw)
	for e, n := range k.r.Kept {
		if n > 0 {
			o := k.r.Offset[e]
			sgemm(true, false, dOut, dIn, n, 1, dy[o*dOut:], dOut, x[o*dIn:], dIn, 0, dw[e*dOut*dIn:], dIn)
		}
	}
	return nil
}

// ExpertLinear multiplies each expert's buffer rows of x [Slots, in] by
// its weights w [E, out, in] (PyTorch layout per expert) → [Slots, out].
func ExpertLinear(x, w *G.Node, r *Routing) (*G.Node, error) {
	return apply(expertLinearK{r: r}, x, w)
}

// SwiGLUAct is silu(a)·b on x = [a | b] [N, 2H] → [N, H] (the activation
// of a SwiGLU FFN whose gate and up projections are one matmul).
func SwiGLUAct(x *G.Node) (*G.Node, error) { return apply(swigluK{}, x) }

// routerLossK is AuxWeight·aux + ZWeight·z of the router logits [N, E]
// (second input: the gates, for ordering after Route):
//
//	aux = A·Σ_e f_e·P_e   (Switch/GShard; f_e = selections of e / (N·k),
//	                        P_e = mean router probability of e; 1 when uniform)
//	z   = mean_n (log Σ_e exp logit[n, e])²   (ST-MoE router z-loss)
//
// over the A usable experts; 0 when the layer is off.
type routerLossK struct{ r *Routing }

func (routerLossK) String() string     { return "MoERouterLoss" }
func (routerLossK) dims() ([]int, int) { return []int{2, 1}, 0 }
func (k routerLossK) shape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0][0] != k.r.N || in[0][1] != k.r.E {
		return nil, fmt.Errorf("%v: logits %v, want [%d, %d]", k, in[0], k.r.N, k.r.E)
	}
	return tensor.ScalarShape(), nil
}

// fractions returns f_e = selections / (N·k) for the usable experts.
func (r *Routing) fractions() []float64 {
	a, k := r.Settings()
	f := make([]float64, a)
	for e := range f {
		f[e] = float64(r.Selected[e]) / float64(r.N*k)
	}
	return f
}

func (k routerLossK) forward(out []float32, _ []*tensor.Dense) error {
	r := k.r
	r.Aux, r.Z, out[0] = 0, 0, 0
	if r.Off {
		return nil
	}
	a, _ := r.Settings()
	f := r.fractions()
	var aux, z float64
	for n := 0; n < r.N; n++ {
		for e, fe := range f {
			aux += fe * float64(r.probs[n*r.E+e])
		}
		z += float64(r.lse[n]) * float64(r.lse[n])
	}
	r.Aux = float32(aux * float64(a) / float64(r.N))
	r.Z = float32(z / float64(r.N))
	out[0] = r.AuxWeight*r.Aux + r.ZWeight*r.Z
	return nil
}
func (routerLossK) diffWRT() []bool { return []bool{true, false} }
func (k routerLossK) backward(in G.Nodes, _, dy *G.Node) (G.Nodes, error) {
	dx, err := apply(routerLossGradK(k), in[0], dy)
	return G.Nodes{dx, nil}, err
}

// routerLossGradK: d aux/d logit[n,e] = A/N·p_e·(f_e − Σ_i f_i·p_i),
// d z/d logit[n,e] = 2/N·lse_n·p_e.
type routerLossGradK routerLossK

func (routerLossGradK) String() string                                { return "MoERouterLossGrad" }
func (routerLossGradK) dims() ([]int, int)                            { return []int{2, 0}, 2 }
func (routerLossGradK) shape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }
func (k routerLossGradK) forward(dx []float32, in []*tensor.Dense) error {
	r := k.r
	clear(dx)
	if r.Off {
		return nil
	}
	dy := in[1].Float32s()[0]
	a, _ := r.Settings()
	f := r.fractions()
	ca := float64(dy*r.AuxWeight) * float64(a) / float64(r.N)
	cz := float64(dy*r.ZWeight) * 2 / float64(r.N)
	for n := 0; n < r.N; n++ {
		p := r.probs[n*r.E : n*r.E+a]
		var dot float64
		for e, pe := range p {
			dot += f[e] * float64(pe)
		}
		for e, pe := range p {
			dx[n*r.E+e] = float32(float64(pe) * (ca*(f[e]-dot) + cz*float64(r.lse[n])))
		}
	}
	return nil
}

// RouterLoss is the weighted balancing loss of the last Route on logits
// [N, E] (gates orders it after Route) → scalar.
func RouterLoss(logits, gates *G.Node, r *Routing) (*G.Node, error) {
	return apply(routerLossK{r: r}, logits, gates)
}

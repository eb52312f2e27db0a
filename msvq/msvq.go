// Package msvq is VAR's multi-scale residual vector quantizer (DESIGN.md,
// "Tokens"). A latent map f [C, H, W] is quantized over a scale schedule
// (e.g. 1, 2, 3, 4, 6, 8 for an 8×8 grid): at each scale the residual is
// area-downsampled to k×k, every vector is replaced by its nearest code
// (L2, so a near-zero residual takes a near-zero code) of one shared
// codebook, the code map is upsampled back, refined by a small conv
// ("phi") and subtracted from the residual. The tokens of an image are the
// index maps of all scales, coarse to fine.
//
// The directory is msvq, not var/ as in DESIGN.md's layout: var is a Go
// keyword and cannot name a package.
package msvq

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/omniar/omniar/nn"
)

// Config sizes the quantizer.
type Config struct {
	Codes int `json:"codes"` // codebook size; code 0 is frozen at zero
	Dim   int `json:"dim"`   // latent channels
	// Scales are the sides of the scales' maps, coarse to fine, ending at
	// the latent side. A side may repeat: the repeat quantizes what is
	// left of the residual at the same side again (a second depth, as in
	// residual VQ): finer codes where a frame's detail is, without a
	// larger codebook.
	Scales   []int   `json:"scales"`
	Beta     float64 `json:"beta"`      // commitment weight
	Decay    float64 `json:"decay"`     // EMA decay of the codebook
	PhiRatio float32 `json:"phi_ratio"` // z ← (1−r)·z + r·conv(z)
	// ZeroBias is a dead zone around the frozen zero code: at the finest
	// scale a vector takes code 0 unless another code is nearer by more
	// than this (squared L2); at a coarser scale k the zone is scaled by
	// (k/side)² (deadZone). Nearly empty cells then share one code, which a
	// generator models cheaply, at a small cost in reconstruction.
	ZeroBias float32 `json:"zero_bias,omitempty"`
}

// Default is the recipe DESIGN.md reports works for generation: 256 codes,
// scales 1, 2, 3, 4, 6, 8.
func Default(dim int) Config {
	return Config{Codes: 256, Dim: dim, Scales: []int{1, 2, 3, 4, 6, 8}, Beta: 0.25, Decay: 0.99, PhiRatio: 0.5}
}

// deadZone is ZeroBias at scale k: scaled by the cell's share of the
// latent map's area ((k/side)²), because averaging over a larger cell
// shrinks the residual of sparse content (a digit in a few cells) as much.
func (c Config) deadZone(k int) float32 {
	s := c.Side()
	return c.ZeroBias * float32(k*k) / float32(s*s)
}

// Side is the latent side the schedule ends at.
func (c Config) Side() int { return c.Scales[len(c.Scales)-1] }

// Tokens is the number of tokens of one latent map.
func (c Config) Tokens() int {
	n := 0
	for _, s := range c.Scales {
		n += s * s
	}
	return n
}

// Validate reports a schedule that cannot work.
func (c Config) Validate() error {
	if c.Codes < 2 || c.Dim <= 0 || len(c.Scales) == 0 || c.ZeroBias < 0 {
		return fmt.Errorf("msvq config %+v: need ≥ 2 codes, a width, scales and a dead zone ≥ 0", c)
	}
	if c.Codes > 1<<16 || c.Dim > 1<<12 || len(c.Scales) > 64 || c.Scales[len(c.Scales)-1] > 1<<10 {
		return fmt.Errorf("msvq config: %d codes (at most %d), width %d (%d), scales %v (at most 64, each ≤ %d)", c.Codes, 1<<16, c.Dim, 1<<12, c.Scales, 1<<10)
	}
	for i, s := range c.Scales {
		if s <= 0 || (i > 0 && s < c.Scales[i-1]) {
			return fmt.Errorf("msvq config: scales %v must not decrease, from ≥ 1", c.Scales)
		}
	}
	return nil
}

// Quantizer is the graph part of the quantizer.
type Quantizer struct {
	Cfg      Config
	Codebook *nn.Input  // [Codes, Dim], updated by EMA, not by gradients
	Phi      *nn.Conv2d // the shared refinement conv
	Stats    *nn.CodeStats
	// SeedCodes: the first UpdateCodebook of a fresh quantizer (not one
	// whose EMA state was set from weights or a checkpoint) sets every code
	// but 0 to a residual vector of that step, instead of averaging.
	SeedCodes bool
	idx       []*nn.Ints // per scale, [N·k·k] codes of the last run
	ema       emaState
	rng       *rand.Rand
}

// Output is what the quantizer feeds the decoder and the loss.
type Output struct {
	FHat     *G.Node   // [N, C, H, W] quantized latent, straight-through to f
	Partials []*G.Node // quantized latent after scales 1 … S−1, straight-through
	Loss     *G.Node   // commitment + refinement loss (scalar)
}

// New creates the codebook (code 0 zero, the rest small random vectors),
// the refinement conv and the EMA state.
func New(b *nn.Builder, name string, cfg Config, seed uint64) (*Quantizer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := b.Sub(name)
	q := &Quantizer{Cfg: cfg, rng: rand.New(rand.NewPCG(seed, 7)),
		Codebook: s.Input("codebook", cfg.Codes, cfg.Dim),
		Phi:      nn.NewConv2d(s, "phi", nn.Conv2dConfig{In: cfg.Dim, Out: cfg.Dim, Kernel: 3, Padding: 1}), // no bias: phi(0) = 0, so an empty map stays code 0
		Stats:    nn.NewCodeStats(cfg.Codes, cfg.Dim, seed)}
	cb := make([]float32, cfg.Codes*cfg.Dim)
	for i := cfg.Dim; i < len(cb); i++ {
		cb[i] = float32(q.rng.NormFloat64() * 0.1)
	}
	if err := q.Codebook.Set(cb); err != nil {
		return nil, err
	}
	q.ema = newEMA(cb, cfg)
	return q, nil
}

// Forward quantizes f [N, C, H, W] (H = W = the last scale).
func (q *Quantizer) Forward(f *G.Node) (Output, error) {
	s := f.Shape()
	n, c, h, w := s[0], s[1], s[2], s[3]
	if c != q.Cfg.Dim || h != q.Cfg.Side() || w != q.Cfg.Side() {
		return Output{}, fmt.Errorf("msvq: latent %v, want [N, %d, %d, %d]", s, q.Cfg.Dim, q.Cfg.Side(), q.Cfg.Side())
	}
	fStop, err := nn.StopGradient(f)
	if err != nil {
		return Output{}, err
	}
	var out Output
	rest, fhat := f, (*G.Node)(nil)
	var losses G.Nodes
	q.idx = q.idx[:0]
	for si, k := range q.Cfg.Scales {
		z, err := q.scale(rest, n, k, h)
		if err != nil {
			return Output{}, fmt.Errorf("msvq scale %d: %w", k, err)
		}
		if fhat == nil {
			fhat = z
		} else if fhat, err = G.Add(fhat, z); err != nil {
			return Output{}, err
		}
		if rest, err = G.Sub(rest, z); err != nil {
			return Output{}, err
		}
		l, err := q.scaleLoss(f, fStop, fhat)
		if err != nil {
			return Output{}, err
		}
		losses = append(losses, l)
		st, err := nn.StraightThrough(f, fhat)
		if err != nil {
			return Output{}, err
		}
		if si < len(q.Cfg.Scales)-1 {
			out.Partials = append(out.Partials, st)
		} else {
			out.FHat = st
		}
	}
	sum, err := G.ReduceAdd(losses)
	if err != nil {
		return Output{}, err
	}
	out.Loss, err = G.Div(sum, G.NewConstant(float32(len(losses))))
	return out, err
}

// scale quantizes the residual at side k and returns its refined,
// upsampled contribution z [N, C, H, W].
func (q *Quantizer) scale(rest *G.Node, n, k, h int) (*G.Node, error) {
	r := rest
	var err error
	if k != h {
		if r, err = nn.Resize(rest, nn.AreaMatrix(k, h), nn.AreaMatrix(k, h)); err != nil {
			return nil, err
		}
	}
	rows, err := nn.ToRows(r) // [N·k·k, C]
	if err != nil {
		return nil, err
	}
	idx := nn.NewInts(n * k * k)
	q.idx = append(q.idx, idx)
	qr, err := nn.NearestDeadZone(rows, q.Codebook.Node, q.Cfg.deadZone(k), idx, q.Stats)
	if err != nil {
		return nil, err
	}
	z, err := nn.FromRows(qr, n, k, k)
	if err != nil {
		return nil, err
	}
	if k != h {
		if z, err = nn.Resize(z, nn.BilinearMatrix(h, k), nn.BilinearMatrix(h, k)); err != nil {
			return nil, err
		}
	}
	return q.refine(z)
}

// refine is phi: (1−r)·z + r·conv(z).
func (q *Quantizer) refine(z *G.Node) (*G.Node, error) {
	cz, err := q.Phi.Forward(z)
	if err != nil {
		return nil, err
	}
	r := q.Cfg.PhiRatio
	a, err := G.Mul(z, G.NewConstant(1-r))
	if err != nil {
		return nil, err
	}
	bb, err := G.Mul(cz, G.NewConstant(r))
	if err != nil {
		return nil, err
	}
	return G.Add(a, bb)
}

// scaleLoss is VAR's per-scale loss: β·‖stop(f̂) − f‖² (commits the encoder)
// + ‖f̂ − stop(f)‖² (trains phi).
func (q *Quantizer) scaleLoss(f, fStop, fhat *G.Node) (*G.Node, error) {
	fhatStop, err := nn.StopGradient(fhat)
	if err != nil {
		return nil, err
	}
	commit, err := nn.MSE(fhatStop, f)
	if err != nil {
		return nil, err
	}
	refine, err := nn.MSE(fhat, fStop)
	if err != nil {
		return nil, err
	}
	if commit, err = G.Mul(commit, G.NewConstant(float32(q.Cfg.Beta))); err != nil {
		return nil, err
	}
	return G.Add(commit, refine)
}

// Indices returns the codes of the last run: per scale, [N·k·k] in row-major
// order of (n, y, x).
func (q *Quantizer) Indices() [][]int {
	out := make([][]int, len(q.idx))
	for i, v := range q.idx {
		out[i] = append([]int(nil), v.V...)
	}
	return out
}

// CodebookData is the codebook's values (shared with the graph).
func (q *Quantizer) CodebookData() []float32 {
	return q.Codebook.Node.Value().(*tensor.Dense).Float32s()
}

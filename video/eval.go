package video

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/omniar/omniar/msvq"
	"github.com/omniar/omniar/nn"
)

// Autoencoder encodes, quantizes and decodes batches of clips, from all
// scales and, if asked, from every prefix of the scales: what the
// evaluation needs.
type Autoencoder struct {
	cfg           Config
	batch, frames int
	x             *nn.Input
	q             *msvq.Quantizer
	full          G.Value
	partial       []G.Value // after scales 1 … S−1
	vm            G.VM
}

// NewAutoencoder builds the evaluation graph. With partials it also
// decodes the latent after each prefix of the scales (Result.Partial):
// one more pixel decode per scale but the last, so callers that need only
// the full reconstruction leave it off (reading 30 saved clips back with a
// fresh VideoAR ceiling took 26.8 s with them, 9.1 s without).
func NewAutoencoder(cfg Config, batch, frames int, w Weights, partials bool) (*Autoencoder, error) {
	if _, err := cfg.LatentFrames(frames); err != nil {
		return nil, err
	}
	b := nn.NewBuilder(0)
	a := &Autoencoder{cfg: cfg, batch: batch, frames: frames, x: b.Input("x", batch, cfg.Channels, frames, cfg.Size, cfg.Size)}
	l := newLayers(b, cfg)
	var err error
	if a.q, err = msvq.New(b, "quant", cfg.Quant, 0); err != nil {
		return nil, err
	}
	z, err := l.encode(a.x.Node)
	if err != nil {
		return nil, err
	}
	out, err := a.q.Forward(z)
	if err != nil {
		return nil, err
	}
	y, err := l.decode(out.FHat, batch)
	if err != nil {
		return nil, err
	}
	G.Read(y, &a.full)
	if !partials {
		out.Partials = nil
	}
	a.partial = make([]G.Value, len(out.Partials))
	for i, p := range out.Partials {
		yp, err := l.decode(p, batch)
		if err != nil {
			return nil, err
		}
		G.Read(yp, &a.partial[i])
	}
	if err := nn.LoadParams(b.Params(), w.Params); err != nil {
		return nil, fmt.Errorf("tokenizer %w", err)
	}
	copy(a.q.CodebookData(), w.Codebook)
	a.vm = nn.CompileForward(b.G)
	return a, nil
}

// Result is one batch through the autoencoder: grey uint8 frames.
type Result struct {
	Full    []uint8   // [B, T, S, S] from all scales
	Partial [][]uint8 // [S−1][B, T, S, S] from the first s scales; nil without partials
	Codes   [][]int   // per scale, [B·T'·k·k]
}

// Run reconstructs a batch of clips [B, T, S, S].
func (a *Autoencoder) Run(clips []uint8) (Result, error) {
	if len(clips) != a.batch*a.frames*a.cfg.Size*a.cfg.Size*a.cfg.Channels {
		return Result{}, fmt.Errorf("autoencoder: %d pixels for a batch of %d×%d frames", len(clips), a.batch, a.frames)
	}
	x := make([]float32, len(clips))
	Pixels(x, clips)
	if err := a.x.Set(x); err != nil {
		return Result{}, err
	}
	defer a.vm.Reset()
	if err := a.vm.RunAll(); err != nil {
		return Result{}, fmt.Errorf("autoencoder: %w", err)
	}
	r := Result{Full: toU8(a.full.Data().([]float32)), Codes: a.q.Indices()}
	for _, p := range a.partial {
		r.Partial = append(r.Partial, toU8(p.Data().([]float32)))
	}
	return r, nil
}

// toU8 maps [0, 1] back to grey levels.
func toU8(x []float32) []uint8 {
	out := make([]uint8, len(x))
	for i, v := range x {
		out[i] = uint8(max(0, min(255, v*255+0.5)))
	}
	return out
}

// Close releases the graph.
func (a *Autoencoder) Close() error { return a.vm.Close() }

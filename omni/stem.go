package omni

import (
	"math"

	G "gorgonia.org/gorgonia"

	"github.com/omniar/omniar/nn"
)

// stemTaps is the visual stem's neighbourhood: 3×3 cells.
const stemTaps = 9

// Stem gives a visual row local shape features: a two-layer MLP over the
// 3×3 neighbourhood of its cell in its scale's input map (a 3×3 conv and
// a 1×1 conv with GELU between), added to VisIn's projection of the cell
// alone. Without it the trunk reads a frame's 8×8 latent as 64 separate
// rows and must learn glyph shapes through attention from a few thousand
// training digits, which it memorises (digit images: 92 % of train, 82 %
// of val). Down starts at zero, so a model grown from one without the
// stem starts as that model.
type Stem struct {
	Up   *nn.Linear // [Hidden, stemTaps·Quant.Dim]
	Down *nn.Linear // [D, Hidden], no bias
}

func newStem(b *nn.Builder, qdim, hidden, d int) *Stem {
	s := b.Sub("vis_stem")
	a := 1 / math.Sqrt(float64(stemTaps*qdim))
	up := &nn.Linear{W: s.Sub("up").Param("weight", true, nn.Uniform(a), hidden, stemTaps*qdim),
		B: s.Sub("up").Param("bias", false, nn.Uniform(a), hidden)}
	return &Stem{Up: up, Down: &nn.Linear{W: s.Sub("down").Param("weight", true, nn.Const(0), d, hidden)}}
}

// Forward: neighbourhoods [N, stemTaps·Quant.Dim] → [N, D].
func (s *Stem) Forward(nb *G.Node) (*G.Node, error) {
	h, err := s.Up.Forward(nb)
	if err != nil {
		return nil, err
	}
	if h, err = nn.GELU(h); err != nil {
		return nil, err
	}
	return s.Down.Forward(h)
}

// Apply is Forward on plain slices for n rows.
func (s *Stem) Apply(nb []float32, n int) []float32 {
	h := s.Up.Apply(nb, n)
	nn.GELUApply(h)
	return s.Down.Apply(h, n)
}

// neighbourhood appends the 3×3 neighbourhood of cell (y, x) of the map
// m [dim, k, k], tap by tap (zeros outside the map): [stemTaps, dim].
func neighbourhood(dst, m []float32, dim, k, y, x int) []float32 {
	for dy := -1; dy <= 1; dy++ {
		for dx := -1; dx <= 1; dx++ {
			yy, xx := y+dy, x+dx
			inside := yy >= 0 && yy < k && xx >= 0 && xx < k
			for ch := range dim {
				var v float32
				if inside {
					v = m[ch*k*k+yy*k+xx]
				}
				dst = append(dst, v)
			}
		}
	}
	return dst
}

// WithStem returns w, which may come from a model without the stem, with
// this model's stem parameters added where w lacks them (their init), so
// such a model can be grown into one with the stem.
func (m *Model) WithStem(w map[string][]float32) map[string][]float32 {
	if m.Stem == nil {
		return w
	}
	out := make(map[string][]float32, len(w)+3)
	for k, v := range w {
		out[k] = v
	}
	for _, p := range []*nn.Param{m.Stem.Up.W, m.Stem.Up.B, m.Stem.Down.W} {
		if _, ok := out[p.Name()]; !ok {
			out[p.Name()] = append([]float32(nil), p.Data()...)
		}
	}
	return out
}

package eval

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/omniar/omniar/internal/atomicfile"
	"github.com/omniar/omniar/metrics"
)

// SanityOptions configure the sanity curve of the FVD-style metric: real
// test clips split into two disjoint halves; the second half is corrupted
// more and more and compared with the first.
type SanityOptions struct {
	Split     string // Moving-digits split (default test)
	Data      string
	Weights   string // video classifier
	Bootstrap int    // replicates (default 50)
	Out       string // directory for sanity.png and sanity.json ("" = none)
	Seed      uint64
}

// SanityPoint is one corruption with its distances.
type SanityPoint struct {
	Name    string           `json:"name"`
	Frechet metrics.Interval `json:"frechet"`
	KVD     metrics.Interval `json:"kvd"`
}

// SanityReport is the curve.
type SanityReport struct {
	Features      string        `json:"features"`
	WeightsSHA256 string        `json:"weights_sha256"`
	Split         string        `json:"split"`
	Half          int           `json:"clips_per_half"`
	Points        []SanityPoint `json:"points"`
	Monotone      bool          `json:"monotone"` // Fréchet grows along each corruption family
}

// corruption makes a corrupted copy of a clip.
type corruption struct {
	name string
	fn   func(clip [][]uint8, rng *rand.Rand) [][]uint8
}

func noise(sigma float64) corruption {
	return corruption{fmt.Sprintf("noise σ=%g", sigma), func(clip [][]uint8, rng *rand.Rand) [][]uint8 {
		out := make([][]uint8, len(clip))
		for t, f := range clip {
			g := make([]uint8, len(f))
			for i, v := range f {
				g[i] = uint8(math.Max(0, math.Min(255, math.Round(float64(v)+sigma*rng.NormFloat64()))))
			}
			out[t] = g
		}
		return out
	}}
}

var (
	shuffle = corruption{"frames shuffled", func(clip [][]uint8, rng *rand.Rand) [][]uint8 {
		out := make([][]uint8, len(clip))
		for i, j := range rng.Perm(len(clip)) {
			out[i] = clip[j]
		}
		return out
	}}
	freeze = corruption{"first frame frozen", func(clip [][]uint8, _ *rand.Rand) [][]uint8 {
		out := make([][]uint8, len(clip))
		for i := range out {
			out[i] = clip[0]
		}
		return out
	}}
)

// sanityFamilies are the corruption families, each in rising strength
// (the clean half first).
func sanityFamilies() [][]corruption {
	clean := corruption{"real vs real", func(c [][]uint8, _ *rand.Rand) [][]uint8 { return c }}
	return [][]corruption{
		{clean, noise(8), noise(16), noise(32), noise(64), noise(128)},
		{clean, shuffle},
		{clean, freeze},
	}
}

// Sanity computes the curve and writes its plot and JSON.
func Sanity(opt SanityOptions, w io.Writer) (SanityReport, error) {
	if opt.Split == "" {
		opt.Split = "test"
	}
	if opt.Bootstrap == 0 {
		opt.Bootstrap = 50
	}
	ex, err := NewExtractor("omniar", Asset(opt.Weights), "")
	if err != nil {
		return SanityReport{}, err
	}
	defer ex.Close()
	cs, err := LoadClips(opt.Split, opt.Data, 0, ex.Frames, ex.Size)
	if err != nil {
		return SanityReport{}, err
	}
	half := len(cs.Clips) / 2
	a := &ClipSet{Source: cs.Source, Names: cs.Names[:half], Clips: cs.Clips[:half]}
	fa, err := ex.Features(a)
	if err != nil {
		return SanityReport{}, err
	}
	rep := SanityReport{Features: ex.Name, WeightsSHA256: ex.SHA256, Split: opt.Split, Half: half, Monotone: true}
	done := map[string]SanityPoint{}
	for _, fam := range sanityFamilies() {
		prev := -1.0
		for _, c := range fam {
			p, ok := done[c.name]
			if !ok {
				if p, err = sanityPoint(ex, fa, cs, half, c, opt); err != nil {
					return rep, err
				}
				done[c.name] = p
				rep.Points = append(rep.Points, p)
				fmt.Fprintf(w, "%-20s FVD-style %-28s KVD %s\n", p.Name, p.Frechet, p.KVD)
			}
			rep.Monotone = rep.Monotone && p.Frechet.Value > prev
			prev = p.Frechet.Value
		}
	}
	if opt.Out != "" {
		if err := writeSanity(opt.Out, rep); err != nil {
			return rep, err
		}
		fmt.Fprintf(w, "wrote %s and %s\n", filepath.Join(opt.Out, "sanity.png"), filepath.Join(opt.Out, "sanity.json"))
	}
	return rep, nil
}

// sanityPoint compares the first half with the corrupted second half.
func sanityPoint(ex *Extractor, fa *mat.Dense, cs *ClipSet, half int, c corruption, opt SanityOptions) (SanityPoint, error) {
	rng := rand.New(rand.NewPCG(opt.Seed, 7))
	b := &ClipSet{Source: cs.Source}
	for i := half; i < 2*half; i++ {
		b.Names = append(b.Names, cs.Names[i])
		b.Clips = append(b.Clips, c.fn(cs.Clips[i], rng))
	}
	fb, err := ex.Features(b)
	if err != nil {
		return SanityPoint{}, err
	}
	p := SanityPoint{Name: c.name}
	if p.Frechet, err = metrics.Bootstrap(fa, fb, metrics.Frechet, opt.Bootstrap, 0.95, opt.Seed); err != nil {
		return p, err
	}
	p.KVD, err = metrics.Bootstrap(fa, fb, metrics.KernelDistance, opt.Bootstrap, 0.95, opt.Seed+1)
	return p, err
}

// writeSanity saves the plot (Fréchet with 95% intervals per corruption,
// log scale) and the JSON.
func writeSanity(dir string, rep SanityReport) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("sanity: %w", err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, "sanity.json"), []byte(mustJSON(rep)+"\n")); err != nil {
		return fmt.Errorf("sanity: %w", err)
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("FVD-style (%s), %d vs %d real %s clips, 95%% bootstrap", rep.Features, rep.Half, rep.Half, rep.Split)
	p.Y.Label.Text = "Fréchet distance (log)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	var names []string
	pts := make(plotter.XYs, len(rep.Points))
	errs := make(plotter.YErrors, len(rep.Points))
	for i, q := range rep.Points {
		names = append(names, q.Name)
		v := math.Max(q.Frechet.Value, 1e-3)
		pts[i] = plotter.XY{X: float64(i), Y: v}
		errs[i].Low, errs[i].High = math.Max(v-math.Max(q.Frechet.Lo, 1e-3), 0), math.Max(q.Frechet.Hi-v, 0)
	}
	sc, err := plotter.NewScatter(pts)
	if err != nil {
		return fmt.Errorf("sanity plot: %w", err)
	}
	eb, err := plotter.NewYErrorBars(struct {
		plotter.XYer
		plotter.YErrorer
	}{pts, errs})
	if err != nil {
		return fmt.Errorf("sanity plot: %w", err)
	}
	p.Add(sc, eb, plotter.NewGrid())
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = math.Pi / 6
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = -1, -0.5
	if err := p.Save(9*vg.Inch, 4.5*vg.Inch, filepath.Join(dir, "sanity.png")); err != nil {
		return fmt.Errorf("sanity plot: %w", err)
	}
	return nil
}

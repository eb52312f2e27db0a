package eval

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/omniar/omniar/datasets"
	"github.com/omniar/omniar/metrics"
)

// FVDOptions select what `omniar eval fvd` compares.
type FVDOptions struct {
	Real, Fake string // directory of clips or a Moving-digits split name
	// Versus is a second generated set compared with Fake clip by clip
	// (the i-th clip of each, in name order, made from the same prompt):
	// "" for none.
	Versus    string
	Data      string // prepared data directory (for split names)
	Features  string // "omniar" (the video classifier) or "i3d"
	Weights   string // feature network weights
	Layer     string // I3D layer: logits (default) or pool
	N         int    // at most N clips of each set (0: all)
	Frames    int    // frames per clip (0: the network's)
	Bootstrap int    // bootstrap replicates for the 95% intervals (0: none)
	Seed      uint64
}

// FVDReport is the result, with everything needed to compare it with
// another number: feature network, its weights' hash, sample counts,
// resolution and frame count.
type FVDReport struct {
	Features      string           `json:"features"`
	Weights       string           `json:"weights"`
	WeightsSHA256 string           `json:"weights_sha256"`
	FeatureDim    int              `json:"feature_dim"`
	Real          string           `json:"real"`
	Fake          string           `json:"fake"`
	NReal         int              `json:"n_real"`
	NFake         int              `json:"n_fake"`
	SrcRes        [2]int           `json:"source_resolution"`
	NetRes        int              `json:"network_resolution"`
	Frames        int              `json:"frames"`
	Frechet       metrics.Interval `json:"frechet"`
	KVD           metrics.Interval `json:"kvd"`
	RankDeficient bool             `json:"rank_deficient"`
	Versus        *Versus          `json:"versus,omitempty"`
	ClipsPerSec   float64          `json:"feature_clips_per_s"`
	Seconds       float64          `json:"seconds"`
	Command       string           `json:"command,omitempty"` // the command line that wrote the report
}

// Versus is a second generated set against the same real clips, and how
// much farther from them it is than the first (its distance minus the
// first's), with paired bootstrap intervals (metrics.BootstrapPaired).
type Versus struct {
	Fake        string           `json:"fake"`
	NFake       int              `json:"n_fake"`
	Frechet     metrics.Interval `json:"frechet"`
	KVD         metrics.Interval `json:"kvd"`
	FrechetDiff metrics.Paired   `json:"frechet_minus_first"`
	KVDDiff     metrics.Paired   `json:"kvd_minus_first"`
}

// Extractor turns clips into feature vectors.
type Extractor struct {
	Name    string // feature network
	Path    string // its weights file
	SHA256  string // of the weights file
	Frames  int    // frames it reads (the first of each clip)
	Size    int    // side clips are resized to when read (0: the network resizes)
	NetSize int    // side the network sees
	feats   func(cs *ClipSet) ([][]float32, error)
	close   func() error
}

// I3D feature layers.
const (
	I3DLogits = "logits" // the 400-d logits, as FVD (Unterthiner et al.)
	I3DPool   = "pool"   // the 1024-d average-pooled features
)

// NewExtractor loads a feature network: "omniar" is the project's video
// classifier, "i3d" the Inflated Inception-V1 (layer: logits or pool).
func NewExtractor(features, weights, layer string) (*Extractor, error) {
	switch features {
	case "omniar", "ours":
		return omniarExtractor(weights)
	case "i3d":
		return i3dExtractor(weights, layer)
	}
	return nil, fmt.Errorf("unknown feature network %q (want omniar or i3d)", features)
}

// Where the shipped metric networks live in the repository (see Asset).
const (
	DefaultVideoWeights = "assets/metrics/video.safetensors"
	DefaultDigitWeights = "assets/metrics/digits.safetensors"
	DefaultPairWeights  = "assets/metrics/pairs.safetensors"
)

func omniarExtractor(weights string) (*Extractor, error) {
	if weights == "" {
		weights = Asset(DefaultVideoWeights)
	}
	w, err := metrics.LoadWeights(weights)
	if err != nil {
		return nil, err
	}
	if w.Cfg.Input != metrics.VideoNetConfig().Input {
		return nil, fmt.Errorf("features omniar: %s is %s with input %v, not a video classifier", weights, w.Cfg.Name, w.Cfg.Input)
	}
	n, err := w.Build(32)
	if err != nil {
		return nil, err
	}
	run := metrics.NewRunner(n)
	ex := &Extractor{Name: w.Cfg.Name, Path: w.Path, SHA256: w.SHA256, Frames: metrics.VideoFrames,
		Size: metrics.VideoSize, NetSize: metrics.VideoSize, close: run.Close}
	ex.feats = func(cs *ClipSet) ([][]float32, error) {
		var vecs [][]float32
		const chunk = 64
		for lo := 0; lo < len(cs.Clips); lo += chunk {
			var x []float32
			var err error
			for i := lo; i < min(lo+chunk, len(cs.Clips)); i++ {
				if x, err = metrics.VideoInput(x, cs.Clips[i]); err != nil {
					return nil, fmt.Errorf("%s: %w", cs.Names[i], err)
				}
			}
			out, err := run.Run(x)
			if err != nil {
				return nil, err
			}
			vecs = append(vecs, out.Feats...)
		}
		return vecs, nil
	}
	return ex, nil
}

func i3dExtractor(weights, layer string) (*Extractor, error) {
	if weights == "" {
		return nil, errors.New("features i3d need --weights: Kinetics-400 I3D weights converted with tools/i3d_convert.py")
	}
	if layer == "" {
		layer = I3DLogits
	}
	if layer != I3DLogits && layer != I3DPool {
		return nil, fmt.Errorf("i3d layer %q, want %s or %s", layer, I3DLogits, I3DPool)
	}
	m, err := metrics.LoadI3D(weights)
	if err != nil {
		return nil, err
	}
	sum, _, err := datasets.HashFile(weights)
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	ex := &Extractor{Name: "i3d-" + layer, Path: weights, SHA256: sum, Frames: 16, NetSize: metrics.I3DSize, close: func() error { return nil }}
	ex.feats = func(cs *ClipSet) ([][]float32, error) {
		var vecs [][]float32
		for i, c := range cs.Clips {
			x, err := metrics.I3DInput(c, cs.W, cs.H, metrics.I3DSize)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", cs.Names[i], err)
			}
			out, err := m.Forward(x, len(c))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", cs.Names[i], err)
			}
			logits, pooled := out.Mean()
			if layer == I3DPool {
				logits = pooled
			}
			vecs = append(vecs, logits)
		}
		return vecs, nil
	}
	return ex, nil
}

// Close releases the network.
func (e *Extractor) Close() error { return e.close() }

// Features extracts [N, D] features of a set.
func (e *Extractor) Features(cs *ClipSet) (*mat.Dense, error) {
	vecs, err := e.feats(cs)
	if err != nil {
		return nil, err
	}
	return metrics.FromFloat32(vecs)
}

// FVD compares two sets of clips.
func FVD(opt FVDOptions) (FVDReport, error) {
	t0 := time.Now()
	ex, err := NewExtractor(opt.Features, opt.Weights, opt.Layer)
	if err != nil {
		return FVDReport{}, err
	}
	defer ex.Close()
	frames := opt.Frames
	if frames == 0 {
		frames = ex.Frames
	}
	if frames != ex.Frames && !(opt.Features == "i3d" && frames >= 9) {
		return FVDReport{}, fmt.Errorf("features %s read %d frames, not %d", ex.Name, ex.Frames, frames)
	}
	real, err := LoadClips(opt.Real, opt.Data, opt.N, frames, ex.Size)
	if err != nil {
		return FVDReport{}, fmt.Errorf("real: %w", err)
	}
	fake, err := LoadClips(opt.Fake, opt.Data, opt.N, frames, ex.Size)
	if err != nil {
		return FVDReport{}, fmt.Errorf("fake: %w", err)
	}
	if err := checkPair(real, fake); err != nil {
		return FVDReport{}, err
	}
	var versus *ClipSet
	if opt.Versus != "" {
		if versus, err = LoadClips(opt.Versus, opt.Data, opt.N, frames, ex.Size); err != nil {
			return FVDReport{}, fmt.Errorf("versus: %w", err)
		}
		if err := checkPair(real, versus); err != nil {
			return FVDReport{}, err
		}
		if len(versus.Clips) != len(fake.Clips) {
			return FVDReport{}, fmt.Errorf("%s has %d clips and %s %d: a clip-by-clip comparison needs the same prompts in both",
				fake.Source, len(fake.Clips), versus.Source, len(versus.Clips))
		}
	}
	rep := FVDReport{Features: ex.Name, Weights: ex.Path, WeightsSHA256: ex.SHA256, Real: real.Source, Fake: fake.Source,
		NReal: len(real.Clips), NFake: len(fake.Clips), SrcRes: [2]int{real.SrcW, real.SrcH}, NetRes: ex.NetSize, Frames: frames}
	tf := time.Now()
	fr, err := ex.Features(real)
	if err != nil {
		return rep, fmt.Errorf("real: %w", err)
	}
	ff, err := ex.Features(fake)
	if err != nil {
		return rep, fmt.Errorf("fake: %w", err)
	}
	rep.ClipsPerSec = float64(rep.NReal+rep.NFake) / time.Since(tf).Seconds()
	_, rep.FeatureDim = fr.Dims()
	warnFew(rep.NReal, rep.FeatureDim, "real")
	warnFew(rep.NFake, rep.FeatureDim, "fake")
	rep.RankDeficient = rep.NReal <= rep.FeatureDim || rep.NFake <= rep.FeatureDim
	if rep.Frechet, err = metrics.Bootstrap(fr, ff, metrics.Frechet, opt.Bootstrap, 0.95, opt.Seed); err != nil {
		return rep, err
	}
	if rep.KVD, err = metrics.Bootstrap(fr, ff, metrics.KernelDistance, opt.Bootstrap, 0.95, opt.Seed+1); err != nil {
		return rep, err
	}
	if versus != nil {
		if rep.Versus, err = compare(opt, fr, ff, ex, versus); err != nil {
			return rep, err
		}
	}
	rep.Seconds = time.Since(t0).Seconds()
	slog.Info("eval: fvd", "frechet", rep.Frechet.Value, "kvd", rep.KVD.Value, "seconds", rep.Seconds)
	return rep, nil
}

// compare measures the second generated set vs against the real features
// fr beside the first set's features ff.
func compare(opt FVDOptions, fr, ff *mat.Dense, ex *Extractor, vs *ClipSet) (*Versus, error) {
	fv, err := ex.Features(vs)
	if err != nil {
		return nil, fmt.Errorf("versus: %w", err)
	}
	v := &Versus{Fake: vs.Source, NFake: len(vs.Clips)}
	for _, c := range []struct {
		stat   metrics.Statistic
		seed   uint64
		iv     *metrics.Interval
		paired *metrics.Paired
	}{{metrics.Frechet, opt.Seed, &v.Frechet, &v.FrechetDiff}, {metrics.KernelDistance, opt.Seed + 1, &v.KVD, &v.KVDDiff}} {
		if *c.iv, err = metrics.Bootstrap(fr, fv, c.stat, opt.Bootstrap, 0.95, c.seed); err != nil {
			return nil, err
		}
		if *c.paired, err = metrics.BootstrapPaired(fr, ff, fv, c.stat, opt.Bootstrap, 0.95, c.seed); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// PrintFVD writes a report as a human-readable table.
func PrintFVD(w io.Writer, r FVDReport) {
	name := "FVD-style"
	if strings.HasPrefix(r.Features, "i3d") {
		name = "FVD"
	}
	fmt.Fprintf(w, "feature network  %s (%d-d), weights %s sha256 %s\n", r.Features, r.FeatureDim, r.Weights, r.WeightsSHA256)
	fmt.Fprintf(w, "real             %s: %d clips\n", r.Real, r.NReal)
	fmt.Fprintf(w, "fake             %s: %d clips\n", r.Fake, r.NFake)
	fmt.Fprintf(w, "clips            %d frames, source %d×%d, network %d×%d\n", r.Frames, r.SrcRes[0], r.SrcRes[1], r.NetRes, r.NetRes)
	ci := ""
	if r.Frechet.Reps > 0 {
		ci = fmt.Sprintf("  (95%% bootstrap interval, %d replicates)", r.Frechet.Reps)
	}
	fmt.Fprintf(w, "%-16s %s%s\n", name, r.Frechet, ci)
	fmt.Fprintf(w, "%-16s %s\n", "KVD", r.KVD)
	if v := r.Versus; v != nil {
		fmt.Fprintf(w, "versus           %s: %d clips, paired clip by clip with the fake set\n", v.Fake, v.NFake)
		fmt.Fprintf(w, "%-16s %s\n", name, v.Frechet)
		fmt.Fprintf(w, "%-16s %s\n", "KVD", v.KVD)
		fmt.Fprintf(w, "%-16s %s %s  (versus minus fake; paired bootstrap, %.1f%% of replicates above 0)\n", "difference", name, v.FrechetDiff.Interval, 100*v.FrechetDiff.Above)
		fmt.Fprintf(w, "%-16s KVD %s  (%.1f%% above 0)\n", "difference", v.KVDDiff.Interval, 100*v.KVDDiff.Above)
	}
	if r.RankDeficient {
		fmt.Fprintf(w, "warning          fewer clips than feature dimensions: the covariance is singular, prefer KVD\n")
	}
	fmt.Fprintf(w, "throughput       %.1f clips/s feature extraction; %.1f s in all\n", r.ClipsPerSec, r.Seconds)
}

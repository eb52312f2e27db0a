package mm

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/omniar/omniar/internal/atomicfile"
	"github.com/omniar/omniar/omni"
	"github.com/omniar/omniar/tokenizers"
	"github.com/omniar/omniar/unified"
)

// Routing modalities: the tag of a position for the load statistics.
var routingModalities = []string{"text", "image", "video", "audio"}

func routingTag(task string, p unified.Position) int {
	switch {
	case p.Mod == tokenizers.Audio:
		return 3
	case p.Mod == tokenizers.Visual && task == omni.TaskVideoQA:
		return 2
	case p.Mod == tokenizers.Visual:
		return 1
	}
	return 0
}

// ModalityLoad is one modality's routing.
type ModalityLoad struct {
	Tokens  int         `json:"tokens"`              // positions routed (per layer)
	Load    [][]float64 `json:"load"`                // [layer][expert] share of the modality's selections
	Entropy []float64   `json:"entropy"`             // per layer, of Load, in nats (uniform = ln E)
	MinLoad float64     `json:"min_load_vs_uniform"` // smallest expert share ÷ uniform share, over layers
}

// RoutingReport is `omniar inspect routing`'s JSON.
type RoutingReport struct {
	Model      string                   `json:"model"`
	Split      string                   `json:"split"`
	Experts    int                      `json:"experts"`
	TopK       int                      `json:"top_k"`
	Modalities map[string]*ModalityLoad `json:"modalities"`
	// Overlap[a|b] is the histogram intersection Σ_e min(load_a, load_b)
	// averaged over layers: 1 = the same experts, 0 = disjoint.
	Overlap map[string]float64 `json:"overlap"`
	// All is every position together; Dead counts experts below 10% of
	// the uniform share in some layer.
	All  *ModalityLoad `json:"all"`
	Dead int           `json:"dead_experts"`
}

// Routing runs batches of every task of the data split through the model
// with positions tagged by modality, collects the expert loads and writes
// them to out (.png and .json); model names the weights in the report.
func Routing(ctx context.Context, m *omni.Model, d *Data, batches, batch int, model, out string) (*RoutingReport, error) {
	c := m.Cfg.Trunk
	if c.Experts == 0 {
		return nil, fmt.Errorf("routing: the model is dense (no routed experts)")
	}
	counts := map[int][][]float64{}
	total := make([][]float64, c.Layers)
	for l := range total {
		total[l] = make([]float64, c.Experts)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for _, task := range omni.Tasks {
		if task != omni.TaskLM && len(d.ByTask[task]) == 0 {
			continue
		}
		net, err := omni.NetFrom(m, []omni.Slot{{Task: task, Batch: batch}}, false)
		if err != nil {
			return nil, err
		}
		if err := net.SetTags(routingTag); err != nil {
			net.Close()
			return nil, err
		}
		for range batches {
			if err := ctx.Err(); err != nil {
				net.Close()
				return nil, err
			}
			exs, err := d.Sample(task, batch, m.Cfg.LMSeq, rng)
			if err != nil {
				net.Close()
				return nil, err
			}
			b := omni.Batch{}
			for _, ex := range exs {
				s, err := m.Cfg.Layout(m.V, ex)
				if err != nil {
					net.Close()
					return nil, err
				}
				b[task] = append(b[task], s)
			}
			if _, err := net.Run(b); err != nil {
				net.Close()
				return nil, err
			}
			for l, ld := range net.Trunk.Loads() {
				for tag, sel := range ld.ByTag {
					if counts[tag] == nil {
						counts[tag] = make([][]float64, c.Layers)
						for i := range counts[tag] {
							counts[tag][i] = make([]float64, c.Experts)
						}
					}
					for e, v := range sel {
						counts[tag][l][e] += float64(v)
						total[l][e] += float64(v)
					}
				}
			}
		}
		net.Close()
	}
	r := &RoutingReport{Model: model, Split: d.Split, Experts: c.Experts, TopK: c.TopK, Modalities: map[string]*ModalityLoad{}, Overlap: map[string]float64{}}
	for tag, cnt := range counts {
		r.Modalities[routingModalities[tag]] = summarize(cnt, c.TopK)
	}
	r.All = summarize(total, c.TopK)
	for l := range total {
		for e := range total[l] {
			if r.All.Load[l][e]*float64(c.Experts) < 0.1 {
				r.Dead++
			}
		}
	}
	names := make([]string, 0, len(r.Modalities))
	for n := range r.Modalities {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, a := range names {
		for _, b := range names[i+1:] {
			var ov float64
			for l := range c.Layers {
				for e := range c.Experts {
					ov += math.Min(r.Modalities[a].Load[l][e], r.Modalities[b].Load[l][e])
				}
			}
			r.Overlap[a+"|"+b] = ov / float64(c.Layers)
		}
	}
	if err := writeRouting(out, r, names); err != nil {
		return nil, err
	}
	return r, nil
}

func summarize(cnt [][]float64, topK int) *ModalityLoad {
	ml := &ModalityLoad{MinLoad: math.Inf(1)}
	for l, row := range cnt {
		var s float64
		for _, v := range row {
			s += v
		}
		if l == 0 {
			ml.Tokens = int(s) / max(1, topK)
		}
		p := make([]float64, len(row))
		var h float64
		for e, v := range row {
			if s > 0 {
				p[e] = v / s
			}
			if p[e] > 0 {
				h -= p[e] * math.Log(p[e])
			}
			ml.MinLoad = math.Min(ml.MinLoad, p[e]*float64(len(row)))
		}
		ml.Load = append(ml.Load, p)
		ml.Entropy = append(ml.Entropy, h)
	}
	return ml
}

type loadGrid [][]float64

func (g loadGrid) Dims() (c, r int)   { return len(g[0]), len(g) }
func (g loadGrid) Z(c, r int) float64 { return g[r][c] }
func (g loadGrid) X(c int) float64    { return float64(c) }
func (g loadGrid) Y(r int) float64    { return float64(r) }

// writeRouting writes base.json and base.png (one heatmap panel a modality).
func writeRouting(base string, r *RoutingReport, names []string) error {
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(base+".json", b); err != nil {
		return err
	}
	const w, h = 4 * vg.Inch, 3 * vg.Inch
	img := vgimg.New(w*vg.Length(len(names)), h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: len(names)}
	hi := 0.0
	for _, n := range names {
		for _, row := range r.Modalities[n].Load {
			for _, v := range row {
				hi = math.Max(hi, v)
			}
		}
	}
	for i, n := range names {
		p := plot.New()
		p.Title.Text = fmt.Sprintf("%s (%d positions)", n, r.Modalities[n].Tokens)
		p.X.Label.Text = "expert"
		p.Y.Label.Text = "layer"
		pal := moreland.SmoothBlueRed().Palette(64)
		hm := plotter.NewHeatMap(loadGrid(r.Modalities[n].Load), pal)
		hm.Min, hm.Max = 0, hi
		p.Add(hm)
		p.Draw(tiles.At(dc, i, 0))
	}
	err = atomicfile.Write(base+".png", func(f io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(f)
		return err
	})
	if err != nil {
		return fmt.Errorf("plot %s.png: %w", base, err)
	}
	return nil
}

// TokensDir is the token files directory a model's evaluation or
// routing reads: dir if given, else the one the model (ckpt, its
// metadata meta) was trained with. The directory must be there: a model
// records the absolute directory of the machine it was trained on.
func TokensDir(dir, ckpt string, meta map[string]string) (string, error) {
	const write = "`omniar train unified --config configs/small.json --tokens DIR --tokenize-only` writes them"
	if dir != "" {
		if !exists(dir) {
			return "", fmt.Errorf("token files %s are not there: %s", dir, write)
		}
		return dir, nil
	}
	var tc TrainConfig
	if json.Unmarshal([]byte(meta["train_config"]), &tc) != nil || tc.Tokens == "" {
		return "", fmt.Errorf("no token files: pass --tokens (the metadata of %s does not name them)", ckpt)
	}
	if !exists(tc.Tokens) {
		return "", fmt.Errorf("token files %s (%s was trained with them) are not on this machine: pass --tokens DIR; %s", tc.Tokens, ckpt, write)
	}
	return tc.Tokens, nil
}

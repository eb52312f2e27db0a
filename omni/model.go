package omni

import (
	"fmt"
	"slices"

	G "gorgonia.org/gorgonia"

	"github.com/omniar/omniar/msvq"
	"github.com/omniar/omniar/nn"
	"github.com/omniar/omniar/tokenizers"
	"github.com/omniar/omniar/unified"
)

// Media are the tokenizers' code vectors the inputs are built from (state,
// not parameters; stored in the weights file so a model reads token files
// without the tokenizers): the visual quantizer's decoder and the audio
// codebooks of the first AudioDepths depths [depth, code, latent].
type Media struct {
	Vis        *msvq.Decoder
	AudioBooks []float32
}

// Check reports media that do not fit cfg.
func (md Media) Check(c Config) error {
	q := c.Quant
	if md.Vis == nil || len(md.Vis.Codebook) != q.Codes*q.Dim || len(md.Vis.PhiW) != q.Dim*q.Dim*9 {
		return fmt.Errorf("omni: visual quantizer does not match %d codes × %d", q.Codes, q.Dim)
	}
	if n := c.AudioDepths * c.Vocab.AudioCodes * c.AudioLatent; len(md.AudioBooks) != n {
		return fmt.Errorf("omni: %d audio codebook values, want %d", len(md.AudioBooks), n)
	}
	return nil
}

// Model is the parameters: the token table (tied head over the global
// vocabulary), the visual and audio input projections, an embedding of
// the scale or depth of a vector position, and the trunk.
type Model struct {
	Cfg   Config
	V     tokenizers.Vocab
	Media Media
	Trunk *unified.Trunk
	Text  *unified.TextHead
	VisIn *nn.Linear    // [D, Quant.Dim]
	AudIn *nn.Linear    // [D, AudioLatent]
	Kind  *nn.Embedding // [Scales + AudioDepths, D]
	// Glance reads a frame's whole finest grid into its first row (nil
	// without Config.Glance): [Side²·Quant.Dim] → D → GELU → D, the output
	// layer zero-initialised so that it grows into a trained model.
	Glance *Glance

	b      *nn.Builder
	params []*nn.Param
}

// New makes the parameters (seeded) on a new graph.
func New(cfg Config, md Media, seed uint64) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := md.Check(cfg); err != nil {
		return nil, err
	}
	return build(cfg, md, nn.NewBuilder(seed))
}

// build makes the parameters with b.
func build(cfg Config, md Media, b *nn.Builder) (*Model, error) {
	v, _ := tokenizers.New(cfg.Vocab)
	d := cfg.Trunk.Dim
	m := &Model{Cfg: cfg, V: v, Media: md, b: b,
		Text:  unified.NewTextHead(b, "text", v.Size(), d, true),
		VisIn: nn.NewLinear(b, "vis_in", cfg.Quant.Dim, d, true),
		AudIn: nn.NewLinear(b, "aud_in", cfg.AudioLatent, d, true),
		Kind:  &nn.Embedding{W: b.Sub("kind_emb").Param("weight", false, nn.Normal(0.02), len(cfg.Quant.Scales)+cfg.AudioDepths, d)},
	}
	if cfg.Glance {
		side := cfg.Quant.Side()
		out := b.Sub("glance_out")
		m.Glance = &Glance{In: nn.NewLinear(b, "glance_in", side*side*cfg.Quant.Dim, d, true),
			Out: &nn.Linear{W: out.Param("weight", true, nn.Const(0), d, d), B: out.Param("bias", false, nn.Const(0), d)}}
	}
	var err error
	if m.Trunk, err = unified.NewTrunk(b, "trunk", cfg.Trunk); err != nil {
		return nil, err
	}
	m.params = b.Params()
	return m, nil
}

// Params are the trainable tensors.
func (m *Model) Params() []*nn.Param { return m.params }

// Weights copies the parameters by name.
func (m *Model) Weights() map[string][]float32 {
	w := map[string][]float32{}
	for _, p := range m.params {
		w[p.Name()] = append([]float32(nil), p.Data()...)
	}
	return w
}

// Load copies weights in by name; every parameter must be there.
func (m *Model) Load(w map[string][]float32) error {
	if err := nn.LoadParams(m.params, w); err != nil {
		return fmt.Errorf("omni %w", err)
	}
	return nil
}

// Inputs are a sequence's inputs in layout order: token ids of the token
// rows, vectors of the visual and audio rows, and the kind (scale, or
// Scales + depth) of each vector row.
type Inputs struct {
	Tokens []int
	Vis    []float32 // [visual rows, Quant.Dim]
	Aud    []float32 // [audio rows, AudioLatent]
	Kinds  []int     // visual rows, then audio rows
	// Glance is the finest grid of every frame of an understanding
	// question ([frames, Side²·Quant.Dim], cells in raster order, with
	// Config.Glance) and GlanceRow the visual row of each frame's 1×1 scale.
	Glance    []float32
	GlanceRow []int
}

// Inputs builds the inputs of s. In generation a visual row of scale s
// sees the upsampled running sum of its frame's scales < s at its cell and
// an audio row of depth d the sum of its frame's code vectors of depths
// < d: what is known before the group is predicted. In understanding
// nothing is predicted, so a row also sees its own scale (depth): with the
// generation inputs the finest scale and the last depth never reached the
// model.
func (m *Model) Inputs(s *Sequence) (Inputs, error) {
	c := m.Cfg
	seen := 0 // scales (depths) of its own a row sees beyond the earlier ones
	if Understanding(s.Ex.Task) {
		seen = 1
	}
	var in Inputs
	var visKinds, audKinds []int
	var fhat []float32
	var next []float32 // NextInput of the current frame and scale [Dim, k, k]
	frame, scale, summed := -1, -1, 0
	for _, p := range s.L.Pos {
		switch {
		case p.Kind == unified.KindToken:
			in.Tokens = append(in.Tokens, p.Token)
		case p.Mod == tokenizers.Visual:
			if p.Frame != frame {
				fhat = make([]float32, c.Quant.Dim*c.Quant.Side()*c.Quant.Side())
				frame, scale, summed = p.Frame, -1, 0
			}
			if p.Scale != scale {
				maps := c.maps(s.Ex.Visual[frame])
				for ; summed < p.Scale+seen; summed++ {
					z, err := m.Media.Vis.Contribution(summed, maps[summed])
					if err != nil {
						return in, err
					}
					for i, v := range z {
						fhat[i] += v
					}
				}
				scale = p.Scale
				next = m.Media.Vis.NextInput(fhat, scale)
			}
			k := c.Quant.Scales[p.Scale]
			cell := p.Y*k + p.X
			for ch := range c.Quant.Dim {
				in.Vis = append(in.Vis, next[ch*k*k+cell])
			}
			visKinds = append(visKinds, p.Scale)
		default: // audio
			t := p.Frame*c.ChunkLen + p.Y
			row := make([]float32, c.AudioLatent)
			for d := 0; d < p.Scale+seen; d++ {
				code := s.Ex.Audio[t][d]
				if code < 0 || code >= c.Vocab.AudioCodes {
					return in, fmt.Errorf("audio frame %d depth %d: code %d outside [0, %d)", t, d, code, c.Vocab.AudioCodes)
				}
				e := m.Media.AudioBooks[(d*c.Vocab.AudioCodes+code)*c.AudioLatent:]
				for j := range row {
					row[j] += e[j]
				}
			}
			in.Aud = append(in.Aud, row...)
			audKinds = append(audKinds, len(c.Quant.Scales)+p.Scale)
		}
	}
	in.Kinds = append(visKinds, audKinds...)
	if c.Glance && seen == 1 {
		n, fine := c.Quant.Tokens(), c.Quant.Side()*c.Quant.Side()
		for f := 0; f+n <= len(visKinds); f += n { // understanding frames are whole
			in.Glance = append(in.Glance, in.Vis[(f+n-fine)*c.Quant.Dim:(f+n)*c.Quant.Dim]...)
			in.GlanceRow = append(in.GlanceRow, f)
		}
	}
	return in, nil
}

// Glance is the MLP of Config.Glance.
type Glance struct{ In, Out *nn.Linear }

// Forward: grids [N, Side²·Dim] → [N, D].
func (g *Glance) Forward(x *G.Node) (*G.Node, error) {
	h, err := g.In.Forward(x)
	if err != nil {
		return nil, err
	}
	if h, err = nn.GELU(h); err != nil {
		return nil, err
	}
	return g.Out.Forward(h)
}

// Apply is Forward on one grid.
func (g *Glance) Apply(x []float32) []float32 {
	h := g.In.Apply(x, 1)
	nn.GELUInPlace(h)
	return g.Out.Apply(h, 1)
}

// embedRows: the inputs of rows [lo, hi) of s as [hi−lo, D] (the inference
// path's embedding; the graph's is Net.embed).
func (m *Model) embedRows(s *Sequence, in Inputs, lo, hi int) []float32 {
	d := m.Cfg.Trunk.Dim
	out := make([]float32, 0, (hi-lo)*d)
	ti, vi, ai := 0, 0, 0
	nv := len(in.Vis) / m.Cfg.Quant.Dim
	for i, p := range s.L.Pos[:hi] {
		var row []float32
		switch {
		case p.Kind == unified.KindToken:
			if i >= lo {
				row = m.Text.Emb.Rows([]int{in.Tokens[ti]})
			}
			ti++
		case p.Mod == tokenizers.Visual:
			if i >= lo {
				qd := m.Cfg.Quant.Dim
				row = add(m.VisIn.Apply(in.Vis[vi*qd:(vi+1)*qd], 1), m.Kind.Rows([]int{in.Kinds[vi]}))
				if f := slices.Index(in.GlanceRow, vi); f >= 0 {
					gd := len(in.Glance) / len(in.GlanceRow)
					row = add(row, m.Glance.Apply(in.Glance[f*gd:(f+1)*gd]))
				}
			}
			vi++
		default:
			if i >= lo {
				ad := m.Cfg.AudioLatent
				row = add(m.AudIn.Apply(in.Aud[ai*ad:(ai+1)*ad], 1), m.Kind.Rows([]int{in.Kinds[nv+ai]}))
			}
			ai++
		}
		out = append(out, row...)
	}
	return out
}

func add(a, b []float32) []float32 {
	for i := range a {
		a[i] += b[i]
	}
	return a
}

// Slot is one task's part of a compiled step: Batch sequences of the
// task's template.
type Slot struct {
	Task  string `json:"task"`
	Batch int    `json:"batch"`
}

// slotGraph holds a slot's inputs and outputs.
type slotGraph struct {
	Slot
	tmpl       *Sequence
	tok        *nn.Ints  // [B·tokens]
	vis        *nn.Input // [B·visual, Quant.Dim] or nil
	aud        *nn.Input // [B·audio, AudioLatent] or nil
	kind       *nn.Ints  // [B·(visual + audio)]
	glance     *nn.Input // [B·frames, Side²·Quant.Dim] or nil (Config.Glance, understanding)
	glanceRow  *nn.Ints  // [B·frames] each frame's 1×1 row among the B·visual rows
	order      *nn.Ints  // [B·T] rows of [tokens; visual; audio] in sequence order
	lossRow    *nn.Ints  // [B·loss rows]
	targets    *nn.Ints
	ce         *G.Node
	ceV        G.Value
	nt, nv, na int
}

// Template returns a sequence of the task's template with placeholder
// content (for shapes, masks and rope positions).
func (m *Model) Template(task string) (*Sequence, error) {
	c := m.Cfg
	ex := Example{Task: task, Text: []int{tokenizers.Pad}, Answer: []int{}}
	vis := make([][]int, c.VideoFrames)
	for f := range vis {
		vis[f] = make([]int, c.Quant.Tokens())
	}
	switch task {
	case TaskImageQA, TaskImageGen:
		ex.Visual = vis[:1]
	case TaskVideoQA:
		ex.Visual = vis
	case TaskAudioQA:
		ex.Audio = make([][]int, c.AudioFrames)
		for i := range ex.Audio {
			ex.Audio[i] = make([]int, c.AudioDepths)
		}
	}
	return c.Layout(m.V, ex)
}

func (m *Model) buildSlot(sl Slot) (*slotGraph, error) {
	if sl.Batch < 1 {
		return nil, fmt.Errorf("slot %s: batch %d", sl.Task, sl.Batch)
	}
	tmpl, err := m.Template(sl.Task)
	if err != nil {
		return nil, err
	}
	b, t := sl.Batch, tmpl.L.Len()
	g := &slotGraph{Slot: sl, tmpl: tmpl}
	for _, p := range tmpl.L.Pos {
		switch {
		case p.Kind == unified.KindToken:
			g.nt++
		case p.Mod == tokenizers.Visual:
			g.nv++
		default:
			g.na++
		}
	}
	g.tok, g.kind = nn.NewInts(b*g.nt), nn.NewInts(b*(g.nv+g.na))
	g.order, g.lossRow = nn.NewInts(b*t), nn.NewInts(b*len(tmpl.Loss))
	g.targets = nn.NewInts(b * len(tmpl.Loss))
	// Row order of the concatenation: all token rows, all visual rows, all audio rows.
	for s := range b {
		ti, vi, ai := 0, 0, 0
		for i, p := range tmpl.L.Pos {
			switch {
			case p.Kind == unified.KindToken:
				g.order.V[s*t+i] = s*g.nt + ti
				ti++
			case p.Mod == tokenizers.Visual:
				g.order.V[s*t+i] = b*g.nt + s*g.nv + vi
				vi++
			default:
				g.order.V[s*t+i] = b*(g.nt+g.nv) + s*g.na + ai
				ai++
			}
		}
		for j, r := range tmpl.Loss {
			g.lossRow.V[s*len(tmpl.Loss)+j] = s*t + r
		}
	}
	return g, nil
}

// forward wires a slot: the trunk's hidden states, the cross-entropy of
// the scored rows and the balancing loss.
func (m *Model) forward(g *slotGraph) (aux *G.Node, err error) {
	b, t := g.Batch, g.tmpl.L.Len()
	parts := []*G.Node{}
	te, err := m.Text.Embed(g.tok)
	if err != nil {
		return nil, err
	}
	parts = append(parts, te)
	var vecs []*G.Node
	if g.nv > 0 {
		g.vis = m.b.Input(fmt.Sprintf("%s_vis", g.Task), b*g.nv, m.Cfg.Quant.Dim)
		v, err := m.VisIn.Forward(g.vis.Node)
		if err != nil {
			return nil, err
		}
		if m.Glance != nil && Understanding(g.Task) {
			frames := g.nv / m.Cfg.Quant.Tokens()
			side := m.Cfg.Quant.Side()
			g.glance = m.b.Input(fmt.Sprintf("%s_glance", g.Task), b*frames, side*side*m.Cfg.Quant.Dim)
			g.glanceRow = nn.NewInts(b * frames)
			gl, err := m.Glance.Forward(g.glance.Node)
			if err != nil {
				return nil, err
			}
			if gl, err = nn.ScatterAdd(gl, g.glanceRow, b*g.nv); err != nil {
				return nil, err
			}
			if v, err = G.Add(v, gl); err != nil {
				return nil, err
			}
		}
		vecs = append(vecs, v)
	}
	if g.na > 0 {
		g.aud = m.b.Input(fmt.Sprintf("%s_aud", g.Task), b*g.na, m.Cfg.AudioLatent)
		a, err := m.AudIn.Forward(g.aud.Node)
		if err != nil {
			return nil, err
		}
		vecs = append(vecs, a)
	}
	if len(vecs) > 0 {
		v := vecs[0]
		if len(vecs) == 2 {
			if v, err = G.Concat(0, vecs[0], vecs[1]); err != nil {
				return nil, err
			}
		}
		// the kind ids are per sample [visual…, audio…]; the rows are
		// [all visual; all audio]: kind is filled in that row order.
		k, err := m.Kind.Forward(g.kind)
		if err != nil {
			return nil, err
		}
		if v, err = G.Add(v, k); err != nil {
			return nil, err
		}
		parts = append(parts, v)
	}
	x := parts[0]
	if len(parts) > 1 {
		if x, err = G.Concat(0, parts...); err != nil {
			return nil, err
		}
	}
	if x, err = nn.Gather(x, g.order); err != nil {
		return nil, err
	}
	rope, err := m.Trunk.NewRope(b * t)
	if err != nil {
		return nil, err
	}
	pos, err := g.tmpl.L.RopePositions(0, t, unified.NumAxes)
	if err != nil {
		return nil, err
	}
	all := make([]float64, 0, b*len(pos))
	for range b {
		all = append(all, pos...)
	}
	if err := rope.SetPositions(all); err != nil {
		return nil, err
	}
	h, aux, err := m.Trunk.Forward(x, b, t, rope, g.tmpl.L.Mask(), nil)
	if err != nil {
		return nil, err
	}
	hl, err := nn.Gather(h, g.lossRow)
	if err != nil {
		return nil, err
	}
	logits, err := m.Text.Logits(hl)
	if err != nil {
		return nil, err
	}
	if g.ce, err = nn.CrossEntropy(logits, g.targets); err != nil {
		return nil, err
	}
	G.Read(g.ce, &g.ceV)
	return aux, nil
}

// set loads a batch of sequences into the slot's inputs.
func (m *Model) set(g *slotGraph, seqs []*Sequence) error {
	if len(seqs) != g.Batch {
		return fmt.Errorf("slot %s: %d sequences for a batch of %d", g.Task, len(seqs), g.Batch)
	}
	var vis, aud, glance []float32
	vk := make([]int, 0, g.Batch*g.nv)
	ak := make([]int, 0, g.Batch*g.na)
	nl := len(g.tmpl.Loss)
	for s, sq := range seqs {
		if sq.L.Len() != g.tmpl.L.Len() || sq.L.Groups != g.tmpl.L.Groups || len(sq.Loss) != nl {
			return fmt.Errorf("slot %s: sequence %d does not fit the template (%d positions, want %d)", g.Task, s, sq.L.Len(), g.tmpl.L.Len())
		}
		in, err := m.Inputs(sq)
		if err != nil {
			return fmt.Errorf("slot %s sequence %d: %w", g.Task, s, err)
		}
		copy(g.tok.V[s*g.nt:], in.Tokens)
		vis = append(vis, in.Vis...)
		aud = append(aud, in.Aud...)
		vk = append(vk, in.Kinds[:g.nv]...)
		ak = append(ak, in.Kinds[g.nv:]...)
		copy(g.targets.V[s*nl:], sq.Targets())
		if g.glance != nil {
			f := len(g.glanceRow.V) / g.Batch
			if len(in.GlanceRow) != f {
				return fmt.Errorf("slot %s sequence %d: %d glanced frames, want %d", g.Task, s, len(in.GlanceRow), f)
			}
			for j, r := range in.GlanceRow {
				g.glanceRow.V[s*f+j] = s*g.nv + r
			}
			glance = append(glance, in.Glance...)
		}
	}
	if g.glance != nil {
		if err := g.glance.Set(glance); err != nil {
			return err
		}
	}
	copy(g.kind.V, append(vk, ak...))
	if g.vis != nil {
		if err := g.vis.Set(vis); err != nil {
			return err
		}
	}
	if g.aud != nil {
		return g.aud.Set(aud)
	}
	return nil
}

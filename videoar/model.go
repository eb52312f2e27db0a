package videoar

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/omniar/omniar/nn"
	"github.com/omniar/omniar/unified"
)

// model is the generator's parameters: embeddings of the three kinds of
// input, the prompt conditioning, the shared trunk and the code head.
type model struct {
	cfg   Config
	text  *nn.Embedding // [Vocab, D] prompt tokens
	vis   *nn.Linear    // [Dim → D] running sum of earlier scales (raster: the previous code's vector)
	ctx   *nn.Linear    // [Past·Local²·Dim → D] earlier frames around the cell; nil in raster order
	pos   *nn.Embedding // [Frames·Scales, D] which frame and scale (the start token of scale 0)
	cond1 *nn.Linear    // pooled prompt → D
	cond2 *nn.Linear    // D → D
	trunk *unified.Trunk
	head  *nn.Linear // [D → Codes]
}

func newModel(b *nn.Builder, cfg Config) (*model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d, q := cfg.Trunk.Dim, cfg.Quant
	// parameters are drawn from b's generator in creation order: keep it
	m := &model{cfg: cfg,
		text: &nn.Embedding{W: b.Sub("text_emb").Param("weight", false, nn.Normal(0.02), cfg.Vocab, d)},
		vis:  nn.NewLinear(b, "vis_in", q.Dim, d, true),
	}
	if !cfg.Raster {
		m.ctx = nn.NewLinear(b, "ctx_in", cfg.PastFrames()*cfg.Local*cfg.Local*q.Dim, d, false)
	}
	m.pos = &nn.Embedding{W: b.Sub("pos_emb").Param("weight", false, nn.Normal(0.02), cfg.Frames*len(q.Scales), d)}
	m.cond1 = nn.NewLinear(b, "cond.0", d, d, true)
	m.cond2 = nn.NewLinear(b, "cond.1", d, d, true)
	m.head = nn.NewLinear(b, "head", d, q.Codes, false)
	var err error
	if m.trunk, err = unified.NewTrunk(b, "trunk", cfg.Trunk); err != nil {
		return nil, err
	}
	return m, nil
}

// graph holds one compiled shape: batch × layout, its inputs and outputs.
type graph struct {
	l      Layout
	batch  int
	text   *nn.Ints  // [B·Text] ids of the token positions
	pool   *nn.Input // [B, B·Text] mean over each sample's real prompt tokens
	vis    *nn.Input // [B·Visual, Dim]
	ctx    *nn.Input // [B·Visual, Past·Local²·Dim]; nil in raster order
	posIDs *nn.Ints  // [B·Visual] frame·Scales + scale
	order  *nn.Ints  // [B·Len] rows of [text; visual] in sequence order
	visRow *nn.Ints  // [B·Visual] rows of the visual positions in the sequence
	rope   *nn.Rope
	mask   *nn.Mask
	logits *G.Node // [B·Visual, Codes]
	aux    *G.Node // balancing loss or nil
}

// build wires the forward pass for batch samples of layout l.
func (m *model) build(g *G.ExprGraph, b *nn.Builder, batch int, l Layout) (*graph, error) {
	q := m.cfg.Quant
	nt := len(l.Text)
	gr := &graph{l: l, batch: batch, mask: l.Mask(),
		text:   nn.NewInts(batch * nt),
		pool:   b.Input(fmt.Sprintf("pool_%d", l.Frames), batch, batch*nt),
		vis:    b.Input(fmt.Sprintf("vis_%d", l.Frames), batch*l.Visual(), q.Dim),
		posIDs: nn.NewInts(batch * l.Visual()),
		order:  nn.NewInts(batch * l.Len()),
		visRow: nn.NewInts(batch * l.Visual()),
	}
	if m.ctx != nil {
		gr.ctx = b.Input(fmt.Sprintf("ctx_%d", l.Frames), batch*l.Visual(), m.cfg.PastFrames()*m.cfg.Local*m.cfg.Local*q.Dim)
	}
	gr.fixedIndices()
	var err error
	if gr.rope, err = m.trunk.NewRope(batch * l.Len()); err != nil {
		return nil, err
	}
	pos, err := l.Positions(0, l.Len(), len(m.cfg.Trunk.RopeSplit))
	if err != nil {
		return nil, err
	}
	all := make([]float64, 0, batch*len(pos))
	for range batch {
		all = append(all, pos...)
	}
	if err := gr.rope.SetPositions(all); err != nil {
		return nil, err
	}
	x, cond, err := m.embed(gr)
	if err != nil {
		return nil, err
	}
	h, aux, err := m.trunk.Forward(x, batch, l.Len(), gr.rope, gr.mask, cond)
	if err != nil {
		return nil, err
	}
	hv, err := nn.Gather(h, gr.visRow)
	if err != nil {
		return nil, err
	}
	if gr.logits, err = m.head.Forward(hv); err != nil {
		return nil, err
	}
	gr.aux = aux
	return gr, nil
}

// embed: the sequence rows x [B·Len, D] and the conditioning [B, D].
func (m *model) embed(gr *graph) (x, cond *G.Node, err error) {
	te, err := m.text.Forward(gr.text) // [B·Text, D]
	if err != nil {
		return nil, nil, err
	}
	v, err := m.vis.Forward(gr.vis.Node)
	if err != nil {
		return nil, nil, err
	}
	if m.ctx != nil {
		c, err := m.ctx.Forward(gr.ctx.Node)
		if err != nil {
			return nil, nil, err
		}
		if v, err = G.Add(v, c); err != nil {
			return nil, nil, err
		}
	}
	p, err := m.pos.Forward(gr.posIDs)
	if err != nil {
		return nil, nil, err
	}
	if v, err = G.Add(v, p); err != nil {
		return nil, nil, err
	}
	both, err := G.Concat(0, te, v) // [B·Text + B·V, D]
	if err != nil {
		return nil, nil, err
	}
	if x, err = nn.Gather(both, gr.order); err != nil {
		return nil, nil, err
	}
	pooled, err := G.Mul(gr.pool.Node, te) // [B, D]
	if err != nil {
		return nil, nil, err
	}
	if cond, err = m.cond1.Forward(pooled); err != nil {
		return nil, nil, err
	}
	if cond, err = nn.SiLU(cond); err != nil {
		return nil, nil, err
	}
	cond, err = m.cond2.Forward(cond)
	return x, cond, err
}

// fixedIndices fills the index inputs that depend only on the shape.
func (gr *graph) fixedIndices() {
	l, b := gr.l, gr.batch
	nt, v, t := len(l.Text), l.Visual(), l.Len()
	for s := range b {
		for i, row := range l.Text {
			gr.order.V[s*t+row] = s*nt + i
		}
		for j, row := range l.Vis {
			gr.order.V[s*t+row] = b*nt + s*v + j
			gr.visRow.V[s*v+j] = s*t + row
			c := l.Cell(j)
			gr.posIDs.V[s*v+j] = c.Frame*len(l.Scales) + c.Scale
		}
	}
}

// set loads a batch of inputs into the graph.
func (gr *graph) set(xs []Inputs) error {
	if len(xs) != gr.batch {
		return fmt.Errorf("videoar: %d samples for a batch of %d", len(xs), gr.batch)
	}
	nt := len(gr.l.Text)
	pool := make([]float32, gr.batch*gr.batch*nt)
	vis := make([]float32, 0, len(gr.vis.Node.Value().Data().([]float32)))
	var ctx []float32
	for s, x := range xs {
		if len(x.Text) != nt {
			return fmt.Errorf("videoar: %d token ids, the layout has %d", len(x.Text), nt)
		}
		copy(gr.text.V[s*nt:], x.Text)
		for i := 1; i <= x.NText; i++ { // after <bos>
			pool[s*gr.batch*nt+s*nt+i] = 1 / float32(x.NText)
		}
		vis = append(vis, x.Vis...)
		ctx = append(ctx, x.Ctx...)
	}
	if err := gr.pool.Set(pool); err != nil {
		return err
	}
	if err := gr.vis.Set(vis); err != nil {
		return err
	}
	if gr.ctx == nil {
		return nil
	}
	return gr.ctx.Set(ctx)
}

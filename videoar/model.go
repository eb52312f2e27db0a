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
	ctx   *nn.Linear    // [Local²·Dim → D] previous frame around the cell; nil in raster order
	pos   *nn.Embedding // [Frames·Scales, D] which frame and scale (the start token of scale 0)
	cond1 *nn.Linear    // pooled prompt → D
	cond2 *nn.Linear    // D → D
	trunk *unified.Trunk
	head  *nn.Linear // [D → Codes]
	// the phrase encoder (Config.Phrase; nil without): every real prompt
	// token's window of Phrase RMS-normalised embeddings → SiLU(phrase1) →
	// mean over the tokens → phrase2, added to the mean embedding. The
	// norm matters: the embeddings are small (rms 0.02), and phrase1 near
	// zero is nearly linear, and a mean of linear windows is again a bag
	// of words (a first run without it learnt nothing in 400 steps).
	// phrase2 starts at zero, so a model grown from one without the
	// encoder starts as that model.
	phraseNorm *nn.RMSNorm
	phrase1    *nn.Linear // [Phrase·D → D]
	phrase2    *nn.Linear // [D → D]
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
		m.ctx = nn.NewLinear(b, "ctx_in", cfg.Local*cfg.Local*q.Dim, d, false)
	}
	m.pos = &nn.Embedding{W: b.Sub("pos_emb").Param("weight", false, nn.Normal(0.02), cfg.Frames*len(q.Scales), d)}
	m.cond1 = nn.NewLinear(b, "cond.0", d, d, true)
	m.cond2 = nn.NewLinear(b, "cond.1", d, d, true)
	m.head = nn.NewLinear(b, "head", d, q.Codes, false)
	var err error
	if m.trunk, err = unified.NewTrunk(b, "trunk", cfg.Trunk); err != nil {
		return nil, err
	}
	if cfg.Phrase > 0 {
		m.phraseNorm = nn.NewRMSNorm(b, "phrase.norm", d, cfg.Trunk.NormEps)
		m.phrase1 = nn.NewLinear(b, "phrase.0", cfg.Phrase*d, d, true)
		s := b.Sub("phrase.1")
		m.phrase2 = &nn.Linear{W: s.Param("weight", true, nn.Const(0), d, d), B: s.Param("bias", false, nn.Const(0), d)}
	}
	return m, nil
}

// graph holds one compiled shape: batch × layout, its inputs and outputs.
type graph struct {
	l      Layout
	batch  int
	text   *nn.Ints  // [B·Text] ids of the token positions
	pool   *nn.Input // [B, B·Text] mean over each sample's real prompt tokens
	window *nn.Ints  // [B·Text·Phrase] rows of each token's window (B·Text: the zero row); nil without a phrase encoder
	zero   *nn.Input // [1, D] zeros, the window's padding
	vis    *nn.Input // [B·Visual, Dim]
	ctx    *nn.Input // [B·Visual, Local²·Dim]; nil in raster order
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
		gr.ctx = b.Input(fmt.Sprintf("ctx_%d", l.Frames), batch*l.Visual(), m.cfg.Local*m.cfg.Local*q.Dim)
	}
	if m.phrase1 != nil {
		gr.window = nn.NewInts(batch * nt * m.cfg.Phrase)
		gr.zero = b.Input(fmt.Sprintf("phrase_zero_%d", l.Frames), 1, m.cfg.Trunk.Dim) // never set: zeros
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
	if m.phrase1 != nil {
		ph, err := m.phrases(gr, te)
		if err != nil {
			return nil, nil, err
		}
		if pooled, err = G.Add(pooled, ph); err != nil {
			return nil, nil, err
		}
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

// phrases is the phrase encoder's output [B, D] from the prompt
// embeddings te [B·Text, D].
func (m *model) phrases(gr *graph, te *G.Node) (*G.Node, error) {
	te, err := m.phraseNorm.Forward(te)
	if err != nil {
		return nil, err
	}
	rows, err := G.Concat(0, te, gr.zero.Node) // [B·Text + 1, D]
	if err != nil {
		return nil, err
	}
	w, err := nn.Gather(rows, gr.window) // [B·Text·Phrase, D]
	if err != nil {
		return nil, err
	}
	d := m.cfg.Trunk.Dim
	if w, err = G.Reshape(w, []int{w.Shape()[0] / m.cfg.Phrase, m.cfg.Phrase * d}); err != nil {
		return nil, err
	}
	h, err := m.phrase1.Forward(w) // [B·Text, D]
	if err != nil {
		return nil, err
	}
	if h, err = nn.SiLU(h); err != nil {
		return nil, err
	}
	if h, err = G.Mul(gr.pool.Node, h); err != nil { // [B, D]
		return nil, err
	}
	return m.phrase2.Forward(h)
}

// windowRows fills dst [positions·width] with the rows of each token
// position's phrase window for a prompt of nreal real tokens (positions
// 1 … nreal after <bos>) whose positions start at row base; windows reach
// only real tokens, other places get the padding row pad.
func windowRows(dst []int, width, nreal, base, pad int) {
	for r := range dst {
		j := r/width + r%width - width/2
		if j >= 1 && j <= nreal {
			dst[r] = base + j
		} else {
			dst[r] = pad
		}
	}
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
		if gr.window != nil {
			w := len(gr.window.V) / (gr.batch * nt)
			windowRows(gr.window.V[s*nt*w:(s+1)*nt*w], w, x.NText, s*nt, gr.batch*nt)
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

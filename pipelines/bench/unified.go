package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/omniar/omniar/msvq"
	"github.com/omniar/omniar/nn"
	"github.com/omniar/omniar/nn/optim"
	"github.com/omniar/omniar/omni"
	"github.com/omniar/omniar/tokenizers"
	"github.com/omniar/omniar/unified"
)

// Unified is one throughput measurement of the unified MoE decoder (a
// unified.LM: the trunk with a text embedding and an untied head) against
// the same network in PyTorch (tools/peer_unified.py).
type Unified struct {
	Threads int
	Mode    string         `json:"mode"` // ModeTrain, ModeForward or ModeDecode
	Config  unified.Config `json:"config"`
	Vocab   int            `json:"vocab"`
	Batch   int            `json:"batch"`
	Seq     int            `json:"seq"` // positions a sequence (decode: tokens decoded a pass)
	Mask    string         `json:"mask"`
	Params  int            `json:"params"`
	// TorchParams is the peer's count; Run fails if it is not Params.
	TorchParams  int     `json:"torch_params,omitempty"`
	GoS          float64 `json:"go_s"` // seconds a step, a forward pass or a decoding pass
	GoTokensS    float64 `json:"go_tokens_per_s"`
	TorchS       float64 `json:"torch_s,omitempty"`
	TorchTokensS float64 `json:"torch_tokens_per_s,omitempty"`
	Ratio        float64 `json:"go_over_torch,omitempty"`
	// The shares of token-expert pairs over the experts' capacity in the
	// last timed run (train and forward; decoding has no capacity): both
	// sides start from random weights of the same distribution, and a
	// dropped pair is expert work not done.
	GoDropped     float64 `json:"go_dropped_share"`
	TorchDropped  float64 `json:"torch_dropped_share"`
	GoSettings    string  `json:"go_settings"`
	TorchSettings string  `json:"torch_settings,omitempty"`
	OpProfile     string  `json:"go_op_profile,omitempty"` // ModeTrain only
}

// The modes of the unified part.
const (
	ModeTrain   = "train"   // forward + backward + AdamW on Batch × Seq tokens
	ModeForward = "forward" // a forward-only graph of the same network: the logits of Batch × Seq tokens, no cross-entropy, no gradients
	ModeDecode  = "decode"  // greedy decoding at batch 1 through the KV cache (Trunk.Decode), Seq tokens from an empty cache
)

// forwardReps is how many forward passes a side times per training step
// (a forward pass is about a third of a step, and a timing shorter than a
// second or so is at the mercy of other processes).
const forwardReps = 3

// unifiedShape is what the unified part measures: the trunk, the
// vocabulary, the batch of the training and forward modes and the tokens
// of a decoding pass.
type unifiedShape struct {
	Trunk                  unified.Config
	Vocab, Batch, Seq, Gen int
	TrainSteps, DecodeReps int
}

// smallShape is the shipped model's size: the trunk of omni.Small (only
// the trunk is read, so the quantizer and codec arguments do not matter)
// and the shipped vocabulary (text, visual and audio codes), on batches of
// 8 × 256 tokens; text-only sequences, so the block-causal mask (one token
// a group) is the causal one.
func smallShape(steps int) (unifiedShape, error) {
	v, err := tokenizers.New(tokenizers.DefaultConfig())
	if err != nil {
		return unifiedShape{}, err
	}
	return unifiedShape{Trunk: omni.Small(v.Config(), msvq.Config{}, 0).Trunk, Vocab: v.Size(), Batch: 8, Seq: 256, Gen: 256,
		TrainSteps: steps, DecodeReps: max(1, (steps+1)/2)}, nil
}

func runUnified(ctx context.Context, opt Options, rep *Report) error {
	sh, err := smallShape(opt.TrainSteps)
	if err != nil {
		return err
	}
	for _, th := range opt.Threads {
		if err := ctx.Err(); err != nil {
			return err
		}
		rows, err := unifiedRows(ctx, opt, th, sh, rep)
		if err != nil {
			return err
		}
		rep.Unified = append(rep.Unified, rows...)
		for _, u := range rows {
			slog.Info("unified", "threads", th, "mode", u.Mode, "go_tokens_per_s", round(u.GoTokensS), "torch_tokens_per_s", round(u.TorchTokensS), "ratio", round(u.Ratio))
		}
	}
	return nil
}

// unifiedRows measures the three modes at th threads on both sides.
func unifiedRows(ctx context.Context, opt Options, th int, sh unifiedShape, rep *Report) ([]Unified, error) {
	settings := setThreads(th)
	row := func(mode string, seq, batch int) Unified {
		return Unified{Threads: th, Mode: mode, Config: sh.Trunk, Vocab: sh.Vocab, Batch: batch, Seq: seq,
			Mask: "causal (text: one token a group)", GoSettings: settings}
	}
	rows := []Unified{row(ModeTrain, sh.Seq, sh.Batch), row(ModeForward, sh.Seq, sh.Batch), row(ModeDecode, sh.Gen, 1)}
	if err := timeUnifiedTrain(sh, &rows[0]); err != nil {
		return nil, err
	}
	if err := timeUnifiedInfer(sh, &rows[1], &rows[2]); err != nil {
		return nil, err
	}
	for i := range rows {
		rows[i].Params = rows[0].Params
		rows[i].GoTokensS = float64(rows[i].Batch*rows[i].Seq) / rows[i].GoS
	}
	if opt.SkipTorch {
		return rows, nil
	}
	trunk, err := json.Marshal(sh.Trunk)
	if err != nil {
		return nil, err
	}
	var out peerUnified
	if err := peer(ctx, opt, th, &out, "unified", "--trunk", string(trunk), "--vocab", itoa(sh.Vocab),
		"--batch", itoa(sh.Batch), "--seq", itoa(sh.Seq), "--steps", itoa(sh.TrainSteps), "--reps", itoa(forwardReps*sh.TrainSteps),
		"--decode", itoa(sh.Gen), "--decode-reps", itoa(sh.DecodeReps)); err != nil {
		return nil, err
	}
	rep.Torch = out.Version
	return rows, fillUnified(out, th, rows)
}

// peerUnified is what the PyTorch peer prints for the unified job.
type peerUnified struct {
	Params                 int
	Train, Forward, Decode peerMode
	Version                string
}

// peerMode is the peer's figures of one mode: seconds a step or pass, and
// the dropped share of its last run.
type peerMode struct {
	S       float64 `json:"s"`
	Dropped float64 `json:"dropped"`
}

// fillUnified copies the peer's times into rows and takes the ratios; a
// peer whose network has another parameter count is not the same model.
func fillUnified(out peerUnified, th int, rows []Unified) error {
	modes := map[string]peerMode{ModeTrain: out.Train, ModeForward: out.Forward, ModeDecode: out.Decode}
	for i := range rows {
		r := &rows[i]
		if out.Params != r.Params {
			return fmt.Errorf("pytorch peer: unified model has %d parameters, Go's %d", out.Params, r.Params)
		}
		m := modes[r.Mode]
		if m.S <= 0 {
			return fmt.Errorf("pytorch peer: no time for unified %s (%+v)", r.Mode, out)
		}
		r.TorchParams, r.TorchS, r.TorchTokensS, r.TorchDropped = out.Params, m.S, float64(r.Batch*r.Seq)/m.S, m.Dropped
		r.Ratio = r.GoTokensS / r.TorchTokensS
		r.TorchSettings = fmt.Sprintf("torch.set_num_threads(%d) OMP_NUM_THREADS=%d OMP_WAIT_POLICY=PASSIVE", th, th)
		if r.Mode != ModeTrain {
			r.TorchSettings += " inference_mode"
		}
	}
	return nil
}

// randomTokens are n pseudo-random ids below vocab (the work does not
// depend on them beyond the routing, which random init spreads anyway).
func randomTokens(n, vocab int, seed uint64) []int {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	ids := make([]int, n)
	for i := range ids {
		ids[i] = rng.IntN(vocab)
	}
	return ids
}

// timeUnifiedTrain fills in r the parameter count of the LM, the mean
// seconds of a training step (forward, backward, AdamW) after one untimed
// step, where the steps' time went and the dropped share.
func timeUnifiedTrain(sh unifiedShape, r *Unified) error {
	m, err := unified.NewLM(unified.LMConfig{Trunk: sh.Trunk, Vocab: sh.Vocab, Batch: sh.Batch, Seq: sh.Seq, Seed: 1})
	if err != nil {
		return fmt.Errorf("unified bench: %w", err)
	}
	defer m.Close()
	ps := make([]optim.Param, len(m.Params()))
	r.Params = 0
	for i, p := range m.Params() {
		ps[i] = p
		r.Params += len(p.Data())
	}
	adam := optim.NewAdamW(optim.DefaultAdamW(), ps)
	seq := randomTokens(sh.Batch*sh.Seq+1, sh.Vocab, 1)
	ids, targets := seq[:sh.Batch*sh.Seq], seq[1:]
	var stepErr error
	step := func() error {
		if _, stepErr = m.Step(ids, targets); stepErr != nil {
			return stepErr
		}
		adam.Step(1e-4, nil)
		return nil
	}
	if err := step(); err != nil { // warm-up: first-touch of every buffer
		return fmt.Errorf("unified bench: %w", err)
	}
	nn.OpStats = nn.NewStats()
	r.GoS = timeIt(sh.TrainSteps, false, step)
	r.OpProfile = nn.OpStats.Table(sh.TrainSteps)
	nn.OpStats = nil
	if r.GoS < 0 {
		return fmt.Errorf("unified bench, train step: %w", stepErr)
	}
	r.GoDropped = droppedShare(m.Trunk, sh.Batch*sh.Seq)
	return nil
}

// droppedShare is the share of token-expert pairs over capacity in the
// last run of trunk t on n tokens.
func droppedShare(t *unified.Trunk, n int) float64 {
	if t.Cfg.Experts == 0 {
		return 0
	}
	d := 0
	for _, l := range t.Loads() {
		d += l.Dropped
	}
	return float64(d) / float64(t.Cfg.Layers*n*t.Cfg.TopK)
}

// timeUnifiedInfer fills in the mean seconds of a forward pass of the
// batch (and its dropped share) and of a greedy decoding pass, each after
// one untimed run.
func timeUnifiedInfer(sh unifiedShape, fwd, dec *Unified) error {
	m, err := newLMInfer(sh)
	if err != nil {
		return fmt.Errorf("unified bench: %w", err)
	}
	defer m.vm.Close()
	if err := m.ids.Set(randomTokens(sh.Batch*sh.Seq, sh.Vocab, 2)); err != nil {
		return err
	}
	var runErr error
	fwd.GoS = timeIt(forwardReps*sh.TrainSteps, true, func() error {
		defer m.vm.Reset()
		runErr = m.vm.RunAll()
		return runErr
	})
	if fwd.GoS < 0 {
		return fmt.Errorf("unified bench, forward: %w", runErr)
	}
	fwd.GoDropped = droppedShare(m.dec.trunk, sh.Batch*sh.Seq)
	first := randomTokens(1, sh.Vocab, 3)[0]
	dec.GoS = timeIt(sh.DecodeReps, true, func() error {
		_, runErr = m.dec.greedy(first, sh.Gen)
		return runErr
	})
	if dec.GoS < 0 {
		return fmt.Errorf("unified bench, decode: %w", runErr)
	}
	return nil
}

// lmInfer is a unified.LM's network compiled for inference: the forward
// graph of a batch to its logits (no loss, no gradients), and the
// graph-free decoder over the same weights.
type lmInfer struct {
	ids *nn.Ints
	vm  G.VM
	dec decoder
}

func newLMInfer(sh unifiedShape) (*lmInfer, error) {
	b := nn.NewBuilder(1)
	trunk, err := unified.NewTrunk(b, "trunk", sh.Trunk)
	if err != nil {
		return nil, err
	}
	m := &lmInfer{ids: nn.NewInts(sh.Batch * sh.Seq), dec: decoder{trunk: trunk, text: unified.NewTextHead(b, "text", sh.Vocab, sh.Trunk.Dim, false)}}
	rope, err := trunk.NewRope(sh.Batch * sh.Seq)
	if err != nil {
		return nil, err
	}
	if err := rope.SetPositions(textPositions(sh.Trunk, sh.Batch, sh.Seq)); err != nil {
		return nil, err
	}
	x, err := m.dec.text.Embed(m.ids)
	if err != nil {
		return nil, err
	}
	h, _, err := trunk.Forward(x, sh.Batch, sh.Seq, rope, nn.CausalMask(sh.Seq), nil)
	if err != nil {
		return nil, err
	}
	if _, err := m.dec.text.Logits(h); err != nil {
		return nil, err
	}
	m.vm = nn.CompileForward(b.G)
	return m, nil
}

// textPositions are the rope positions of b text sequences of t tokens
// as unified.LM sets them: the time axis counts, the others stay 0.
func textPositions(cfg unified.Config, b, t int) []float64 {
	na := len(cfg.RopeSplit)
	pos := make([]float64, b*t*na)
	for i := 0; i < b*t; i++ {
		pos[i*na] = float64(i % t)
	}
	return pos
}

// decoder runs a text model one token at a time through the trunk's KV
// cache (unified.Trunk.Decode, the inference path of omni).
type decoder struct {
	trunk *unified.Trunk
	text  *unified.TextHead
}

// step feeds token tok at position pos of a batch-1 cache: the logits [vocab].
func (d decoder) step(c *unified.Cache, tok, pos int) ([]float32, error) {
	p := make([]float64, len(d.trunk.Cfg.RopeSplit))
	p[0] = float64(pos)
	h, err := d.trunk.Decode(c, d.text.Emb.Rows([]int{tok}), 1, p, nil)
	if err != nil {
		return nil, err
	}
	return d.text.Head.Apply(h, 1), nil
}

// greedy decodes n tokens after first, each the argmax of the last logits.
func (d decoder) greedy(first, n int) ([]int, error) {
	c := d.trunk.NewCache(1)
	out := make([]int, n)
	tok := first
	for p := range out {
		logits, err := d.step(c, tok, p)
		if err != nil {
			return nil, err
		}
		tok = nn.Argmax(logits)
		out[p] = tok
	}
	return out, nil
}

package omni

import (
	"fmt"

	"github.com/omniar/omniar/nn"
	"github.com/omniar/omniar/tokenizers"
	"github.com/omniar/omniar/unified"
)

// Tasks, each with one fixed sequence template.
const (
	TaskLM       = "lm"        // <bos> text…: every next token
	TaskImageQA  = "image_qa"  // <bos> <image>…</image> <text> question </text> <answer> answer <eos>
	TaskVideoQA  = "video_qa"  // the same with <video>…</video>
	TaskAudioQA  = "audio_qa"  // the same with <audio>…</audio>
	TaskTextQA   = "text_qa"   // <bos> <text> quotation </text> <text> question </text> <answer> …
	TaskImageGen = "image_gen" // <bos> <text> caption </text> <image>…</image> <eos>: the visual groups
)

// Tasks lists every task in a fixed order.
var Tasks = []string{TaskLM, TaskImageQA, TaskVideoQA, TaskAudioQA, TaskTextQA, TaskImageGen}

// Understanding says whether a task answers a question.
func Understanding(task string) bool {
	return task == TaskImageQA || task == TaskVideoQA || task == TaskAudioQA || task == TaskTextQA
}

// Example is one sample. Which fields a task reads:
//   - lm: Text (LMSeq tokens after <bos>; shorter is padded, not scored);
//   - image_qa / video_qa: Visual (latent frames × the tokenizer's codes of
//     all scales, coarse first), Question, Answer;
//   - audio_qa: Audio (codec frames × ≥ AudioDepths codes), Question, Answer;
//   - text_qa: Text (the quotation), Question, Answer;
//   - image_gen: Text (the caption), Visual (one frame).
//
// Answer nil lays out the prompt only (inference).
type Example struct {
	Task     string
	Text     []int
	Question []int
	Answer   []int
	Visual   [][]int
	Audio    [][]int
}

// Sequence is an example laid out: the grammar's layout, the rows whose
// predictions are scored, and where the answer starts.
type Sequence struct {
	L      *unified.Layout
	Loss   []int // rows whose targets count (nn.IgnoreIndex and <pad> targets are skipped)
	Answer int   // row of <answer> (understanding), else −1
	Ex     Example
}

func pad(ids []int, n int) []int {
	out := make([]int, n)
	copy(out, ids)
	for i := len(ids); i < n; i++ {
		out[i] = tokenizers.Pad
	}
	return out
}

// Layout lays out ex with the task's template. Every example of a task has
// the same positions and groups, so one mask and one rope serve a batch.
func (c Config) Layout(v tokenizers.Vocab, ex Example) (*Sequence, error) {
	if len(ex.Question) > c.Question {
		return nil, fmt.Errorf("question of %d tokens is longer than the model's %d", len(ex.Question), c.Question)
	}
	if len(ex.Answer) > c.Answer {
		return nil, fmt.Errorf("answer of %d tokens is longer than the model's %d", len(ex.Answer), c.Answer)
	}
	var segs []unified.Segment
	qa := func() {
		t := append([]int{tokenizers.TextOpen}, pad(ex.Question, c.Question)...)
		t = append(t, tokenizers.TextClose, tokenizers.Answer)
		if ex.Answer != nil {
			t = append(t, pad(append(append([]int(nil), ex.Answer...), tokenizers.EOS), c.Answer+1)...)
		}
		segs = append(segs, unified.Text(t...))
	}
	switch ex.Task {
	case TaskLM:
		if len(ex.Text) == 0 {
			return nil, fmt.Errorf("lm example without text")
		}
		segs = append(segs, unified.Text(append([]int{tokenizers.BOS}, pad(cut(ex.Text, c.LMSeq), c.LMSeq)...)...))
	case TaskImageQA, TaskVideoQA:
		frames := 1
		if ex.Task == TaskVideoQA {
			frames = c.VideoFrames
		}
		if err := c.checkVisual(ex.Visual, frames); err != nil {
			return nil, err
		}
		segs = append(segs, unified.Text(tokenizers.BOS), unified.Segment{Scales: c.Quant.Scales, Frames: emptyFrames(frames, len(c.Quant.Scales)), Image: frames == 1 && ex.Task == TaskImageQA})
		qa()
	case TaskAudioQA:
		if len(ex.Audio) != c.AudioFrames {
			return nil, fmt.Errorf("audio of %d codec frames, the template has %d", len(ex.Audio), c.AudioFrames)
		}
		chunks := make([][][]int, c.AudioFrames/c.ChunkLen)
		for i := range chunks {
			chunks[i] = make([][]int, c.AudioDepths)
		}
		segs = append(segs, unified.Text(tokenizers.BOS), unified.Segment{Chunks: chunks, ChunkLen: c.ChunkLen})
		qa()
	case TaskTextQA:
		t := append([]int{tokenizers.BOS, tokenizers.TextOpen}, pad(cut(ex.Text, c.Context), c.Context)...)
		segs = append(segs, unified.Text(append(t, tokenizers.TextClose)...))
		qa()
	case TaskImageGen:
		if err := c.checkVisual(ex.Visual, 1); err != nil {
			return nil, err
		}
		t := append([]int{tokenizers.BOS, tokenizers.TextOpen}, pad(cut(ex.Text, c.Caption), c.Caption)...)
		segs = append(segs, unified.Text(append(t, tokenizers.TextClose)...),
			unified.Segment{Scales: c.Quant.Scales, Frames: [][][]int{c.maps(ex.Visual[0])}, Image: true},
			unified.Text(tokenizers.EOS))
	default:
		return nil, fmt.Errorf("unknown task %q (want one of %v)", ex.Task, Tasks)
	}
	l, err := unified.BuildLayout(v, segs...)
	if err != nil {
		return nil, err
	}
	s := &Sequence{L: l, Answer: -1, Ex: ex}
	for i, p := range l.Pos {
		switch {
		case ex.Task == TaskLM && p.Kind == unified.KindToken && i < c.LMSeq:
			s.Loss = append(s.Loss, i)
		case ex.Task == TaskImageGen && p.Kind == unified.KindVector:
			s.Loss = append(s.Loss, i)
		case Understanding(ex.Task) && p.Kind == unified.KindToken && p.Token == tokenizers.Answer:
			s.Answer = i
			if ex.Answer != nil {
				for j := i; j <= i+c.Answer; j++ {
					s.Loss = append(s.Loss, j)
				}
			}
		}
	}
	return s, nil
}

func cut(ids []int, n int) []int { return ids[:min(len(ids), n)] }

func emptyFrames(frames, scales int) [][][]int {
	out := make([][][]int, frames)
	for f := range out {
		out[f] = make([][]int, scales)
	}
	return out
}

func (c Config) checkVisual(vis [][]int, frames int) error {
	if len(vis) < frames {
		return fmt.Errorf("visual input of %d latent frames, the template needs %d", len(vis), frames)
	}
	for f := range frames {
		if len(vis[f]) != c.Quant.Tokens() {
			return fmt.Errorf("latent frame %d has %d codes, the quantizer makes %d", f, len(vis[f]), c.Quant.Tokens())
		}
		for _, k := range vis[f] {
			if k < 0 || k >= c.Quant.Codes {
				return fmt.Errorf("latent frame %d: code %d outside [0, %d)", f, k, c.Quant.Codes)
			}
		}
	}
	return nil
}

// maps splits a frame's codes into per-scale maps.
func (c Config) maps(codes []int) [][]int {
	out := make([][]int, len(c.Quant.Scales))
	o := 0
	for s, k := range c.Quant.Scales {
		out[s] = codes[o : o+k*k]
		o += k * k
	}
	return out
}

// Targets returns the targets of the scored rows: the grammar's target, or
// nn.IgnoreIndex where it is <pad> (padding after <eos>).
func (s *Sequence) Targets() []int {
	all := s.L.Targets()
	out := make([]int, len(s.Loss))
	for i, r := range s.Loss {
		out[i] = all[r]
		if out[i] == tokenizers.Pad {
			out[i] = nn.IgnoreIndex
		}
	}
	return out
}

package mm

import (
	"fmt"
	"os"
	"strings"

	"github.com/omniar/omniar/audio"
	"github.com/omniar/omniar/audio/codec"
	"github.com/omniar/omniar/datasets/digits"
	"github.com/omniar/omniar/omni"
	"github.com/omniar/omniar/tokenizers"
	"github.com/omniar/omniar/tokenizers/bpe"
	"github.com/omniar/omniar/unified"
	"github.com/omniar/omniar/video"
	"github.com/omniar/omniar/video/vio"
)

// Inputs of one question: exactly one of Image, Video, Audio (file paths)
// or Context (a text) and the question.
type Question struct {
	Image, Video, Audio, Context string
	Question                     string
}

// Answerer answers questions with a model and the tokenizers it reads.
type Answerer struct {
	M        *omni.Model
	text     *bpe.Tokenizer
	videoTok string
	codec    string
	checkIDs func(what, id string) error
}

// NewAnswerer loads the model and the text tokenizer; the media
// tokenizers are loaded on first use and checked against the ones the
// model was trained with.
func NewAnswerer(ckpt, textTok, videoTok, audioCodec string, sub unified.Sub) (*Answerer, error) {
	m, meta, err := omni.Load(ckpt)
	if err != nil {
		return nil, err
	}
	if err := m.Trunk.SetSub(sub); err != nil {
		return nil, fmt.Errorf("sub-model: %w", err)
	}
	tok, err := tokenizers.LoadText(textTok)
	if err != nil {
		return nil, err
	}
	if tok.VocabSize() != m.Cfg.Vocab.TextSize {
		return nil, fmt.Errorf("text tokenizer %s has %d tokens, model %s was trained with %d", textTok, tok.VocabSize(), ckpt, m.Cfg.Vocab.TextSize)
	}
	a := &Answerer{M: m, text: tok, videoTok: videoTok, codec: audioCodec}
	a.checkIDs = func(what, id string) error {
		if want := meta[what]; want != "" && want != id {
			return fmt.Errorf("%s: tokenizer %s, but model %s was trained on the codes of %s", what, id, ckpt, want)
		}
		return nil
	}
	return a, nil
}

// Answer returns the model's answer to q.
func (a *Answerer) Answer(q Question) (string, error) {
	ex, err := a.Example(q)
	if err != nil {
		return "", err
	}
	out, err := a.M.Answer([]omni.Example{ex})
	if err != nil {
		return "", err
	}
	b, err := a.text.Decode(out[0])
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// Example turns a question about a file or a text into a model example.
func (a *Answerer) Example(q Question) (omni.Example, error) {
	c := a.M.Cfg
	var ex omni.Example
	n := 0
	for _, s := range []string{q.Image, q.Video, q.Audio, q.Context} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return ex, fmt.Errorf("give exactly one of an image, a video, an audio file or a text (got %d)", n)
	}
	qs := strings.TrimSpace(q.Question)
	if qs == "" {
		return ex, fmt.Errorf("the question is empty")
	}
	var err error
	if ex.Question, err = a.text.EncodeString(qs); err != nil {
		return ex, err
	}
	if len(ex.Question) > c.Question {
		return ex, fmt.Errorf("the question is %d tokens long; the model reads at most %d", len(ex.Question), c.Question)
	}
	for _, p := range []string{q.Image, q.Video, q.Audio} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err != nil {
			return ex, fmt.Errorf("input file: %w", err)
		}
	}
	switch {
	case q.Context != "":
		ex.Task = omni.TaskTextQA
		if ex.Text, err = a.text.EncodeString(q.Context); err != nil {
			return ex, err
		}
		if len(ex.Text) > c.Context {
			return ex, fmt.Errorf("the text is %d tokens long; the model reads at most %d", len(ex.Text), c.Context)
		}
	case q.Image != "":
		ex.Task = omni.TaskImageQA
		ex.Visual, err = a.visual(q.Image, 1)
	case q.Video != "":
		ex.Task = omni.TaskVideoQA
		ex.Visual, err = a.visual(q.Video, c.VideoFrames)
	default:
		ex.Task = omni.TaskAudioQA
		ex.Audio, err = a.audio(q.Audio)
	}
	return ex, err
}

// visual tokenizes the first frames of an image or video file: a small
// image (≤ 32 px, a digit crop) is drawn as a digit glyph in the middle of
// the canvas, as in training; anything larger is centre-cropped and
// resized to the tokenizer's frame size.
func (a *Answerer) visual(path string, latents int) ([][]int, error) {
	cfg, w, err := video.LoadCheckpoint(a.videoTok)
	if err != nil {
		return nil, err
	}
	if err := a.checkIDs(MetaVideoTok, w.ID()); err != nil {
		return nil, err
	}
	frames := 1 + (latents-1)*cfg.TimeStride
	head, err := vio.Read(path, vio.ReadOptions{MaxFrames: 1})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var clip []uint8
	if head.W <= 32 && head.H <= 32 && frames == 1 && cfg.Size == digits.Canvas {
		g, err := vio.Read(path, vio.ReadOptions{MaxFrames: 1, Geometry: vio.Geometry{Width: digits.Glyph, Height: digits.Glyph, Square: true, Filter: vio.Box}})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		clip = DigitCanvas(g.Frames[0])
	} else {
		v, err := vio.Read(path, vio.ReadOptions{MaxFrames: frames, Geometry: vio.Geometry{Width: cfg.Size, Height: cfg.Size, Square: true, Filter: vio.Box}})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(v.Frames) < frames {
			return nil, fmt.Errorf("%s: %d frames, the model reads %d", path, len(v.Frames), frames)
		}
		for _, f := range v.Frames[:frames] {
			clip = append(clip, f...)
		}
	}
	enc, err := video.NewEncoder(cfg, frames, w)
	if err != nil {
		return nil, err
	}
	defer enc.Close()
	maps, err := enc.Encode(clip)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make([][]int, latents)
	for f := range out {
		for _, codes := range maps[f] {
			out[f] = append(out[f], codes...)
		}
	}
	return out, nil
}

func (a *Answerer) audio(path string) ([][]int, error) {
	clip, err := audio.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(clip.Samples) == 0 {
		return nil, fmt.Errorf("%s: no samples", path)
	}
	if clip.Rate != audio.ModelRate {
		clip = audio.ToMono16k(clip)
	}
	cdc, err := codec.Load(a.codec)
	if err != nil {
		return nil, err
	}
	defer cdc.Close()
	if err := a.checkIDs(MetaCodec, cdc.CodebookID()); err != nil {
		return nil, err
	}
	codes, err := cdc.Encode(clip.Samples)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return AudioCodes(codes, a.M.Cfg.AudioFrames, a.M.Cfg.AudioDepths), nil
}

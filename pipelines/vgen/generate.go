package vgen

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/omniar/omniar/tokenizers"
	"github.com/omniar/omniar/tokenizers/bpe"
	"github.com/omniar/omniar/video"
	"github.com/omniar/omniar/videoar"
)

// Pipeline is prompt → text tokens → VideoAR codes → latents → frames.
type Pipeline struct {
	Cfg     videoar.Config
	Video   video.Config
	gen     *videoar.Generator
	pix     *video.PixelDecoder
	text    *bpe.Tokenizer
	maxText int
}

// Load opens a generator, the video tokenizer it was trained on and the
// text tokenizer.
func Load(genPath, tokPath, textPath string) (*Pipeline, error) {
	cfg, w, err := videoar.LoadWeights(genPath)
	if err != nil {
		return nil, err
	}
	tcfg, tw, err := video.LoadCheckpoint(tokPath)
	if err != nil {
		return nil, err
	}
	if !reflect.DeepEqual(tcfg.Quant, cfg.Quant) {
		return nil, fmt.Errorf("generator %s was trained on another tokenizer's codes than %s", genPath, tokPath)
	}
	text, err := tokenizers.LoadText(textPath)
	if err != nil {
		return nil, err
	}
	if text.VocabSize() != cfg.Vocab {
		return nil, fmt.Errorf("text tokenizer %s has %d ids, generator %s expects %d", textPath, text.VocabSize(), genPath, cfg.Vocab)
	}
	dec, err := tw.QuantDecoder(tcfg)
	if err != nil {
		return nil, err
	}
	gen, err := videoar.NewGenerator(cfg, w, dec)
	if err != nil {
		return nil, fmt.Errorf("generator %s: %w", genPath, err)
	}
	pix, err := video.NewPixelDecoder(tcfg, cfg.Frames, tw)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", tokPath, err)
	}
	return &Pipeline{Cfg: cfg, Video: tcfg, gen: gen, pix: pix, text: text, maxText: cfg.Prompt - 1}, nil
}

// ErrPrompt marks a prompt the model cannot take.
var ErrPrompt = errors.New("bad prompt")

// Prompt tokenizes a prompt, rejecting empty and too long ones.
func (p *Pipeline) Prompt(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("%w: empty (try \"a 7 moves to the left\")", ErrPrompt)
	}
	ids, err := p.text.EncodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPrompt, err)
	}
	if len(ids) > p.maxText {
		return nil, fmt.Errorf("%w: %d tokens, the model reads at most %d (about %d characters)", ErrPrompt, len(ids), p.maxText, 3*p.maxText)
	}
	return ids, nil
}

// Generate makes a clip [Frames, Size, Size] (grey) for a prompt.
func (p *Pipeline) Generate(ctx context.Context, prompt string, opt videoar.Options, progress func(done, total int)) ([]uint8, error) {
	ids, err := p.Prompt(prompt)
	if err != nil {
		return nil, err
	}
	codes, err := p.gen.Codes(ctx, ids, opt, progress)
	if err != nil {
		return nil, err
	}
	z, err := p.gen.Latents(codes)
	if err != nil {
		return nil, err
	}
	return p.pix.Decode(z)
}

// Frames is the number of frames of a generated clip.
func (p *Pipeline) Frames() int { return p.pix.Frames() }

// Close releases the pixel decoder's graph.
func (p *Pipeline) Close() error { return p.pix.Close() }

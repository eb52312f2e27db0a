package vgen

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/omniar/omniar/tokenizers"
	"github.com/omniar/omniar/tokenizers/bpe"
	"github.com/omniar/omniar/video"
	"github.com/omniar/omniar/videoar"
)

// Pipeline is prompt → text tokens → VideoAR codes → latents → frames.
type Pipeline struct {
	Cfg   videoar.Config
	Video video.Config
	// genPath is the generator's file, hashed when an evaluation records
	// which model made its saved clips.
	genPath string
	gen     *videoar.Generator
	tok     video.Weights
	pix     map[int]*video.PixelDecoder // by latent frames
	text    *bpe.Tokenizer
	maxText int
	// Time is where Generate's time went, summed over calls.
	Time Timing
}

// Timing splits generation time: sampling the codes (the decoder passes)
// and turning them into pixels (the tokenizer's quantizer and decoder).
type Timing struct {
	Codes, Pixels time.Duration
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
	return &Pipeline{Cfg: cfg, Video: tcfg, genPath: genPath, gen: gen, tok: tw, pix: map[int]*video.PixelDecoder{}, text: text, maxText: cfg.Prompt - 1}, nil
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

// LatentFrames is the number of latent frames of a clip of frames video
// frames (1 + 4k, up to the model's clip).
func (p *Pipeline) LatentFrames(frames int) (int, error) {
	lf, err := p.Video.LatentFrames(frames)
	if err != nil || lf > p.Cfg.Frames {
		return 0, fmt.Errorf("%d frames: the model makes 1, 5, 9, … up to %d", frames, 1+(p.Cfg.Frames-1)*p.Video.TimeStride)
	}
	return lf, nil
}

// Generate makes a clip [frames, Size, Size] (grey) for a prompt; first,
// if not nil, is a given first frame [Size, Size] to continue.
func (p *Pipeline) Generate(ctx context.Context, prompt string, frames int, first []uint8, opt videoar.Options, progress func(done, total int)) ([]uint8, error) {
	ids, err := p.Prompt(prompt)
	if err != nil {
		return nil, err
	}
	lf, err := p.LatentFrames(frames)
	if err != nil {
		return nil, err
	}
	opt.Frames = lf
	if first != nil {
		enc, err := video.NewEncoder(p.Video, 1, p.tok)
		if err != nil {
			return nil, err
		}
		maps, err := enc.Encode(first)
		enc.Close()
		if err != nil {
			return nil, fmt.Errorf("first frame: %w", err)
		}
		var codes []int
		for _, m := range maps[0] {
			codes = append(codes, m...)
		}
		opt.Given = [][]int{codes}
	}
	t0 := time.Now()
	codes, err := p.gen.Codes(ctx, ids, opt, progress)
	if err != nil {
		return nil, err
	}
	t1 := time.Now()
	p.Time.Codes += t1.Sub(t0)
	defer func() { p.Time.Pixels += time.Since(t1) }()
	z, err := p.gen.Latents(codes)
	if err != nil {
		return nil, err
	}
	pix, ok := p.pix[lf]
	if !ok {
		if pix, err = video.NewPixelDecoder(p.Video, lf, p.tok); err != nil {
			return nil, err
		}
		p.pix[lf] = pix
	}
	return pix.Decode(z)
}

// Close releases the pixel decoders' graphs.
func (p *Pipeline) Close() error {
	var errs []error
	for _, d := range p.pix {
		errs = append(errs, d.Close())
	}
	return errors.Join(errs...)
}

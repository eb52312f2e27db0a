// Package mm runs the unified multimodal model (package omni) on the
// project's data: tokenizing every source once into token files, training
// with a mixture of tasks and curriculum stages (`omniar train unified`),
// answering questions about files (`omniar understand`), routing
// statistics (`omniar inspect routing`) and evaluation (`omniar eval
// unified`).
package mm

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/omniar/omniar/audio"
	"github.com/omniar/omniar/audio/codec"
	"github.com/omniar/omniar/datasets"
	"github.com/omniar/omniar/datasets/digits"
	"github.com/omniar/omniar/datasets/speech"
	"github.com/omniar/omniar/datasets/store"
	"github.com/omniar/omniar/msvq"
	"github.com/omniar/omniar/video"
)

// TokenIndex lists a token file's items by the reference the
// understanding pairs use ("digits:<id>", "moving:<split>:<i>",
// "speech:<path>") and names the tokenizer that made them.
type TokenIndex struct {
	Tokenizer string   `json:"tokenizer"`
	Refs      []string `json:"refs"`
}

// Tokens is a token file: items of [T, 1, W, 1] uint8 codes.
type Tokens struct {
	Store *store.Store
	Index TokenIndex
	byRef map[string]int
}

// OpenTokens opens a token file.
func OpenTokens(path string) (*Tokens, error) {
	st, err := store.Open(path)
	if err != nil {
		return nil, err
	}
	t := &Tokens{Store: st, byRef: map[string]int{}}
	if err := st.DecodeIndex(&t.Index); err != nil {
		return nil, fmt.Errorf("token file %s: index: %w", path, err)
	}
	if len(t.Index.Refs) != st.Len() {
		return nil, fmt.Errorf("token file %s: index lists %d items, store has %d", path, len(t.Index.Refs), st.Len())
	}
	for i, r := range t.Index.Refs {
		t.byRef[r] = i
	}
	return t, nil
}

// Codes returns the item of ref as [T][W] codes, or false.
func (t *Tokens) Codes(ref string) ([][]int, bool) {
	i, ok := t.byRef[ref]
	if !ok {
		return nil, false
	}
	d := t.Store.Shape()
	raw := t.Store.Clip(i)
	out := make([][]int, d.T)
	for f := range out {
		out[f] = make([]int, d.W)
		for j := range out[f] {
			out[f][j] = int(raw[f*d.W+j])
		}
	}
	return out, true
}

// TokenizeOptions say what to tokenize and with which tokenizers.
type TokenizeOptions struct {
	Data        string         // prepared data directory
	Out         string         // directory of the token files
	VideoTok    string         // video tokenizer checkpoint
	AudioCodec  string         // audio codec checkpoint
	VideoFrames int            // latent frames of a clip
	AudioFrames int            // codec frames of a recording (cut or padded with code 0)
	AudioDepths int            // codec depths kept
	Clips       map[string]int // Moving-digits clips tokenized per split (0 = all)
	DigitViews  int            // augmented views of each train digit image (0: none)
	SpeechViews int            // augmented views of each train recording (0: none)
	PairViews   int            // first frames of fresh two-digit train clips (0: none)
}

// Token file names under TokenizeOptions.Out.
const (
	fileDigits = "digits.store"
	fileViews  = "digit_views%d.store" // by the number of views: a file of another count is another file
	fileVideo  = "video_%s.store"
	fileAudio  = "audio_%s.store"
	// by the number of views, like fileViews
	fileSpeechViews = "speech_views%d.store"
	filePairViews   = "pair_views%d.store"
)

// DigitCanvas draws a digit as the tokenizer sees images: its 28×28 glyph
// in the middle of a black 64×64 canvas (a Moving-digits frame).
func DigitCanvas(glyph []uint8) []uint8 {
	out := make([]uint8, digits.Canvas*digits.Canvas)
	o := (digits.Canvas - digits.Glyph) / 2
	for y := range digits.Glyph {
		copy(out[(o+y)*digits.Canvas+o:], glyph[y*digits.Glyph:(y+1)*digits.Glyph])
	}
	return out
}

// Tokenize writes the token files that are not there yet: every digit
// image, the Moving-digits clips of each split and every speech clip. A
// file that is there must have been made by the same tokenizer: token
// files of another one would train the model on codes its tokenizers
// never produce.
func Tokenize(ctx context.Context, opt TokenizeOptions) error {
	if err := os.MkdirAll(opt.Out, 0o755); err != nil {
		return err
	}
	vcfg, vw, err := video.LoadCheckpoint(opt.VideoTok)
	if err != nil {
		return err
	}
	if vcfg.Quant.Codes > 256 {
		return fmt.Errorf("tokenize: %d visual codes do not fit uint8 token files", vcfg.Quant.Codes)
	}
	p := filepath.Join(opt.Out, fileDigits)
	if err := ensureTokens(p, opt.VideoTok, vw.ID(), func() error { return tokenizeDigits(ctx, opt, vcfg, vw, p) }); err != nil {
		return err
	}
	if opt.DigitViews > 0 {
		p := filepath.Join(opt.Out, fmt.Sprintf(fileViews, opt.DigitViews))
		if err := ensureTokens(p, opt.VideoTok, vw.ID(), func() error { return tokenizeViews(ctx, opt, vcfg, vw, p) }); err != nil {
			return err
		}
	}
	if opt.PairViews > 0 {
		p := filepath.Join(opt.Out, fmt.Sprintf(filePairViews, opt.PairViews))
		if err := ensureTokens(p, opt.VideoTok, vw.ID(), func() error { return tokenizePairViews(ctx, opt, vcfg, vw, p) }); err != nil {
			return err
		}
	}
	for _, split := range datasets.Splits {
		p := filepath.Join(opt.Out, fmt.Sprintf(fileVideo, split))
		// the clips (1.4 GB for train) are read only when they are tokenized
		sh, err := store.Stat(filepath.Join(opt.Data, "moving", split+".u8"))
		if err != nil {
			return err
		}
		n := clipCount(opt, split, sh.N)
		if err := staleClips(p, opt.VideoFrames, n); err != nil {
			return err
		}
		err = ensureTokens(p, opt.VideoTok, vw.ID(), func() error {
			mv, err := digits.LoadMoving(opt.Data, split)
			if err != nil {
				return err
			}
			return tokenizeClips(ctx, opt, vcfg, vw, split, mv, n, p)
		})
		if err != nil {
			return err
		}
	}
	cdc, err := codec.Load(opt.AudioCodec)
	if err != nil {
		return err
	}
	defer cdc.Close()
	if cdc.Cfg.Codes > 256 || opt.AudioDepths > cdc.Cfg.Depths {
		return fmt.Errorf("tokenize: codec has %d depths of %d codes; want %d depths of ≤ 256", cdc.Cfg.Depths, cdc.Cfg.Codes, opt.AudioDepths)
	}
	for _, split := range datasets.Splits {
		p := filepath.Join(opt.Out, fmt.Sprintf(fileAudio, split))
		if err := ensureTokens(p, opt.AudioCodec, cdc.CodebookID(), func() error { return tokenizeSpeech(ctx, opt, cdc, split, p) }); err != nil {
			return err
		}
	}
	if opt.SpeechViews > 0 {
		p := filepath.Join(opt.Out, fmt.Sprintf(fileSpeechViews, opt.SpeechViews))
		if err := ensureTokens(p, opt.AudioCodec, cdc.CodebookID(), func() error { return tokenizeSpeechViews(ctx, opt, cdc, p) }); err != nil {
			return err
		}
	}
	return nil
}

// clipCount is how many clips of a split opt tokenizes when the split holds have.
func clipCount(opt TokenizeOptions, split string, have int) int {
	n := opt.Clips[split]
	if n <= 0 || n > have {
		n = have
	}
	return n
}

// staleClips removes a clip token file with fewer latent frames than a
// model reads or another number of clips than asked for, so it is
// tokenized again: a configuration that reads more of each clip, or other
// clips, reuses the tokens directory of another.
func staleClips(path string, frames, clips int) error {
	if !exists(path) {
		return nil
	}
	t, err := OpenTokens(path)
	if err != nil {
		return err
	}
	if have, n := t.Store.Shape().T, t.Store.Len(); have < frames || n != clips {
		slog.Info("clip tokens do not fit; tokenizing again", "file", path, "latent_frames", have, "want", frames, "clips", n, "want_clips", clips)
		return os.Remove(path)
	}
	return nil
}

// ensureTokens writes the token file path with write unless it is there,
// and reports one that is there but was made by another tokenizer than id
// (of the checkpoint tokenizer).
func ensureTokens(path, tokenizer, id string, write func() error) error {
	if !exists(path) {
		return write()
	}
	return checkTokens(path, tokenizer, id)
}

// checkTokens reports a token file made by another tokenizer than id (of
// the checkpoint tokenizer).
func checkTokens(path, tokenizer, id string) error {
	t, err := OpenTokens(path)
	if err != nil {
		return err
	}
	if t.Index.Tokenizer != id {
		return fmt.Errorf("token file %s was made by tokenizer %s, not by %s (%s): remove it or use another tokens directory",
			path, t.Index.Tokenizer, tokenizer, id)
	}
	return nil
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

type progress struct {
	what     string
	n        int
	t0, last time.Time
}

func newProgress(what string, n int) *progress {
	return &progress{what: what, n: n, t0: time.Now(), last: time.Now()}
}

func (p *progress) tick(i int) {
	if time.Since(p.last) < 10*time.Second && i != p.n-1 {
		return
	}
	p.last = time.Now()
	rate := float64(i+1) / time.Since(p.t0).Seconds()
	slog.Info("tokenize", "what", p.what, "items", i+1, "of", p.n, "per_s", fmt.Sprintf("%.1f", rate),
		"eta", time.Duration(float64(p.n-i-1)/rate*float64(time.Second)).Round(time.Second))
}

func flatten(maps []msvq.Maps, frames int) []uint8 {
	var out []uint8
	for _, m := range maps[:frames] {
		for _, codes := range m {
			for _, c := range codes {
				out = append(out, uint8(c))
			}
		}
	}
	return out
}

func tokenizeDigits(ctx context.Context, opt TokenizeOptions, cfg video.Config, w video.Weights, path string) error {
	set, err := digits.Load(opt.Data)
	if err != nil {
		return err
	}
	glyphs := set.Glyphs()
	return tokenizeImages(ctx, cfg, w, path, "digits", len(set.Digits), func(i int) ([]uint8, string) {
		id := set.Digits[i].ID
		return DigitCanvas(glyphs[id]), fmt.Sprintf("digits:%d", id)
	})
}

// ViewRef is the token-file reference of augmented view v of digit id.
func ViewRef(id, v int) string { return fmt.Sprintf("digits:%d:view%d", id, v) }

// tokenizeViews writes opt.DigitViews augmented views (digits.Augment, a
// fixed seed per digit and view) of every train digit image, centred like
// the digit images. One view in five is the digit itself.
func tokenizeViews(ctx context.Context, opt TokenizeOptions, cfg video.Config, w video.Weights, path string) error {
	set, err := digits.Load(opt.Data)
	if err != nil {
		return err
	}
	glyphs, ids, k := set.Glyphs(), set.IDs("train"), opt.DigitViews
	return tokenizeImages(ctx, cfg, w, path, "digit views", len(ids)*k, func(i int) ([]uint8, string) {
		id, v := ids[i/k], i%k
		return DigitCanvas(digits.Augment(glyphs[id], rand.New(rand.NewPCG(uint64(id), uint64(v))))), ViewRef(id, v)
	})
}

// pairClips numbers the clips whose first frames are pair views: past the
// stored train clips (about 20,500), below the fresh clips eval draws
// (freshClips in pipelines/eval, 1<<30).
const pairClips = 1 << 24

// PairClips returns the two-digit train clips whose first frames are the
// pair views: clips pairClips+i of NewClip that have two digits, n of them.
func PairClips(set *digits.Set, n int) []digits.Clip {
	ids := set.IDs("train")
	var out []digits.Clip
	for i := 0; len(out) < n; i++ {
		if c := digits.NewClip(set, "train", pairClips+i, ids); len(c.Movers) == 2 {
			out = append(out, c)
		}
	}
	return out
}

// PairViewRef names the pair view of clip c.
func PairViewRef(c digits.Clip) string { return fmt.Sprintf("pairs:%d", c.Index) }

// tokenizePairViews writes the first frames of opt.PairViews fresh
// two-digit train clips (PairClips): two training digits in one picture,
// as many as wanted, where the 16,000 tokenized clips of configs/small_clips.json hold 6,409.
func tokenizePairViews(ctx context.Context, opt TokenizeOptions, cfg video.Config, w video.Weights, path string) error {
	set, err := digits.Load(opt.Data)
	if err != nil {
		return err
	}
	clips, glyphs := PairClips(set, opt.PairViews), set.Glyphs()
	px := make([]uint8, digits.ClipBytes)
	return tokenizeImages(ctx, cfg, w, path, "pair views", len(clips), func(i int) ([]uint8, string) {
		digits.Render(clips[i], glyphs, px)
		return px[:digits.Canvas*digits.Canvas], PairViewRef(clips[i])
	})
}

// tokenizeImages writes n images as one-frame items: image(i), a
// Canvas×Canvas frame, under its reference.
func tokenizeImages(ctx context.Context, cfg video.Config, w video.Weights, path, what string, n int, image func(i int) ([]uint8, string)) error {
	enc, err := video.NewEncoder(cfg, 1, w)
	if err != nil {
		return err
	}
	defer enc.Close()
	wr, err := store.Create(path, store.Shape{T: 1, H: 1, W: cfg.Quant.Tokens(), C: 1})
	if err != nil {
		return err
	}
	idx := TokenIndex{Tokenizer: w.ID()}
	pr := newProgress(what, n)
	for i := range n {
		if err := ctx.Err(); err != nil {
			wr.Abort()
			return err
		}
		img, ref := image(i)
		maps, err := enc.Encode(img)
		if err != nil {
			wr.Abort()
			return fmt.Errorf("tokenize %s: %w", ref, err)
		}
		if err := wr.Append(flatten(maps, 1)); err != nil {
			wr.Abort()
			return err
		}
		idx.Refs = append(idx.Refs, ref)
		pr.tick(i)
	}
	return wr.Close(idx)
}

// tokenizeClips writes the first n clips of mv, the split's Moving-digits.
func tokenizeClips(ctx context.Context, opt TokenizeOptions, cfg video.Config, w video.Weights, split string, mv *digits.Moving, n int, path string) error {
	frames := 1 + (opt.VideoFrames-1)*cfg.TimeStride
	enc, err := video.NewEncoder(cfg, frames, w)
	if err != nil {
		return err
	}
	defer enc.Close()
	wr, err := store.Create(path, store.Shape{T: opt.VideoFrames, H: 1, W: cfg.Quant.Tokens(), C: 1})
	if err != nil {
		return err
	}
	idx := TokenIndex{Tokenizer: w.ID()}
	px := digits.Canvas * digits.Canvas
	pr := newProgress("clips "+split, n)
	for i := range n {
		if err := ctx.Err(); err != nil {
			wr.Abort()
			return err
		}
		maps, err := enc.Encode(mv.Store.Clip(i)[:frames*px])
		if err != nil {
			wr.Abort()
			return fmt.Errorf("tokenize clip %d: %w", i, err)
		}
		if err := wr.Append(flatten(maps, opt.VideoFrames)); err != nil {
			wr.Abort()
			return err
		}
		idx.Refs = append(idx.Refs, fmt.Sprintf("moving:%s:%d", split, i))
		pr.tick(i)
	}
	return wr.Close(idx)
}

// AudioCodes cuts or pads (code 0, the zero vector) codes[frame][depth] to
// frames × depths.
func AudioCodes(codes [][]int, frames, depths int) [][]int {
	out := make([][]int, frames)
	for f := range out {
		out[f] = make([]int, depths)
		if f < len(codes) {
			copy(out[f], codes[f][:depths])
		}
	}
	return out
}

func tokenizeSpeech(ctx context.Context, opt TokenizeOptions, cdc *codec.Codec, split, path string) error {
	items, err := speech.Load(opt.Data, split)
	if err != nil {
		return err
	}
	return tokenizeRecordings(ctx, opt, cdc, path, "speech "+split, items, 1, func(it speech.Item, clip *audio.Clip, _ int) (*audio.Clip, string) {
		return clip, "speech:" + it.Path
	})
}

// SpeechViewRef names view v of the recording of ref ("speech:…").
func SpeechViewRef(ref string, v int) string { return fmt.Sprintf("%s:view%d", ref, v) }

// tokenizeSpeechViews writes opt.SpeechViews augmented views of every
// train recording: played 0.85–1.15× as fast (audio.Speed: pitch and
// tempo, as another voice might say it) at 0.5–1× the loudness, a fixed
// seed per recording and view. The test voices are voices the model never
// heard; the train split has 258.
func tokenizeSpeechViews(ctx context.Context, opt TokenizeOptions, cdc *codec.Codec, path string) error {
	items, err := speech.Load(opt.Data, "train")
	if err != nil {
		return err
	}
	return tokenizeRecordings(ctx, opt, cdc, path, "speech views", items, opt.SpeechViews, func(it speech.Item, clip *audio.Clip, v int) (*audio.Clip, string) {
		h := fnv.New64a()
		h.Write([]byte(it.Path))
		rng := rand.New(rand.NewPCG(h.Sum64(), uint64(v)))
		out := audio.Speed(clip, 0.85+0.3*rng.Float64())
		gain := float32(0.5 + 0.5*rng.Float64())
		for i := range out.Samples {
			out.Samples[i] *= gain
		}
		return out, SpeechViewRef("speech:"+it.Path, v)
	})
}

// tokenizeRecordings writes views items of every WAV recording of items:
// view(item, recording, v) is what is encoded, under the reference it gives.
func tokenizeRecordings(ctx context.Context, opt TokenizeOptions, cdc *codec.Codec, path, what string, items []speech.Item, views int,
	view func(it speech.Item, clip *audio.Clip, v int) (*audio.Clip, string)) error {
	wr, err := store.Create(path, store.Shape{T: opt.AudioFrames, H: 1, W: opt.AudioDepths, C: 1})
	if err != nil {
		return err
	}
	idx := TokenIndex{Tokenizer: cdc.CodebookID()}
	pr := newProgress(what, len(items))
	for i, it := range items {
		if err := ctx.Err(); err != nil {
			wr.Abort()
			return err
		}
		if it.Kind != speech.KindWAV {
			continue
		}
		clip, err := it.Audio()
		if err != nil {
			wr.Abort()
			return err
		}
		for v := range views {
			c, ref := view(it, clip, v)
			codes, err := cdc.Encode(c.Samples)
			if err != nil {
				wr.Abort()
				return fmt.Errorf("tokenize %s: %w", ref, err)
			}
			var item []uint8
			for _, fr := range AudioCodes(codes, opt.AudioFrames, opt.AudioDepths) {
				for _, c := range fr {
					item = append(item, uint8(c))
				}
			}
			if err := wr.Append(item); err != nil {
				wr.Abort()
				return err
			}
			idx.Refs = append(idx.Refs, ref)
		}
		pr.tick(i)
	}
	return wr.Close(idx)
}

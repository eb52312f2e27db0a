// Package vgen runs VideoAR (package videoar) on the project's data:
// tokenizing Moving-digits clips with the video tokenizer, the training
// stages (`omniar train videoar`), generation from a prompt (`omniar
// generate video`) and prompt fidelity measured by the attribute judge
// (`omniar eval videoar`).
package vgen

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/omniar/omniar/datasets/digits"
	"github.com/omniar/omniar/datasets/store"
	"github.com/omniar/omniar/msvq"
	"github.com/omniar/omniar/video"
)

// TokenIndex is the index of a token file: where its clips come from and
// which tokenizer made them.
type TokenIndex struct {
	Tokenizer string      `json:"tokenizer"` // video.Weights.ID of the tokenizer
	Quant     msvq.Config `json:"quant"`
	Split     string      `json:"split"`
	Clips     []int       `json:"clips"`    // Moving-digits clip index of each item
	Captions  [][]string  `json:"captions"` // the clips' captions
}

// Tokens is a token file: per clip [latent frames, 1, codes per frame, 1] uint8 codes.
type Tokens struct {
	Store *store.Store
	Index TokenIndex
}

// Tokenize encodes the first n clips of a Moving-digits split (0 = all)
// with the tokenizer at tokPath and writes a token file to out.
func Tokenize(ctx context.Context, dataDir, split, tokPath, out string, n int) error {
	cfg, w, err := video.LoadCheckpoint(tokPath)
	if err != nil {
		return err
	}
	if cfg.Quant.Codes > 256 {
		return fmt.Errorf("tokenize: %d codes do not fit the uint8 token file", cfg.Quant.Codes)
	}
	mv, err := digits.LoadMoving(dataDir, split)
	if err != nil {
		return err
	}
	if n <= 0 || n > mv.Store.Len() {
		n = mv.Store.Len()
	}
	enc, err := video.NewEncoder(cfg, digits.Frames, w)
	if err != nil {
		return err
	}
	defer enc.Close()
	lf, _ := cfg.LatentFrames(digits.Frames)
	per := cfg.Quant.Tokens()
	wr, err := store.Create(out, store.Shape{T: lf, H: 1, W: per, C: 1})
	if err != nil {
		return err
	}
	idx := TokenIndex{Tokenizer: w.ID(), Quant: cfg.Quant, Split: split}
	item := make([]uint8, lf*per)
	t0, last := time.Now(), time.Now()
	for i := range n {
		if err := ctx.Err(); err != nil {
			wr.Abort()
			return err
		}
		maps, err := enc.Encode(mv.Store.Clip(i))
		if err != nil {
			wr.Abort()
			return fmt.Errorf("tokenize clip %d: %w", i, err)
		}
		item = item[:0]
		for _, m := range maps {
			for _, codes := range m {
				for _, c := range codes {
					item = append(item, uint8(c))
				}
			}
		}
		if err := wr.Append(item); err != nil {
			wr.Abort()
			return err
		}
		idx.Clips = append(idx.Clips, i)
		idx.Captions = append(idx.Captions, mv.Clips[i].Captions)
		if time.Since(last) > 10*time.Second || i == n-1 {
			last = time.Now()
			el := time.Since(t0).Seconds()
			rate := float64(i+1) / el
			slog.Info("tokenize", "split", split, "clips", i+1, "of", n, "clips_per_s", fmt.Sprintf("%.1f", rate),
				"eta", time.Duration(float64(n-i-1)/rate*float64(time.Second)).Round(time.Second))
		}
	}
	return wr.Close(idx)
}

// OpenTokens opens a token file.
func OpenTokens(path string) (*Tokens, error) {
	st, err := store.Open(path)
	if err != nil {
		return nil, err
	}
	t := &Tokens{Store: st}
	if err := st.DecodeIndex(&t.Index); err != nil {
		return nil, fmt.Errorf("token file %s: index: %w", path, err)
	}
	if len(t.Index.Clips) != st.Len() || len(t.Index.Captions) != st.Len() {
		return nil, fmt.Errorf("token file %s: index lists %d clips, store has %d", path, len(t.Index.Clips), st.Len())
	}
	if d := st.Shape(); d.W != t.Index.Quant.Tokens() || d.H != 1 || d.C != 1 {
		return nil, fmt.Errorf("token file %s: items %v do not hold %d codes per frame", path, d, t.Index.Quant.Tokens())
	}
	return t, nil
}

// Codes returns clip i's codes, the first frames latent frames [frames][per frame].
func (t *Tokens) Codes(i, frames int) [][]int {
	raw, per := t.Store.Clip(i), t.Index.Quant.Tokens()
	out := make([][]int, frames)
	for f := range out {
		out[f] = make([]int, per)
		for j := range out[f] {
			out[f][j] = int(raw[f*per+j])
		}
	}
	return out
}

// Package videoar is VideoAR: prompt-to-video generation on the unified
// decoder (package unified). A clip's tokens — the video tokenizer's codes,
// latent frames × scales — are generated next frame × next scale: every
// scale of a latent frame is one group, predicted in parallel from the
// upsampled running sum of the frame's earlier scales (VAR), the prompt and
// all earlier frames.
//
// What VideoAR adds to the decoder (DESIGN.md, "VideoAR"):
//   - multi-scale temporal RoPE: rotary pairs split among time, scale and
//     the two spatial axes, coarse cells placed on the finest grid;
//   - the prompt in every layer (adaptive RMSNorm from a pooled prompt
//     embedding) besides the prompt tokens at the start of the sequence;
//   - a local copy path: each position sees the previous latent frame
//     around its own cell, so a moving object is drawn once and then moved;
//   - cross-frame error correction (training inputs of later frames carry
//     random code flips, targets stay clean) and random frame masks.
//
// Config.Raster is the baseline VideoAR is measured against: the same
// decoder trained with plain next-token prediction over the same codes in
// raster order (frame by frame, scale by scale, row-major), one code per
// decoder pass.
package videoar

import (
	"encoding/json"
	"fmt"

	"github.com/omniar/omniar/msvq"
	"github.com/omniar/omniar/unified"
)

// Config sizes the generator.
type Config struct {
	Trunk  unified.Config `json:"trunk"`
	Quant  msvq.Config    `json:"quant"`  // the video tokenizer's quantizer
	Frames int            `json:"frames"` // latent frames of a clip (5 = 17 video frames)
	Prompt int            `json:"prompt"` // prompt tokens, <bos> included (cut or padded)
	Vocab  int            `json:"vocab"`  // text vocabulary
	Local  int            `json:"local"`  // side of the previous frame's neighbourhood a position sees (odd)
	// Raster: next-token prediction in raster order under a causal mask,
	// the input at each visual position the codebook vector of the code
	// before it; no local copy path. Omitted from the JSON when false, so
	// VideoAR checkpoints keep their metadata.
	Raster bool `json:"raster,omitempty"`
	// Past is how many earlier latent frames a position sees around its
	// cell, the nearest first: 0 or 1 the previous frame alone, 2 also
	// the one before it, so that each cell sees where the ink it copies
	// was moving (one frame shows where it is, two its velocity). 0 is
	// omitted from the JSON, so older checkpoints keep their metadata.
	Past int `json:"past,omitempty"`
}

// PastFrames is how many earlier latent frames the local context holds.
func (c Config) PastFrames() int { return max(1, c.Past) }

// WithPast is c seeing n earlier frames around each cell (Past).
func (c Config) WithPast(n int) Config {
	c.Past = n
	if n == 1 {
		c.Past = 0 // the default, as older checkpoints write it
	}
	return c
}

// Small is the shipped generator: the unified Small trunk with rotary
// pairs split time 8, scale 4, y 10, x 10 and prompt-conditioned norms.
func Small(q msvq.Config, vocab int) Config {
	t := unified.Small()
	t.RopeSplit = []int{8, 4, 10, 10}
	t.CondDim = t.Dim
	return Config{Trunk: t, Quant: q, Frames: 5, Prompt: 24, Vocab: vocab, Local: 5}
}

// Rope1D is the ablation without multi-scale temporal RoPE: all rotary
// pairs on one axis, the position's row in the sequence (plain 1-D RoPE).
func (c Config) Rope1D() Config {
	n := 0
	for _, k := range c.Trunk.RopeSplit {
		n += k
	}
	c.Trunk.RopeSplit = []int{n}
	return c
}

// RasterOrder is the raster-order baseline of the same decoder (Raster).
func (c Config) RasterOrder() Config {
	c.Raster = true
	return c
}

// Passes is the number of decoder passes that generate frames latent
// frames: one per scale of a frame, or one per code in raster order.
func (c Config) Passes(frames int) int {
	if c.Raster {
		return frames * c.Quant.Tokens()
	}
	return frames * len(c.Quant.Scales)
}

// Tiny is a test configuration.
func Tiny(q msvq.Config, vocab int) Config {
	t := unified.Tiny()
	t.RopeSplit = []int{2, 2, 2, 2}
	t.CondDim = t.Dim
	return Config{Trunk: t, Quant: q, Frames: 2, Prompt: 6, Vocab: vocab, Local: 3}
}

// Validate reports a configuration that cannot be built.
func (c Config) Validate() error {
	if err := c.Trunk.Validate(); err != nil {
		return err
	}
	if err := c.Quant.Validate(); err != nil {
		return err
	}
	switch {
	case len(c.Trunk.RopeSplit) != 4 && len(c.Trunk.RopeSplit) != 1:
		return fmt.Errorf("videoar config: rope split %v, want 4 axes (time, scale, y, x) or 1 (the sequence)", c.Trunk.RopeSplit)
	case c.Trunk.CondDim != c.Trunk.Dim:
		return fmt.Errorf("videoar config: cond dim %d, want the model dim %d", c.Trunk.CondDim, c.Trunk.Dim)
	case c.Frames < 1 || c.Prompt < 1 || c.Vocab < 1:
		return fmt.Errorf("videoar config: frames %d, prompt %d, vocab %d must be positive", c.Frames, c.Prompt, c.Vocab)
	case c.Frames > 1<<12 || c.Prompt > 1<<12 || c.Vocab > 1<<22:
		return fmt.Errorf("videoar config: frames %d, prompt %d, vocab %d: at most %d, %d, %d", c.Frames, c.Prompt, c.Vocab, 1<<12, 1<<12, 1<<22)
	case c.Local < 1 || c.Local%2 == 0 || c.Local > 63:
		return fmt.Errorf("videoar config: local %d must be odd and at most 63", c.Local)
	case c.Past < 0 || c.Past > max(1, c.Frames-1):
		return fmt.Errorf("videoar config: past %d, want 1 … %d earlier frames", c.Past, max(1, c.Frames-1))
	case c.Raster && c.Past > 1:
		return fmt.Errorf("videoar config: past %d in raster order, which has no local context", c.Past)
	}
	return nil
}

// JSON is the configuration as checkpoint metadata.
func (c Config) JSON() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// ParseConfig reads JSON metadata back.
func ParseConfig(s string) (Config, error) {
	var c Config
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return c, fmt.Errorf("videoar config: %w", err)
	}
	return c, c.Validate()
}

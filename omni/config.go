// Package omni is OmniAR's unified multimodal model on the unified trunk
// (package unified): one embedding table and tied head over the global
// vocabulary (tokenizers.Vocab), visual positions embedded from the video
// tokenizer's codes (the upsampled running sum of a frame's earlier
// scales, as VideoAR does), audio positions from the audio codec's codes
// (the sum of the code vectors of earlier depths), optionally a glance of
// each whole frame in understanding questions (Config.Glance), and one
// next-group-of-tokens loss over sequences laid out by unified.BuildLayout.
//
// Training runs several tasks at once, each with its own fixed template
// (so one compiled graph holds a slot per task and every step trains on
// all of them): text LM, understanding of images, clips, recordings and
// quotations (loss on the answer after <answer>), and image generation
// from captions (loss on the visual groups). Inference answers questions
// greedily through the trunk's KV cache.
package omni

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/omniar/omniar/msvq"
	"github.com/omniar/omniar/tokenizers"
	"github.com/omniar/omniar/unified"
)

// Config sizes the model and fixes its task templates.
type Config struct {
	Trunk unified.Config    `json:"trunk"`
	Vocab tokenizers.Config `json:"vocab"`
	Quant msvq.Config       `json:"quant"` // the video tokenizer's quantizer

	AudioLatent int `json:"audio_latent"` // the codec's code width
	AudioDepths int `json:"audio_depths"` // codec depths the model reads (≤ Vocab.AudioDepths)
	AudioFrames int `json:"audio_frames"` // codec frames of a recording (cut or padded with code 0)
	ChunkLen    int `json:"chunk_len"`    // codec frames of one audio chunk
	VideoFrames int `json:"video_frames"` // latent frames of a clip

	Question int `json:"question"` // question tokens (padded with <pad>; longer is an error)
	Answer   int `json:"answer"`   // answer tokens before <eos>
	Context  int `json:"context"`  // quotation tokens of a text question (cut)
	Caption  int `json:"caption"`  // caption tokens of image generation (cut)
	LMSeq    int `json:"lm_seq"`   // tokens of a language-model sample

	// Glance adds to the first (1×1) row of every frame of an
	// understanding question an MLP of the frame's whole finest grid
	// (Model.Glance): attention averages rows whose values carry no
	// position, while a linear read of the flattened grid names the digit
	// more often than the trunk does (model card, "Audio codec and
	// unified model"). It must be trained from the first step: grown into
	// trained weights it stays unused.
	Glance bool `json:"glance,omitempty"`
}

// Tiny is the test configuration for a given vocabulary and tokenizers.
func Tiny(v tokenizers.Config, q msvq.Config, audioLatent int) Config {
	t := unified.Tiny()
	t.RopeSplit = []int{2, 2, 2, 2}
	return Config{Trunk: t, Vocab: v, Quant: q, AudioLatent: audioLatent, AudioDepths: min(2, v.AudioDepths),
		AudioFrames: 8, ChunkLen: 4, VideoFrames: 2, Question: 8, Answer: 4, Context: 12, Caption: 8, LMSeq: 16}
}

// Small is the shipped size: a narrower, shallower unified trunk than
// unified.Small (dim 192, 4 layers, 8 experts of 192 hidden units, top-2
// plus a shared one; about 6M parameters) so that it trains on every task
// in 25 minutes of one contended core, with rotary pairs split time 8,
// scale 4, y 10, x 10.
func Small(v tokenizers.Config, q msvq.Config, audioLatent int) Config {
	t := unified.Small()
	t.Dim, t.Layers, t.Heads, t.ExpertHidden = 192, 4, 3, 192
	t.RopeSplit = []int{8, 4, 10, 10}
	return Config{Trunk: t, Vocab: v, Quant: q, AudioLatent: audioLatent, AudioDepths: min(2, v.AudioDepths),
		AudioFrames: 60, ChunkLen: 10, VideoFrames: 2, Question: 12, Answer: 6, Context: 40, Caption: 12, LMSeq: 64}
}

// Validate reports a configuration that cannot be built.
func (c Config) Validate() error {
	if err := c.Trunk.Validate(); err != nil {
		return err
	}
	if _, err := tokenizers.New(c.Vocab); err != nil {
		return err
	}
	if err := c.Quant.Validate(); err != nil {
		return err
	}
	switch {
	case len(c.Trunk.RopeSplit) != unified.NumAxes:
		return fmt.Errorf("omni config: rope split %v, want %d axes (time, scale, y, x)", c.Trunk.RopeSplit, unified.NumAxes)
	case c.Trunk.CondDim != 0:
		return fmt.Errorf("omni config: cond dim %d: the model has no adaptive norms", c.Trunk.CondDim)
	case c.Quant.Codes != c.Vocab.VisualCodes || c.Vocab.VisualBooks != 1:
		return fmt.Errorf("omni config: quantizer has %d codes, vocabulary %d books of %d", c.Quant.Codes, c.Vocab.VisualBooks, c.Vocab.VisualCodes)
	case c.AudioDepths < 1 || c.AudioDepths > c.Vocab.AudioDepths || c.AudioLatent < 1:
		return fmt.Errorf("omni config: audio depths %d of %d, latent %d", c.AudioDepths, c.Vocab.AudioDepths, c.AudioLatent)
	case c.ChunkLen < 1 || c.AudioFrames < c.ChunkLen || c.AudioFrames%c.ChunkLen != 0:
		return fmt.Errorf("omni config: %d audio frames in chunks of %d", c.AudioFrames, c.ChunkLen)
	case c.VideoFrames < 1:
		return fmt.Errorf("omni config: %d video frames", c.VideoFrames)
	case c.Question < 1 || c.Answer < 1 || c.Context < 1 || c.Caption < 1 || c.LMSeq < 1:
		return fmt.Errorf("omni config: question %d, answer %d, context %d, caption %d, lm seq %d must be positive",
			c.Question, c.Answer, c.Context, c.Caption, c.LMSeq)
	}
	return nil
}

// Dense is the configuration with the trunk's dense FFN of equal active size.
func (c Config) Dense() Config {
	d := c
	d.Trunk = c.Trunk.Dense()
	d.Quant.Scales = slices.Clone(c.Quant.Scales)
	return d
}

// JSON is the configuration as checkpoint metadata.
func (c Config) JSON() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// ParseConfig reads JSON metadata back and validates it.
func ParseConfig(s string) (Config, error) {
	var c Config
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return c, fmt.Errorf("omni config: %w", err)
	}
	return c, c.Validate()
}

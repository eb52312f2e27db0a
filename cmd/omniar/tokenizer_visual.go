package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/omniar/omniar/pipelines/vtok"
)

// --modality image and video: the video tokenizer (an image is a one-frame
// video) on media files; see pipelines/vtok/files.go for what is kept of
// the input and the .tok layout.
func init() {
	for _, m := range []string{"image", "video"} {
		tokenizerModalities[m] = tokenizerModality{encode: encodeVisual(m), decode: decodeVisual(m)}
	}
	tokenizerFlagHooks = append(tokenizerFlagHooks, visualFlagHook)
}

// visualFlags are the flags only --modality image and video read.
type visualFlags struct {
	frames int // encode: most video frames kept
}

func visualFlagHook(verb string, fl *pflag.FlagSet, f *tokenizerFlags) {
	if verb == "encode" {
		fl.IntVar(&f.visual.frames, "frames", 17, "video: keep the first 1 + 4k frames, at most this many (≥ 5)")
	}
}

// visualTokenizer is --ckpt or the shipped tokenizer.
func visualTokenizer(f *tokenizerFlags) (string, error) {
	if f.ckpt != "" {
		return f.ckpt, nil
	}
	p := assetPath(assetVideoTok)
	return p, checkAsset(p, "video tokenizer")
}

func encodeVisual(modality string) func(*cobra.Command, *tokenizerFlags) error {
	return func(cmd *cobra.Command, f *tokenizerFlags) error {
		if f.in == "" || f.out == "" {
			return usageErrorf("--in (a .png, .gif, .avi or .mp4 file) and --out (a .tok file) are required")
		}
		frames := f.visual.frames
		if modality == "video" && frames < 5 {
			return usageErrorf("--frames %d: a video needs at least 5 (1 + 4k); use --modality image for one frame", frames)
		}
		ckpt, err := visualTokenizer(f)
		if err != nil {
			return err
		}
		r, err := vtok.EncodeFile(ckpt, modality, f.in, f.out, frames)
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s: %d frames → %d latent frames, %d tokens in %s → %s\n",
			f.in, r.Frames, r.LatentFrames, r.Tokens, r.Took.Round(1e6), f.out)
		return nil
	}
}

func decodeVisual(modality string) func(*cobra.Command, *tokenizerFlags) error {
	return func(cmd *cobra.Command, f *tokenizerFlags) error {
		if f.in == "" || f.out == "" {
			return usageErrorf("--in (a .tok file) and --out (a .png, .gif, .avi or .mp4 file) are required")
		}
		ckpt, err := visualTokenizer(f)
		if err != nil {
			return err
		}
		r, err := vtok.DecodeFile(ckpt, modality, f.in, f.out)
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s: %d tokens, %d latent frames → %d frames in %s → %s\n",
			f.in, r.Tokens, r.LatentFrames, r.Frames, r.Took.Round(1e6), f.out)
		return nil
	}
}

package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/omniar/omniar/audio/codec"
	"github.com/omniar/omniar/pipelines/atok"
)

// audioFlags are the flags only --modality audio reads.
type audioFlags struct {
	train      atok.Options
	waveWeight float64 // train: weight of the waveform L1 (0: the recipe's)
	config     string  // train: codec.Named configuration
	depths     int     // decode: depths to use (0: all in the file)
}

func init() {
	tokenizerModalities["audio"] = tokenizerModality{train: trainAudioCodec, encode: encodeAudio, decode: decodeAudio}
	tokenizerFlagHooks = append(tokenizerFlagHooks, audioFlagHook)
}

func audioFlagHook(verb string, fl *pflag.FlagSet, f *tokenizerFlags) {
	a := &f.audio
	switch verb {
	case "train":
		d := atok.Defaults()
		a.train = d
		fl.StringVar(&a.train.Ckpt, "ckpt", "", "audio: training checkpoint with optimizer state (default: --out + .train)")
		fl.IntVar(&a.train.Steps, "steps", d.Steps, "audio: optimizer steps")
		fl.IntVar(&a.train.Batch, "batch", d.Batch, "audio: clips a step")
		fl.Float64Var(&a.train.Seconds, "seconds", d.Seconds, "audio: seconds a clip")
		fl.Float64Var(&a.train.LR, "lr", d.LR, "audio: peak learning rate")
		fl.IntVar(&a.train.CkptEvery, "ckpt-every", d.CkptEvery, "audio: steps between checkpoints")
		fl.BoolVar(&a.train.Resume, "resume", false, "audio: continue from --ckpt if it exists")
		fl.Uint64Var(&a.train.Seed, "seed", d.Seed, "audio: seed of the initialisation and the data order")
		fl.Float64Var(&a.waveWeight, "wave-weight", 0, "audio: weight of the waveform L1 against the STFT losses (0: the recipe's)")
		fl.StringVar(&a.config, "config", "small", "audio: codec configuration (small, small-v1, tiny)")
		fl.Float64Var(&a.train.Mic, "mic", 0, "audio: probability a training clip gets microphone conditions (low-frequency rumble, noise floor)")
		fl.StringVar(&a.train.Init, "init", "", "audio: start from this codec's weights (weights file or training checkpoint; tensors the configuration adds start fresh)")
	case "decode":
		fl.IntVar(&a.depths, "depths", 0, "audio: decode with the first N depths only (0: all in the file)")
	}
}

// trainAudioCodec trains the codec on the speech train split and writes
// the weights-only file --out (default assets/audio_codec.safetensors).
func trainAudioCodec(cmd *cobra.Command, f *tokenizerFlags) error {
	oneGoThread()
	out := f.out
	if !cmd.Flags().Changed("out") {
		out = atok.DefaultPath
	}
	opt := f.audio.train
	opt.Data = f.data
	if opt.Ckpt == "" {
		opt.Ckpt = out + ".train"
	}
	if opt.Steps < 1 || opt.Batch < 1 || opt.Seconds <= 0 || opt.LR <= 0 {
		return usageErrorf("--steps, --batch, --seconds and --lr must be positive")
	}
	opt.Warmup = min(opt.Warmup, opt.Steps/10)
	cfg, err := codec.Named(f.audio.config)
	if err != nil {
		return usageErrorf("--config: %v", err)
	}
	if f.audio.waveWeight > 0 {
		cfg.WaveWeight = f.audio.waveWeight
	}
	res, err := atok.Run(cmd.Context(), cfg, opt)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	if n := len(res.Losses); n > 0 {
		fmt.Fprintf(w, "trained %d of %d steps; loss %.4f → %.4f\n", res.Steps, opt.Steps, res.Losses[0], res.Losses[n-1])
	}
	if res.Stopped {
		fmt.Fprintf(w, "stopped; resume with --resume --ckpt %s\n", opt.Ckpt)
		return nil
	}
	cdc, err := codec.Load(opt.Ckpt)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	if err := codec.SaveWeights(out, cdc.Cfg, cdc.W); err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s (codebook id %s, %.0f bit/s at %d depths)\n", out, cdc.CodebookID(), cdc.Cfg.Bitrate(cdc.Cfg.Depths), cdc.Cfg.Depths)
	return nil
}

func codecPath(f *tokenizerFlags) string {
	if f.ckpt != "" {
		return f.ckpt
	}
	return shippedCodec()
}

// shippedCodec is the shipped audio codec in the assets directory.
func shippedCodec() string { return assetPath(filepath.Base(atok.DefaultPath)) }

// encodeAudio writes the tokens of a WAV or MP3 file to a .tok file.
func encodeAudio(cmd *cobra.Command, f *tokenizerFlags) error {
	if f.in == "" || f.out == "" {
		return usageErrorf("--in (a .wav or .mp3 file) and --out (a .tok file) are required")
	}
	r, err := atok.EncodeFile(codecPath(f), f.in, f.out)
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s: %.2f s → %d frames × %d depths (%.0f bit/s) in %s, %.0f× real time → %s\n",
		f.in, r.Seconds, r.Frames, r.Depths, r.Bitrate, r.Took.Round(1e6), r.RTF(), f.out)
	return nil
}

// decodeAudio writes the WAV of a .tok file.
func decodeAudio(cmd *cobra.Command, f *tokenizerFlags) error {
	if f.in == "" || f.out == "" {
		return usageErrorf("--in (a .tok file) and --out (a .wav file) are required")
	}
	if f.audio.depths < 0 {
		return usageErrorf("--depths %d: want ≥ 0", f.audio.depths)
	}
	r, err := atok.DecodeFile(codecPath(f), f.in, f.out, f.audio.depths)
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s: %d frames × %d depths (%.0f bit/s) → %.2f s in %s, %.0f× real time → %s\n",
		f.in, r.Frames, r.Depths, r.Bitrate, r.Seconds, r.Took.Round(1e6), r.RTF(), f.out)
	return nil
}

package atok

import (
	"fmt"
	"time"

	"github.com/omniar/omniar/audio"
	"github.com/omniar/omniar/audio/codec"
	"github.com/omniar/omniar/tokenizers/tokfile"
)

// DefaultPath is the shipped codec, relative to the module root.
const DefaultPath = "assets/audio_codec.safetensors"

// FileReport describes one encode or decode of a file.
type FileReport struct {
	Seconds float64       // audio duration
	Frames  int           // latent frames
	Depths  int           // depths in the tokens
	Bitrate float64       // bit/s of the tokens
	Took    time.Duration // encode or decode time, file I/O excluded
}

// RTF is the real-time factor: seconds of audio per second of compute.
func (r FileReport) RTF() float64 { return r.Seconds / max(r.Took.Seconds(), 1e-9) }

// EncodeFile tokenizes a WAV or MP3 file (any rate, any channels; brought
// to 16 kHz mono) into a .tok file.
func EncodeFile(ckpt, in, out string) (FileReport, error) {
	cdc, err := codec.Load(ckpt)
	if err != nil {
		return FileReport{}, err
	}
	defer cdc.Close()
	clip, err := audio.ReadFile(in)
	if err != nil {
		return FileReport{}, err
	}
	clip = audio.ToMono16k(clip)
	if len(clip.Samples) == 0 {
		return FileReport{}, fmt.Errorf("encode %s: no audio samples", in)
	}
	start := time.Now()
	codes, err := cdc.Encode(clip.Samples)
	if err != nil {
		return FileReport{}, fmt.Errorf("encode %s: %w", in, err)
	}
	took := time.Since(start)
	if err := tokfile.Write(out, cdc.ToFile(codes, len(clip.Samples))); err != nil {
		return FileReport{}, err
	}
	return FileReport{Seconds: float64(len(clip.Samples)) / float64(clip.Rate), Frames: len(codes),
		Depths: cdc.Cfg.Depths, Bitrate: cdc.Cfg.Bitrate(cdc.Cfg.Depths), Took: took}, nil
}

// DecodeFile turns a .tok file made by the codec at ckpt back into a WAV,
// with the first depths depths (0: all the file has).
func DecodeFile(ckpt, in, out string, depths int) (FileReport, error) {
	cdc, err := codec.Load(ckpt)
	if err != nil {
		return FileReport{}, err
	}
	defer cdc.Close()
	f, err := tokfile.Read(in)
	if err != nil {
		return FileReport{}, err
	}
	codes, samples, err := cdc.FromFile(f)
	if err != nil {
		return FileReport{}, fmt.Errorf("decode %s with %s: %w", in, ckpt, err)
	}
	if samples == 0 {
		return FileReport{}, fmt.Errorf("decode %s: the file holds no samples", in)
	}
	have := len(codes[0])
	if depths == 0 {
		depths = have
	}
	if depths < 1 || depths > have {
		return FileReport{}, fmt.Errorf("decode %s: %d depths asked, the file has %d", in, depths, have)
	}
	start := time.Now()
	wave, err := cdc.Decode(codes, depths)
	if err != nil {
		return FileReport{}, fmt.Errorf("decode %s: %w", in, err)
	}
	took := time.Since(start)
	for i, v := range wave[:samples] { // the WAV writer wants [-1, 1]
		wave[i] = max(-1, min(1, v))
	}
	if err := audio.WriteFile(out, &audio.Clip{Rate: cdc.Cfg.Rate, Samples: wave[:samples]}); err != nil {
		return FileReport{}, err
	}
	return FileReport{Seconds: float64(samples) / float64(cdc.Cfg.Rate), Frames: len(codes), Depths: depths,
		Bitrate: cdc.Cfg.Bitrate(depths), Took: took}, nil
}

// Package audio reads and writes sound for the audio tokenizer and the
// speech data set (DESIGN.md, "Tokens"): WAV of any common sample format
// and MP3 decode to a mono float32 Clip, a band-limited resampler brings a
// clip to the model's 16 kHz, a 16-bit PCM WAV writer stores it, and
// MelSpectrogram computes log-mel features.
//
// Every decoder treats its input as untrusted: truncated or corrupt files,
// absurd header fields and garbage give an error (wrapping ErrCorrupt or
// ErrUnsupported), never a panic or an allocation larger than the input.
package audio

import (
	"errors"
	"fmt"
	"time"
)

// Clip is mono sound: Samples in [-1, 1] at Rate samples per second.
type Clip struct {
	Rate    int
	Samples []float32
}

// Duration is the clip's length in time.
func (c *Clip) Duration() time.Duration {
	if c == nil || c.Rate <= 0 {
		return 0
	}
	return time.Duration(float64(len(c.Samples)) / float64(c.Rate) * float64(time.Second))
}

// ModelRate is the sample rate of the audio tokenizer (DESIGN.md: 16 kHz mono).
const ModelRate = 16000

// Sample rates outside [MinRate, MaxRate] are rejected as absurd.
const (
	MinRate = 1000
	MaxRate = 384000
)

// ErrCorrupt is wrapped by errors about malformed input: truncated files,
// chunk sizes that do not fit, impossible header fields, no audio.
var ErrCorrupt = errors.New("corrupt audio")

// ErrUnsupported is wrapped by errors about well-formed input in a format
// this package does not decode (e.g. ADPCM WAV).
var ErrUnsupported = errors.New("unsupported audio format")

// formatError is a message about the input that errors.Is matches to its
// kind (ErrCorrupt or ErrUnsupported) without repeating the kind's text.
type formatError struct {
	msg  string
	kind error
}

func (e *formatError) Error() string { return e.msg }
func (e *formatError) Unwrap() error { return e.kind }

func corrupt(format string, args ...any) error {
	return &formatError{fmt.Sprintf(format, args...), ErrCorrupt}
}

func unsupported(format string, args ...any) error {
	return &formatError{fmt.Sprintf(format, args...), ErrUnsupported}
}

func checkRate(rate int) error {
	if rate < MinRate || rate > MaxRate {
		return corrupt("sample rate %d Hz is outside [%d, %d]", rate, MinRate, MaxRate)
	}
	return nil
}

// clamp maps a sample into [-1, 1]; NaN becomes 0.
func clamp(x float64) float32 {
	switch {
	case x != x:
		return 0
	case x > 1:
		return 1
	case x < -1:
		return -1
	}
	return float32(x)
}

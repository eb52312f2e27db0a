package audio

import "math"

// Speed returns c played factor times as fast, pitch and tempo together
// (a tape played faster; the speed perturbation of speech recognition
// training): resampled from factor × its rate back to its rate, so it has
// about len/factor samples and every frequency is factor times higher.
// The rate it is read at is rounded to 100 Hz, so the resampling filter
// stays small. A factor outside [0.5, 2] or a clip Resample rejects gives
// an empty clip.
func Speed(c *Clip, factor float64) *Clip {
	if c == nil || !(factor >= 0.5 && factor <= 2) {
		return &Clip{}
	}
	read := int(math.Round(float64(c.Rate)*factor/100)) * 100
	return Resample(&Clip{Rate: read, Samples: c.Samples}, c.Rate)
}

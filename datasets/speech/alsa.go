package speech

import (
	"context"
	"path/filepath"
	"strings"

	"github.com/omniar/omniar/datasets"
)

// alsaRecording is one of alsa-utils' recorded test sounds: a person
// naming a loudspeaker position, or noise.
type alsaRecording struct {
	file  string
	text  string // what is said; empty for noise
	noise bool
}

// alsaRecordings are the files of /usr/share/sounds/alsa (48 kHz mono).
var alsaRecordings = []alsaRecording{
	{file: "Front_Center.wav", text: "front center"},
	{file: "Front_Left.wav", text: "front left"},
	{file: "Front_Right.wav", text: "front right"},
	{file: "Noise.wav", noise: true},
	{file: "Rear_Center.wav", text: "rear center"},
	{file: "Rear_Left.wav", text: "rear left"},
	{file: "Rear_Right.wav", text: "rear right"},
	{file: "Side_Left.wav", text: "side left"},
	{file: "Side_Right.wav", text: "side right"},
}

// labels are the recording's manifest labels.
func (r alsaRecording) labels() map[string]string {
	l := map[string]string{"voice": "alsa", "source": "alsa", "file": r.file}
	if r.noise {
		l["noise"] = "true"
	} else {
		l["text"] = r.text
	}
	return l
}

// copyAlsa converts the recordings to 16 kHz mono under speech/alsa/, all
// in the test split.
func copyAlsa(ctx context.Context, dir, alsaDir string) ([]datasets.Entry, error) {
	var out []datasets.Entry
	for _, r := range alsaRecordings {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rel := "speech/alsa/" + strings.ToLower(strings.ReplaceAll(r.file, "_", "-"))
		e, err := convert(dir, filepath.Join(alsaDir, r.file), rel, "test", KindWAV, r.labels())
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

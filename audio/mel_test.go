package audio

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// melFixture is testdata/mel_fixture.json, made by make_mel_fixture.py
// with torch.stft and torchaudio's filter-bank formula in float64.
type melFixture struct {
	Cases []struct {
		Name    string
		Rate    int
		Config  MelConfig
		Samples []float32
		LogMel  [][]float64 `json:"logmel"`
	}
}

func TestMelSpectrogramMatchesTorch(t *testing.T) {
	b, err := os.ReadFile("testdata/mel_fixture.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx melFixture
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatalf("testdata/mel_fixture.json: %v", err)
	}
	if len(fx.Cases) == 0 {
		t.Fatal("testdata/mel_fixture.json has no cases")
	}
	for _, tc := range fx.Cases {
		got := MelSpectrogram(&Clip{Rate: tc.Rate, Samples: tc.Samples}, tc.Config)
		if len(got) != len(tc.LogMel) || len(got[0]) != len(tc.LogMel[0]) {
			t.Fatalf("%s: %d×%d, want %d×%d", tc.Name, len(got), len(got[0]), len(tc.LogMel), len(tc.LogMel[0]))
		}
		var worst float64
		for i, row := range tc.LogMel {
			for j, want := range row {
				rel := math.Abs(float64(got[i][j])-want) / math.Max(1, math.Abs(want))
				worst = math.Max(worst, rel)
			}
		}
		t.Logf("%s: %d frames × %d mels, max relative error %.2g", tc.Name, len(got), len(got[0]), worst)
		if worst > 1e-4 {
			t.Errorf("%s: max relative error %.3g > 1e-4", tc.Name, worst)
		}
	}
}

func TestMelSpectrogramEdgeCases(t *testing.T) {
	for _, tc := range []struct {
		name   string
		clip   *Clip
		cfg    MelConfig
		frames int
		mels   int
	}{
		{"nil", nil, MelConfig{}, 0, 0},
		{"empty", &Clip{Rate: 16000}, MelConfig{}, 0, 0},
		{"bad rate", &Clip{Rate: 0, Samples: []float32{1}}, MelConfig{}, 0, 0},
		{"one sample", &Clip{Rate: 16000, Samples: []float32{0.5}}, MelConfig{}, 1, 80},
		{"shorter than window", tone(16000, 440, 0.5, 0.01), MelConfig{}, 2, 80},
		{"defaults", tone(16000, 440, 0.5, 1), MelConfig{}, 101, 80},
		{"nonsense config", tone(8000, 440, 0.5, 0.1), MelConfig{FFTSize: -1, Hop: -5, Mels: -2, FMin: 1e9, FMax: 1e9, Floor: math.NaN()}, 6, 80},
	} {
		got := MelSpectrogram(tc.clip, tc.cfg)
		if len(got) != tc.frames || tc.frames > 0 && len(got[0]) != tc.mels {
			t.Errorf("%s: %d frames, want %d×%d", tc.name, len(got), tc.frames, tc.mels)
			continue
		}
		for _, row := range got {
			for _, v := range row {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("%s: non-finite value %v", tc.name, v)
				}
			}
		}
	}
}

func TestMelSpectrogramPeakAtTone(t *testing.T) {
	// A 1 kHz tone puts its energy in the band whose centre is nearest 1 kHz.
	got := MelSpectrogram(tone(16000, 1000, 0.5, 0.5), MelConfig{})
	row := got[len(got)/2]
	best := 0
	for m, v := range row {
		if v > row[best] {
			best = m
		}
	}
	lo, hi := hzToMel(0), hzToMel(8000)
	centre := melToHz(lo + (hi-lo)*float64(best+1)/81)
	if math.Abs(centre-1000) > 60 {
		t.Errorf("peak in band %d (centre %.0f Hz), want the band nearest 1000 Hz", best, centre)
	}
}

// TestMelMatrix: a power spectrum times MelMatrix gives the band energies
// of MelSpectrogram's filters (checked against torch by the fixture).
func TestMelMatrix(t *testing.T) {
	for _, tc := range []struct{ rate, n, mels int }{{16000, 400, 80}, {16000, 256, 32}, {8000, 1024, 128}} {
		m := MelMatrix(tc.rate, tc.n, tc.mels)
		bins := tc.n/2 + 1
		if len(m) != bins*tc.mels {
			t.Fatalf("%+v: %d values, want %d×%d", tc, len(m), bins, tc.mels)
		}
		power := make([]float64, bins)
		for k := range power {
			power[k] = 1 + math.Sin(float64(k))
		}
		cfg := MelConfig{FFTSize: tc.n, Mels: tc.mels}.resolve(tc.rate)
		want := melFilters(tc.rate, tc.n, cfg).apply(power, 1e-30)
		for j := 0; j < tc.mels; j++ {
			var s float64
			for k := 0; k < bins; k++ {
				s += power[k] * float64(m[k*tc.mels+j])
			}
			got := math.Log(max(s, 1e-30))
			if math.Abs(got-float64(want[j])) > 1e-5*math.Max(1, math.Abs(got)) {
				t.Fatalf("%+v band %d: ln energy %g, filters give %g", tc, j, got, want[j])
			}
		}
	}
}

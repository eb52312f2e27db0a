package atok

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omniar/omniar/audio"
	"github.com/omniar/omniar/datasets/speech"
)

func TestDigitFeatures(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1600, 8000, 13000} {
		x := make([]float32, n)
		for i := n / 4; i < n/2; i++ { // a tone burst in silence
			x[i] = float32(0.5*math.Sin(float64(i)*0.3) + 0.01*rng.NormFloat64())
		}
		f := digitFeatures(x, 16000)
		if len(f) != digitSegments*80 {
			t.Fatalf("%d samples: %d features, want %d", n, len(f), digitSegments*80)
		}
		for _, v := range f {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("%d samples: non-finite feature", n)
			}
		}
	}
}

// TestKNN: the digit classifier separates Gaussian blobs it was not
// trained on.
func TestKNN(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const classes, dim = 4, 12
	centres := make([][]float64, classes)
	for k := range centres {
		centres[k] = make([]float64, dim)
		for j := range centres[k] {
			centres[k][j] = 3 * rng.NormFloat64()
		}
	}
	sample := func(n int) ([][]float64, []int) {
		var xs [][]float64
		var ys []int
		for i := 0; i < n; i++ {
			k := i % classes
			x := make([]float64, dim)
			for j := range x {
				x[j] = centres[k][j] + rng.NormFloat64()
			}
			xs, ys = append(xs, x), append(ys, k)
		}
		return xs, ys
	}
	trX, trY := sample(200)
	teX, teY := sample(100)
	if acc := accuracy(newKNN(trX, trY, classes, 5), teX, teY); acc < 0.95 {
		t.Fatalf("held-out accuracy %.2f on separable blobs", acc)
	}
}

func TestUsageAndSpread(t *testing.T) {
	u := usage(1, []float64{2, 2, 0, 0})
	if u.Used != 2 || math.Abs(u.Perplexity-2) > 1e-9 {
		t.Fatalf("usage %+v, want 2 codes at perplexity 2", u)
	}
	items := make([]speech.Item, 10)
	for i := range items {
		items[i].Path = string(rune('a' + i))
	}
	if got := spread(items, 3); len(got) != 3 || got[0].Path != "a" || got[1].Path != "d" || got[2].Path != "g" {
		t.Fatalf("spread: %v", got)
	}
	if len(spread(items, 0)) != 10 {
		t.Fatal("spread(0) should keep all")
	}
}

func TestMissingData(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nodata")
	if _, err := LoadClips(dir, "train"); err == nil || !strings.Contains(err.Error(), "nodata") {
		t.Fatalf("LoadClips on a missing directory: %v", err)
	}
}

func TestAddNoise(t *testing.T) {
	x := make([]float32, 16000)
	for i := range x {
		x[i] = float32(0.3 * math.Sin(float64(i)*0.05))
	}
	for _, snr := range []float64{10, 20, 40} {
		y := addNoise(x, snr, 1)
		var p, e float64
		for i := range x {
			p += float64(x[i]) * float64(x[i])
			e += float64(y[i]-x[i]) * float64(y[i]-x[i])
		}
		if got := 10 * math.Log10(p/e); math.Abs(got-snr) > 0.2 {
			t.Errorf("noise at %g dB: got %.2f dB", snr, got)
		}
	}
}

// TestBandPower: a tone's power lands in its band, and a tone at half the
// level reads 6 dB lower.
func TestBandPower(t *testing.T) {
	tone := func(hz, amp float64) []float32 {
		x := make([]float32, 8000)
		for i := range x {
			x[i] = float32(amp * math.Sin(2*math.Pi*hz*float64(i)/16000))
		}
		return x
	}
	bp := newBandPower()
	for _, tc := range []struct {
		hz   float64
		band int
	}{{150, 0}, {700, 1}, {1500, 2}, {2500, 3}, {6000, 4}} {
		a, b := make([]float64, len(gainBands)-1), make([]float64, len(gainBands)-1)
		bp.add(a, tone(tc.hz, 0.5), 16000)
		bp.add(b, tone(tc.hz, 0.25), 16000)
		var total float64
		for _, v := range a {
			total += v
		}
		if a[tc.band] < 0.99*total {
			t.Errorf("%g Hz: %.3g of %.3g in band %d", tc.hz, a[tc.band], total, tc.band)
		}
		if g := 10 * math.Log10(b[tc.band]/a[tc.band]); math.Abs(g+6.02) > 0.01 {
			t.Errorf("%g Hz at half the amplitude: %.2f dB", tc.hz, g)
		}
	}
}

// TestBenignChannels: both channels keep the length and change the clip.
func TestBenignChannels(t *testing.T) {
	x := make([]float32, 4000)
	for i := range x {
		x[i] = float32(0.3*math.Sin(float64(i)*0.1) + 0.2*math.Sin(float64(i)*2.5)) // 255 Hz and 6.4 kHz
	}
	c := &audio.Clip{Rate: 16000, Samples: x}
	for _, ch := range benignChannels() {
		y := ch.apply(c, 1)
		if len(y) != len(x) {
			t.Fatalf("%s: %d samples, want %d", ch.name, len(y), len(x))
		}
		var d float64
		for i := range x {
			d += math.Abs(float64(y[i] - x[i]))
		}
		if d/float64(len(x)) < 0.01 {
			t.Errorf("%s left the clip unchanged", ch.name)
		}
	}
}

// TestDigitSplits: the proxy can score the val split's digits (to choose
// between codecs without test), and an unknown split is an error.
func TestDigitSplits(t *testing.T) {
	home, _ := os.UserHomeDir()
	dir := filepath.Join(home, ".cache", "omniar", "data")
	if _, err := os.Stat(filepath.Join(dir, "speech", "index.json")); err != nil {
		t.Skipf("no prepared data in %s", dir)
	}
	val, y, err := digitClips(dir, "val")
	if err != nil || len(val) == 0 || len(val) != len(y) {
		t.Fatalf("val digits: %d clips, %d labels, %v", len(val), len(y), err)
	}
	if _, _, err := digitClips(dir, "nope"); err == nil {
		t.Error("unknown split accepted")
	}
}

package metrics

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/omniar/omniar/audio"
)

func TestSSIMReference(t *testing.T) {
	for _, name := range []string{"noise", "blur", "shift", "random_33x20", "same"} {
		t.Run(name, func(t *testing.T) {
			fx := loadFixture(t, "ssim_"+name)
			var ref struct {
				SSIM      float64  `json:"ssim"`
				SSIMValid float64  `json:"ssim_valid"`
				PSNR      *float64 `json:"psnr"`
			}
			fx.decode(t, &ref)
			a, b := fx.matrix(t, "a"), fx.matrix(t, "b")
			h, w := a.Dims()
			s, err := SSIM(a.RawMatrix().Data, b.RawMatrix().Data, w, h, 255)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(s-ref.SSIM) > 1e-9 || math.Abs(s-ref.SSIMValid) > 1e-9 {
				t.Errorf("SSIM = %.12f, skimage-style %.12f, valid %.12f", s, ref.SSIM, ref.SSIMValid)
			}
			p, err := PSNR(a.RawMatrix().Data, b.RawMatrix().Data, 255)
			if err != nil {
				t.Fatal(err)
			}
			if ref.PSNR == nil {
				if !math.IsInf(p, 1) {
					t.Errorf("PSNR of equal images = %g, want +Inf", p)
				}
			} else if relErr(p, *ref.PSNR) > 1e-9 {
				t.Errorf("PSNR = %.12g, want %.12g", p, *ref.PSNR)
			}
		})
	}
}

func TestReconErrors(t *testing.T) {
	img := make([]float64, 12*12)
	cases := []struct {
		name string
		err  func() error
	}{
		{"ssim small", func() error { _, err := SSIM(make([]float64, 100), make([]float64, 100), 10, 10, 255); return err }},
		{"ssim size", func() error { _, err := SSIM(img, img[1:], 12, 12, 255); return err }},
		{"ssim range", func() error { _, err := SSIM(img, img, 12, 12, 0); return err }},
		{"psnr length", func() error { _, err := PSNR(img, img[1:], 255); return err }},
		{"psnr empty", func() error { _, err := PSNR(nil, nil, 255); return err }},
		{"frames count", func() error { _, err := CompareFrames(make([][]uint8, 2), make([][]uint8, 3), 12, 12); return err }},
		{"codebook range", func() error { _, err := Codebook([]int{0, 4}, 4); return err }},
		{"codebook empty", func() error { _, err := Codebook(nil, 4); return err }},
		{"sisnr silent", func() error { _, err := SISNR([]float32{1, 2}, []float32{3, 3}); return err }},
		{"sisnr length", func() error { _, err := SISNR([]float32{1, 2}, []float32{1}); return err }},
		{"logmel rate", func() error {
			_, _, err := LogMelDistance(&audio.Clip{Rate: 16000, Samples: make([]float32, 800)}, &audio.Clip{Rate: 8000, Samples: make([]float32, 800)}, audio.MelConfig{})
			return err
		}},
		{"logmel empty", func() error {
			_, _, err := LogMelDistance(&audio.Clip{Rate: 16000}, nil, audio.MelConfig{})
			return err
		}},
	}
	for _, c := range cases {
		if c.err() == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

func TestCompareFrames(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	ref, rec := make([][]uint8, 3), make([][]uint8, 3)
	for i := range ref {
		ref[i], rec[i] = make([]uint8, 16*16), make([]uint8, 16*16)
		for j := range ref[i] {
			ref[i][j] = uint8(rng.IntN(256))
			rec[i][j] = ref[i][j]
		}
	}
	rec[1][5] ^= 0x10
	fs, err := CompareFrames(ref, rec, 16, 16)
	if err != nil {
		t.Fatal(err)
	}
	want := 10 * math.Log10(255*255/(256.0/256))
	if fs.Identical != 2 || math.Abs(fs.PSNR-want) > 1e-9 || fs.SSIM >= 1 || fs.SSIM < 0.99 {
		t.Errorf("%+v, want PSNR %g over 1 frame", fs, want)
	}
}

func TestCodebook(t *testing.T) {
	cases := []struct {
		codes      []int
		size, used int
		perplexity float64
	}{
		{[]int{0, 1, 2, 3}, 8, 4, 4},
		{[]int{5, 5, 5}, 8, 1, 1},
		{[]int{0, 0, 1, 1}, 2, 2, 2},
	}
	for _, c := range cases {
		u, err := Codebook(c.codes, c.size)
		if err != nil {
			t.Fatal(err)
		}
		if u.Used != c.used || math.Abs(u.Perplexity-c.perplexity) > 1e-12 || u.Share != float64(c.used)/float64(c.size) {
			t.Errorf("%v: %+v", c.codes, u)
		}
	}
}

func TestSISNRReference(t *testing.T) {
	fx := loadFixture(t, "sisnr")
	var ref []float64
	fx.decode(t, &ref)
	est, r := fx.matrix(t, "est"), fx.matrix(t, "ref")
	for i, want := range ref {
		got, err := SISNR(f32s(est.RawRowView(i)), f32s(r.RawRowView(i)))
		if err != nil {
			t.Fatal(err)
		}
		if relErr(got, want) > 1e-6 {
			t.Errorf("row %d: SI-SNR %.9g, numpy %.9g", i, got, want)
		}
	}
}

func f32s(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

func TestLogMelDistance(t *testing.T) {
	tone := func(f float64, n int) *audio.Clip {
		c := &audio.Clip{Rate: 16000, Samples: make([]float32, n)}
		for i := range c.Samples {
			c.Samples[i] = float32(0.5 * math.Sin(2*math.Pi*f*float64(i)/16000))
		}
		return c
	}
	a := tone(440, 8000)
	if d, n, err := LogMelDistance(a, a, audio.MelConfig{}); err != nil || d != 0 || n != 51 {
		t.Errorf("same clip: %g over %d frames, %v", d, n, err)
	}
	near, _, _ := LogMelDistance(tone(450, 8000), a, audio.MelConfig{})
	far, n, _ := LogMelDistance(tone(2000, 8100), a, audio.MelConfig{})
	if !(near > 0 && far > near) || n != 51 {
		t.Errorf("450 Hz: %g, 2 kHz: %g (%d frames)", near, far, n)
	}
}

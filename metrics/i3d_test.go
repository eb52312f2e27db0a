package metrics

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/omniar/omniar/nn/ckpt"
)

// i3dTestInput is tools/i3d.py's test_input: [3, T, 224, 224].
func i3dTestInput(frames int) []float32 {
	out := make([]float32, 0, 3*frames*I3DSize*I3DSize)
	for c := 0; c < 3; c++ {
		for t := 0; t < frames; t++ {
			for h := 0; h < I3DSize; h++ {
				for w := 0; w < I3DSize; w++ {
					fc, ft, fh, fw := float64(c), float64(t), float64(h), float64(w)
					v := math.Sin(0.37*ft+0.051*fh*(fc+1)+0.013*fw) * math.Cos(0.029*fw-0.11*fc+0.0007*fh*ft)
					out = append(out, float32(v))
				}
			}
		}
	}
	return out
}

// maxRel is max |a−b| / max |b| over the values.
func maxRel(a []float32, b []float32) float64 {
	var d, m float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
		m = math.Max(m, math.Abs(float64(b[i])))
	}
	return d / m
}

// checkI3D compares the Go network with a fixture written by tools/i3d.py.
func checkI3D(t *testing.T, path string, frames int) {
	t.Helper()
	m, err := LoadI3D(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ckpt.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	out, err := m.Forward(i3dTestInput(frames), frames)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		got  [][]float32
	}{{"test.logits", out.Logits}, {"test.pooled", out.Pooled}} {
		want, err := f.Get(c.name) // [1, C, T']
		if err != nil {
			t.Fatal(err)
		}
		tt := len(c.got)
		got := make([]float32, len(want))
		for ti, row := range c.got {
			for ch, v := range row {
				got[ch*tt+ti] = v
			}
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, torch %d", c.name, len(got), len(want))
		}
		e := maxRel(got, want)
		t.Logf("%s (%d classes/features × %d steps): max rel err %.2e vs PyTorch (%.1f s)", c.name, len(c.got[0]), tt, e, time.Since(t0).Seconds())
		if e > 1e-4 {
			t.Errorf("%s: rel err %.2e > 1e-4", c.name, e)
		}
	}
}

func TestI3DTorch(t *testing.T) {
	checkI3D(t, filepath.Join("testdata", "fixtures", "i3d_w0125.safetensors"), 16)
}

// TestI3DTorchFullWidth checks the real-size network (12M random weights)
// against tools/i3d.py run now: OMNIAR_I3D_FULL=1 go test -run FullWidth.
func TestI3DTorchFullWidth(t *testing.T) {
	if os.Getenv("OMNIAR_I3D_FULL") == "" {
		t.Skip("set OMNIAR_I3D_FULL=1 (needs /usr/bin/python3 with torch; about a minute)")
	}
	p := filepath.Join(t.TempDir(), "i3d.safetensors")
	cmd := exec.Command("/usr/bin/python3", filepath.Join("..", "tools", "i3d.py"), "fixture", p, "--width", "1", "--frames", strconv.Itoa(16))
	cmd.Env = append(os.Environ(), "OMP_WAIT_POLICY=PASSIVE")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	checkI3D(t, p, 16)
}

func TestI3DPreprocess(t *testing.T) {
	f, err := ckpt.Load(filepath.Join("testdata", "fixtures", "i3d_pre.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"up", "down"} {
		shape, _ := f.Shape(name + ".in") // [T, H, W]
		in, _ := f.Get(name + ".in")
		want, _ := f.Get(name + ".out") // [3, T, S, S]
		oshape, _ := f.Shape(name + ".out")
		frames := make([][]uint8, shape[0])
		for i := range frames {
			for _, v := range in[i*shape[1]*shape[2] : (i+1)*shape[1]*shape[2]] {
				frames[i] = append(frames[i], uint8(v))
			}
		}
		got, err := I3DInput(frames, shape[2], shape[1], oshape[2])
		if err != nil {
			t.Fatal(err)
		}
		var d float64
		for i := range want {
			d = math.Max(d, math.Abs(float64(got[i]-want[i])))
		}
		if len(got) != len(want) || d > 1e-5 {
			t.Errorf("%s: %d values (want %d), max abs err %.2g", name, len(got), len(want), d)
		}
	}
	for _, bad := range []struct {
		frames [][]uint8
		w, h   int
	}{{nil, 4, 4}, {[][]uint8{make([]uint8, 15)}, 4, 4}, {[][]uint8{make([]uint8, 16)}, 0, 4}} {
		if _, err := I3DInput(bad.frames, bad.w, bad.h, 224); err == nil {
			t.Errorf("%d frames %d×%d accepted", len(bad.frames), bad.w, bad.h)
		}
	}
}

func TestI3DErrors(t *testing.T) {
	if _, err := LoadI3D(filepath.Join("testdata", "fixtures", "sisnr.safetensors")); err == nil {
		t.Error("a non-I3D file loaded")
	}
	m, err := LoadI3D(filepath.Join("testdata", "fixtures", "i3d_w0125.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Forward(make([]float32, 10), 16); err == nil {
		t.Error("short input accepted")
	}
	if _, err := m.Forward(make([]float32, 3*8*I3DSize*I3DSize), 8); err == nil {
		t.Error("8 frames accepted")
	}
}

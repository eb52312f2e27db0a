package nn

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/dsp/fourier"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// STFTEps is added to the power under the square root of STFTMag so the
// magnitude, its logarithm and its gradient stay finite on silent bins.
const STFTEps = 1e-8

// stftK is the magnitude of the short-time Fourier transform of each row of
// x [N, L] with a periodic Hann window of n samples, hop samples apart and
// no padding (torch.stft with center=False): → [N, T, n/2+1],
// T = 1 + (L − n)/hop, out = sqrt(re² + im² + STFTEps). It runs real FFTs
// (O(n log n) a frame), which is why it is an op and not a Conv1d with
// fixed cos/sin kernels (O(n²) a frame): the codec's multi-resolution
// spectral loss would otherwise cost more than the codec.
type stftK struct{ n, hop int }

func (k stftK) String() string    { return fmt.Sprintf("STFTMag{n=%d hop=%d}", k.n, k.hop) }
func (stftK) dims() ([]int, int)  { return []int{2}, 3 }
func (k stftK) frames(l int) int  { return 1 + (l-k.n)/k.hop }
func (k stftK) bins() int         { return k.n/2 + 1 }
func (k stftK) window() []float64 { return periodicHann(k.n) }

func (k stftK) shape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0][1] < k.n {
		return nil, fmt.Errorf("%v: rows of %d samples are shorter than the window", k, in[0][1])
	}
	return tensor.Shape{in[0][0], k.frames(in[0][1]), k.bins()}, nil
}

// spectra calls fn with the window-weighted spectrum of every frame, in
// order (row-major over N, T); fn may keep nothing of spec.
func (k stftK) spectra(x []float32, nrows, l int, fn func(frame int, spec []complex128)) {
	w := k.window()
	t := k.frames(l)
	fft := fourier.NewFFT(k.n)
	seq := make([]float64, k.n)
	spec := make([]complex128, k.bins())
	for r := 0; r < nrows; r++ {
		for f := 0; f < t; f++ {
			src := x[r*l+f*k.hop:]
			for i := range seq {
				seq[i] = float64(src[i]) * w[i]
			}
			fft.Coefficients(spec, seq)
			fn(r*t+f, spec)
		}
	}
}

func (k stftK) forward(y []float32, in []*tensor.Dense) error {
	s := in[0].Shape()
	nb := k.bins()
	k.spectra(in[0].Float32s(), s[0], s[1], func(frame int, spec []complex128) {
		for j, c := range spec {
			y[frame*nb+j] = float32(math.Sqrt(real(c)*real(c) + imag(c)*imag(c) + STFTEps))
		}
	})
	return nil
}

func (stftK) diffWRT() []bool { return []bool{true} }
func (k stftK) backward(in G.Nodes, out, dy *G.Node) (G.Nodes, error) {
	dx, err := apply(stftGradK(k), in[0], out, dy)
	return G.Nodes{dx}, err
}

// stftGradK is the input gradient of stftK: from x, the magnitudes and
// their gradient g, per frame dx[t] = w[t] · Σ_k g_k·Re(X_k·e^{2πikt/n})/|X_k|,
// a real inverse FFT of the half spectrum G_k = g_k·X_k/|X_k| (interior
// bins halved, since the inverse doubles them), overlap-added into dx.
type stftGradK stftK

func (k stftGradK) String() string   { return fmt.Sprintf("STFTMagGrad{n=%d hop=%d}", k.n, k.hop) }
func (stftGradK) dims() ([]int, int) { return []int{2, 3, 3}, 2 }
func (stftGradK) shape(in []tensor.Shape) (tensor.Shape, error) {
	return in[0].Clone(), nil
}

func (k stftGradK) forward(dx []float32, in []*tensor.Dense) error {
	s := stftK(k)
	shp := in[0].Shape()
	mag, g := in[1].Float32s(), in[2].Float32s()
	nb, t, l := s.bins(), s.frames(shp[1]), shp[1]
	w := s.window()
	ifft := fourier.NewFFT(k.n)
	coef := make([]complex128, nb)
	seq := make([]float64, k.n)
	acc := make([]float64, len(dx))
	s.spectra(in[0].Float32s(), shp[0], l, func(frame int, spec []complex128) {
		for j, c := range spec {
			gj := float64(g[frame*nb+j]) / float64(mag[frame*nb+j])
			if j > 0 && j < k.n/2 || (j == k.n/2 && k.n%2 == 1) {
				gj /= 2
			}
			coef[j] = c * complex(gj, 0)
		}
		// bins 0 and n/2 of a real signal are real; drop rounding noise
		// so the inverse transform is exactly the real-signal one.
		coef[0] = complex(real(coef[0]), 0)
		if k.n%2 == 0 {
			coef[nb-1] = complex(real(coef[nb-1]), 0)
		}
		ifft.Sequence(seq, coef)
		r, f := frame/t, frame%t
		dst := acc[r*l+f*k.hop:]
		for i, v := range seq {
			dst[i] += v * w[i]
		}
	})
	for i, v := range acc {
		dx[i] = float32(v)
	}
	return nil
}

// STFTMag is the STFT magnitude of each row of x [N, L] (window n, hop
// samples, periodic Hann, no padding): → [N, 1 + (L − n)/hop, n/2 + 1],
// sqrt(|X|² + STFTEps). It is differentiable with respect to x.
func STFTMag(x *G.Node, n, hop int) (*G.Node, error) {
	if n < 2 || hop < 1 {
		return nil, fmt.Errorf("stft: window %d and hop %d, want ≥ 2 and ≥ 1", n, hop)
	}
	if x.Dims() != 2 {
		return nil, fmt.Errorf("stft: input has shape %v, want [N, L]", x.Shape())
	}
	return apply(stftK{n: n, hop: hop}, x)
}

// periodicHann is torch.hann_window(n) (periodic): 0.5 − 0.5·cos(2πi/n).
func periodicHann(n int) []float64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n))
	}
	return w
}

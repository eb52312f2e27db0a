package msvq

import (
	"fmt"

	"gonum.org/v1/gonum/blas"

	ob "github.com/omniar/omniar/internal/blas"
	"github.com/omniar/omniar/nn"
)

// Maps are the token maps of one latent map: per scale, k·k codes in
// row-major order. The decoder of a generator produces them scale by scale.
type Maps [][]int

// Decoder rebuilds latents from token maps without a graph: the inference
// path of next-scale generation, equal to the graph's quantizer output.
type Decoder struct {
	Cfg      Config
	Codebook []float32 // [Codes, Dim]
	PhiW     []float32 // [Dim, Dim, 3, 3]
}

// Decoder returns the inference decoder over this quantizer's current weights.
func (q *Quantizer) Decoder() *Decoder {
	return &Decoder{Cfg: q.Cfg, Codebook: q.CodebookData(), PhiW: q.Phi.W.Data()}
}

// Contribution is scale s's refined, upsampled term z_s [C, H, W].
func (d *Decoder) Contribution(s int, codes []int) ([]float32, error) {
	k, h, c := d.Cfg.Scales[s], d.Cfg.Side(), d.Cfg.Dim
	if len(codes) != k*k {
		return nil, fmt.Errorf("msvq decode: scale %d has %d codes, want %d", s, len(codes), k*k)
	}
	zk := make([]float32, c*k*k) // [C, k, k]
	for p, code := range codes {
		if code < 0 || code >= d.Cfg.Codes {
			return nil, fmt.Errorf("msvq decode: code %d outside [0, %d)", code, d.Cfg.Codes)
		}
		for ch := 0; ch < c; ch++ {
			zk[ch*k*k+p] = d.Codebook[code*c+ch]
		}
	}
	z := zk
	if k != h {
		z = resizePlanes(zk, c, nn.BilinearMatrix(h, k), nn.BilinearMatrix(h, k))
	}
	return d.refine(z), nil
}

// Latent sums the contributions of scales 0 … upto−1: f̂ after upto scales.
func (d *Decoder) Latent(m Maps, upto int) ([]float32, error) {
	if upto > len(m) || upto > len(d.Cfg.Scales) {
		return nil, fmt.Errorf("msvq decode: %d scales asked, %d given", upto, len(m))
	}
	h := d.Cfg.Side()
	fhat := make([]float32, d.Cfg.Dim*h*h)
	for s := 0; s < upto; s++ {
		z, err := d.Contribution(s, m[s])
		if err != nil {
			return nil, err
		}
		for i, v := range z {
			fhat[i] += v
		}
	}
	return fhat, nil
}

// Latents is f̂ after every given scale of each latent map of ms,
// concatenated [len(ms), C, H, W]: a pixel decoder's input.
func (d *Decoder) Latents(ms []Maps) ([]float32, error) {
	var out []float32
	for _, m := range ms {
		z, err := d.Latent(m, len(m))
		if err != nil {
			return nil, err
		}
		out = append(out, z...)
	}
	return out, nil
}

// NextInput is what a next-scale generator sees when predicting scale s:
// the running sum f̂ (after scales < s) area-downsampled to scale s's side
// [C, k, k]. Teacher forcing and sampling both use it.
func (d *Decoder) NextInput(fhat []float32, s int) []float32 {
	k, h := d.Cfg.Scales[s], d.Cfg.Side()
	if k == h {
		return append([]float32(nil), fhat...)
	}
	return resizePlanes(fhat, d.Cfg.Dim, nn.AreaMatrix(k, h), nn.AreaMatrix(k, h))
}

// Quantize is scale s's codes for a residual rest [C, H, W]: rest
// area-downsampled to the scale's side and each cell's nearest code, code 0
// within the dead zone, as the graph's quantizer chooses them. Quantize,
// then subtracting the codes' Contribution, scale by scale, encodes a
// latent; a generator's self-correction re-quantizes what corrupted codes
// left of a latent.
func (d *Decoder) Quantize(rest []float32, s int) []int {
	k, c := d.Cfg.Scales[s], d.Cfg.Dim
	planes := d.NextInput(rest, s) // [C, k, k]
	rows := make([]float32, len(planes))
	for p := range k * k {
		for ch := range c {
			rows[p*c+ch] = planes[ch*k*k+p]
		}
	}
	return nn.NearestCodes(rows, d.Codebook, c, d.Cfg.deadZone(k))
}

// refine applies phi: (1−r)·z + r·conv3×3(z) on [C, H, H], as one matrix
// product over the 3×3 patches (im2col): the plain loops were a fifth of
// the tokenizer's clip time.
func (d *Decoder) refine(z []float32) []float32 {
	c, h := d.Cfg.Dim, d.Cfg.Side()
	n := h * h
	cols := make([]float32, c*9*n) // [C·9, H·H]
	for i := 0; i < c; i++ {
		for t := 0; t < 9; t++ {
			dy, dx := t/3-1, t%3-1
			row := cols[(i*9+t)*n : (i*9+t+1)*n]
			for y := 0; y < h; y++ {
				yy := y + dy
				if yy < 0 || yy >= h {
					continue
				}
				for x := 0; x < h; x++ {
					if xx := x + dx; xx >= 0 && xx < h {
						row[y*h+x] = z[(i*h+yy)*h+xx]
					}
				}
			}
		}
	}
	out := make([]float32, len(z))
	r := d.Cfg.PhiRatio
	for p, v := range z {
		out[p] = (1 - r) * v
	}
	// out += r · W [C, C·9] × cols
	ob.F32().Sgemm(blas.NoTrans, blas.NoTrans, c, n, c*9, r, d.PhiW, c*9, cols, n, 1, out, n)
	return out
}

// resizePlanes applies My·X·Mxᵀ to each of c planes.
func resizePlanes(x []float32, c int, my, mx nn.ResizeMatrix) []float32 {
	h, w, oh, ow := my.N, mx.N, my.M, mx.M
	out := make([]float32, c*oh*ow)
	for p := 0; p < c; p++ {
		in, o := x[p*h*w:(p+1)*h*w], out[p*oh*ow:(p+1)*oh*ow]
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				var s float32
				for a := 0; a < h; a++ {
					wy := my.W[i*h+a]
					if wy == 0 {
						continue
					}
					for b := 0; b < w; b++ {
						s += wy * mx.W[j*w+b] * in[a*w+b]
					}
				}
				o[i*ow+j] = s
			}
		}
	}
	return out
}

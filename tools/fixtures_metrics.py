"""Writes the SciPy/NumPy reference fixtures of the metrics package.

Run with Debian's interpreter: /usr/bin/python3 tools/fixtures_metrics.py
Files go to metrics/testdata/fixtures/:

  frechet_<case>.safetensors  features "x" [N, D] and "y" [M, D] (F32; the
      references are computed in float64 on exactly those values); metadata
      "ref" is JSON with
        fd_scipy  the pytorch-fid formula with scipy.linalg.sqrtm(Σ1·Σ2)
        fd_eig    the same distance from symmetric eigendecompositions
        kid       the unbiased polynomial-kernel MMD² (NumPy)
  ssim_<case>.safetensors     images "a", "b" [H, W] (F32, values 0..255);
      metadata "ref": ssim (skimage's algorithm: scipy gaussian_filter,
      σ = 1.5, truncate 3.5 → 11 taps, population covariances, 5-px border
      cropped), ssim_valid (the same by explicit 'valid' 11×11 windows, as
      pytorch-msssim), psnr (data range 255)
  sisnr.safetensors           signals "est", "ref" [K, L]; metadata "ref":
      per-row SI-SNR in dB
"""
import json
import os
import sys

import numpy as np
from scipy import linalg, ndimage, signal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "metrics", "testdata", "fixtures")


def f32(a):
    """The float32 values the fixture stores, back in float64."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def fd_scipy(x, y, eps=1e-6):
    """pytorch-fid's calculate_frechet_distance on fitted Gaussians."""
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    diff = mu1 - mu2
    covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
    if not np.isfinite(covmean).all():
        off = np.eye(s1.shape[0]) * eps
        covmean = linalg.sqrtm((s1 + off).dot(s2 + off))
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def fd_eig(x, y):
    """The same distance via tr sqrt(√Σ1 Σ2 √Σ1) with eigh."""
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    w, v = linalg.eigh(s1)
    r = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    m = r @ s2 @ r
    e = linalg.eigvalsh((m + m.T) / 2)
    tr = np.sqrt(np.clip(e, 0, None)).sum()
    diff = mu1 - mu2
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * tr)


def kid(x, y):
    """Unbiased MMD² with k(a, b) = (aᵀb/d + 1)³."""
    d = x.shape[1]
    kxx = (x @ x.T / d + 1) ** 3
    kyy = (y @ y.T / d + 1) ** 3
    kxy = (x @ y.T / d + 1) ** 3
    n, m = len(x), len(y)
    return float((kxx.sum() - np.trace(kxx)) / (n * (n - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
                 - 2 * kxy.sum() / (n * m))


def frechet_cases(rng):
    def gauss(n, d, mean=0.0, scale=1.0):
        a = rng.standard_normal((d, d)) * scale / np.sqrt(d)
        return rng.standard_normal((n, d)) @ a + mean

    x_same = gauss(500, 8)
    cols = gauss(100, 20)
    cols[:, 12:] = 0.5  # constant features: zero-variance dims
    cols[:, 10] = cols[:, 0] - cols[:, 1]  # collinear
    cols2 = gauss(90, 20, 0.2)
    cols2[:, 12:] = 0.25
    relu = np.maximum(gauss(300, 128, 0.1, 2.0), 0)
    relu2 = np.maximum(gauss(250, 128, 0.0, 2.0), 0)
    return {
        "gauss_d16": (gauss(200, 16), gauss(150, 16, 0.3, 1.5)),
        "close_d8": (x_same[:250], x_same[250:]),
        "rankdef_n10_d32": (gauss(10, 32), gauss(12, 32, 0.1)),
        "rankdef_cols_d20": (cols, cols2),
        "scaled_n80_d64": (gauss(80, 64, 50.0, 100.0), gauss(70, 64, 40.0, 90.0)),
        "relu_d128": (relu, relu2),
        "tiny_n2_d5": (gauss(2, 5), gauss(3, 5, 1.0)),
    }


def write_frechet(rng):
    for name, (x, y) in frechet_cases(rng).items():
        x, y = f32(x), f32(y)
        ref = {"fd_scipy": fd_scipy(x, y), "fd_eig": fd_eig(x, y), "kid": kid(x, y)}
        rel = abs(ref["fd_scipy"] - ref["fd_eig"]) / max(abs(ref["fd_eig"]), 1e-300)
        st.save(os.path.join(OUT, f"frechet_{name}.safetensors"), {"x": x, "y": y}, {"ref": json.dumps(ref)})
        print(f"frechet_{name}: {x.shape} vs {y.shape} fd {ref['fd_scipy']:.10g} (scipy vs eig rel {rel:.2e}) kid {ref['kid']:.6g}")


def ssim_skimage(a, b, data_range=255.0):
    """skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, data_range=255), re-implemented."""
    filt = lambda z: ndimage.gaussian_filter(z, sigma=1.5, truncate=3.5, mode="reflect")  # noqa: E731
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    ux, uy = filt(a), filt(b)
    vx, vy, vxy = filt(a * a) - ux * ux, filt(b * b) - uy * uy, filt(a * b) - ux * uy
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux ** 2 + uy ** 2 + c1) * (vx + vy + c2))
    return float(s[5:-5, 5:-5].mean())


def ssim_valid(a, b, data_range=255.0):
    """pytorch-msssim's ssim: separable 11-tap Gaussian, 'valid' windows."""
    g = np.exp(-((np.arange(11) - 5) ** 2) / (2 * 1.5 ** 2))
    g /= g.sum()
    w = np.outer(g, g)
    filt = lambda z: signal.correlate2d(z, w, mode="valid")  # noqa: E731
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    ux, uy = filt(a), filt(b)
    vx, vy, vxy = filt(a * a) - ux * ux, filt(b * b) - uy * uy, filt(a * b) - ux * uy
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux ** 2 + uy ** 2 + c1) * (vx + vy + c2))
    return float(s.mean())


def write_ssim(rng):
    yy, xx = np.mgrid[0:64, 0:64]
    base = 127 + 100 * np.sin(xx / 7.0) * np.cos(yy / 5.0)
    cases = {
        "noise": (base, base + rng.normal(0, 20, base.shape)),
        "blur": (base, ndimage.uniform_filter(base, 5)),
        "shift": (base, np.roll(base, 2, axis=1)),
        "random_33x20": (rng.integers(0, 256, (20, 33)), rng.integers(0, 256, (20, 33))),
        "same": (base, base),
    }
    for name, (a, b) in cases.items():
        a, b = f32(np.clip(np.round(a), 0, 255)), f32(np.clip(np.round(b), 0, 255))
        mse = ((a - b) ** 2).mean()
        ref = {"ssim": ssim_skimage(a, b), "ssim_valid": ssim_valid(a, b),
               "psnr": float(10 * np.log10(255.0 ** 2 / mse)) if mse > 0 else None}
        st.save(os.path.join(OUT, f"ssim_{name}.safetensors"), {"a": a, "b": b}, {"ref": json.dumps(ref)})
        print(f"ssim_{name}: {a.shape} ssim {ref['ssim']:.10f} (valid {ref['ssim_valid']:.10f}) psnr {ref['psnr']}")


def si_snr(est, ref):
    est, ref = est - est.mean(), ref - ref.mean()
    s = (est @ ref) / (ref @ ref) * ref
    e = est - s
    return float(10 * np.log10((s @ s) / (e @ e)))


def write_sisnr(rng):
    ref = rng.standard_normal((4, 800))
    est = np.stack([ref[0] + 0.1 * rng.standard_normal(800), 0.5 * ref[1] + 0.3 * rng.standard_normal(800) + 2,
                    rng.standard_normal(800), -3 * ref[3] + 0.01 * rng.standard_normal(800)])
    est, ref = f32(est), f32(ref)
    vals = [si_snr(e, r) for e, r in zip(est, ref)]
    st.save(os.path.join(OUT, "sisnr.safetensors"), {"est": est, "ref": ref}, {"ref": json.dumps(vals)})
    print("sisnr:", ", ".join(f"{v:.6f}" for v in vals))


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20260107)
    write_frechet(rng)
    write_ssim(rng)
    write_sisnr(rng)


if __name__ == "__main__":
    main()

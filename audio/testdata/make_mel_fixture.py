#!/usr/bin/python3
"""Reference log-mel spectrograms for audio.MelSpectrogram (mel_test.go).

Run from the repository root with Debian's Python (it sees python3-torch):
    /usr/bin/python3 audio/testdata/make_mel_fixture.py
It writes audio/testdata/mel_fixture.json: for each case the input samples
(float32 values), the configuration and the expected log-mel matrix
(frames x mels), computed in float64 with torch.stft (center=True,
reflect padding, periodic Hann window) and triangular HTK-mel filters built
as torchaudio.functional.melscale_fbanks(norm=None, mel_scale="htk") does.
"""
import json
import os

import numpy as np
import torch


def hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + f / 700.0)


def mel_to_hz(m):
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


def mel_fbanks(rate, n_fft, n_mels, f_min, f_max):
    """n_fft//2+1 x n_mels matrix, as torchaudio's melscale_fbanks."""
    freqs = np.arange(n_fft // 2 + 1) * rate / n_fft
    pts = mel_to_hz(np.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2))
    diff = np.diff(pts)
    slopes = pts[None, :] - freqs[:, None]
    down = -slopes[:, :-2] / diff[:-1]
    up = slopes[:, 2:] / diff[1:]
    return np.maximum(0.0, np.minimum(down, up))


def log_mel(x, rate, n_fft, hop, n_mels, f_min, f_max, floor):
    xt = torch.from_numpy(x.astype(np.float64))
    win = torch.hann_window(n_fft, periodic=True, dtype=torch.float64)
    spec = torch.stft(xt, n_fft, hop_length=hop, win_length=n_fft, window=win,
                      center=True, pad_mode="reflect", return_complex=True)
    power = (spec.abs() ** 2).numpy()  # bins x frames
    mel = mel_fbanks(rate, n_fft, n_mels, f_min, f_max).T @ power
    return np.log(np.maximum(mel, floor)).T  # frames x mels


def signal(rate, n, seed):
    rng = np.random.RandomState(seed)
    t = np.arange(n) / rate
    chirp = np.sin(2 * np.pi * (200 * t + 3000 * t * t))
    x = 0.4 * np.sin(2 * np.pi * 440 * t) + 0.3 * chirp + 0.05 * rng.randn(n)
    x[n // 3: n // 3 + 200] = 0.0  # a silent stretch exercises the floor
    return np.clip(x, -1, 1).astype(np.float32)


CASES = [
    dict(name="default-16k", rate=16000, n=2400, seed=1,
         cfg=dict(FFTSize=400, Hop=160, Mels=80, FMin=0.0, FMax=8000.0, Floor=1e-10)),
    dict(name="512-band-16k", rate=16000, n=3000, seed=2,
         cfg=dict(FFTSize=512, Hop=128, Mels=40, FMin=50.0, FMax=7000.0, Floor=1e-10)),
    dict(name="odd-hop-22k", rate=22050, n=2205, seed=3,
         cfg=dict(FFTSize=256, Hop=100, Mels=32, FMin=0.0, FMax=11025.0, Floor=1e-6)),
]


def main():
    out = []
    for c in CASES:
        x = signal(c["rate"], c["n"], c["seed"])
        cfg = c["cfg"]
        lm = log_mel(x, c["rate"], cfg["FFTSize"], cfg["Hop"], cfg["Mels"],
                     cfg["FMin"], cfg["FMax"], cfg["Floor"])
        out.append(dict(name=c["name"], rate=c["rate"], config=cfg,
                        samples=[float(f"{v:.9g}") for v in x],
                        logmel=[[float(f"{v:.8g}") for v in row] for row in lm]))
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mel_fixture.json")
    with open(path, "w") as f:
        json.dump(dict(generator="audio/testdata/make_mel_fixture.py",
                       torch=torch.__version__, cases=out), f, separators=(",", ":"))
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()

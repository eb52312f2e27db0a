"""Reference cases for nn.STFTMag (nn/ops_stft.go): torch.stft magnitudes.

STFTMag(x, n, hop) is |torch.stft(x, n, hop, window=hann_window(n),
center=False)| with STFTEps (1e-8) added to the power under the root,
laid out [N, frames, bins]. The params metadata holds n and hop.
"""
import torch

EPS = 1e-8


def stft_mag(x, n, hop):
    s = torch.stft(x, n_fft=n, hop_length=hop, win_length=n,
                   window=torch.hann_window(n, dtype=x.dtype), center=False,
                   return_complex=True)  # [N, bins, frames]
    return torch.sqrt(s.real ** 2 + s.imag ** 2 + EPS).transpose(1, 2)


def cases(write):
    g = torch.Generator().manual_seed(11)
    for n, hop, length in [(16, 4, 50), (15, 5, 47), (64, 16, 200)]:
        x = torch.randn(2, length, generator=g, dtype=torch.float64) * 0.5
        write("nn", f"stft_{n}_{hop}", {"x": x},
              lambda x, n=n, hop=hop: stft_mag(x, n, hop), {"n": n, "hop": hop})

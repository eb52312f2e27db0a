"""Reference cases for nn/: linear layers (more are added as ops land)."""
import torch
import torch.nn.functional as F


def cases(write):
    g = torch.Generator().manual_seed(1)

    def rn(*s, scale=1.0):
        return torch.randn(*s, generator=g, dtype=torch.float64) * scale

    write("nn", "linear", {"x": rn(6, 8), "w": rn(5, 8, scale=0.4)}, lambda x, w: x @ w.T)
    write("nn", "linear_bias", {"x": rn(6, 8), "w": rn(5, 8, scale=0.4), "b": rn(5)}, lambda x, w, b: F.linear(x, w, b))

"""Reference cases for nn/ convolutions (ops_conv.go, conv.go).

Each case stores x, w (PyTorch layout) and usually b; the params metadata
holds the geometry the Go test reads back: per spatial dim stride,
pad_before, pad_after and (transposed only) output_padding.
"""
import torch
import torch.nn.functional as F


def cases(write):
    g = torch.Generator().manual_seed(7)

    def rn(*s, scale=1.0):
        return torch.randn(*s, generator=g, dtype=torch.float64) * scale

    def geo(stride, pad_before, pad_after, output_padding=None, transposed=False):
        p = {"stride": stride, "pad_before": pad_before, "pad_after": pad_after, "transposed": transposed}
        if output_padding is not None:
            p["output_padding"] = output_padding
        return p

    # Conv1d: [N, C, L], stride 2, padding 1.
    write("nn", "conv1d", {"x": rn(2, 3, 11), "w": rn(4, 3, 3, scale=0.4), "b": rn(4)},
          lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1),
          geo([2], [1], [1]))

    # Conv2d stride 1, padding 1 (same), with bias.
    write("nn", "conv2d", {"x": rn(2, 3, 7, 6), "w": rn(5, 3, 3, 3, scale=0.3), "b": rn(5)},
          lambda x, w, b: F.conv2d(x, w, b, stride=1, padding=1),
          geo([1, 1], [1, 1], [1, 1]))

    # Conv2d stride 2, padding 1, no bias; odd/even sizes so the last row/col is dropped.
    write("nn", "conv2d_s2", {"x": rn(2, 3, 9, 8), "w": rn(4, 3, 3, 3, scale=0.3)},
          lambda x, w: F.conv2d(x, w, None, stride=2, padding=1),
          geo([2, 2], [1, 1], [1, 1]))

    # ConvTranspose2d stride 2, padding 1, output_padding 1 (exact 2x upsampling).
    # Weight layout [In, Out, kh, kw].
    write("nn", "conv_transpose2d", {"x": rn(2, 4, 5, 4), "w": rn(4, 3, 3, 3, scale=0.3), "b": rn(3)},
          lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
          geo([2, 2], [1, 1], [1, 1], output_padding=[1, 1], transposed=True))

    # Conv3d with kernel, stride and padding differing per dim.
    write("nn", "conv3d", {"x": rn(2, 3, 5, 6, 5), "w": rn(4, 3, 3, 3, 2, scale=0.3), "b": rn(4)},
          lambda x, w, b: F.conv3d(x, w, b, stride=(1, 2, 1), padding=(1, 1, 0)),
          geo([1, 2, 1], [1, 1, 0], [1, 1, 0]))

    # Causal Conv3d: time padded (k_t-1, 0), space symmetric 1; temporal stride 2
    # (1 + 2k frames -> 1 + k frames).
    def causal(x, w, b):
        return F.conv3d(F.pad(x, (1, 1, 1, 1, 2, 0)), w, b, stride=(2, 1, 1))

    write("nn", "conv3d_causal", {"x": rn(1, 3, 7, 5, 4), "w": rn(4, 3, 3, 3, 3, scale=0.3), "b": rn(4)},
          causal, geo([2, 1, 1], [2, 1, 1], [0, 1, 1]))

    # Factorised causal temporal conv: kernel (3, 1, 1), no spatial padding.
    def temporal(x, w, b):
        return F.conv3d(F.pad(x, (0, 0, 0, 0, 2, 0)), w, b)

    write("nn", "conv3d_causal_t", {"x": rn(2, 4, 6, 3, 3), "w": rn(5, 4, 3, 1, 1, scale=0.3), "b": rn(5)},
          temporal, geo([1, 1, 1], [2, 0, 0], [0, 0, 0]))

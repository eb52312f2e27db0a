"""PyTorch peer of the video tokenizer (video/, msvq/), for `omniar bench`.

The same network as video.Config (video.Small() unless a weights file
says otherwise), layer for layer, with the Go tensor names, so the shipped
weights load into it (random weights without; the work is the same):

  encoder  conv_in 3×3 → down.i 4×4 stride 2 (×Down) → res.i (x + conv(SiLU(conv(x))))
           → time: causal conv over T, kernel TimeStride × tk × tk (tk = TimeKernel,
           padding tk//2 in space), stride TimeStride in time, TimeStride−1
           frames of front padding (1 + 4k frames → 1 + k) → res_time.i
           (ResTime blocks, no SiLU between them) → mix.i (TimeMix blocks
           x + conv3×3(SiLU(causal conv (2, 3, 3) over latent time))) → conv_out 3×3;
           SiLU between layers, no biases
  quantizer per scale k: area-downsample the residual to k×k, L2-nearest code
           (‖e‖² − 2x·e; code 0 within a dead zone ZeroBias·(k/side)²),
           bilinear upsample, phi: (1−r)·z + r·conv3×3(z),
           subtract from the residual
  decoder  codes → Σ_scales phi(upsample(codebook[codes])) → conv_in → res.i
           → mix.i (no SiLU before them) → SiLU → time: transposed conv (kernel TimeStride × tk × tk, stride TimeStride
           in time, padding tk//2 in space) minus its first TimeStride−1 frames → res_time.i → up.i 4×4 stride-2 transposed
           convs → conv_out

Encode and decode meet at the token maps, as in the Go inference path
(video.Encoder, then msvq.Decoder.Latent and video.PixelDecoder): the decoder
rebuilds the latent from the codes. The per-frame convs run as Conv2d over
the frames folded into the batch (layout "2d", the default): measured on the
2-core machine, 1.4× faster than the Conv3d with 1×k×k kernels the Go graph
uses (layout "3d"), which gives the same codes. The Go bench compares against
the faster. TestPeerTokenizerIsTheSameNetwork (pipelines/bench) checks the
codes and frames against Go's with the shipped weights.
"""
import json
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SMALL = {"size": 64, "channels": 1, "widths": [32, 64, 96, 96], "down": 3, "res": 2, "res_time": 2, "time_kernel": 3,
         "time_mix": 2, "time_stride": 4,
         "quant": {"codes": 256, "dim": 32, "scales": [1, 2, 3, 4, 6, 8], "phi_ratio": 0.5,
                   "zero_bias": 0.5}}


def spatial(cin, cout, k, layout, stride=1, pad=0, bias=False):
    """A per-frame conv: Conv2d on frames [T, C, H, W] or Conv3d (1×k×k) on clips [B, C, T, H, W]."""
    if layout == "2d":
        return nn.Conv2d(cin, cout, k, stride=stride, padding=pad, bias=bias)
    return nn.Conv3d(cin, cout, (1, k, k), stride=(1, stride, stride), padding=(0, pad, pad), bias=bias)


def upsample(cin, cout, layout):
    """A per-frame 4×4 stride-2 transposed conv (2× up)."""
    if layout == "2d":
        return nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1)
    return nn.ConvTranspose3d(cin, cout, (1, 4, 4), stride=(1, 2, 2), padding=(0, 1, 1))


class Res(nn.Module):
    def __init__(self, w, bias, layout):
        super().__init__()
        self.conv1 = spatial(w, w, 3, layout, pad=1, bias=bias)
        self.conv2 = spatial(w, w, 3, layout, pad=1, bias=bias)

    def forward(self, x):
        return x + self.conv2(F.silu(self.conv1(x)))


class Mix(nn.Module):
    """x + conv2(SiLU(conv1(x))), conv1 causal over latent time: kernel
    (2, 3, 3), one frame of front padding (video.mixBlock)."""

    def __init__(self, w, bias, layout):
        super().__init__()
        self.layout = layout
        self.conv1 = nn.Conv3d(w, w, (2, 3, 3), bias=bias)
        self.conv2 = spatial(w, w, 3, layout, pad=1, bias=bias)

    def forward(self, x):
        v = x.transpose(0, 1)[None] if self.layout == "2d" else x
        h = self.conv1(F.pad(v, (1, 1, 1, 1, 1, 0)))
        if self.layout == "2d":
            h = h[0].transpose(0, 1).contiguous()
        return x + self.conv2(F.silu(h))


class Temporal(nn.Module):
    """The causal conv along time: encoder (Conv3d, kernel = stride = ts,
    ts−1 frames of front padding) or decoder (ConvTranspose3d minus its first
    ts−1 output frames). In the 2d layout frames [T, C, h, w] go to a clip
    [1, C, T, h, w] and back around it (at the 8×8 latent: cheap)."""

    def __init__(self, w, ts, tk, transposed, layout):
        super().__init__()
        self.ts, self.pad, self.transposed, self.layout = ts, tk // 2, transposed, layout
        # Parameters of their own (not a submodule): the tensor names are
        # the Go ones, enc.time.weight and dec.time.{weight,bias}.
        conv = (nn.ConvTranspose3d(w, w, (ts, tk, tk), stride=(ts, 1, 1)) if transposed
                else nn.Conv3d(w, w, (ts, tk, tk), stride=(ts, 1, 1), bias=False))
        self.weight, self.bias = conv.weight, conv.bias

    def forward(self, x):
        if self.layout == "2d":
            x = x.transpose(0, 1)[None]
        if self.transposed:  # 1 + k latent frames → 1 + ts·k
            y = F.conv_transpose3d(x, self.weight, self.bias, stride=(self.ts, 1, 1),
                                   padding=(0, self.pad, self.pad))[:, :, self.ts - 1:]
        else:  # 1 + ts·k frames → 1 + k
            p = self.pad
            y = F.conv3d(F.pad(x, (p, p, p, p, self.ts - 1, 0)), self.weight, stride=(self.ts, 1, 1))
        if self.layout == "2d":
            y = y[0].transpose(0, 1).contiguous()
        return y


def chain(x, layers):
    """Layers with SiLU between them, not after the last (video.chain)."""
    for i, layer in enumerate(layers):
        x = layer(x)
        if i < len(layers) - 1:
            x = F.silu(x)
    return x


def mixes(x, blocks):
    """Latent-time blocks, no activation between or around them (video.mixes)."""
    for b in blocks:
        x = b(x)
    return x


def residuals(x, blocks):
    """SiLU, then residual blocks with no activation between (video.residuals)."""
    x = F.silu(x)
    for b in blocks:
        x = b(x)
    return x


class Encoder(nn.Module):
    def __init__(self, cfg, layout):
        super().__init__()
        ws, d, top = cfg["widths"], cfg["down"], cfg["widths"][cfg["down"]]
        self.conv_in = spatial(cfg["channels"], ws[0], 3, layout, pad=1)
        self.down = nn.ModuleList(spatial(ws[i], ws[i + 1], 4, layout, stride=2, pad=1) for i in range(d))
        self.res = nn.ModuleList(Res(top, False, layout) for _ in range(cfg["res"]))
        self.time = Temporal(top, cfg["time_stride"], max(1, cfg.get("time_kernel", 0)), False, layout)
        self.res_time = nn.ModuleList(Res(top, False, layout) for _ in range(cfg.get("res_time", 0)))
        self.mix = nn.ModuleList(Mix(top, False, layout) for _ in range(cfg.get("time_mix", 0)))
        self.conv_out = spatial(top, cfg["quant"]["dim"], 3, layout, pad=1)

    def forward(self, x):
        h = chain(x, [self.conv_in, *self.down, *self.res, self.time])
        return self.conv_out(mixes(residuals(h, self.res_time), self.mix))


class Decoder(nn.Module):
    def __init__(self, cfg, layout):
        super().__init__()
        ws, d, top = cfg["widths"], cfg["down"], cfg["widths"][cfg["down"]]
        self.conv_in = spatial(cfg["quant"]["dim"], top, 3, layout, pad=1, bias=True)
        self.res = nn.ModuleList(Res(top, True, layout) for _ in range(cfg["res"]))
        self.time = Temporal(top, cfg["time_stride"], max(1, cfg.get("time_kernel", 0)), True, layout)
        self.res_time = nn.ModuleList(Res(top, True, layout) for _ in range(cfg.get("res_time", 0)))
        self.mix = nn.ModuleList(Mix(top, True, layout) for _ in range(cfg.get("time_mix", 0)))
        self.up = nn.ModuleList(upsample(ws[d - i], ws[d - i - 1], layout) for i in range(d))
        self.conv_out = spatial(ws[0], cfg["channels"], 3, layout, pad=1, bias=True)

    def forward(self, z):
        h = self.time(F.silu(mixes(chain(z, [self.conv_in, *self.res]), self.mix)))
        return chain(residuals(h, self.res_time), [*self.up, self.conv_out])


class Quantizer(nn.Module):
    def __init__(self, q):
        super().__init__()
        self.scales, self.ratio, self.zero_bias = q["scales"], q["phi_ratio"], q.get("zero_bias", 0.0)
        self.phi = nn.Conv2d(q["dim"], q["dim"], 3, padding=1, bias=False)
        cb = torch.randn(q["codes"], q["dim"]) * 0.1
        cb[0] = 0
        self.register_buffer("codebook", cb)

    def contribution(self, codes, n, k, h):
        """Scale k's refined, upsampled term [N, D, h, h] from its codes [N·k·k]."""
        z = self.codebook[codes].view(n, k, k, -1).permute(0, 3, 1, 2)
        if k != h:
            z = F.interpolate(z, size=(h, h), mode="bilinear", align_corners=False)
        return (1 - self.ratio) * z + self.ratio * self.phi(z)

    def encode(self, f):  # [N, D, h, h] → per scale, codes [N·k·k]
        n, d, h, _ = f.shape
        norm = (self.codebook * self.codebook).sum(1)
        rest, codes = f, []
        for k in self.scales:
            r = F.interpolate(rest, size=(k, k), mode="area") if k != h else rest
            rows = r.permute(0, 2, 3, 1).reshape(-1, d)
            dist = torch.addmm(norm, rows, self.codebook.t(), alpha=-2)  # ‖x − e‖² − ‖x‖²
            best, idx = dist.min(1)
            # the dead zone: code 0 unless another is nearer by more (msvq deadZone)
            zone = self.zero_bias * k * k / (h * h)
            idx = torch.where(dist[:, 0] - best <= zone, torch.zeros_like(idx), idx)
            codes.append(idx)
            rest = rest - self.contribution(idx, n, k, h)
        return codes

    def decode(self, codes, n, h):
        return sum(self.contribution(c, n, k, h) for c, k in zip(codes, self.scales))


class Tokenizer(nn.Module):
    """layout "2d": per-frame layers are Conv2d over the frames of a clip
    folded into the batch; "3d": Conv3d with 1×k×k kernels over the clip,
    as the Go graph runs them. Same weights, same FLOPs."""

    def __init__(self, cfg=SMALL, layout="2d"):
        super().__init__()
        self.cfg, self.layout = cfg, layout
        self.enc, self.dec, self.quant = Encoder(cfg, layout), Decoder(cfg, layout), Quantizer(cfg["quant"])

    def encode(self, clip):
        """clip uint8 [T, S, S] (grey) → per scale, codes [T'·k·k] (frame-major)."""
        x = clip.float().div(255)
        if self.layout == "2d":
            z = self.enc(x[:, None])  # [T', D, s, s]
        else:
            z = self.enc(x[None, None])[0].transpose(0, 1).contiguous()
        return self.quant.encode(z)

    def decode(self, codes):
        """Codes of T' latent frames → uint8 frames [T, S, S]."""
        h = self.cfg["quant"]["scales"][-1]
        n = codes[0].numel()  # one code a latent frame at scale 1
        z = self.quant.decode(codes, n, h)  # [T', D, h, h]
        if self.layout == "2d":
            y = self.dec(z)[:, 0]
        else:
            y = self.dec(z.transpose(0, 1)[None])[0, 0]
        return (y * 255 + 0.5).clamp(0, 255).to(torch.uint8)

    def load(self, tensors):
        """Copies the tensors of a Go weights file (read_weights) by name."""
        state = self.state_dict()
        for name, t in state.items():
            if name not in tensors:
                raise KeyError(f"weights: no tensor {name}")
            t.copy_(torch.from_numpy(tensors[name]).view(t.shape))
        if extra := sorted(set(tensors) - set(state)):
            raise KeyError(f"weights: tensors this network lacks: {extra[:4]}")


def read_weights(path):
    """The config and float32 tensors of a Go tokenizer weights file
    (safetensors, F16 or F32, flat or shaped; Debian has no safetensors)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    cfg = json.loads(header.pop("__metadata__")["config"])
    types = {"F16": np.float16, "F32": np.float32}
    tensors = {}
    for name, h in header.items():
        lo, hi = h["data_offsets"]
        tensors[name] = np.frombuffer(data[lo:hi], dtype=types[h["dtype"]]).astype(np.float32)
    return cfg, tensors


def model(a):
    """The tokenizer of a.weights, or a random video.Small()."""
    torch.manual_seed(0)
    if not a.weights:
        return Tokenizer(SMALL, a.layout).eval()
    cfg, tensors = read_weights(a.weights)
    m = Tokenizer(cfg, a.layout).eval()
    m.load(tensors)
    return m


def bench(a):
    """Times encode + decode of a clip of a.frames frames and of one image."""
    m = model(a)
    s = m.cfg["size"]
    out = {}
    with torch.inference_mode():
        for key, frames, reps in (("clip", a.frames, a.reps), ("image", 1, a.image_reps)):
            clip = torch.randint(0, 256, (frames, s, s), dtype=torch.uint8)
            for _ in range(2):
                m.decode(m.encode(clip))
            t0 = time.perf_counter()
            for _ in range(reps):
                m.decode(m.encode(clip))
            dt = (time.perf_counter() - t0) / reps
            out[key] = {"frames": frames, "s": dt, "frames_per_s": frames / dt}
    return out


def check(a):
    """Encodes and decodes the raw uint8 clip in a.input with a.weights: the
    codes and frames, to compare with the Go tokenizer's."""
    m = model(a)
    s = m.cfg["size"]
    clip = torch.from_numpy(np.fromfile(a.input, dtype=np.uint8)).view(-1, s, s)
    with torch.inference_mode():
        codes = m.encode(clip)
        frames = m.decode(codes)
    return {"codes": [c.tolist() for c in codes], "frames": frames.flatten().tolist()}


"""Quick PyTorch probe of the image tokenizer's design choices (session 31).

A copy of the tokenizer's image path (video.Small: widths 32, 64, 96, 96,
two residual blocks at 8x8, 32 latent channels, bias-free encoder) and of
its quantizer (msvq: L2 lookup, code 0 frozen at zero, EMA decay 0.99,
dead-code restarts below 0.03, codes seeded from the first batch's
residuals, one shared phi at ratio 0.5, the loss of a random prefix of
scales at weight 0.5, L1 + L2), trained on Moving-digits frames for a
fixed wall time on one thread. Every 100 steps it prints
(step, seconds, pooled PSNR, mean per-frame PSNR, codes used) on the first
frames of the first 100 test clips. It is 1.5-2x faster per step than the
Go trainer, which is why design choices were screened with it; the choice
was then trained and scored in Go (model card, "Video tokenizer").

    /usr/bin/python3 tools/tokenizer_probe.py --seconds 600 --variant base
    /usr/bin/python3 tools/tokenizer_probe.py --seconds 600 --codes 1024
    /usr/bin/python3 tools/tokenizer_probe.py --seconds 600 --variant repeat8

Variants: base (scales 1,2,3,4,6,8), repeat8 (1,2,3,4,6,8,8), all8
(1,...,8), dim8 (8 latent channels), nopartial (no prefix loss).
"""
import argparse
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

VARIANTS = {
    "base": dict(),
    "repeat8": dict(scales=[1, 2, 3, 4, 6, 8, 8]),
    "all8": dict(scales=[1, 2, 3, 4, 5, 6, 7, 8]),
    "dim8": dict(dim=8),
    "nopartial": dict(partial=0.0),
}


class Res(nn.Module):
    def __init__(self, w, bias):
        super().__init__()
        self.a = nn.Conv2d(w, w, 3, padding=1, bias=bias)
        self.b = nn.Conv2d(w, w, 3, padding=1, bias=bias)
        nn.init.zeros_(self.b.weight)  # residual branches start as the identity

    def forward(self, x):
        return x + self.b(F.silu(self.a(F.silu(x))))


class AE(nn.Module):
    def __init__(self, dim, widths=(32, 64, 96, 96), res=2):
        super().__init__()
        w = widths
        self.enc_in = nn.Conv2d(1, w[0], 3, padding=1, bias=False)
        self.down = nn.ModuleList(nn.Conv2d(w[i], w[i + 1], 4, 2, 1, bias=False) for i in range(3))
        self.enc_res = nn.Sequential(*[Res(w[3], False) for _ in range(res)])
        self.enc_out = nn.Conv2d(w[3], dim, 3, padding=1, bias=False)
        self.dec_in = nn.Conv2d(dim, w[3], 3, padding=1)
        self.dec_res = nn.Sequential(*[Res(w[3], True) for _ in range(res)])
        self.up = nn.ModuleList(nn.ConvTranspose2d(w[3 - i], w[2 - i], 4, 2, 1) for i in range(3))
        self.dec_out = nn.Conv2d(w[0], 1, 3, padding=1)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) and m.weight.abs().sum() > 0:
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        self.phi = nn.Conv2d(dim, dim, 3, padding=1, bias=False)

    def encode(self, x):  # [N, 1, 64, 64] -> [N, dim, 8, 8]
        h = F.silu(self.enc_in(x))
        for d in self.down:
            h = F.silu(d(h))
        return self.enc_out(self.enc_res(h))

    def decode(self, z):  # [N, dim, 8, 8] -> [N, 1, 64, 64]
        h = F.silu(self.dec_res(self.dec_in(z)))
        for u in self.up:
            h = F.silu(u(h))
        return self.dec_out(h)


class Quantizer:
    def __init__(self, codes, dim, scales, decay=0.99):
        self.cb = torch.randn(codes, dim) * 0.1
        self.cb[0] = 0
        self.count, self.sum = torch.ones(codes), self.cb.clone()
        self.scales, self.decay, self.fresh = scales, decay, True

    def __call__(self, f, phi, train):
        """Returns the straight-through latent after each scale and the commitment loss."""
        side = f.shape[-1]
        rest, fhat, outs, loss, rows, idxs = f, torch.zeros_like(f), [], 0.0, [], []
        for k in self.scales:
            r = F.interpolate(rest, size=(k, k), mode="area") if k != side else rest
            x = r.permute(0, 2, 3, 1).reshape(-1, f.shape[1]).detach()
            idx = ((self.cb * self.cb).sum(1)[None] - 2 * x @ self.cb.t()).argmin(1)
            rows.append(x)
            idxs.append(idx)
            z = self.cb[idx].reshape(f.shape[0], k, k, -1).permute(0, 3, 1, 2)
            if k != side:
                z = F.interpolate(z, size=(side, side), mode="bilinear", align_corners=False)
            z = 0.5 * z + 0.5 * phi(z)
            fhat, rest = fhat + z, rest - z
            loss = loss + 0.25 * F.mse_loss(fhat.detach(), f) + F.mse_loss(fhat, f.detach())
            outs.append(f + (fhat - f).detach())
        if train:
            self.update(torch.cat(rows), torch.cat(idxs))
        return outs, loss / len(self.scales), idxs

    def update(self, x, idx):
        codes = self.cb.shape[0]
        if self.fresh:  # seed codes 1..K-1 from this batch's residuals
            perm = torch.randperm(x.shape[0])
            self.cb[1:] = x[perm[: codes - 1] % x.shape[0]]
            self.sum[1:], self.count[1:], self.fresh = self.cb[1:], 1, False
            return
        d = self.decay
        self.count.mul_(d).add_((1 - d) * torch.bincount(idx, minlength=codes).float())
        self.sum.mul_(d).add_((1 - d) * torch.zeros_like(self.sum).index_add_(0, idx, x))
        dead = (self.count < 0.03).nonzero().flatten()
        dead = dead[dead > 0]
        if len(dead):
            self.sum[dead] = x[torch.randint(0, x.shape[0], (len(dead),))]
            self.count[dead] = 1
        self.cb[1:] = self.sum[1:] / self.count[1:, None]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.expanduser("~/.cache/omniar/data"))
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--codes", type=int, default=256)
    ap.add_argument("--variant", choices=sorted(VARIANTS), default="base")
    a = ap.parse_args()
    v = dict(scales=[1, 2, 3, 4, 6, 8], dim=32, partial=0.5) | VARIANTS[a.variant]
    torch.set_num_threads(1)
    torch.manual_seed(0)
    d = os.path.join(a.data, "moving")
    train = np.memmap(os.path.join(d, "train.u8"), dtype=np.uint8, mode="r", offset=64).reshape(-1, 64, 64)
    test = np.memmap(os.path.join(d, "test.u8"), dtype=np.uint8, mode="r", offset=64).reshape(-1, 17, 64, 64)[:100, 0]
    test = torch.tensor(np.array(test), dtype=torch.float32)[:, None] / 255

    m, q = AE(v["dim"]), Quantizer(a.codes, v["dim"], v["scales"])
    opt = torch.optim.AdamW(m.parameters(), lr=6e-4, betas=(0.9, 0.99), weight_decay=0.01)
    rec = lambda y, x: (y - x).abs().mean() + ((y - x) ** 2).mean()
    rng = np.random.default_rng(0)

    def score():
        with torch.no_grad():
            outs, _, idxs = q(m.encode(test), m.phi, False)
            y = m.decode(outs[-1]).clamp(0, 1)
            y8 = (y * 255).round() / 255
            pooled = 10 * torch.log10(1 / ((y - test) ** 2).mean())
            per_frame = (10 * torch.log10(1 / ((y8 - test) ** 2).mean((1, 2, 3)))).mean()
            return round(float(pooled), 2), round(float(per_frame), 2), len(torch.unique(torch.cat(idxs)))

    t0, step = time.time(), 0
    while time.time() - t0 < a.seconds:
        ix = np.sort(rng.integers(0, train.shape[0], 16))
        x = torch.tensor(train[ix], dtype=torch.float32)[:, None] / 255
        outs, qloss, _ = q(m.encode(x), m.phi, True)
        prefix = outs[rng.integers(0, len(outs) - 1)]
        loss = rec(m.decode(outs[-1]), x) + v["partial"] * rec(m.decode(prefix), x) + qloss
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        step += 1
        if step % 100 == 0:
            print((step, round(time.time() - t0), *score()), flush=True)
    print(a.variant, a.codes, "steps", step, "test", score(), flush=True)


if __name__ == "__main__":
    main()

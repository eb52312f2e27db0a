"""Makes adamw_torch.json: a reference for optim.AdamW computed by torch.optim.AdamW.

Run from this directory with Debian's Python and PyTorch:

    /usr/bin/python3 make_adamw_fixture.py

Three float32 params (one without weight decay) take five AdamW steps with
fixed random gradients; the learning rate of each step follows
optim.WarmupCosine{Peak: 1e-2, Min: 1e-3, Warmup: 2, Total: 5}. The file holds
the inputs and the params after every step.
"""
import json
import os
import math

import torch

BETAS = (0.9, 0.95)
EPS = 1e-8
WEIGHT_DECAY = 0.1
PEAK, MIN, WARMUP, TOTAL = 1e-2, 1e-3, 2, 5
STEPS = 5


def lr_at(step):
    """Same formula as optim.WarmupCosine.LR."""
    if step < WARMUP:
        return PEAK * step / WARMUP
    if step >= TOTAL:
        return MIN
    progress = (step - WARMUP) / (TOTAL - WARMUP)
    return MIN + 0.5 * (PEAK - MIN) * (1 + math.cos(math.pi * progress))


def main():
    gen = torch.Generator().manual_seed(1234)
    specs = [("w1", (4, 3), True), ("w2", (5,), True), ("b", (3,), False)]
    params = [torch.randn(shape, generator=gen, dtype=torch.float32) for _, shape, _ in specs]
    init = [p.detach().clone() for p in params]
    params = [torch.nn.Parameter(p) for p in params]
    groups = [
        {"params": [p for p, (_, _, d) in zip(params, specs) if d], "weight_decay": WEIGHT_DECAY},
        {"params": [p for p, (_, _, d) in zip(params, specs) if not d], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=PEAK, betas=BETAS, eps=EPS, foreach=False)
    grads, lrs, after = [], [], []
    for step in range(STEPS):
        # Gradients of different scales so the second moment matters.
        g = [torch.randn(p.shape, generator=gen) * (0.1 * 10 ** (step % 3)) for p in params]
        lr = lr_at(step)
        for group in opt.param_groups:
            group["lr"] = lr
        for p, gi in zip(params, g):
            p.grad = gi.clone()
        opt.step()
        grads.append([gi.flatten().tolist() for gi in g])
        lrs.append(lr)
        after.append([p.detach().flatten().tolist() for p in params])
    out = {
        "torch_version": torch.__version__,
        "config": {"beta1": BETAS[0], "beta2": BETAS[1], "eps": EPS, "weight_decay": WEIGHT_DECAY},
        "schedule": {"peak": PEAK, "min": MIN, "warmup": WARMUP, "total": TOTAL},
        "params": [
            {"name": n, "decay": d, "init": p.flatten().tolist()}
            for (n, _, d), p in zip(specs, init)
        ],
        "lrs": lrs,
        "grads": grads,
        "after": after,
    }
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "adamw_torch.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()

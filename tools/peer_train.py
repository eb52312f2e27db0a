"""PyTorch peer of the Go engine benchmarks (run by `omniar bench`).

  /usr/bin/python3 tools/peer_train.py train  --threads N --steps S   (nn/lm.Reference)
  /usr/bin/python3 tools/peer_train.py matmul --threads N --m M --k K --n N2 --reps R
  /usr/bin/python3 tools/peer_train.py tokenizer --threads N --frames 17 --reps R --image-reps R2 [--weights F]
  /usr/bin/python3 tools/peer_train.py tokenizer-check --weights F --input RAW   (codes and frames of a clip)
  /usr/bin/python3 tools/peer_train.py unified --threads N --trunk JSON --vocab V --batch B --seq T --steps S --reps R
                                               --decode D --decode-reps R2   (train step, forward, greedy decoding)
  /usr/bin/python3 tools/peer_train.py unified-check --weights F --batch B --ids I0,I1,…   (losses and decoded logits)

Prints one JSON object. The tokenizer jobs run video.Small() in PyTorch
(tools/peer_tokenizer.py), the unified jobs the unified MoE decoder
(tools/peer_unified.py). The model is the same network as nn/lm: token
embedding, pre-norm blocks (RMSNorm, RoPE attention with a causal mask,
SwiGLU; q/k/v and gate/up weights stacked), final RMSNorm, untied head,
cross-entropy, AdamW — float32 on the CPU. PyTorch 1.13 has no fused
attention or RMSNorm, so both are written as PyTorch itself would run them.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

import peer_tokenizer
import peer_unified


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(seq, hd, base=10000.0):
    inv = base ** (-torch.arange(hd // 2, dtype=torch.float32) / (hd // 2))
    ang = torch.arange(seq, dtype=torch.float32)[:, None] * inv[None, :]
    return torch.cos(ang), torch.sin(ang)


def rope(x, cos, sin):  # x [B, H, T, hd], rotate-half layout
    half = x.shape[-1] // 2
    a, b = x[..., :half], x[..., half:]
    return torch.cat([a * cos - b * sin, b * cos + a * sin], dim=-1)


class Block(nn.Module):
    def __init__(self, d, heads, hidden):
        super().__init__()
        self.heads = heads
        self.attn_norm, self.ffn_norm = RMSNorm(d), RMSNorm(d)
        self.wqkv = nn.Linear(d, 3 * d, bias=False)
        self.wo = nn.Linear(d, d, bias=False)
        self.gate_up = nn.Linear(d, 2 * hidden, bias=False)
        self.down = nn.Linear(hidden, d, bias=False)

    def forward(self, x, cos, sin, mask):
        b, t, d = x.shape
        hd = d // self.heads
        h = self.attn_norm(x)

        def heads(y):
            return y.view(b, t, self.heads, hd).transpose(1, 2)

        q, k, v = (heads(y) for y in self.wqkv(h).chunk(3, dim=-1))
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        s = s.masked_fill(mask, float("-inf"))
        o = (torch.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.wo(o)
        a, u = self.gate_up(self.ffn_norm(x)).chunk(2, dim=-1)
        return x + self.down(F.silu(a) * u)


class LM(nn.Module):
    def __init__(self, vocab, d, heads, layers, hidden, seq):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList(Block(d, heads, hidden) for _ in range(layers))
        self.norm = RMSNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)
        cos, sin = rope_tables(seq, d // heads)
        self.register_buffer("cos", cos)
        self.register_buffer("sin", sin)
        self.register_buffer("mask", ~torch.tril(torch.ones(seq, seq, dtype=torch.bool)))

    def forward(self, ids, targets):
        x = self.tok_emb(ids)
        for blk in self.layers:
            x = blk(x, self.cos, self.sin, self.mask)
        logits = self.head(self.norm(x))
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))


def train(a):
    torch.manual_seed(0)
    m = LM(a.vocab, a.dim, a.heads, a.layers, a.hidden, a.seq)
    decay = [p for n, p in m.named_parameters() if p.dim() == 2 and "emb" not in n]
    other = [p for n, p in m.named_parameters() if not (p.dim() == 2 and "emb" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
                            lr=1e-4, betas=(0.9, 0.95), eps=1e-8)
    ids = torch.randint(0, a.vocab, (a.batch, a.seq + 1))
    x, y = ids[:, :-1].contiguous(), ids[:, 1:].contiguous()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = m(x, y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    dt = (time.perf_counter() - t0) / a.steps
    return {"step_s": dt, "tokens_per_s": a.batch * a.seq / dt}


def matmul(a):
    x = torch.randn(a.m, a.k)
    y = torch.randn(a.k, a.n)
    for _ in range(3):
        torch.mm(x, y)
    t0 = time.perf_counter()
    for _ in range(a.reps):
        torch.mm(x, y)
    dt = (time.perf_counter() - t0) / a.reps
    return {"s": dt, "gflops": 2 * a.m * a.k * a.n / dt / 1e9}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("job", choices=["train", "matmul", "tokenizer", "tokenizer-check", "unified", "unified-check"])
    p.add_argument("--threads", type=int, default=1)
    for k, v in [("vocab", 1024), ("dim", 256), ("heads", 4), ("layers", 4), ("hidden", 1024), ("seq", 256),
                 ("batch", 8), ("steps", 5), ("warmup", 2), ("m", 1024), ("k", 1024), ("n", 1024), ("reps", 20),
                 ("frames", 17), ("image-reps", 40), ("decode", 256), ("decode-reps", 2)]:
        p.add_argument("--" + k, type=int, default=v)
    p.add_argument("--weights", default="", help="Go weights (safetensors): the tokenizer's (random without), or unified-check's")
    p.add_argument("--layout", choices=["2d", "3d"], default="2d", help="per-frame convs as Conv2d or Conv3d")
    p.add_argument("--input", default="", help="tokenizer-check: raw uint8 frames [T, 64, 64]")
    p.add_argument("--trunk", default="", help="unified: the trunk config (unified.Config as JSON)")
    p.add_argument("--ids", default="", help="unified-check: comma-separated token ids [B·(T+1)]")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    jobs = {"train": train, "matmul": matmul, "tokenizer": peer_tokenizer.bench, "tokenizer-check": peer_tokenizer.check,
            "unified": peer_unified.bench, "unified-check": peer_unified.check}
    out = jobs[a.job](a)
    out.update({"peer": "pytorch", "version": torch.__version__, "threads": torch.get_num_threads()})
    print(json.dumps(out))


if __name__ == "__main__":
    main()

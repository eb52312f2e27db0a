"""PyTorch peer of the unified MoE decoder (unified/, omni/), for `omniar bench`.

The same network as a unified.LM with an untied head, layer for layer and
with the Go tensor names (so Go weights load into it by name):

  text.tok_emb [V, D] → trunk.layers.i: x + wo(attn(RoPE(wqkv(RMSNorm(x)))))
  (causal mask; q/k/v stacked in one [3D, D] weight; rotary pairs split over
  position axes as rope_split says, "rotate half" layout), then
  x + MoE(RMSNorm(x)) → trunk.norm → text.head [V, D] → logits.

  MoE = shared SwiGLU (Shared·ExpertHidden units, gate and up stacked) +
  top-k of E routed SwiGLU experts (w_gate_up [E, 2H, D], w_down [E, D, H]):
  softmax router, gates = the selected probabilities renormalised, experts
  fill their capacity ceil(capacity·N·k/E) in token order (choice j of
  token n is slot n·k + j) and drop the rest (nn.Routing). Dispatch gathers
  each expert's tokens and runs one matmul pair per expert, as the Go ops do.
  Loss = cross-entropy + Σ_layers aux_weight·aux + z_weight·z with
  aux = E·Σ_e f_e·P_e (f_e = selections of e / (N·k), P_e = mean router
  probability) and z = mean_n logsumexp(logits_n)².

Inference (no balancing losses): the forward pass of a batch in
inference_mode, and greedy decoding at batch 1 with a KV cache (one token a
step, no capacity limit, as unified.Trunk.Decode). The bench also reports
the share of token-expert pairs over capacity, which is expert work not
done, so that both sides can be seen to drop about as much.
"""
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

import peer_tokenizer


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class SwiGLU(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.gate_up = nn.Linear(d, 2 * hidden, bias=False)
        self.down = nn.Linear(hidden, d, bias=False)

    def forward(self, x):
        a, u = self.gate_up(x).chunk(2, dim=-1)
        return self.down(F.silu(a) * u)


class Experts(nn.Module):
    def __init__(self, e, d, h):
        super().__init__()
        self.w_gate_up = nn.Parameter(torch.empty(e, 2 * h, d).uniform_(-d ** -0.5, d ** -0.5))
        self.w_down = nn.Parameter(torch.empty(e, d, h).uniform_(-h ** -0.5, h ** -0.5))

    def forward(self, e, x):  # expert e on its tokens x [n, D]
        a, u = (x @ self.w_gate_up[e].t()).chunk(2, dim=-1)
        return (F.silu(a) * u) @ self.w_down[e].t()


class MoE(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, h = c["dim"], c["expert_hidden"]
        self.e, self.k, self.capacity = c["experts"], c["top_k"], c["capacity"]
        self.router = nn.Linear(d, self.e, bias=False) if self.e else None
        self.experts = Experts(self.e, d, h) if self.e else None
        self.shared = SwiGLU(d, c["shared"] * h) if c["shared"] else None
        self.dropped = 0  # token-expert pairs over capacity in the last forward

    def forward(self, x, capacity=True, losses=True):
        """x [N, D] → y [N, D], aux, z (unweighted; 0 without routed
        experts or losses, which inference skips)."""
        y = self.shared(x) if self.shared is not None else torch.zeros_like(x)
        zero = x.new_zeros(())
        if self.router is None:
            return y, zero, zero
        n, e, k = x.shape[0], self.e, self.k
        logits = self.router(x)  # [N, E]
        probs = torch.softmax(logits, dim=-1)
        top, choice = probs.topk(k, dim=-1)  # [N, k]
        gates = (top / top.sum(-1, keepdim=True)).reshape(-1)  # slot n·k + j
        flat = choice.reshape(-1)
        keep = torch.ones_like(flat, dtype=torch.bool)
        if capacity:  # rank of each slot among its expert's slots, in token order
            rank = F.one_hot(flat, e).cumsum(0).gather(1, flat[:, None]).squeeze(1) - 1
            keep = rank < math.ceil(self.capacity * n * k / e)
            self.dropped = int((~keep).sum())
        for ex in torch.unique(flat).tolist():
            slots = ((flat == ex) & keep).nonzero().squeeze(1)
            if slots.numel() == 0:
                continue
            tok = torch.div(slots, k, rounding_mode="floor")
            out = self.experts(ex, x.index_select(0, tok))
            y = y.index_add(0, tok, out * gates[slots, None])
        if not losses:
            return y, zero, zero
        f = torch.bincount(flat, minlength=e).to(x.dtype) / (n * k)
        aux = e * (f * probs.mean(0)).sum()
        z = torch.logsumexp(logits, dim=-1).pow(2).mean()
        return y, aux, z


class Attention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.wqkv = nn.Linear(d, 3 * d, bias=False)
        self.wo = nn.Linear(d, d, bias=False)

    def forward(self, x, cos, sin, mask=None, cache=None, pos=0):
        """x [B, T, D]; cos, sin [T, hd/2] of the T positions. With a
        cache (k, v [B, H, Tmax, hd]) the T new positions are written at
        pos and attend to every cached one and to each other (mask None)."""
        b, t, d = x.shape
        hd = d // self.heads
        q, k, v = (y.view(b, t, self.heads, hd).transpose(1, 2) for y in self.wqkv(x).chunk(3, dim=-1))
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        if cache is not None:
            kc, vc = cache
            kc[:, :, pos:pos + t], vc[:, :, pos:pos + t] = k, v
            k, v = kc[:, :, :pos + t], vc[:, :, :pos + t]
        s = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        if mask is not None:
            s = s.masked_fill(mask, float("-inf"))
        o = (torch.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(b, t, d)
        return self.wo(o)


def rope(x, cos, sin):  # x [B, H, T, hd], rotate-half layout
    half = x.shape[-1] // 2
    a, b = x[..., :half], x[..., half:]
    return torch.cat([a * cos - b * sin, b * cos + a * sin], dim=-1)


def rope_tables(c, pos):
    """cos, sin [T, hd/2] for positions pos [T, axes] as nn.Rope computes
    them: pairs of axis a turn at base^(−j/split[a]); pairs past Σsplit stay."""
    half = c["dim"] // c["heads"] // 2
    th = torch.zeros(pos.shape[0], half, dtype=torch.float64)
    i = 0
    for a, m in enumerate(c["rope_split"]):
        j = torch.arange(m, dtype=torch.float64)
        th[:, i:i + m] = pos[:, a:a + 1] * c["rope_base"] ** (-j / m)
        i += m
    return th.cos().float(), th.sin().float()


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, eps = c["dim"], c["norm_eps"]
        self.attn_norm, self.ffn_norm = RMSNorm(d, eps), RMSNorm(d, eps)
        self.attn = Attention(d, c["heads"])
        self.moe = MoE(c)

    def forward(self, x, cos, sin, mask=None, cache=None, pos=0, losses=True):
        b, t, d = x.shape
        x = x + self.attn(self.attn_norm(x), cos, sin, mask, cache, pos)
        f, aux, z = self.moe(self.ffn_norm(x).view(b * t, d), capacity=cache is None, losses=losses)
        return x + f.view(b, t, d), aux, z


class Trunk(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layers = nn.ModuleList(Block(c) for _ in range(c["layers"]))
        self.norm = RMSNorm(c["dim"], c["norm_eps"])


class TextHead(nn.Module):
    def __init__(self, vocab, d):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab, d)
        nn.init.normal_(self.tok_emb.weight, std=0.02)
        self.head = nn.Linear(d, vocab, bias=False)


class LM(nn.Module):
    """The unified trunk with a text embedding and an untied head."""

    def __init__(self, c, vocab, seq):
        super().__init__()
        if c["balance"] != "aux" or c.get("cond_dim", 0):
            raise ValueError(f"peer_unified: balance {c['balance']!r} with cond dim {c.get('cond_dim')}: "
                             "only aux balancing without conditioning is modelled")
        self.c = c
        self.trunk = Trunk(c)
        self.text = TextHead(vocab, c["dim"])
        pos = torch.zeros(seq, len(c["rope_split"]), dtype=torch.float64)
        pos[:, 0] = torch.arange(seq)  # text: time axis only
        cos, sin = rope_tables(c, pos)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        self.register_buffer("mask", ~torch.tril(torch.ones(seq, seq, dtype=torch.bool)), persistent=False)

    def forward(self, ids, losses=True):
        """ids [B, T] → logits [B, T, V] and the summed aux and z losses (0 without losses)."""
        t = ids.shape[1]
        x = self.text.tok_emb(ids)
        aux = z = 0
        for blk in self.trunk.layers:
            x, a, zz = blk(x, self.cos[:t], self.sin[:t], self.mask[:t, :t], losses=losses)
            aux, z = aux + a, z + zz
        return self.text.head(self.trunk.norm(x)), aux, z

    def loss(self, ids, targets):
        logits, aux, z = self(ids)
        ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        return ce + self.c["aux_weight"] * aux + self.c["z_weight"] * z, ce, aux, z

    def new_cache(self, b, tmax):
        c = self.c
        shape = (b, c["heads"], tmax, c["dim"] // c["heads"])
        return [(torch.zeros(shape), torch.zeros(shape)) for _ in self.trunk.layers]

    def decode(self, cache, tok, pos):
        """One token per sequence tok [B] at position pos → logits [B, V]."""
        x = self.text.tok_emb(tok)[:, None]
        cos, sin = self.cos[pos:pos + 1], self.sin[pos:pos + 1]
        for blk, kv in zip(self.trunk.layers, cache):
            x, _, _ = blk(x, cos, sin, cache=kv, pos=pos, losses=False)
        return self.text.head(self.trunk.norm(x))[:, 0]


def params(m):
    return sum(p.numel() for p in m.parameters())


def dropped(m, n):
    """The share of token-expert pairs over capacity in the last forward of n tokens."""
    layers = m.trunk.layers
    return sum(b.moe.dropped for b in layers) / (len(layers) * n * m.c["top_k"]) if m.c["experts"] else 0.0


def adamw(m):
    """nn/optim.DefaultAdamW: weight decay on matrices and expert tensors, not on embeddings or norms."""
    named = list(m.named_parameters())
    decay = [p for n, p in named if p.dim() >= 2 and "tok_emb" not in n]
    other = [p for n, p in named if not (p.dim() >= 2 and "tok_emb" not in n)]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
                             lr=1e-4, betas=(0.9, 0.95), eps=1e-8)


def greedy(m, first, n):
    """n greedy decoding steps at batch 1 from token first: the tokens."""
    cache = m.new_cache(1, n)
    tok, out = torch.tensor([first]), []
    for p in range(n):
        tok = m.decode(cache, tok, p).argmax(-1)
        out.append(int(tok))
    return out


def timed(f, warm, reps):
    for _ in range(warm):
        f()
    t0 = time.perf_counter()
    for _ in range(reps):
        f()
    return (time.perf_counter() - t0) / reps


def bench(a):
    """Times a training step, a forward pass of the batch and a greedy
    decoding pass of a.decode tokens at batch 1."""
    if not a.trunk:
        raise ValueError("peer_unified: --trunk (the unified.Config as JSON) is required")
    torch.manual_seed(0)
    c = json.loads(a.trunk)
    m = LM(c, a.vocab, max(a.seq, a.decode))
    opt = adamw(m)
    ids = torch.randint(0, a.vocab, (a.batch, a.seq + 1))
    x, y = ids[:, :-1].contiguous(), ids[:, 1:].contiguous()

    def step():
        opt.zero_grad(set_to_none=True)
        m.loss(x, y)[0].backward()
        opt.step()

    n = a.batch * a.seq
    out = {"params": params(m), "train": {"s": timed(step, a.warmup, a.steps), "dropped": dropped(m, n)}}
    with torch.inference_mode():
        out["forward"] = {"s": timed(lambda: m(x, losses=False), a.warmup, a.reps), "dropped": dropped(m, n)}
        out["decode"] = {"s": timed(lambda: greedy(m, int(x[0, 0]), a.decode), 1, a.decode_reps)}
    return out


def check(a):
    """Loads Go weights (a.weights) and runs the batch a.ids ([B·(T+1)],
    a.batch sequences): the loss parts of the training graph and the last
    logits of sequence 0 decoded token by token through the KV cache."""
    c, tensors = peer_tokenizer.read_weights(a.weights)
    vocab = tensors["text.tok_emb.weight"].size // c["dim"]
    ids = torch.tensor([int(i) for i in a.ids.split(",")]).view(a.batch, -1)
    x, y = ids[:, :-1].contiguous(), ids[:, 1:].contiguous()
    m = LM(c, vocab, x.shape[1])
    state = m.state_dict()
    if sorted(state) != sorted(tensors):
        raise KeyError(f"weights: names differ: peer only {sorted(set(state) - set(tensors))[:4]}, "
                       f"Go only {sorted(set(tensors) - set(state))[:4]}")
    for name, t in state.items():
        t.copy_(torch.from_numpy(tensors[name]).view(t.shape))
    with torch.no_grad():
        _, ce, aux, z = m.loss(x, y)
        cache = m.new_cache(1, x.shape[1])
        for p in range(x.shape[1]):
            logits = m.decode(cache, x[:1, p], p)[0]
    return {"params": params(m), "ce": float(ce), "aux": float(aux), "z": float(z), "logits": logits.tolist()}

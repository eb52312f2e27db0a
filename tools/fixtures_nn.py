"""Reference cases for the nn/ ops and layers, evaluated with PyTorch in float64."""
import math

import torch
import torch.nn.functional as F


def rope_angles(pos, split, head_dim, base):
    """Angles [N, head_dim/2] for positions pos [N, axes] (see nn.Rope)."""
    n = pos.shape[0]
    ang = torch.zeros(n, head_dim // 2, dtype=torch.float64)
    i = 0
    for a, s in enumerate(split):
        for j in range(s):
            ang[:, i] = pos[:, a] * base ** (-j / s)
            i += 1
    return ang


def rope(x, ang, head_dim):
    """Rotate-half RoPE on x [N, H*hd] with per-row angles."""
    n, d = x.shape
    h = d // head_dim
    half = head_dim // 2
    xv = x.reshape(n, h, head_dim)
    a, b = xv[..., :half], xv[..., half:]
    c, s = torch.cos(ang)[:, None, :], torch.sin(ang)[:, None, :]
    return torch.cat([a * c - b * s, b * c + a * s], dim=-1).reshape(n, d)


def attention(q, k, v, b, t, h, allow):
    """Multi-head attention on [B*T, H*hd]; allow [T, T] bool; rows that see nothing give 0."""
    d = q.shape[1]
    hd = d // h

    def heads(x):
        return x.reshape(b, t, h, hd).transpose(1, 2)

    s = heads(q) @ heads(k).transpose(-1, -2) / math.sqrt(hd)
    s = s.masked_fill(~allow, float("-inf"))
    p = torch.softmax(s, dim=-1)
    p = torch.nan_to_num(p, nan=0.0)
    return (p @ heads(v)).transpose(1, 2).reshape(b * t, d)


def causal(t):
    return torch.tril(torch.ones(t, t, dtype=torch.bool))


def block_causal(groups):
    g = torch.tensor(groups)
    return g[None, :] <= g[:, None]


def cases(write):
    g = torch.Generator().manual_seed(1)

    def rn(*s, scale=1.0):
        return torch.randn(*s, generator=g, dtype=torch.float64) * scale

    write("nn", "linear", {"x": rn(6, 8), "w": rn(5, 8, scale=0.4)}, lambda x, w: x @ w.T)
    write("nn", "linear_bias", {"x": rn(6, 8), "w": rn(5, 8, scale=0.4), "b": rn(5)}, lambda x, w, b: F.linear(x, w, b))

    eps = 1e-5
    write("nn", "rmsnorm", {"x": rn(7, 16) * 3, "w": 1 + rn(16, scale=0.2)},
          lambda x, w: x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w, {"eps": eps})
    write("nn", "layernorm", {"x": rn(7, 16) * 3 + 1, "w": 1 + rn(16, scale=0.2), "b": rn(16, scale=0.2)},
          lambda x, w, b: F.layer_norm(x, (16,), w, b, eps), {"eps": eps})
    write("nn", "silu", {"x": rn(5, 9) * 4}, lambda x: F.silu(x))
    write("nn", "gelu", {"x": rn(5, 9) * 3}, lambda x: F.gelu(x))

    def swiglu(x):
        a, b = x.chunk(2, dim=-1)
        return F.silu(a) * b

    write("nn", "swiglu", {"x": rn(6, 20) * 2}, swiglu)
    write("nn", "softmax", {"x": rn(6, 11) * 3}, lambda x: F.softmax(x, -1))
    targets = torch.tensor([3, -100, 0, 9, 4, -100, 7], dtype=torch.float64)
    write("nn", "cross_entropy", {"logits": rn(7, 10) * 2, "targets": targets},
          lambda logits, targets: F.cross_entropy(logits, targets.long(), ignore_index=-100),
          no_grad=("targets",))
    ids = torch.tensor([4, 0, 11, 4, 7], dtype=torch.float64)
    write("nn", "embedding", {"w": rn(12, 6), "ids": ids},
          lambda w, ids: F.embedding(ids.long(), w), no_grad=("ids",))
    idx = torch.tensor([2, 0, 2, 5, 1, 2], dtype=torch.float64)
    write("nn", "scatter_add", {"x": rn(6, 4), "idx": idx},
          lambda x, idx: torch.zeros(7, 4, dtype=torch.float64).index_add(0, idx.long(), x),
          {"n": 7}, no_grad=("idx",))
    write("nn", "combine", {"x": rn(6, 4), "w": rn(6).abs(), "idx": idx},
          lambda x, w, idx: torch.zeros(7, 4, dtype=torch.float64).index_add(0, idx.long(), x * w[:, None]),
          {"n": 7}, no_grad=("idx",))

    # RoPE with one axis (text) and four axes (time, scale, y, x)
    for name, split, axes in [("rope_1d", [8], 1), ("rope_4axes", [2, 2, 2, 1], 4)]:
        hd, n = 16, 10
        pos = torch.randint(0, 9, (n, axes), generator=g).to(torch.float64)
        ang = rope_angles(pos, split, hd, 10000.0)
        write("nn", name, {"x": rn(n, 2 * hd), "pos": pos},
              lambda x, pos, ang=ang, hd=hd: rope(x, ang, hd),
              {"split": split, "head_dim": hd, "base": 10000.0}, no_grad=("pos",))

    # attention: full, causal, block-causal, and an arbitrary mask with a row that sees nothing
    b, t, h, hd = 2, 6, 3, 4
    groups = [0, 1, 1, 2, 2, 2]
    rnd = torch.rand(t, t, generator=g) < 0.5
    rnd[2, :] = False
    for name, allow, params in [
        ("attn_full", torch.ones(t, t, dtype=torch.bool), {"mask": "full"}),
        ("attn_causal", causal(t), {"mask": "causal"}),
        ("attn_block", block_causal(groups), {"mask": "block", "groups": groups}),
        ("attn_random", rnd, {"mask": "random"}),
    ]:
        params.update({"b": b, "t": t, "h": h})
        write("nn", name, {"q": rn(b * t, h * hd), "k": rn(b * t, h * hd), "v": rn(b * t, h * hd),
                           "allow": allow.to(torch.float64)},
              lambda q, k, v, allow: attention(q, k, v, b, t, h, allow > 0.5), params, no_grad=("allow",))
    # more than one 64-row tile (nn.attnBlock), so masked tiles are skipped
    b, t, h, hd = 1, 150, 2, 4
    groups = [i // 40 for i in range(t)]
    rnd = torch.rand(t, t, generator=g) < 0.3
    rnd[:70, 100:] = False  # a whole key tile no query of the first tiles sees
    rnd[5, :] = False
    for name, allow, params in [
        ("attn_tiled_causal", causal(t), {"mask": "causal"}),
        ("attn_tiled_block", block_causal(groups), {"mask": "block", "groups": groups}),
        ("attn_tiled_random", rnd, {"mask": "random"}),
    ]:
        params.update({"b": b, "t": t, "h": h})
        write("nn", name, {"q": rn(b * t, h * hd), "k": rn(b * t, h * hd), "v": rn(b * t, h * hd),
                           "allow": allow.to(torch.float64)},
              lambda q, k, v, allow: attention(q, k, v, b, t, h, allow > 0.5), params, no_grad=("allow",))
    block_cases(write)
    resize_cases(write)


def rmsnorm(x, w, eps=1e-5):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def block(x, p, b, t, heads, ang, allow, prefix=""):
    """The pre-norm block of nn.Block: attention with RoPE, then a SwiGLU FFN."""
    d = x.shape[1]
    h = rmsnorm(x, p[prefix + "attn_norm.weight"])
    q, k, v = (h @ p[prefix + "attn.wqkv.weight"].T).chunk(3, dim=-1)
    q, k = rope(q, ang, d // heads), rope(k, ang, d // heads)
    x = x + attention(q, k, v, b, t, heads, allow) @ p[prefix + "attn.wo.weight"].T
    h = rmsnorm(x, p[prefix + "ffn_norm.weight"])
    gu = h @ p[prefix + "ffn.gate_up.weight"].T
    a, u = gu.chunk(2, dim=-1)
    return x + (F.silu(a) * u) @ p[prefix + "ffn.down.weight"].T


def block_cases(write):
    g = torch.Generator().manual_seed(2)
    b, t, d, heads, hidden = 2, 5, 16, 2, 24

    def rn(*s, scale=1.0):
        return torch.randn(*s, generator=g, dtype=torch.float64) * scale

    params = {
        "attn_norm.weight": 1 + rn(d, scale=0.1), "ffn_norm.weight": 1 + rn(d, scale=0.1),
        "attn.wqkv.weight": rn(3 * d, d, scale=0.3), "attn.wo.weight": rn(d, d, scale=0.3),
        "ffn.gate_up.weight": rn(2 * hidden, d, scale=0.3), "ffn.down.weight": rn(d, hidden, scale=0.3),
    }
    pos = torch.arange(t, dtype=torch.float64).repeat(b)[:, None]
    ang = rope_angles(pos, [d // heads // 2], d // heads, 10000.0)
    inputs = {"x": rn(b * t, d)}
    inputs.update(params)
    write("nn", "block", inputs, lambda x, **p: block(x, p, b, t, heads, ang, causal(t)),
          {"b": b, "t": t, "dim": d, "heads": heads, "hidden": hidden})


def resize_cases(write):
    """Area down- and bilinear up-sampling of the multi-scale quantizer."""
    g = torch.Generator().manual_seed(3)
    for name, (h, w), (oh, ow), mode in [
        ("resize_area_8to3", (8, 8), (3, 3), "area"),
        ("resize_area_8to1", (8, 8), (1, 1), "area"),
        ("resize_area_8x6to6x4", (8, 6), (6, 4), "area"),
        ("resize_bilinear_3to8", (3, 3), (8, 8), "bilinear"),
        ("resize_bilinear_1to8", (1, 1), (8, 8), "bilinear"),
        ("resize_bilinear_6x4to8x6", (6, 4), (8, 6), "bilinear"),
    ]:
        x = torch.randn(2, 3, h, w, generator=g, dtype=torch.float64)
        kw = {} if mode == "area" else {"align_corners": False}
        write("nn", name, {"x": x}, lambda x, mode=mode, kw=kw, oh=oh, ow=ow: F.interpolate(x, size=(oh, ow), mode=mode, **kw),
              {"mode": mode, "out": [oh, ow]})

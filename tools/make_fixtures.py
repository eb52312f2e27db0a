"""Writes the PyTorch reference fixtures the Go tests compare against.

Run with Debian's interpreter: /usr/bin/python3 tools/make_fixtures.py
(`make fixtures`). Each case is one file testdata/fixtures/<name>.safetensors
under the package that tests it, holding the inputs ("in.<name>"), the output
("out"), a fixed random probe r and the gradients ("grad.<name>") of the
scalar sum(out * r) with respect to every differentiable input; the case's
parameters are JSON in the metadata key "params".
"""
import json
import os
import sys
import zlib

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402
import fixtures_nn  # noqa: E402
import fixtures_stft  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_case(pkg, name, inputs, fn, params=None, no_grad=()):
    """Evaluate fn(**inputs) in float64 and store inputs, output and grads as float32."""
    torch.manual_seed(zlib.crc32(name.encode()))
    leaves = {}
    for k, v in inputs.items():
        # inputs are stored as float32: evaluate on exactly those values
        t = torch.as_tensor(v).detach().to(torch.float32).to(torch.float64)
        t.requires_grad_(k not in no_grad)
        leaves[k] = t
    out = fn(**leaves)
    r = torch.randn(out.shape, dtype=torch.float64)
    tensors = {"in." + k: v.detach().numpy() for k, v in leaves.items()}
    tensors["out"] = out.detach().numpy()
    tensors["r"] = r.numpy()
    diff = [k for k in leaves if k not in no_grad]
    if diff:
        grads = torch.autograd.grad((out * r).sum(), [leaves[k] for k in diff], allow_unused=True)
        for k, g in zip(diff, grads):
            tensors["grad." + k] = (g if g is not None else torch.zeros_like(leaves[k])).numpy()
    d = os.path.join(ROOT, pkg, "testdata", "fixtures")
    os.makedirs(d, exist_ok=True)
    st.save(os.path.join(d, name + ".safetensors"), tensors, {"params": json.dumps(params or {})})
    print(f"{pkg}/testdata/fixtures/{name}.safetensors")


def main():
    torch.manual_seed(0)
    modules = [fixtures_nn, fixtures_stft]
    try:
        import fixtures_conv  # noqa: F401
        modules.append(fixtures_conv)
    except ImportError:
        pass
    for m in modules:
        m.cases(write_case)


if __name__ == "__main__":
    main()

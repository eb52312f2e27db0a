#!/usr/bin/python3
"""Writes golden.safetensors next to this script.

The Python `safetensors` package is not installed on our machines, so the file
is written by hand with struct + json, following the safetensors spec:
8-byte little-endian header length N, N bytes of JSON header (padded with
spaces to a multiple of 8), then the tensors' bytes back to back.

Run: /usr/bin/python3 nn/ckpt/testdata/gen_golden.py
"""
import json
import os
import struct

tensors = {
    # name: (dtype, shape, values, struct format char)
    "emb.weight": ("F32", [2, 3], [0.5, -1.25, 3.0, 1e-3, -0.0, 65504.0], "f"),
    "norm.scale": ("F16", [4], [1.0, -2.5, 0.1, 6.1035156e-05], "e"),
}
metadata = {"format": "pt", "config": json.dumps({"dim": 3, "name": "golden"})}

header = {"__metadata__": metadata}
data = b""
for name in sorted(tensors):
    dtype, shape, values, fmt = tensors[name]
    raw = struct.pack("<%d%s" % (len(values), fmt), *values)
    header[name] = {"dtype": dtype, "shape": shape,
                    "data_offsets": [len(data), len(data) + len(raw)]}
    data += raw

hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
hb += b" " * (-len(hb) % 8)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden.safetensors")
with open(out, "wb") as f:
    f.write(struct.pack("<Q", len(hb)) + hb + data)

# Print the exact float32 values a reader must return, for the Go test.
for name in sorted(tensors):
    dtype, shape, values, fmt = tensors[name]
    back = struct.unpack("<%d%s" % (len(values), fmt),
                         struct.pack("<%d%s" % (len(values), fmt), *values))
    print(name, [struct.unpack("<I", struct.pack("<f", v))[0] for v in back])

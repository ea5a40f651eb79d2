"""Helpers of the deploy tests (imported by name: a unique module name, unlike conftest.py):
deploy/python on sys.path, random PP-HumanSeg-Lite weights, exporting with tools/export.py and a
generated clip."""
import os
import subprocess
import sys

import cv2
import numpy as np
import yaml

from support import ROOT, run_tool

DEPLOY = os.path.join(ROOT, "deploy", "python")
if DEPLOY not in sys.path:
    sys.path.insert(0, DEPLOY)

NET_W, NET_H = 96, 64

_WEIGHTS = """
import sys, numpy as np, paddle
from humanseg.models import PPHumanSegLite
paddle.seed(7)
net = PPHumanSegLite(num_classes=2)
# He-initialised convs, unit BN: soft, image-dependent masks (about 30% foreground at 0.5).
# An untrained net's near-constant output would hide mistakes.
for name, p in net.named_parameters():
    if len(p.shape) == 4:
        p.set_value(paddle.randn(p.shape) * (2.0 / int(np.prod(p.shape[1:]))) ** 0.5)
    elif "variance" in name or "weight" in name:
        p.set_value(paddle.ones(p.shape))
    elif "mean" in name:
        p.set_value(paddle.zeros(p.shape))
    else:
        p.set_value(paddle.randn(p.shape) * 0.1)
paddle.save(net.state_dict(), sys.argv[1])
"""


def export(tmp, name, weights, output_op, fmt):
    """Export the weights with tools/export.py (Resize NET_WxNET_H + Normalize)."""
    cfg = tmp / f"{name}.yml"
    cfg.write_text(yaml.safe_dump({
        "model": {"type": "PPHumanSegLite", "num_classes": 2},
        "export": {"transforms": [{"type": "Resize", "target_size": [NET_W, NET_H]},
                                  {"type": "Normalize"}]}}))
    out = tmp / name
    res = run_tool("export.py", "--config", str(cfg), "--model_path", weights, "--save_dir",
                   str(out), "--output_op", output_op, "--format", fmt)
    assert res.returncode == 0, res.stderr[-2000:]
    return str(out)


def make_weights(path):
    """Seeded random PP-HumanSeg-Lite weights saved to ``path`` (in a subprocess)."""
    subprocess.run([sys.executable, "-c", _WEIGHTS, path], check=True, cwd=ROOT,
                   capture_output=True)
    return path


def write_clip(path, frames=40, size=(320, 180), fps=25):
    """A moving 'person' (ellipse + head) on a textured background, mp4v."""
    w, h = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    rng = np.random.RandomState(0)
    bg = (rng.rand(h, w, 3) * 80 + 60).astype(np.uint8)
    for i in range(frames):
        f = bg.copy()
        cx = int(w * 0.3 + i * w * 0.4 / frames)
        cv2.ellipse(f, (cx, h // 2 + h // 6), (w // 10, h // 3), 0, 0, 360, (40, 90, 200), -1)
        cv2.circle(f, (cx, h // 4), max(h // 10, 4), (120, 160, 220), -1)
        writer.write(f)
    writer.release()
    return str(path)

"""Training-step time of humanseg's models against PaddleSeg 2.8.0's same models, in one process.

A step is forward + cross-entropy on every output (PaddleSeg's coefficients) + backward +
Momentum step, batch 2, at 512x512 for the street models and 398x224 for the portrait ones. Both
models get the same weights; ours and theirs alternate step by step so machine drift hits both.
The ratio printed is median(ours) / median(PaddleSeg): <= 1.05 is the goal.

Usage: python bench/bench_models.py [--quick] [--repeats N] [--models lite,mobile,...]

Full run on a 2-core CPU: roughly 20 minutes, almost all of it OCRNet + HRNet-W48 (~2 minutes per
step at 512x512, so it gets 2 timed steps per library after one warm-up step; FCN + HRNet-W18,
~20 s per step, gets 3; the sub-second models 10-20). --quick uses 192x192 street / 200x112
portrait inputs (about 6 minutes).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings

import numpy as np
import paddle
import paddle.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from humanseg.cvlibs.registry import BACKBONES, MODELS  # noqa: E402

# name -> (builder(lib, backbones), num_classes, kind, loss coefficients,
#          (timed steps in a full run, timed steps with --quick))
# Sub-second steps are noisy on a shared 2-core machine (3 steps gave ratios from 0.88 to 1.25
# for Fast-SCNN), so the cheap models get more steps.
MODELS_TO_BENCH = {
    "lite": (lambda m, b: m.PPHumanSegLite(num_classes=2), 2, "portrait", [1.0], (20, 15)),
    "mobile": (lambda m, b: m.FCN(num_classes=2, backbone=b.HRNet_W18_Small_V1()), 2, "portrait",
               [1.0], (10, 15)),
    "fastscnn": (lambda m, b: m.FastSCNN(num_classes=19), 19, "street", [1.0, 0.4], (10, 15)),
    "fcn_hrnetw18": (lambda m, b: m.FCN(num_classes=19, backbone=b.HRNet_W18()), 19, "street",
                     [1.0], (3, 3)),
    "ocrnet_hrnetw48": (lambda m, b: m.OCRNet(num_classes=19, backbone=b.HRNet_W48(),
                                              backbone_indices=[0]), 19, "street", [1.0, 0.4],
                        (2, 3)),
}
SIZES = {"street": (512, 512), "portrait": (224, 398)}
QUICK_SIZES = {"street": (192, 192), "portrait": (112, 200)}


class _Ours:
    def __getattr__(self, name):
        return MODELS.get(name) if name in MODELS else BACKBONES.get(name)


def _step(model, opt, x, label, coefs) -> float:
    start = time.perf_counter()
    logits = model(x)
    loss = sum(c * F.cross_entropy(t, label, axis=1, ignore_index=255)
               for c, t in zip(coefs, logits))
    loss.backward()
    opt.step()
    opt.clear_grad()
    float(loss)  # wait for the result
    return time.perf_counter() - start


def bench(name: str, quick: bool, repeats: int | None) -> tuple[float, float]:
    import paddleseg.models as ps_models
    import paddleseg.models.backbones as ps_backbones

    build, num_classes, kind, coefs, full_repeats = MODELS_TO_BENCH[name]
    h, w = (QUICK_SIZES if quick else SIZES)[kind]
    n = repeats or full_repeats[1 if quick else 0]
    paddle.seed(0)
    theirs = build(ps_models, ps_backbones)
    ours = build(_Ours(), _Ours())
    ours.set_state_dict(theirs.state_dict())
    rng = np.random.default_rng(0)
    x = paddle.to_tensor(rng.normal(size=(2, 3, h, w)).astype("float32"))
    label = paddle.to_tensor(rng.integers(0, num_classes, (2, 1, h, w)).astype("int64"))
    runs = {}
    for key, model in (("ours", ours), ("theirs", theirs)):
        model.train()
        opt = paddle.optimizer.Momentum(0.001, momentum=0.9, parameters=model.parameters())
        runs[key] = (model, opt, [])
    for i in range(n + 1):  # the first step of each is a warm-up
        order = ("ours", "theirs") if i % 2 == 0 else ("theirs", "ours")
        for key in order:
            model, opt, times = runs[key]
            t = _step(model, opt, x, label, coefs)
            if i:
                times.append(t)
    return statistics.median(runs["ours"][2]), statistics.median(runs["theirs"][2])


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small inputs, 3 timed steps")
    p.add_argument("--repeats", type=int, default=None, help="timed steps per model and library")
    p.add_argument("--models", default=",".join(MODELS_TO_BENCH),
                   help=f"comma-separated subset of {','.join(MODELS_TO_BENCH)}")
    args = p.parse_args(argv)
    warnings.filterwarnings("ignore")
    paddle.set_device("cpu")
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = sorted(set(names) - set(MODELS_TO_BENCH))
    if unknown:
        p.error(f"unknown models {unknown}; choose from {list(MODELS_TO_BENCH)}")
    sizes = QUICK_SIZES if args.quick else SIZES
    print(f"{'model':<16} {'input (HxW)':>12} {'ours s/step':>12} {'PaddleSeg s/step':>17} "
          f"{'ratio':>7}", flush=True)
    for name in names:
        h, w = sizes[MODELS_TO_BENCH[name][2]]
        ours, theirs = bench(name, args.quick, args.repeats)
        print(f"{name:<16} {f'{h}x{w}':>12} {ours:>12.3f} {theirs:>17.3f} "
              f"{ours / theirs:>7.3f}", flush=True)


if __name__ == "__main__":
    main()

"""SC loss benchmark: humanseg (mode 'paper', forward + backward) against PaddleSeg 2.8.0's loss
(forward only: it has no backward) and against CrossEntropyLoss (forward + backward), in one process.

Scenarios follow /work/shared/reference/scl_reference_timing.py: binary portraits near convergence
(8x2x224x398, 20 error blobs per image), binary portraits early in training (2x2x224x398, 50%
speckle), street scenes with noise (2x19x512x1024, 40 rectangles + 200 blobs) and street early
(1x19x512x1024, 32-pixel random class blocks).

Usage: python bench/bench_scl.py [--quick] [--repeats N] [--no-paddleseg] [--scenarios a,b]
Prints one row per scenario: seconds (best of the repeats; for PaddleSeg also its first call),
PaddleSeg (best) / ours speed ratio, ours / CE cost ratio (median over rounds of the two timed
back to back),
and peak memory (host RSS high-water mark of the process; traced Python-heap peak of our loss).
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc

import cv2
import numpy as np
import paddle

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from humanseg.models.losses import CrossEntropyLoss, SemanticConnectivityLoss  # noqa: E402


def portrait_gt(n: int, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    gt = np.zeros((n, h, w), np.uint8)
    for i in range(n):
        cx, cy = w // 2 + rng.integers(-w // 8, w // 8), h // 3
        cv2.ellipse(gt[i], (int(cx), int(cy)), (w // 8, h // 6), 0, 0, 360, 1, -1)
        cv2.rectangle(gt[i], (int(cx - w // 4), int(cy + h // 8)), (int(cx + w // 4), h - 1), 1,
                      -1)
    return gt.astype(np.int64)


def noisy(gt: np.ndarray, rng: np.random.Generator, blobs: int, ncls: int) -> np.ndarray:
    pred = gt.astype(np.uint8)
    n, h, w = gt.shape
    for i in range(n):
        for _ in range(blobs):
            y, x = rng.integers(0, h), rng.integers(0, w)
            r = int(rng.integers(2, 8))
            cv2.circle(pred[i], (int(x), int(y)), r, int(rng.integers(0, ncls)), -1)
    return pred.astype(np.int64)


def street_gt(n: int, h: int, w: int, ncls: int, rng: np.random.Generator) -> np.ndarray:
    gt = np.zeros((n, h, w), np.uint8)
    for i in range(n):
        for _ in range(40):
            x0, y0 = rng.integers(0, w), rng.integers(0, h)
            cv2.rectangle(gt[i], (int(x0), int(y0)), (int(x0 + rng.integers(20, w // 3)),
                                                      int(y0 + rng.integers(20, h // 3))),
                          int(rng.integers(0, ncls)), -1)
    return gt.astype(np.int64)


def blocky(n: int, h: int, w: int, ncls: int, block: int, rng: np.random.Generator) -> np.ndarray:
    small = rng.integers(0, ncls, (n, h // block, w // block))
    return np.repeat(np.repeat(small, block, 1), block, 2)


def logits_from(pred: np.ndarray, ncls: int) -> np.ndarray:
    """One-hot x 4, as the reference script; float32 [N, C, H, W]."""
    return (np.eye(ncls, dtype=np.float32)[pred] * 4.0).transpose(0, 3, 1, 2).copy()


def scenarios() -> dict:
    """name -> (logits, labels), generated exactly as scl_reference_timing.py does."""
    out = {}
    rng = np.random.default_rng(0)
    gt = portrait_gt(8, 224, 398, rng)
    out["portrait_converged"] = (logits_from(noisy(gt, rng, 20, 2), 2), gt)
    gt = portrait_gt(2, 224, 398, rng)
    out["portrait_early"] = (logits_from((rng.random(gt.shape) < 0.5).astype(np.int64), 2), gt)
    gt = street_gt(2, 512, 1024, 19, rng)
    out["street_noisy"] = (logits_from(noisy(gt, rng, 200, 19), 19), gt)
    rng = np.random.default_rng(1)
    gt = street_gt(1, 512, 1024, 19, rng)
    out["street_early"] = (logits_from(blocky(1, 512, 1024, 19, 32, rng), 19), gt)
    return out


def time_call(fn, repeats: int) -> float:
    """Best seconds of ``fn()`` over ``repeats`` runs after one warm-up (the machine is shared,
    so the minimum is the least noisy estimate of the cost)."""
    return time_interleaved([fn], repeats)[0]


def time_interleaved(fns: list, repeats: int, all_times: bool = False) -> list:
    """Best seconds of each of ``fns``, called in turn in every round, so that load from other
    processes hits all of them alike; one warm-up round first. With ``all_times``, the list of
    every round's seconds per function instead."""
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for k, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - start)
    return times if all_times else [min(t) for t in times]


def fwd_bwd(loss_fn, logits: paddle.Tensor, labels: paddle.Tensor):
    def run():
        loss = loss_fn(logits, labels)
        loss.backward()
        logits.clear_gradient()
    return run


def paddleseg_fwd(logits: paddle.Tensor, labels: paddle.Tensor):
    from paddleseg.models.losses import SemanticConnectivityLoss as PaddleSegSCL
    loss_fn = PaddleSegSCL()
    return lambda: loss_fn(logits, labels)


def traced_peak_mb(fn) -> float:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2 ** 20


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 repeats (after a warm-up)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-paddleseg", action="store_true", help="skip PaddleSeg's loss")
    parser.add_argument("--scenarios", default="", help="comma-separated subset")
    args = parser.parse_args(argv)
    paddle.set_device("cpu")
    repeats = 2 if args.quick else args.repeats
    wanted = [s for s in args.scenarios.split(",") if s]
    ours, ce = SemanticConnectivityLoss(), CrossEntropyLoss()
    head = (f"{'scenario':<20}{'shape':<18}{'PS 1st/best s':>14}{'ours s':>9}{'CE s':>8}"
            f"{'PS/ours':>9}{'ours/CE':>9}{'ours MB':>9}")
    print(head)
    for name, (logits_np, labels_np) in scenarios().items():
        if wanted and name not in wanted:
            continue
        logits = paddle.to_tensor(logits_np, stop_gradient=False)
        labels = paddle.to_tensor(labels_np)
        ours_times, ce_times = time_interleaved([fwd_bwd(ours, logits, labels),
                                                 fwd_bwd(ce, logits, labels)], repeats, True)
        t_ours, t_ce = min(ours_times), min(ce_times)
        # Cost ratio: median over rounds of ours / CE measured back to back in the same round.
        ce_ratio = float(np.median(np.array(ours_times) / np.array(ce_times)))
        mb = traced_peak_mb(fwd_bwd(ours, logits, labels))
        if args.no_paddleseg:
            t_ps, ps_text, ratio = float("nan"), "-", "-"
        else:
            # PaddleSeg's loss takes seconds: its first call (what scl_reference_timing.py
            # times) and the best of two more (one with --quick).
            ps = paddleseg_fwd(logits, labels)
            start = time.perf_counter()
            ps()
            t_first = time.perf_counter() - start
            t_ps = min(time_interleaved([ps], 1 if args.quick else 2)[0], t_first)
            ps_text, ratio = f"{t_first:.2f}/{t_ps:.2f}", f"{t_ps / t_ours:.1f}x"
        print(f"{name:<20}{'x'.join(map(str, logits_np.shape)):<18}{ps_text:>14}{t_ours:>9.3f}"
              f"{t_ce:>8.3f}{ratio:>9}{ce_ratio:>8.2f}x{mb:>9.1f}", flush=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the process: {rss:.0f} MB (logits of the largest scenario: "
          f"{2 * 19 * 512 * 1024 * 4 / 2 ** 20:.0f} MB)")


if __name__ == "__main__":
    main()

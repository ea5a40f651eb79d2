"""Where PP-HumanSeg-Lite's time goes in onnxruntime, and what the runtime knobs buy, vs MediaPipe.

Model-only latency (batch 1, one call = one frame), every variant interleaved call by call so
machine drift hits all alike; MediaPipe's selfie segmentation on a 640x360 frame (its own resize
included) is timed in the same loop and every median is printed as a ratio to it. Then a per-op
profile (SessionOptions.enable_profiling) of the default session at each size: kernel time by
op type.

Usage:
    python bench/bench_onnx_speed.py [--model_dir DIR] [--int8 model_int8.onnx] [--sizes 398x224,256x144]
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import sys
import time

import numpy as np

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [p for p in (os.path.dirname(BENCH_DIR), BENCH_DIR) if p not in sys.path]

import onnxruntime as ort  # noqa: E402

from bench_video import DEFAULT_WORK_DIR, parse_size  # noqa: E402
from video_model import read_deploy, train_and_export  # noqa: E402
from video_peers import MediaPipeSelfie, load_mediapipe  # noqa: E402


def session(path: str, threads: int | None = None, spinning: bool = True,
            level: str = "all", profile_prefix: str | None = None) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.log_severity_level = 3
    if threads:
        so.intra_op_num_threads = threads
    if not spinning:
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.graph_optimization_level = {
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL}[level]
    if profile_prefix:
        so.enable_profiling = True
        so.profile_file_prefix = profile_prefix
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def profile(path: str, size: tuple[int, int], prefix: str, calls: int = 30) -> list[tuple[str, float, int]]:
    """(op type, share of kernel time, nodes) of ``calls`` runs, largest first."""
    s = session(path, profile_prefix=prefix)
    x = np.random.default_rng(0).random((1, 3, size[1], size[0]), dtype=np.float32)
    for _ in range(calls):
        s.run(None, {s.get_inputs()[0].name: x})
    with open(s.end_profiling()) as f:
        events = json.load(f)
    per_op, nodes = collections.defaultdict(float), collections.defaultdict(set)
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            op = e["args"]["op_name"]
            per_op[op] += e["dur"]
            nodes[op].add(e["name"])
    total = sum(per_op.values()) or 1.0
    return sorted(((op, d / total, len(nodes[op])) for op, d in per_op.items()), key=lambda t: -t[1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model_dir", default=None, help="exported model (default: the bench_video one)")
    p.add_argument("--work_dir", default=DEFAULT_WORK_DIR)
    p.add_argument("--int8", default=None, help="an int8 ONNX (tools/quantize_onnx.py) to compare")
    p.add_argument("--sizes", default="398x224,256x144,192x108")
    p.add_argument("--calls", type=int, default=40, help="timed calls per variant and size")
    args = p.parse_args(argv)
    model_dir = args.model_dir or train_and_export(args.work_dir)
    onnx_path = os.path.join(model_dir, read_deploy(model_dir)["Deploy"]["onnx"])
    variants = {
        "fp32 default": session(onnx_path),
        "fp32 1 thread": session(onnx_path, threads=1),
        "fp32 2 threads no spin": session(onnx_path, threads=2, spinning=False),
        "fp32 opt basic": session(onnx_path, level="basic"),
        "fp32 opt extended": session(onnx_path, level="extended"),
    }
    if args.int8:
        variants["int8 default"] = session(args.int8)
        variants["int8 1 thread"] = session(args.int8, threads=1)
    mp_module, where = load_mediapipe(os.path.join(args.work_dir, "mediapipe"))
    peers = {}
    if mp_module is not None:
        peers = {f"MediaPipe {m}": MediaPipeSelfie(mp_module, m) for m in ("landscape", "general")}
    else:
        print(f"MediaPipe skipped: {where}")
    rng = np.random.default_rng(0)
    frame = (rng.random((360, 640, 3)) * 255).astype(np.uint8)
    load_before = open("/proc/loadavg").read().split()[:3]
    print(f"load average before: {' '.join(load_before)}; {os.cpu_count()} CPUs")
    for size in [parse_size(s) for s in args.sizes.split(",")]:
        x = rng.random((1, 3, size[1], size[0]), dtype=np.float32)
        calls = {**{k: (lambda s=s: s.run(None, {"x": x})) for k, s in variants.items()},
                 **{k: (lambda m=m: m.infer(m.preprocess(frame))) for k, m in peers.items()}}
        times = {k: [] for k in calls}
        for fn in calls.values():
            fn(), fn()
        for _ in range(args.calls):
            for k, fn in calls.items():
                t = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - t)
        med = {k: 1000 * statistics.median(v) for k, v in times.items()}
        ref = med.get("MediaPipe landscape")
        print(f"\n{size[0]}x{size[1]} (MediaPipe always on the 640x360 frame): median ms"
              + (" (x MediaPipe landscape)" if ref else ""))
        for k, v in med.items():
            print(f"  {k:26s} {v:7.2f}" + (f"  x{v / ref:.2f}" if ref else ""))
    for m in peers.values():
        m.close()
    print(f"load average after: {' '.join(open('/proc/loadavg').read().split()[:3])}")
    for size in [parse_size(s) for s in args.sizes.split(",")][:2]:
        prefix = os.path.join(args.work_dir, f"ort_profile_{size[0]}x{size[1]}")
        print(f"\nper-op kernel time, fp32 default session, {size[0]}x{size[1]}:")
        for op, share, n in profile(onnx_path, size, prefix)[:10]:
            print(f"  {op:20s} {100 * share:5.1f}%  ({n} nodes)")


if __name__ == "__main__":
    main()

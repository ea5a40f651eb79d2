"""The `make demo` run: synthetic data -> train PP-HumanSeg-Lite -> evaluate -> predict -> export ->
replace the background of a synthetic call video, with timings."""
import argparse
import json
import os
import subprocess
import sys
import time

import _bootstrap  # noqa: F401
from _bootstrap import ROOT

import numpy as np

DEFAULT_CONFIG = os.path.join(ROOT, "configs", "pp_humanseg_lite",
                              "pp_humanseg_lite_synthetic_256x144.yml")
DEFAULT_DATA = os.path.join(ROOT, "data", "synthetic_humanseg")


def run(step: str, cmd: list[str]) -> float:
    print(f"\n=== {step}: {' '.join(cmd)}", flush=True)
    start = time.time()
    result = subprocess.run(cmd, cwd=ROOT)
    if result.returncode != 0:
        sys.exit(f"demo step '{step}' failed with exit code {result.returncode}")
    return time.time() - start


def trivial_background_miou(data_dir: str) -> float:
    """mIoU of predicting background everywhere on the val split (the floor to beat)."""
    from humanseg.datasets.io import read_label
    from humanseg.metrics import IoUMetric
    metric = IoUMetric(2)
    with open(os.path.join(data_dir, "val.txt")) as f:
        for line in f:
            label = read_label(os.path.join(data_dir, line.split()[1]))
            metric.update(np.zeros_like(label), label)
    return metric.compute()["miou"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--save_dir", default=os.path.join(ROOT, "output", "demo"))
    p.add_argument("--data_dir", default=DEFAULT_DATA)
    p.add_argument("--config", default=DEFAULT_CONFIG)
    p.add_argument("--iters", type=int, default=None, help="override the config's iters")
    args = p.parse_args()
    save_dir = os.path.abspath(args.save_dir)
    py = sys.executable
    tools = os.path.join(ROOT, "tools")
    start = time.time()
    times = {}
    data_opts = [f"train_dataset.dataset_root={args.data_dir}",
                 f"val_dataset.dataset_root={args.data_dir}"]
    if not os.path.isfile(os.path.join(args.data_dir, "val.txt")):
        times["data"] = run("make the synthetic teleconferencing set",
                            [py, os.path.join(tools, "data", "make_synthetic_humanseg.py"),
                             "--out_dir", args.data_dir])
    train_dir = os.path.join(save_dir, "train")
    iters = ["--iters", str(args.iters)] if args.iters else []
    times["train"] = run("train PP-HumanSeg-Lite", [
        py, os.path.join(tools, "train.py"), "--config", args.config, "--save_dir", train_dir,
        "--do_eval", "--log_iters", "20", *iters, "--opts", *data_opts])
    best = os.path.join(train_dir, "best_model")
    times["val"] = run("evaluate the best model", [
        py, os.path.join(tools, "val.py"), "--config", args.config, "--model_path", best,
        "--save_dir", os.path.join(save_dir, "val"), "--opts", *data_opts])
    with open(os.path.join(args.data_dir, "val.txt")) as f:
        sample_dir = os.path.join(save_dir, "sample_images")
        os.makedirs(sample_dir, exist_ok=True)
        for line in list(f)[::10][:5]:
            src = os.path.join(args.data_dir, line.split()[0])
            dst = os.path.join(sample_dir, os.path.basename(src))
            with open(src, "rb") as i, open(dst, "wb") as o:
                o.write(i.read())
    times["predict"] = run("predict on a few val images", [
        py, os.path.join(tools, "predict.py"), "--config", args.config, "--model_path", best,
        "--image_path", sample_dir, "--save_dir", os.path.join(save_dir, "predict"),
        "--opts", *data_opts])

    export_dir = os.path.join(save_dir, "export")
    times["export"] = run("export for deployment (Paddle Inference + ONNX)", [
        py, os.path.join(tools, "export.py"), "--config", args.config, "--model_path", best,
        "--save_dir", export_dir, "--format", "both", "--opts", *data_opts])
    video_dir = os.path.join(save_dir, "video")
    times["video"] = run("make a synthetic call video", [
        py, os.path.join(tools, "data", "make_synthetic_video.py"), "--out_dir", video_dir,
        "--num_clips", "2", "--frames_per_clip", "75"])
    times["replace_background"] = run("replace its background (deploy/python, headless)", [
        py, os.path.join(ROOT, "deploy", "python", "video.py"), "--model_dir", export_dir,
        "--video_path", os.path.join(video_dir, "video.mp4"),
        "--save_path", os.path.join(save_dir, "video_green.mp4"), "--background", "green",
        "--headless", "--show_fps"])

    with open(os.path.join(save_dir, "val", "metrics.json")) as f:
        miou = json.load(f)["miou"]
    floor = trivial_background_miou(args.data_dir)
    total = time.time() - start
    summary = {"val_miou": round(miou, 4), "all_background_miou": round(floor, 4),
               "seconds": {k: round(v, 1) for k, v in times.items()}, "total_seconds": round(total, 1)}
    with open(os.path.join(save_dir, "demo_summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print("\n=== demo finished in {:.0f} s".format(total))
    print(f"val mIoU {miou:.4f} (predicting all background would give {floor:.4f})")
    print(f"training run, checkpoints, best_model/: {train_dir}")
    print(f"metrics: {os.path.join(save_dir, 'val', 'metrics.json')}")
    print(f"predictions (mask/, pseudo_color/, overlay/): {os.path.join(save_dir, 'predict')}")
    print(f"exported model (model.json, model.pdiparams, model.onnx, deploy.yaml): {export_dir}")
    print(f"background-replaced video: {os.path.join(save_dir, 'video_green.mp4')}")
    print(f"synthetic data: {args.data_dir}")


if __name__ == "__main__":
    main()

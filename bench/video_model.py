"""The bench's model: a trained, exported PP-HumanSeg-Lite, and its input-size variants.

Without ``--model_dir`` the bench trains PP-HumanSeg-Lite once with the ``make demo`` recipe
(``configs/pp_humanseg_lite/pp_humanseg_lite_synthetic_256x144.yml`` on the synthetic set) and
exports it with ``tools/export.py`` (dynamic H/W, softmax, Paddle + ONNX), caching both under the
bench's work folder. A variant at another input size is the same exported network with the
``Resize`` of ``deploy.yaml`` rewritten (the ONNX input is dynamic), in a folder that links to the
model files; a variant may also name another ONNX file (an int8 model).
"""
from __future__ import annotations

import os
import sys

import yaml

from humanseg.errors import ConfigError
from humanseg.utils.commands import run_logged

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN_CONFIG = os.path.join(ROOT, "configs", "pp_humanseg_lite", "pp_humanseg_lite_synthetic_256x144.yml")


def run_step(step: str, cmd: list[str], log_path: str) -> None:
    print(f"[bench] {step}: {' '.join(cmd)}  (log: {log_path})", flush=True)
    run_logged(f"bench step '{step}'", cmd, log_path, cwd=ROOT)


def train_and_export(work_dir: str, iters: int | None = None) -> str:
    """Trains (once) and exports (once per training) the bench model; returns the export folder."""
    py = sys.executable
    data_dir = os.path.join(work_dir, "data")
    train_dir = os.path.join(work_dir, f"train_{iters}" if iters else "train")
    export_dir = os.path.join(work_dir, f"export_{iters}" if iters else "export")
    weights = os.path.join(train_dir, "best_model", "model.pdparams")
    os.makedirs(work_dir, exist_ok=True)
    if not os.path.isfile(os.path.join(data_dir, "val.txt")):
        run_step("make the synthetic training set",
             [py, os.path.join(ROOT, "tools", "data", "make_synthetic_humanseg.py"), "--out_dir", data_dir],
             os.path.join(work_dir, "data.log"))
    if not os.path.isfile(weights):
        opts = [f"train_dataset.dataset_root={data_dir}", f"val_dataset.dataset_root={data_dir}"]
        run_step("train PP-HumanSeg-Lite (the make demo recipe, several minutes)",
             [py, os.path.join(ROOT, "tools", "train.py"), "--config", TRAIN_CONFIG, "--save_dir",
              train_dir, "--do_eval", "--log_iters", "50",
              *(["--iters", str(iters)] if iters else []), "--opts", *opts],
             os.path.join(work_dir, os.path.basename(train_dir) + ".log"))
    deploy_yaml = os.path.join(export_dir, "deploy.yaml")
    if not os.path.isfile(deploy_yaml) or os.path.getmtime(deploy_yaml) < os.path.getmtime(weights):
        export_model(TRAIN_CONFIG, weights, export_dir,
                     os.path.join(work_dir, os.path.basename(export_dir) + ".log"))
    return export_dir


def export_model(config: str, weights: str | None, save_dir: str, log_path: str,
                 extra: tuple[str, ...] = (), step: str = "export (Paddle + ONNX)") -> None:
    """``tools/export.py --format both --output_op softmax`` (a dynamic input shape unless
    ``extra`` gives ``--input_shape``; ``extra`` is appended to the command)."""
    cmd = [sys.executable, os.path.join(ROOT, "tools", "export.py"), "--config", config,
           "--save_dir", save_dir, "--format", "both", "--output_op", "softmax"]
    if weights:
        cmd += ["--model_path", weights]
    run_step(step, cmd + list(extra), log_path)


def read_deploy(model_dir: str) -> dict:
    path = os.path.join(model_dir, "deploy.yaml")
    if not os.path.isfile(path):
        raise ConfigError(f"{path} not found: --model_dir must be a folder written by tools/export.py")
    with open(path) as f:
        cfg = yaml.safe_load(f)
    if not isinstance(cfg, dict) or not isinstance(cfg.get("Deploy"), dict):
        raise ConfigError(f"{path}: no 'Deploy' section; re-export with tools/export.py")
    deploy = cfg["Deploy"]
    if "onnx" not in deploy:
        raise ConfigError(f"{path}: no 'onnx' key; the bench runs onnxruntime: re-export with "
                          "tools/export.py --format both")
    return cfg


def resize_target(model_dir: str) -> tuple[int, int] | None:
    """(width, height) of the first Resize of the model's deploy.yaml, if any."""
    for t in read_deploy(model_dir)["Deploy"].get("transforms", []):
        if t.get("type") == "Resize":
            return tuple(int(v) for v in t["target_size"])
    return None


def make_variant(model_dir: str, out_dir: str, size: tuple[int, int] | None = None,
                 onnx_file: str | None = None) -> str:
    """A model folder that shares ``model_dir``'s files but runs at ``size`` and/or ``onnx_file``.

    Raises:
        ConfigError: If a size is asked of a model exported with a fixed input shape, or the
            model has no Resize to rewrite.
    """
    cfg = read_deploy(model_dir)
    deploy = cfg["Deploy"]
    if size is not None:
        shape = deploy.get("input_shape") or [-1, 3, -1, -1]
        if shape[2] != -1 or shape[3] != -1:
            raise ConfigError(f"{model_dir}/deploy.yaml: input_shape {shape} is fixed, so the bench "
                              "cannot run it at other sizes; export with a dynamic shape "
                              "(tools/export.py without --input_shape) or pass --sizes with its size")
        resizes = [t for t in deploy.get("transforms", []) if t.get("type") == "Resize"]
        if not resizes:
            raise ConfigError(f"{model_dir}/deploy.yaml: no Resize transform to set the input size")
        resizes[0]["target_size"] = [int(size[0]), int(size[1])]
    os.makedirs(out_dir, exist_ok=True)
    for key in ("model", "params", "onnx"):
        src = os.path.abspath(os.path.join(model_dir, deploy[key]))
        if key == "onnx" and onnx_file is not None:
            src = os.path.abspath(onnx_file)
        dst = os.path.join(out_dir, os.path.basename(src))
        if os.path.lexists(dst):
            os.remove(dst)
        os.symlink(src, dst)
        deploy[key] = os.path.basename(src)
    with open(os.path.join(out_dir, "deploy.yaml"), "w") as f:
        yaml.safe_dump(cfg, f, sort_keys=False)
    return out_dir

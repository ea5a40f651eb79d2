"""ONNX for an inference folder that has none: converted on first use, cached, checked once.

PaddleSeg's released folders hold a Paddle program only (``model.pdmodel`` from Paddle 2.x, or
``model.json`` from Paddle 3). ``--backend onnx`` on such a folder:

1. converts it with paddle2onnx in a child process (paddle_to_onnx.py: paddle2onnx aborts its
   process on ops it cannot convert). A legacy program gets the static input shape that
   deploy.yaml's Resize fixes, which paddle2onnx needs for adaptive pooling (MobileSeg);
2. runs the ONNX model and Paddle Inference on the same input once and refuses the model when
   they disagree;
3. keeps ``model.onnx`` and ``check.json`` in ``$HUMANSEG_CACHE/onnx/<key>/`` (default
   ``~/.cache/humanseg``), where the key hashes the program, the weights, the static shape and
   the paddle2onnx version. The next run finds it there. The user's folder is never written.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from typing import Callable

import numpy as np

from deploy_config import DeployConfig

CACHE_ENV = "HUMANSEG_CACHE"
CONVERTER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "paddle_to_onnx.py")
CHECK_FILE = "check.json"
DEFAULT_CHECK_HW = (256, 256)  # the check input's size when deploy.yaml fixes none
PROB_TOLERANCE = 1e-4  # probabilities (and logits, relative to their scale)
LABEL_AGREEMENT = 0.999


class ConversionError(RuntimeError):
    """The folder cannot be converted, or its ONNX model disagrees with Paddle Inference."""


def cache_root() -> str:
    root = os.environ.get(CACHE_ENV) or os.path.join(os.path.expanduser("~"), ".cache",
                                                     "humanseg")
    return os.path.join(root, "onnx")


def paddle2onnx_version() -> str:
    try:
        return importlib.metadata.version("paddle2onnx")
    except importlib.metadata.PackageNotFoundError:
        raise ConversionError("converting a Paddle folder to ONNX needs paddle2onnx and "
                              "paddlepaddle: pip install paddle2onnx==2.1.0 paddlepaddle==3.3.1 "
                              "(or run with --backend paddle)") from None


def _channels(cfg: DeployConfig) -> int:
    return cfg.input_shape[1] if cfg.input_shape[1] > 0 else 3


def static_shape(cfg: DeployConfig) -> list[int] | None:
    """[1, C, H, W] for a legacy program whose input size deploy.yaml fixes, else None (the
    ONNX model keeps dynamic H and W)."""
    size = cfg.network_size()
    if size is None or not cfg.model_file.endswith(".pdmodel"):
        return None
    return [1, _channels(cfg), size[1], size[0]]


def cache_key(cfg: DeployConfig, shape: list[int] | None, version: str) -> str:
    h = hashlib.sha256()
    for path in (cfg.model_file, cfg.params_file):
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    h.update(f"|{shape}|paddle2onnx={version}".encode())
    return h.hexdigest()[:20]


def check_input(cfg: DeployConfig, shape: list[int] | None) -> np.ndarray:
    """A fixed input in the normalised range, at the network's size."""
    if shape is None:
        size = cfg.network_size()
        h, w = (size[1], size[0]) if size else DEFAULT_CHECK_HW
        shape = [1, _channels(cfg), h, w]
    return np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)


def compare(expected: np.ndarray, got: np.ndarray, output_op: str) -> dict:
    """How far the ONNX output is from Paddle Inference's, and whether that passes."""
    if expected.size != got.size:
        return {"passed": False, "detail": f"ONNX output shape {list(got.shape)}, Paddle "
                                           f"Inference {list(expected.shape)}"}
    expected, got = expected.reshape(-1), got.reshape(-1)
    if output_op == "argmax":
        agreement = float((expected == got).mean())
        return {"passed": agreement >= LABEL_AGREEMENT, "label_agreement": agreement}
    diff = float(np.abs(expected.astype(np.float64) - got.astype(np.float64)).max())
    scale = 1.0 if output_op == "softmax" else max(1.0, float(np.abs(expected).max()))
    return {"passed": diff <= PROB_TOLERANCE * scale, "max_abs_diff": diff}


def _convert(cfg: DeployConfig, out: str, shape: list[int] | None, timeout: float) -> None:
    cmd = [sys.executable, CONVERTER, cfg.model_file, cfg.params_file, out]
    if shape:
        cmd += ["--static_shape", ",".join(map(str, shape))]
    env = dict(os.environ, POLYGRAPHY_AUTOINSTALL_DEPS="0")
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise ConversionError(f"paddle2onnx did not finish converting {cfg.model_file} within "
                              f"{timeout:.0f} s; run with --backend paddle") from None
    if r.returncode == 0 and os.path.isfile(out):
        return
    log = [ln for ln in (r.stdout + "\n" + r.stderr).splitlines() if ln.strip()]
    how = f"killed by signal {-r.returncode}" if r.returncode < 0 else f"exit {r.returncode}"
    hint = ""
    if any("only support static input shape" in ln for ln in log):
        hint = ("\nThe model needs a fixed input shape for ONNX and deploy.yaml fixes none (no "
                "Resize to a fixed size, or a Paddle 3 model.json): export it with `tools/"
                "export.py --format onnx --input_shape 1,3,H,W`.")
    raise ConversionError(f"paddle2onnx failed ({how}) converting {cfg.model_file}:\n  "
                          + "\n  ".join(log[-6:]) + hint + "\nOr run with --backend paddle.")


def cached_onnx(cfg: DeployConfig, reference: Callable[[np.ndarray], np.ndarray],
                run_onnx: Callable[[str, np.ndarray], np.ndarray],
                log: Callable[[str], None] = lambda m: print(m, file=sys.stderr),
                timeout: float = 900) -> str:
    """Path of the ONNX model of ``cfg``'s Paddle program: from the cache, or converted now.

    Args:
        reference: Runs the Paddle program (Paddle Inference) on an NCHW batch.
        run_onnx: Runs an ONNX file on an NCHW batch.
        log: Where the one-time conversion and check messages go (stderr).

    Raises:
        ConversionError: paddle2onnx is missing or fails, or the converted model disagrees
            with Paddle Inference (the model is not cached then).
    """
    version = paddle2onnx_version()
    shape = static_shape(cfg)
    final = os.path.join(cache_root(), cache_key(cfg, shape, version))
    onnx_file = os.path.join(final, "model.onnx")
    if os.path.isfile(os.path.join(final, CHECK_FILE)) and os.path.isfile(onnx_file):
        return onnx_file
    partial = f"{final}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(partial)
    try:
        log(f"{cfg.model_dir} has no ONNX model: converting {os.path.basename(cfg.model_file)} "
            f"with paddle2onnx {version}" + (f" at input shape {shape}" if shape else "")
            + f" (once; cached in {final})")
        _convert(cfg, os.path.join(partial, "model.onnx"), shape, timeout)
        x = check_input(cfg, shape)
        result = compare(reference(x), run_onnx(os.path.join(partial, "model.onnx"), x),
                         cfg.output_op)
        result.update(source=cfg.model_dir, input_shape=list(x.shape), paddle2onnx=version,
                      output_op=cfg.output_op)
        if not result["passed"]:
            raise ConversionError(f"the ONNX conversion of {cfg.model_file} disagrees with "
                                  f"Paddle Inference on a fixed input: {result}. Run with "
                                  "--backend paddle.")
        with open(os.path.join(partial, CHECK_FILE), "w") as f:
            json.dump(result, f, indent=1)
        log("checked against Paddle Inference: " + ", ".join(
            f"{k} {result[k]:.3g}" for k in ("max_abs_diff", "label_agreement") if k in result))
        try:
            os.rename(partial, final)
        except OSError:  # another process cached it first, or a stale incomplete entry
            if not os.path.isfile(os.path.join(final, CHECK_FILE)):
                shutil.rmtree(final, ignore_errors=True)
                os.rename(partial, final)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return onnx_file

"""ONNX export through paddle2onnx, run in a child process, and a check with onnxruntime.

paddle2onnx aborts the whole process (SIGABRT) on some ops with dynamic shapes (adaptive pooling
with an output larger than 1x1 on a dynamic H/W), so the conversion never runs in our process.
Its default optimizer pip-installs packages at run time, so it is always called with
``optimize_tool='None'``.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import numpy as np

from humanseg.errors import ConfigError, HumanSegError

ONNX_FILENAME = "model.onnx"
OPSET_VERSION = 11
_CONVERT = ("import sys, paddle2onnx; "
            "paddle2onnx.export(sys.argv[1], sys.argv[2], sys.argv[3], "
            "opset_version=int(sys.argv[4]), optimize_tool='None')")
ADAPTIVE_POOL_NOTE = ("paddle2onnx writes adaptive pooling as a fixed AveragePool, equal to it only "
                      "for some sizes; an export at a static shape writes it as slices and means "
                      "instead (exact), a dynamic one cannot (docs/export.md).")
_STATIC_SHAPE_MARKERS = ("only support static input shape", "Adaptive only support")


def onnx_available() -> bool:
    """True when paddle2onnx and onnxruntime are importable (``pip install -e .[export]``)."""
    return all(importlib.util.find_spec(m) is not None for m in ("paddle2onnx", "onnxruntime"))


def require_onnx() -> None:
    if not onnx_available():
        raise ConfigError("ONNX export needs paddle2onnx and onnxruntime: pip install "
                          "paddle2onnx==2.1.0 onnxruntime (or pip install -e '.[export]'), or "
                          "use --format paddle.")


def _tail(text: str, lines: int = 6) -> str:
    kept = [ln for ln in text.strip().splitlines() if ln.strip()]
    return "\n  ".join(kept[-lines:])


def convert_to_onnx(save_dir: str, fixed_shape_hint: str, opset: int = OPSET_VERSION,
                    timeout: float = 900) -> str:
    """Convert ``save_dir/model.json`` + ``model.pdiparams`` to ``save_dir/model.onnx``.

    Args:
        save_dir: Folder of the exported Paddle model.
        fixed_shape_hint: The ``--input_shape`` to suggest when the model needs a fixed shape.
        opset: ONNX opset version.

    Raises:
        ConfigError: the model needs a fixed input shape for ONNX (paddle2onnx aborted on a
            dynamic-shape op); names the flag to rerun with.
        HumanSegError: any other conversion failure, with paddle2onnx's last messages.
    """
    out = os.path.join(save_dir, ONNX_FILENAME)
    if os.path.exists(out):
        os.remove(out)
    cmd = [sys.executable, "-c", _CONVERT, os.path.join(save_dir, "model.json"),
           os.path.join(save_dir, "model.pdiparams"), out, str(opset)]
    env = dict(os.environ, POLYGRAPHY_AUTOINSTALL_DEPS="0")
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise HumanSegError(f"paddle2onnx did not finish within {timeout:.0f} s") from None
    log = r.stdout + "\n" + r.stderr
    if r.returncode == 0 and os.path.isfile(out):
        return out
    if os.path.exists(out):
        os.remove(out)
    if any(m in log for m in _STATIC_SHAPE_MARKERS):
        raise ConfigError(f"this model needs a fixed input shape for ONNX (adaptive pooling on a "
                          f"dynamic H/W; paddle2onnx aborted): rerun with --input_shape "
                          f"{fixed_shape_hint}, or use --format paddle for a dynamic-shape model. "
                          f"{ADAPTIVE_POOL_NOTE}")
    how = f"killed by signal {-r.returncode}" if r.returncode < 0 else f"exit {r.returncode}"
    raise HumanSegError(f"paddle2onnx failed ({how}) converting {save_dir}/model.json to ONNX:\n  "
                        f"{_tail(log)}\nUse --format paddle to export without ONNX.")


def run_onnx(onnx_path: str, x: np.ndarray, threads: int | None = None) -> np.ndarray:
    """The first output of ``onnx_path`` on ``x`` with onnxruntime (CPU)."""
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.log_severity_level = 3  # paddle2onnx leaves unused initializers; ORT warns for each
    if threads:
        opts.intra_op_num_threads = threads
    try:
        session = ort.InferenceSession(onnx_path, opts, providers=["CPUExecutionProvider"])
        return session.run(None, {session.get_inputs()[0].name: x})[0]
    except Exception as e:  # onnxruntime raises its own Fail/InvalidGraph/RuntimeException types
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        hint = (" The fixed input is too small for an adaptive pooling's bins: raise H and W."
                if "strides must only contain positive" in first else "")
        raise HumanSegError(f"onnxruntime cannot run {onnx_path} on a {list(x.shape)} input: "
                            f"{first}.{hint}") from None


def compare_outputs(expected: np.ndarray, got: np.ndarray, output_op: str) -> dict:
    """How far ``got`` is from ``expected``: max abs diff, and for labels the agreement."""
    if expected.shape != got.shape:
        return {"shape_ok": False, "max_abs_diff": float("inf"),
                "detail": f"shape {list(got.shape)} instead of {list(expected.shape)}"}
    diff = float(np.abs(expected.astype(np.float64) - got.astype(np.float64)).max())
    result = {"shape_ok": True, "max_abs_diff": diff}
    if output_op == "argmax":
        result["label_agreement"] = float((expected == got).mean())
    return result


def check_passed(result: dict, expected: np.ndarray, output_op: str) -> bool:
    """Probabilities within 1e-4, logits within 1e-4 of their scale, labels on >= 99.9%."""
    if not result["shape_ok"]:
        return False
    if output_op == "argmax":
        return result["label_agreement"] >= 0.999
    scale = 1.0 if output_op == "softmax" else max(1.0, float(np.abs(expected).max()))
    return result["max_abs_diff"] <= 1e-4 * scale

"""export_model: the steps of tools/export.py (Paddle model, ONNX model and its check, deploy.yaml)."""
from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import paddle
import paddle.nn as nn

from humanseg.export import deploy_config as dc
from humanseg.export import onnx_export
from humanseg.errors import ConfigError, HumanSegError
from humanseg.export.exact_pooling import exact_adaptive_pooling
from humanseg.export.exporter import InferenceHead, final_resize_source, save_inference_model

FORMATS = ("paddle", "onnx", "both")
CHECK_DEFAULT_HW = (96, 160)


@dataclass
class ExportResult:
    """What an export wrote and how the ONNX model compared with the Paddle model."""
    save_dir: str
    files: list[str] = field(default_factory=list)
    deploy_yaml: str = ""
    onnx_check: dict | None = None
    seconds: dict[str, float] = field(default_factory=dict)


def _versions(with_onnx: bool) -> dict[str, str]:
    import humanseg
    versions = {"humanseg": humanseg.__version__, "paddle": paddle.__version__}
    if with_onnx:
        import paddle2onnx
        versions["paddle2onnx"] = getattr(paddle2onnx, "__version__", "unknown")
    return versions


def _check_input(input_shape: list[int], fixed_hw: tuple[int, int] | None) -> np.ndarray:
    """A random normalised input of ``input_shape``; dynamic H/W take the size the transforms
    produce (or 96x160), dynamic N is 1."""
    h, w = fixed_hw or CHECK_DEFAULT_HW
    n, c, ih, iw = input_shape
    shape = [1 if n == -1 else n, c, h if ih == -1 else ih, w if iw == -1 else iw]
    return np.random.default_rng(0).standard_normal(shape).astype(np.float32)


def shape_hint(input_shape: list[int], fixed_hw: tuple[int, int] | None) -> str:
    """The --input_shape to suggest for a fixed-shape export."""
    h, w = fixed_hw or (input_shape[2] if input_shape[2] > 0 else "H",
                        input_shape[3] if input_shape[3] > 0 else "W")
    return f"1 {input_shape[1]} {h} {w}"


def export_model(model: nn.Layer, cfg: dict, save_dir: str, input_shape: list[int],
                 output_op: str = "softmax", fmt: str = "both",
                 log: Callable[[str], None] = print,
                 skip_final_resize: bool = False) -> ExportResult:
    """Export ``model`` (weights loaded) with the preprocessing of ``cfg`` to ``save_dir``.

    Args:
        model: The segmentation model.
        cfg: The checked config (for the transforms and class names).
        save_dir: Output folder (created).
        input_shape: N C H W, -1 for dynamic (see ``parse_input_shape``).
        output_op: 'softmax', 'argmax' or 'none'.
        fmt: 'paddle', 'onnx' or 'both'. The Paddle model is always written (ONNX is converted
            from it), so 'onnx' and 'both' write the same files.
        log: Progress messages.
        skip_final_resize: Export the logits before the model's final bilinear upsample to the
            input size (``output_op`` is applied at that lower resolution; deploy.yaml records
            ``output_stride``). deploy/python resizes the output to the image in one step, so the
            in-network upsample (and a softmax at full size) is saved.

    Raises:
        ConfigError: bad transforms, a fixed input shape the transforms do not produce, a
            model that needs a fixed input shape for ONNX, or ``skip_final_resize`` on a model
            that does not end with an upsample of its logits.
        HumanSegError: ONNX conversion failed or disagrees with the Paddle model.
    """
    with_onnx = fmt in ("onnx", "both")
    if with_onnx:
        onnx_export.require_onnx()
    img_channels = int((cfg.get("val_dataset") or {}).get("img_channels", 3))
    transforms, key = dc.deploy_transforms(cfg, img_channels)
    fixed_hw = dc.fixed_output_hw(transforms, img_channels)
    _check_fixed_shape(input_shape, fixed_hw, key)
    num_classes = int(getattr(model, "num_classes", None) or cfg["model"]["num_classes"])
    names = dc.class_names(cfg, num_classes)
    logits_layer, output_stride = None, None
    if skip_final_resize:
        logits_layer, output_stride = final_resize_source(model, num_classes, img_channels)
        log(f"skipping the final resize: the output is {logits_layer!r}'s (1/{output_stride} of "
            f"the input size)")

    os.makedirs(save_dir, exist_ok=True)
    result = ExportResult(save_dir=os.path.abspath(save_dir))
    model.eval()
    t0 = time.perf_counter()
    log(f"converting {type(model).__name__} with paddle.jit.to_static (input {input_shape}, "
        f"output {output_op}) ...")
    head = InferenceHead(model, output_op, logits_layer)
    static_hw = input_shape[2] > 0 and input_shape[3] > 0
    try:
        with exact_adaptive_pooling(model) if static_hw else contextlib.nullcontext(0) as n:
            if n:
                log(f"{n} adaptive pooling layer(s) written as slices and means (exact in ONNX "
                    f"at this static size)")
            save_inference_model(head, save_dir, input_shape)
    finally:
        head.remove_hook()
    result.seconds["paddle"] = time.perf_counter() - t0
    result.files += [os.path.join(result.save_dir, n) for n in ("model.json", "model.pdiparams")]

    stale = os.path.join(save_dir, onnx_export.ONNX_FILENAME)
    if not with_onnx and os.path.exists(stale):
        os.remove(stale)  # an earlier export's ONNX would not match this model
    written_onnx = False
    try:  # deploy.yaml is written even when the ONNX step fails: the Paddle model is usable
        if with_onnx:
            t0 = time.perf_counter()
            log("converting to ONNX with paddle2onnx (opset "
                f"{onnx_export.OPSET_VERSION}) in a child process ...")
            onnx_path = onnx_export.convert_to_onnx(save_dir, shape_hint(input_shape, fixed_hw))
            result.seconds["onnx"] = time.perf_counter() - t0
            result.onnx_check = _check_onnx(model, onnx_path, input_shape, fixed_hw, output_op,
                                            logits_layer)
            written_onnx = True
            result.files.append(os.path.abspath(onnx_path))
    except HumanSegError as e:
        raise type(e)(f"{e} (The Paddle model and a deploy.yaml without `onnx` are in "
                      f"{result.save_dir}.)") from None
    finally:
        versions = _versions(written_onnx)
        content = dc.deploy_dict(transforms=transforms, input_shape=input_shape,
                                 output_op=output_op, num_classes=num_classes, names=names,
                                 with_onnx=written_onnx, versions=versions,
                                 output_stride=output_stride)
        result.deploy_yaml = os.path.abspath(dc.write_deploy_yaml(save_dir, content))
    result.files.append(result.deploy_yaml)
    return result


def _check_fixed_shape(input_shape: list[int], fixed_hw: tuple[int, int] | None,
                       key: str) -> None:
    h, w = input_shape[2], input_shape[3]
    if h == -1 and w == -1:
        return
    wanted = f"--input_shape {input_shape[0]} {input_shape[1]} {h} {w}"
    if fixed_hw is None:
        raise ConfigError(f"{wanted} fixes the network input size, but {key} give images of "
                          f"varying size; add a Resize with target_size [{w}, {h}] (w, h) to "
                          f"{key}, or keep H and W dynamic (-1).")
    if (h != -1 and h != fixed_hw[0]) or (w != -1 and w != fixed_hw[1]):
        raise ConfigError(f"{wanted} does not match the {fixed_hw[0]}x{fixed_hw[1]} (h x w) "
                          f"images {key} produce; use --input_shape {input_shape[0]} "
                          f"{input_shape[1]} {fixed_hw[0]} {fixed_hw[1]}, or change {key}.")


def _check_onnx(model: nn.Layer, onnx_path: str, input_shape: list[int],
                fixed_hw: tuple[int, int] | None, output_op: str,
                logits_layer: str | None = None) -> dict:
    """Run the ONNX model and the dygraph model on one random input and compare; a failed
    check removes model.onnx and raises."""
    x = _check_input(input_shape, fixed_hw)
    head = InferenceHead(model, output_op, logits_layer)
    try:
        with paddle.no_grad():
            expected = head(paddle.to_tensor(x)).numpy()
    finally:
        head.remove_hook()
    got = onnx_export.run_onnx(onnx_path, x)
    check = onnx_export.compare_outputs(expected, got, output_op)
    check["input_shape"] = list(x.shape)
    check["constant_output"] = bool(np.ptp(expected) == 0)  # e.g. untrained zero-init classifier
    check["passed"] = onnx_export.check_passed(check, expected, output_op)
    if not check["passed"]:
        os.remove(onnx_path)
        detail = check.get("detail") or (f"max abs diff {check['max_abs_diff']:.3g}" + (
            f", labels agree on {check['label_agreement']:.2%}" if "label_agreement" in check
            else ""))
        raise HumanSegError(f"the ONNX model disagrees with the Paddle model on a random "
                            f"{list(x.shape)} input ({detail}); model.onnx was removed. Known "
                            f"causes: GroupNorm (paddle2onnx exports it wrongly) and adaptive "
                            f"pooling at an input size it cannot convert exactly. "
                            f"{onnx_export.ADAPTIVE_POOL_NOTE} Or deploy the Paddle model "
                            f"(--format paddle).")
    return check

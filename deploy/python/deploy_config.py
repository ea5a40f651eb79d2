"""Read and validate an exported model folder's ``deploy.yaml``.

The contract (shared with ``tools/export.py``)::

    Deploy:
      model: model.json            # relative to deploy.yaml
      params: model.pdiparams
      onnx: model.onnx             # only when the ONNX model was written
      input_name: x
      input_shape: [-1, 3, -1, -1]
      output_op: softmax           # softmax | argmax | none
      output_stride: 2             # only with export --skip_final_resize: output = input / 2
      color_order: RGB
      transforms: [...]            # deterministic transforms, in order
      num_classes: 2
      class_names: [background, person]
      palette: [[0, 0, 0], [128, 0, 0]]

PaddleSeg-exported folders (``Deploy: {model, params, transforms, input_shape?, output_op?,
output_dtype?}``, ``input_shape: [null, 3, null, null]`` with Paddle 2.x's ``model.pdmodel``)
are read too (``output_dtype`` is informational): missing transform arguments get PaddleSeg's defaults and a missing ``output_op``
means PaddleSeg's export default, ``argmax``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import yaml

OUTPUT_OPS = ("softmax", "argmax", "none")
COLOR_ORDERS = ("RGB", "BGR")
INTERPS = ("NEAREST", "LINEAR", "CUBIC", "AREA", "LANCZOS4")

# Every supported transform with its default arguments (None = required).
TRANSFORM_DEFAULTS: dict[str, dict[str, Any]] = {
    "Resize": {"target_size": [512, 512], "keep_ratio": False, "size_divisor": None,
               "interp": "LINEAR"},
    "ResizeByShort": {"short_size": None, "max_size": 1e10},
    "ResizeByLong": {"long_size": None},
    "LimitLong": {"max_long": None, "min_long": None},
    "Padding": {"target_size": None, "im_padding_value": 127.5, "label_padding_value": 255},
    "PaddingByAspectRatio": {"aspect_ratio": 1, "im_padding_value": 127.5,
                             "label_padding_value": 255},
    "Normalize": {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]},
}
_OPTIONAL_NONE = {("LimitLong", "max_long"), ("LimitLong", "min_long"),
                  ("Resize", "size_divisor")}


class DeployConfigError(ValueError):
    """``deploy.yaml`` (or the model folder) is wrong; the message names the file, key and fix."""


@dataclass
class DeployConfig:
    """The validated content of ``deploy.yaml`` with absolute file paths."""

    path: str
    model_dir: str
    model_file: str
    params_file: str
    onnx_file: str | None
    input_name: str
    input_shape: list[int]
    output_op: str
    color_order: str
    transforms: list[dict[str, Any]]
    num_classes: int | None
    class_names: list[str] | None
    palette: list[list[int]] | None
    exported_with: dict[str, Any] = field(default_factory=dict)
    output_stride: int = 1

    def network_size(self) -> tuple[int, int] | None:
        """``(w, h)`` of the network input when it does not depend on the image, else None.

        Taken from a fixed ``input_shape`` or from a ``Resize`` without ``keep_ratio`` that is
        followed only by Normalize (the usual portrait-model export).
        """
        if len(self.input_shape) == 4 and self.input_shape[2] > 0 and self.input_shape[3] > 0:
            return int(self.input_shape[3]), int(self.input_shape[2])
        size = None
        for t in self.transforms:
            if t["type"] == "Resize" and not t["keep_ratio"]:
                size = tuple(int(v) for v in t["target_size"])
            elif t["type"] != "Normalize":
                size = None
        return size


def voc_palette(num_classes: int) -> list[list[int]]:
    """The PASCAL VOC bit-interleaved palette (RGB; class 1 = (128, 0, 0))."""
    palette = []
    for k in range(num_classes):
        rgb, c, bit = [0, 0, 0], k, 0
        while c:
            for ch in range(3):
                rgb[ch] |= ((c >> ch) & 1) << (7 - bit)
            c >>= 3
            bit += 1
        palette.append(rgb)
    return palette


def _fail(path: str, key: str, msg: str) -> DeployConfigError:
    return DeployConfigError(f"{path}: `{key}` {msg}")


def _check_transform(path: str, i: int, t: Any) -> dict[str, Any]:
    key = f"Deploy.transforms[{i}]"
    if not isinstance(t, dict) or "type" not in t:
        raise _fail(path, key, f"must be a mapping with a `type`; got {t!r}")
    kind = t["type"]
    if kind not in TRANSFORM_DEFAULTS:
        raise _fail(path, f"{key}.type", f"is {kind!r}, which the deploy runtime does not support; "
                    f"supported: {', '.join(TRANSFORM_DEFAULTS)} (random augmentations do not "
                    "belong in an exported model: re-export with the evaluation transforms)")
    defaults = TRANSFORM_DEFAULTS[kind]
    unknown = sorted(set(t) - set(defaults) - {"type"})
    if unknown:
        raise _fail(path, f"{key}", f"({kind}) has unknown argument(s) {unknown}; "
                    f"allowed: {sorted(defaults)}")
    out = {"type": kind}
    for name, default in defaults.items():
        value = t.get(name, default)
        if value is None and (kind, name) not in _OPTIONAL_NONE:
            raise _fail(path, f"{key}.{name}", f"is required by {kind}; add it to the file")
        out[name] = value
    _check_values(path, key, out)
    return out


def _is_pos_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def _check_values(path: str, key: str, t: dict[str, Any]) -> None:
    kind = t["type"]
    if kind in ("Resize", "Padding"):
        size = t["target_size"]
        if _is_pos_int(size) and kind == "Padding":
            t["target_size"] = size = [size, size]
        if not (isinstance(size, (list, tuple)) and len(size) == 2
                and all(_is_pos_int(v) for v in size)):
            raise _fail(path, f"{key}.target_size", f"must be [width, height] of positive ints; "
                        f"got {size!r}")
        t["target_size"] = [int(v) for v in size]
    if kind == "Resize":
        if t["interp"] not in INTERPS:
            raise _fail(path, f"{key}.interp", f"must be one of {list(INTERPS)}; got "
                        f"{t['interp']!r}")
        if t["size_divisor"] is not None and not _is_pos_int(t["size_divisor"]):
            raise _fail(path, f"{key}.size_divisor", f"must be a positive int or null; "
                        f"got {t['size_divisor']!r}")
    if kind == "ResizeByShort":
        short = t["short_size"]
        if isinstance(short, list) and len(short) == 1:
            t["short_size"] = short = short[0]
        if not _is_pos_int(short):
            raise _fail(path, f"{key}.short_size", f"must be one positive int in a deployed model; "
                        f"got {short!r}")
    if kind == "ResizeByLong" and not _is_pos_int(t["long_size"]):
        raise _fail(path, f"{key}.long_size", f"must be a positive int; got {t['long_size']!r}")
    if kind == "LimitLong":
        for name in ("max_long", "min_long"):
            if t[name] is not None and not _is_pos_int(t[name]):
                raise _fail(path, f"{key}.{name}", f"must be a positive int or null; "
                            f"got {t[name]!r}")
    if kind == "PaddingByAspectRatio":
        ratio = t["aspect_ratio"]
        if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or ratio <= 0:
            raise _fail(path, f"{key}.aspect_ratio", f"must be a number > 0; got {ratio!r}")
    if kind == "Normalize":
        for name in ("mean", "std"):
            v = t[name]
            if (not isinstance(v, (list, tuple)) or len(v) not in (1, 3)
                    or not all(isinstance(x, (int, float)) for x in v)):
                raise _fail(path, f"{key}.{name}", f"must be a list of 1 or 3 numbers; got {v!r}")
        if any(s == 0 for s in t["std"]):
            raise _fail(path, f"{key}.std", "must not contain 0")


def _file(path: str, base: str, deploy: dict, key: str, required: bool) -> str | None:
    name = deploy.get(key)
    if name is None:
        if required:
            raise _fail(path, f"Deploy.{key}", "is missing; it names the model file relative to "
                        "deploy.yaml (re-export with tools/export.py)")
        return None
    if not isinstance(name, str):
        raise _fail(path, f"Deploy.{key}", f"must be a file name; got {name!r}")
    full = os.path.join(base, name)
    if not os.path.isfile(full):
        raise _fail(path, f"Deploy.{key}", f"names {name}, but {full} does not exist "
                    "(copy the whole exported folder, or re-export with tools/export.py)")
    return full


def add_model_args(parser) -> None:
    """The model flags shared by infer.py and video.py: ``--model_dir DIR`` or PaddleSeg's
    ``--config DIR/deploy.yaml`` (read them back with ``model_from_args``)."""
    parser.add_argument("--model_dir", help="exported model folder (holding deploy.yaml)")
    parser.add_argument("--config", help="the deploy.yaml of an exported model folder "
                                         "(PaddleSeg's flag; the files it names are relative "
                                         "to its folder)")


def model_from_args(args) -> str:
    """What to pass to ``load_deploy_config`` for ``--model_dir`` / ``--config``.

    Raises:
        DeployConfigError: neither is given, ``--config`` is not a file, or both are given and
            name different folders.
    """
    model_dir, config = args.model_dir, args.config
    if config is None:
        if model_dir is None:
            raise DeployConfigError("give the exported model: --model_dir DIR (or --config "
                                    "DIR/deploy.yaml)")
        return model_dir
    if not os.path.isfile(config):
        hint = (f"; for a folder use --model_dir {config}" if os.path.isdir(config)
                else " (the deploy.yaml of a folder written by tools/export.py)")
        raise DeployConfigError(f"--config {config}: no such file{hint}")
    if model_dir is not None:
        mine = config if os.path.isfile(model_dir) else os.path.dirname(config) or "."
        if os.path.realpath(model_dir) != os.path.realpath(mine):
            raise DeployConfigError(f"--config {config} and --model_dir {model_dir} name "
                                    "different model folders: give one of them")
    return config


def load_deploy_config(model_dir: str) -> DeployConfig:
    """Read ``model_dir/deploy.yaml`` (``model_dir`` may also be the yaml file itself).

    Raises:
        DeployConfigError: the folder, the file or one of its keys is missing or wrong.
    """
    path = model_dir if os.path.isfile(model_dir) else os.path.join(model_dir, "deploy.yaml")
    if not os.path.isfile(path):
        raise DeployConfigError(f"{path} not found: --model_dir must be a folder written by "
                                "tools/export.py (or PaddleSeg's export.py) holding deploy.yaml")
    base = os.path.dirname(os.path.abspath(path))
    try:
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
    except yaml.YAMLError as e:
        raise DeployConfigError(f"{path} is not valid YAML: {e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("Deploy"), dict):
        raise _fail(path, "Deploy", "section is missing: the file must hold `Deploy: {model, "
                    "params, transforms, ...}`")
    d = doc["Deploy"]
    model_file = _file(path, base, d, "model", True)
    params_file = _file(path, base, d, "params", True)
    onnx_file = _file(path, base, d, "onnx", False)

    output_op = d.get("output_op", "argmax")
    output_op = "none" if output_op is None else str(output_op)
    if output_op not in OUTPUT_OPS:
        raise _fail(path, "Deploy.output_op", f"must be one of {list(OUTPUT_OPS)}; "
                    f"got {output_op!r}")
    color_order = d.get("color_order", "RGB")
    if color_order not in COLOR_ORDERS:
        raise _fail(path, "Deploy.color_order", f"must be RGB or BGR; got {color_order!r}")
    shape = d.get("input_shape", [-1, 3, -1, -1])
    if isinstance(shape, list):  # PaddleSeg 2.x writes null for a dynamic dim
        shape = [-1 if v is None else v for v in shape]
    if (not isinstance(shape, list) or len(shape) != 4
            or not all(isinstance(v, int) and (v > 0 or v == -1) for v in shape)):
        raise _fail(path, "Deploy.input_shape", f"must be [N, C, H, W] of ints (-1 = dynamic); "
                    f"got {shape!r}")
    output_stride = d.get("output_stride", 1)
    if not _is_pos_int(output_stride):
        raise _fail(path, "Deploy.output_stride", f"must be a positive int (the network output "
                    f"is 1/output_stride of its input size); got {output_stride!r}")
    transforms = d.get("transforms")
    if transforms is None:
        transforms = []
    if not isinstance(transforms, list):
        raise _fail(path, "Deploy.transforms", f"must be a list; got {type(transforms).__name__}")
    transforms = [_check_transform(path, i, t) for i, t in enumerate(transforms)]

    num_classes = d.get("num_classes")
    if num_classes is not None and not _is_pos_int(num_classes):
        raise _fail(path, "Deploy.num_classes", f"must be a positive int; got {num_classes!r}")
    class_names = d.get("class_names")
    if class_names is not None and (not isinstance(class_names, list) or (
            num_classes is not None and len(class_names) != num_classes)):
        raise _fail(path, "Deploy.class_names", f"must be a list of num_classes ({num_classes}) "
                    f"names; got {class_names!r}")
    palette = d.get("palette")
    if palette is not None and (not isinstance(palette, list) or not all(
            isinstance(c, list) and len(c) == 3 and all(isinstance(v, int) and 0 <= v <= 255
                                                       for v in c) for c in palette)):
        raise _fail(path, "Deploy.palette", "must be a list of [R, G, B] triples of ints 0..255")
    return DeployConfig(path=path, model_dir=base, model_file=model_file, params_file=params_file,
                        onnx_file=onnx_file, input_name=str(d.get("input_name", "x")),
                        input_shape=shape, output_op=output_op, color_order=color_order,
                        transforms=transforms, num_classes=num_classes, class_names=class_names,
                        palette=palette, exported_with=d.get("exported_with") or {},
                        output_stride=output_stride)

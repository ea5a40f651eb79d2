"""deploy.yaml: the preprocessing, input shape, output op and class info of an exported model.

The file is the contract with deploy/python (which never imports humanseg): every transform
argument is written out, defaults filled from the transform classes' signatures, so the deploy
side needs no knowledge of humanseg's defaults.
"""
from __future__ import annotations

import copy
import inspect
import os
from typing import Any

import numpy as np
import yaml

from humanseg.cvlibs.builder import eval_transforms_section
from humanseg.cvlibs.registry import DATASETS, TRANSFORMS, build
from humanseg.errors import ConfigError
from humanseg.export.exporter import INPUT_NAME, MODEL_FILENAME, PARAMS_FILENAME
from humanseg.export.onnx_export import ONNX_FILENAME
from humanseg.utils.atomic import write_text_atomically
from humanseg.transforms import Compose
from humanseg.utils.visualize import get_palette

DEPLOY_FILENAME = "deploy.yaml"
# Deterministic transforms that deploy/python re-implements (with humanseg's semantics).
DEPLOY_TRANSFORMS = ("Resize", "ResizeByShort", "ResizeByLong", "LimitLong", "Padding",
                     "PaddingByAspectRatio", "Normalize")
PERSON_DATASETS = ("PPHumanSeg14K", "SUPERVISELY")


def _plain(value: Any) -> Any:
    """``value`` as YAML-friendly plain Python (tuples and arrays become lists)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _filled(item: dict, cls: type, where: str) -> dict:
    """``item`` with every constructor argument of ``cls`` written out."""
    out = {"type": cls.__name__}
    for name, param in inspect.signature(cls.__init__).parameters.items():
        if name == "self" or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if name in item:
            out[name] = _plain(item[name])
        elif param.default is not inspect.Parameter.empty:
            out[name] = _plain(param.default)
        else:
            raise ConfigError(f"{where} ({cls.__name__}): missing required argument '{name}'.")
    return out


def _refuse_randomness(t: dict, where: str) -> None:
    if t["type"] == "Resize" and t["interp"] == "RANDOM":
        raise ConfigError(f"{where} (Resize): interp RANDOM draws a method per image; exported "
                          f"preprocessing must be deterministic: use interp LINEAR.")
    if t["type"] == "ResizeByShort" and isinstance(t["short_size"], list):
        if len(t["short_size"]) != 1:
            raise ConfigError(f"{where} (ResizeByShort): a list of short_size values draws one "
                              f"per image; exported preprocessing must be deterministic: give "
                              f"one int.")
        t["short_size"] = t["short_size"][0]


def deploy_transforms(cfg: dict, img_channels: int = 3) -> tuple[list[dict], str]:
    """The exported preprocessing: each transform validated (built once), deterministic and
    supported by deploy/python, with all arguments written out.

    Returns:
        The transform dicts and the config key they came from.

    Raises:
        ConfigError: naming the transform (by its config key) and the fix.
    """
    section, key = eval_transforms_section(cfg)
    out = []
    for i, item in enumerate(section):
        where = f"{key}[{i}]"
        if not isinstance(item, dict) or "type" not in item:
            raise ConfigError(f"{where} must be a mapping with a `type`; got {item!r}")
        build(copy.deepcopy(item), TRANSFORMS, where)  # argument errors, with the key
        cls = TRANSFORMS.get(item["type"])
        if cls.__name__ not in DEPLOY_TRANSFORMS:
            kind = "a random (training) transform" if cls.__name__.startswith(("Random", "Resize")) \
                else "not supported by deploy/python"
            raise ConfigError(f"{where}: {cls.__name__} is {kind}; an exported model needs "
                              f"deterministic preprocessing. Remove it from {key}, or add "
                              f"export.transforms built from {', '.join(DEPLOY_TRANSFORMS)}.")
        t = _filled(item, cls, where)
        _refuse_randomness(t, where)
        if t["type"] == "Normalize":  # one value per channel, as the deploy side applies them
            for name in ("mean", "std"):
                if len(t[name]) == 1:
                    t[name] = t[name] * img_channels
        if t["type"] == "Padding" and isinstance(t["target_size"], int):
            t["target_size"] = [t["target_size"]] * 2
        out.append(t)
    return out, key


def fixed_output_hw(transforms: list[dict], img_channels: int = 3) -> tuple[int, int] | None:
    """The (h, w) every image has after ``transforms``, or None when it depends on the image
    (found by running them on two images of different size and aspect)."""
    compose = Compose(build(copy.deepcopy(transforms), TRANSFORMS, "transforms"), img_channels)
    shapes = set()
    for h, w in ((301, 457), (480, 270)):
        try:
            img = np.zeros((h, w, img_channels), np.float32)
            shapes.add(compose({"img": img, "trans_info": [], "gt_fields": []})["img"].shape[1:])
        except ValueError:  # e.g. Padding smaller than the probe image: not a fixed size
            return None
    return tuple(shapes.pop()) if len(shapes) == 1 else None


def class_names(cfg: dict, num_classes: int) -> list[str]:
    """``export.class_names`` if given, else the dataset's class names, else class_<i>."""
    names = (cfg.get("export") or {}).get("class_names")
    if names is not None:
        if not isinstance(names, list) or len(names) != num_classes:
            raise ConfigError(f"export.class_names must be a list of {num_classes} names (one per "
                              f"class); got {names!r}")
        return [str(n) for n in names]
    dataset_type = (cfg.get("val_dataset") or cfg.get("train_dataset") or {}).get("type")
    cls = DATASETS.get(dataset_type) if dataset_type in DATASETS else None
    cls_name = cls.__name__ if cls is not None else None
    if cls_name in PERSON_DATASETS and num_classes == 2:
        return ["background", "person"]
    if cls_name == "Cityscapes" and num_classes == 19:
        from humanseg.datasets.cityscapes_labels import TRAIN_CLASS_NAMES
        return list(TRAIN_CLASS_NAMES)
    return [f"class_{i}" for i in range(num_classes)]


def deploy_dict(*, transforms: list[dict], input_shape: list[int], output_op: str,
                num_classes: int, names: list[str], with_onnx: bool,
                versions: dict[str, str], output_stride: int | None = None) -> dict:
    """The ``Deploy`` mapping of deploy.yaml (key order as documented in docs/export.md).

    ``output_stride`` (written only when given) says the network output is 1/stride of the input
    size (an export with ``--skip_final_resize``)."""
    deploy = {"model": MODEL_FILENAME, "params": PARAMS_FILENAME}
    if with_onnx:
        deploy["onnx"] = ONNX_FILENAME
    deploy.update({
        "input_name": INPUT_NAME,
        "input_shape": [int(v) for v in input_shape],
        "output_op": output_op,
        **({"output_stride": int(output_stride)} if output_stride else {}),
        "color_order": "RGB",
        "transforms": transforms,
        "num_classes": int(num_classes),
        "class_names": names,
        "palette": get_palette(num_classes).tolist(),
        "exported_with": versions,
    })
    return {"Deploy": deploy}


def write_deploy_yaml(save_dir: str, content: dict) -> str:
    """Write ``content`` to ``save_dir/deploy.yaml`` atomically; returns the path."""
    path = os.path.join(save_dir, DEPLOY_FILENAME)
    write_text_atomically(path, "# Written by humanseg tools/export.py; read by deploy/python "
                                "(see docs/export.md).\n"
                          + yaml.safe_dump(content, sort_keys=False, default_flow_style=None))
    return path

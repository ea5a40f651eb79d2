"""Config rules: each checks one thing, fills what PaddleSeg fills, or raises ConfigError naming the key.

Every rule about a config's content lives here; the builder and the engine take a checked config.
"""
from __future__ import annotations

import difflib
import inspect
from typing import Any, Callable

from humanseg.cvlibs.registry import lookup
from humanseg.errors import ConfigError

__all__ = ["ConfigError", "check_config", "check_test_config", "check_nan_policy",
           "check_sync_bn", "check_grad_ratio", "TOP_LEVEL_KEYS", "TRAIN_KEYS", "EVAL_KEYS"]

# The keys a config may hold at its top level: PaddleSeg 2.8's, then humanseg's own.
TOP_LEVEL_KEYS = {
    "batch_size": "images per step and process",
    "iters": "training iterations",
    "model": "the model (type, num_classes, backbone, pretrained, ...)",
    "train_dataset": "the training dataset and its transforms",
    "val_dataset": "the evaluation dataset and its transforms",
    "optimizer": "the optimizer (type, momentum, weight_decay, custom_cfg, ...)",
    "lr_scheduler": "the learning-rate schedule (type, learning_rate, warmup_iters, ...)",
    "loss": "losses per model output: {types: [...], coef: [...]}",
    "test_config": "evaluation mode: is_slide/crop_size/stride, aug_eval/scales/flips",
    "export": "export preprocessing: {transforms: [...]}",
    "to_static_training": "PaddleSeg's dynamic-to-static training (false only here)",
    "save_interval": "iterations between checkpoints and evaluations",
    "nan_policy": "on a non-finite loss: stop (default) or skip the step",
    "sync_bn": "SyncBatchNorm across GPUs: auto (default), true or false",
    "grad_ratio": "log ||grad(term)|| / ||grad(against)|| w.r.t. the logits: {interval, term, "
                  "against, output}",
}
# Sections of PaddleSeg releases after 2.8 (configs/_base_/runtime.yml), which humanseg does not read
LATER_PADDLESEG_KEYS = {
    "test": "put its keys (aug_eval, scales, flip_horizontal, is_slide, ...) under test_config",
    "train": "give its settings on the command line (tools/train.py --save_interval, "
             "--log_iters, --do_eval, ...)",
    "global": "give its settings on the command line (--device, --seed, --save_dir, ...)",
}
NAN_POLICIES = ("stop", "skip")
SYNC_BN_CHOICES = ("auto", True, False)

TRAIN_KEYS = ("batch_size", "iters", "train_dataset", "optimizer", "lr_scheduler", "loss", "model")
EVAL_KEYS = ("model", "val_dataset")
DATASET_KEYS = ("train_dataset", "val_dataset")


def _require_keys(cfg: dict, keys: tuple[str, ...]) -> None:
    missing = [k for k in keys if cfg.get(k) in (None, {}, [])]
    if missing:
        raise ConfigError(f"missing required key(s): {', '.join(missing)}. Add them to the config "
                          f"or to one of its _base_ files (see configs/ for examples).")


def _require_typed(cfg: dict) -> None:
    for key in ("model",) + DATASET_KEYS + ("optimizer", "lr_scheduler"):
        section = cfg.get(key)
        if section is None:
            continue
        if not isinstance(section, dict) or "type" not in section:
            raise ConfigError(f"{key}: must be a mapping with a 'type' key "
                              f"(e.g. {key}: {{type: ...}}), got {section!r}.")


def _check_loss(cfg: dict) -> None:
    loss = cfg.get("loss")
    if loss is None:
        return
    if not isinstance(loss, dict) or "types" not in loss or "coef" not in loss:
        raise ConfigError("loss: must hold 'types' (a list of losses, one per model output) and "
                          "'coef' (their weights), e.g. loss: {types: [{type: CrossEntropyLoss}], "
                          "coef: [1]}.")
    types, coef = loss["types"], loss["coef"]
    if not isinstance(types, list) or not isinstance(coef, list):
        raise ConfigError("loss.types and loss.coef must be lists.")
    for i, t in enumerate(types):
        if not isinstance(t, dict) or "type" not in t:
            raise ConfigError(f"loss.types[{i}]: must be a mapping with 'type', got {t!r}.")
    if len(types) != len(coef):
        if len(types) != 1:
            raise ConfigError(f"loss.types has {len(types)} entries but loss.coef has {len(coef)}; "
                              f"give one coef per type (or a single type to repeat for each coef).")
        loss["types"] = [dict(types[0]) for _ in coef]


def _dataset_default(section: dict, attr: str) -> Any:
    """A dataset class constant (e.g. PPHumanSeg14K.NUM_CLASSES) used when the key is absent."""
    try:
        return getattr(lookup(section["type"]), attr, None)
    except ConfigError:
        return None


def _dataset_values(cfg: dict, key: str, constant: str) -> dict:
    """``{'<dataset>.<key>': value}`` for each dataset section, its class constant as default."""
    values = {}
    for section_key in DATASET_KEYS:
        section = cfg.get(section_key)
        if isinstance(section, dict):
            value = section.get(key, _dataset_default(section, constant))
            if value is not None:
                values[f"{section_key}.{key}"] = value
    return values


def _sync_num_classes(cfg: dict) -> None:
    values = _dataset_values(cfg, "num_classes", "NUM_CLASSES")
    model = cfg.get("model") or {}
    if "num_classes" in model:
        values["model.num_classes"] = model["num_classes"]
    if len(set(values.values())) > 1:
        found = ", ".join(f"{k}={v}" for k, v in values.items())
        raise ConfigError(f"num_classes is not consistent: {found}. Set the same value in model, "
                          f"train_dataset and val_dataset.")
    if values and "num_classes" not in model and isinstance(cfg.get("model"), dict):
        model["num_classes"] = next(iter(values.values()))


def _accepts(type_name: str, arg: str) -> bool:
    try:
        component = lookup(type_name)
    except ConfigError:
        return False
    try:
        params = inspect.signature(component).parameters
    except (TypeError, ValueError):
        return False
    return arg in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _walk_losses(node: Any, where: str, visit: Callable[[dict, str], None]) -> None:
    """Visit every loss mapping under ``node`` (nested MixedLoss lists included)."""
    if isinstance(node, dict):
        if "type" in node:
            visit(node, where)
        for k, v in node.items():
            if isinstance(v, (list, dict)):
                _walk_losses(v, f"{where}.{k}", visit)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _walk_losses(v, f"{where}[{i}]", visit)


def _sync_ignore_index(cfg: dict) -> None:
    values = _dataset_values(cfg, "ignore_index", "IGNORE_INDEX")
    if len(set(values.values())) > 1:
        found = ", ".join(f"{k}={v}" for k, v in values.items())
        raise ConfigError(f"ignore_index is not consistent: {found}. Use the same value in "
                          f"train_dataset and val_dataset.")
    if not values or not isinstance(cfg.get("loss"), dict):
        return
    ignore_index = next(iter(values.values()))

    def visit(loss: dict, where: str) -> None:
        if "ignore_index" in loss:
            if loss["ignore_index"] != ignore_index:
                raise ConfigError(f"{where}.ignore_index={loss['ignore_index']} differs from the "
                                  f"dataset's ignore_index={ignore_index}; use the same value "
                                  f"(or remove it from the loss to inherit the dataset's).")
        elif _accepts(loss["type"], "ignore_index"):
            loss["ignore_index"] = ignore_index

    _walk_losses(cfg["loss"].get("types", []), "loss.types", visit)


TEST_CONFIG_KEYS = ("is_slide", "crop_size", "stride", "aug_eval", "scales", "flip_horizontal",
                    "flip_vertical")


def _pair(name: str, value) -> list[int]:
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)):
        raise ConfigError(f"test_config.{name} must be two positive ints [width, height], "
                          f"got {value!r}.")
    return [int(value[0]), int(value[1])]


def check_test_config(test_config: dict | None) -> dict:
    """PaddleSeg's ``test_config`` with defaults filled in and every value checked.

    Keys: ``is_slide`` (with ``crop_size`` and ``stride``, each [w, h]); ``aug_eval`` (with
    ``scales``: a float or a list, and ``flip_horizontal``, ``flip_vertical``). Without
    ``aug_eval`` the scales and flips are not used, as in PaddleSeg.

    Raises:
        ConfigError: an unknown key or a bad value, named.
    """
    cfg = dict(test_config or {})
    unknown = sorted(set(cfg) - set(TEST_CONFIG_KEYS))
    if unknown:
        raise ConfigError(f"test_config: unknown key(s) {unknown}; known: {list(TEST_CONFIG_KEYS)}.")
    out = {}
    for k in ("is_slide", "aug_eval", "flip_horizontal", "flip_vertical"):
        out[k] = cfg.get(k, False)
        if not isinstance(out[k], bool):
            raise ConfigError(f"test_config.{k} must be true or false, got {out[k]!r}.")
    if out["is_slide"]:
        for k in ("crop_size", "stride"):
            if cfg.get(k) is None:
                raise ConfigError(f"test_config: is_slide needs {k}: [width, height].")
            out[k] = _pair(k, cfg[k])
    scales = cfg.get("scales", 1.0)
    scales = [scales] if isinstance(scales, (int, float)) and not isinstance(scales, bool) \
        else scales
    if (not isinstance(scales, (list, tuple)) or not scales
            or not all(isinstance(s, (int, float)) and not isinstance(s, bool) and s > 0
                       for s in scales)):
        raise ConfigError(f"test_config.scales must be a positive number or a list of them, "
                          f"got {cfg.get('scales')!r}.")
    out["scales"] = [float(s) for s in scales]
    return out


def check_nan_policy(policy: Any) -> str:
    """``policy`` if it is 'stop' or 'skip' (None: 'stop'); else ConfigError naming the key."""
    policy = "stop" if policy is None else policy
    if policy not in NAN_POLICIES:
        raise ConfigError(f"nan_policy: expected stop or skip, got {policy!r}.")
    return policy


def check_sync_bn(setting: Any) -> str | bool:
    """``setting`` if it is auto, true or false (None: 'auto'); else ConfigError naming the key."""
    setting = "auto" if setting is None else setting
    if setting not in SYNC_BN_CHOICES or (setting != "auto" and not isinstance(setting, bool)):
        raise ConfigError(f"sync_bn: expected auto, true or false, got {setting!r}.")
    return setting


GRAD_RATIO_DEFAULTS = {"interval": 50, "term": "SemanticConnectivityLoss",
                       "against": "CrossEntropyLoss", "output": 0}


def check_grad_ratio(section: Any) -> dict | None:
    """The ``grad_ratio`` section with its defaults filled (None or absent: off, None), or
    ConfigError naming the key."""
    if section is None or section is False:
        return None
    if section is True:
        section = {}
    if not isinstance(section, dict):
        raise ConfigError(f"grad_ratio: expected a mapping such as {{interval: 50, term: "
                          f"SemanticConnectivityLoss, against: CrossEntropyLoss}}, got {section!r}.")
    unknown = sorted(set(section) - set(GRAD_RATIO_DEFAULTS))
    if unknown:
        raise ConfigError(f"grad_ratio: unknown key(s) {unknown}; the keys are "
                          f"{list(GRAD_RATIO_DEFAULTS)}.")
    out = {**GRAD_RATIO_DEFAULTS, **section}
    for key in ("interval", "output"):
        value = out[key]
        low = 1 if key == "interval" else 0
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(f"grad_ratio.{key} must be an integer >= {low}, got {value!r}.")
    for key in ("term", "against"):
        if not isinstance(out[key], str) or not out[key]:
            raise ConfigError(f"grad_ratio.{key} must be the name of a loss term (e.g. "
                              f"{GRAD_RATIO_DEFAULTS[key]}), got {out[key]!r}.")
    return out


def _reject_unknown_keys(cfg: dict) -> None:
    for key in cfg:
        if key in TOP_LEVEL_KEYS:
            continue
        if key in LATER_PADDLESEG_KEYS:
            raise ConfigError(f"top-level key '{key}' is a section of PaddleSeg releases after "
                              f"2.8, whose keys humanseg reads: {LATER_PADDLESEG_KEYS[key]}, and "
                              f"remove '{key}'.")
        close = difflib.get_close_matches(str(key), list(TOP_LEVEL_KEYS), n=3, cutoff=0.6)
        hint = (f"Did you mean {' or '.join(close)}?" if close
                else f"Known keys: {', '.join(TOP_LEVEL_KEYS)}.")
        raise ConfigError(f"unknown top-level key '{key}'. {hint} Fix or remove it (a typo "
                          f"would otherwise be ignored).")


def _check_positive_ints(cfg: dict) -> None:
    for key in ("batch_size", "iters", "save_interval"):
        value = cfg.get(key)
        if key in cfg and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
            raise ConfigError(f"{key} must be a positive integer, got {value!r}.")


def _check_engine_keys(cfg: dict) -> None:
    if cfg.get("to_static_training"):
        raise ConfigError("to_static_training: true is not supported; humanseg trains in dynamic "
                          "mode (remove the key or set it to false).")
    if "test_config" in cfg and cfg["test_config"] is not None:
        if not isinstance(cfg["test_config"], dict):
            raise ConfigError(f"test_config must be a mapping, got "
                              f"{type(cfg['test_config']).__name__}.")
        check_test_config(cfg["test_config"])
    check_nan_policy(cfg.get("nan_policy"))
    check_sync_bn(cfg.get("sync_bn"))
    check_grad_ratio(cfg.get("grad_ratio"))


def check_config(cfg: dict, required: tuple[str, ...] = TRAIN_KEYS) -> dict:
    """Check ``cfg`` in place and fill PaddleSeg's implied values; returns ``cfg``.

    Args:
        cfg: The merged config dict.
        required: Top-level keys that must be present (TRAIN_KEYS for training, EVAL_KEYS for val).

    Raises:
        ConfigError: naming the key and the fix.
    """
    _reject_unknown_keys(cfg)
    _require_keys(cfg, required)
    _require_typed(cfg)
    _check_loss(cfg)
    _sync_num_classes(cfg)
    _sync_ignore_index(cfg)
    _check_positive_ints(cfg)
    _check_engine_keys(cfg)
    return cfg

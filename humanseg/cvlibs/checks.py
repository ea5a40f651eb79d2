"""Config rules: each checks one thing, fills what PaddleSeg fills, or raises ConfigError naming the key."""
from __future__ import annotations

import inspect
from typing import Any, Callable

from humanseg.cvlibs.registry import lookup
from humanseg.errors import ConfigError

__all__ = ["ConfigError", "check_config", "TRAIN_KEYS", "EVAL_KEYS"]

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


def check_config(cfg: dict, required: tuple[str, ...] = TRAIN_KEYS) -> dict:
    """Check ``cfg`` in place and fill PaddleSeg's implied values; returns ``cfg``.

    Args:
        cfg: The merged config dict.
        required: Top-level keys that must be present (TRAIN_KEYS for training, EVAL_KEYS for val).

    Raises:
        ConfigError: naming the key and the fix.
    """
    _require_keys(cfg, required)
    _require_typed(cfg)
    _check_loss(cfg)
    _sync_num_classes(cfg)
    _sync_ignore_index(cfg)
    for key in ("batch_size", "iters"):
        if key in cfg and (not isinstance(cfg[key], int) or cfg[key] <= 0):
            raise ConfigError(f"{key} must be a positive integer, got {cfg[key]!r}.")
    return cfg

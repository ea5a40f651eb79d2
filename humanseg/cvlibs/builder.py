"""SegBuilder: turns a checked config dict into model, loss, optimizer, scheduler and datasets."""
from __future__ import annotations

import copy
import os
from functools import cached_property

from humanseg.cvlibs.registry import DATASETS, LOSSES, MODELS, OPTIMIZERS, build
from humanseg.errors import ConfigError

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_PATH_KEYS = ("dataset_root", "train_path", "val_path", "test_path")


def resolve_data_path(path: str) -> str:
    """A relative data path as given (from the current directory) if it exists there, else from
    the project root, so configs' ``data/...`` paths work from any working directory."""
    if os.path.isabs(path) or os.path.exists(path):
        return path
    candidate = os.path.join(PROJECT_ROOT, path)
    return candidate if os.path.exists(candidate) else path


def _resolve_paths(section: dict) -> dict:
    """``resolve_data_path`` on a dataset section's path keys, and on those of the datasets
    nested in it (MixedDataset's ``datasets: [...]``)."""
    for path_key in _PATH_KEYS:
        if isinstance(section.get(path_key), str):
            section[path_key] = resolve_data_path(section[path_key])
    for inner in section.get("datasets") or []:
        if isinstance(inner, dict):
            _resolve_paths(inner)
    return section


class SegBuilder:
    """Builds the components a config describes; each is built once, on first access.

    Args:
        cfg: A config dict that went through ``checks.check_config``.
    """

    def __init__(self, cfg: dict):
        self.cfg = cfg

    def _section(self, key: str) -> dict:
        if not self.cfg.get(key):
            raise ConfigError(f"missing required key: {key}. Add a '{key}:' section to the config.")
        return copy.deepcopy(self.cfg[key])

    @cached_property
    def model(self):
        return build(self._section("model"), MODELS, "model")

    @cached_property
    def loss(self):
        from humanseg.models.seg_loss import SegLoss
        section = self._section("loss")
        types = build(section["types"], LOSSES, "loss.types")
        return SegLoss(types=types, coef=list(section["coef"]))

    @cached_property
    def lr_scheduler(self):
        from humanseg.optimizers import build_lr_scheduler
        return build_lr_scheduler(self._section("lr_scheduler"), int(self.cfg["iters"]))

    @cached_property
    def optimizer(self):
        factory = build(self._section("optimizer"), OPTIMIZERS, "optimizer")
        return factory(self.model, self.lr_scheduler)

    def _dataset(self, key: str):
        section = _resolve_paths(self._section(key))
        return build(section, DATASETS, key)

    @cached_property
    def train_dataset(self):
        return self._dataset("train_dataset")

    @cached_property
    def val_dataset(self):
        return self._dataset("val_dataset")

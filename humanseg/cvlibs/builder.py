"""SegBuilder: turns a checked config into every object the engine needs, weights included.

Model constructors only store their ``pretrained`` key; :func:`build_model` loads the weights
(the backbone's ``pretrained``, then the model's, or a trained model's ``weights`` instead), so
evaluating, predicting or exporting trained weights never reads or downloads ``pretrained``.
"""
from __future__ import annotations

import copy
from functools import cached_property

from humanseg.cvlibs.checks import (check_grad_ratio, check_nan_policy, check_sync_bn,
                                    check_test_config)
from humanseg.cvlibs.config import resolve_data_path
from humanseg.cvlibs.registry import DATASETS, LOSSES, MODELS, OPTIMIZERS, TRANSFORMS, build
from humanseg.errors import ConfigError
from humanseg.utils.zoo import MIRROR_ENV, is_zoo

_PATH_KEYS = ("dataset_root", "train_path", "val_path", "test_path")
DEFAULT_SAVE_INTERVAL = 1000


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


def _with_key(error: ConfigError, key: str, path: str) -> ConfigError:
    """``error`` of loading the ``pretrained`` weights at config ``key``, naming the key; for a
    failed download, with the two ways out."""
    if not (is_zoo(path) or "://" in str(path)) or "download" not in str(error):
        return ConfigError(f"{key}: {error}")
    return ConfigError(
        f"{error}\n{key}: the pretrained weights could not be downloaded. Download them "
        f"elsewhere and point the key at the local file (--opts {key}=/path/to/model.pdparams), "
        f"or set it to null (--opts {key}=null) to start from random weights."
        + (f" A zoo name can also be fetched from a mirror: {MIRROR_ENV}=<base URL>."
           if is_zoo(path) else ""))


def load_config_pretrained(model) -> None:
    """Load the ``pretrained`` weights a config gave the model: the backbone's first (partially:
    ImageNet files carry layers a segmentation backbone lacks), then the whole model's (strictly,
    unless ``allow_partial_pretrained``), which overrides the backbone's."""
    from humanseg.utils.weights import load_pretrained
    backbone = getattr(model, "backbone", None)
    steps = [(backbone, "model.backbone.pretrained", True),
             (model, "model.pretrained", bool(getattr(model, "allow_partial_pretrained", False)))]
    for layer, key, partial in steps:
        path = getattr(layer, "pretrained", None) if layer is not None else None
        if not path:
            continue
        try:
            load_pretrained(layer, path, allow_partial=partial)
        except ConfigError as e:
            raise _with_key(e, key, path) from e


def build_model(cfg: dict, weights: str | None = None, pretrained: bool = True):
    """The config's model with its weights; the one model factory of every tool.

    Args:
        cfg: A checked config (its ``model`` section is used, not modified).
        weights: A trained model (``.pdparams``, a folder holding ``model.pdparams``, a
            checkpoint, an archive or a URL), loaded strictly; the config's ``pretrained`` keys
            are then neither read nor downloaded.
        pretrained: Without ``weights``: load the config's ``pretrained`` keys (False: the
            structure with its initial weights, offline).

    Raises:
        ConfigError: a bad model section, or weights that are missing, unreadable or of another
            model (named).
    """
    if not cfg.get("model"):
        raise ConfigError("missing required key: model. Add a 'model:' section to the config.")
    model = build(copy.deepcopy(cfg["model"]), MODELS, "model")
    if weights is not None:
        from humanseg.utils.weights import load_pretrained
        load_pretrained(model, weights)
    elif pretrained:
        load_config_pretrained(model)
    return model


def eval_transforms_section(cfg: dict) -> tuple[list, str]:
    """The config's ``export.transforms``, else ``val_dataset.transforms``, and its key: the
    preprocessing of prediction and export, as PaddleSeg's predict and export use it."""
    for key, section in (("export.transforms", (cfg.get("export") or {}).get("transforms")),
                         ("val_dataset.transforms",
                          (cfg.get("val_dataset") or {}).get("transforms"))):
        if section is not None:
            if not isinstance(section, list):
                raise ConfigError(f"{key} must be a list of transforms; got {type(section).__name__}")
            return section, key
    raise ConfigError("no preprocessing for prediction or export: add export.transforms (or "
                      "val_dataset.transforms) to the config, e.g. [{type: Resize, target_size: "
                      "[398, 224]}, {type: Normalize}].")


class SegBuilder:
    """Builds what a config describes; each component is built once, on first access.

    Args:
        cfg: A config dict that went through ``checks.check_config``.
        weights: Trained weights for the model (see :func:`build_model`); None: the config's
            ``pretrained`` keys.
    """

    def __init__(self, cfg: dict, weights: str | None = None):
        self.cfg = cfg
        self.weights = weights

    def _section(self, key: str) -> dict:
        if not self.cfg.get(key):
            raise ConfigError(f"missing required key: {key}. Add a '{key}:' section to the config.")
        return copy.deepcopy(self.cfg[key])

    @cached_property
    def model(self):
        return build_model(self.cfg, self.weights)

    @cached_property
    def loss(self):
        from humanseg.models.seg_loss import SegLoss
        section = self._section("loss")
        types = build(section["types"], LOSSES, "loss.types")
        return SegLoss(types=types, coef=list(section["coef"]))

    @cached_property
    def lr_scheduler(self):
        from humanseg.optimizers import build_lr_scheduler
        return build_lr_scheduler(self._section("lr_scheduler"), self.iters)

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

    def train_loader(self, seed: int = 0, num_workers: int = 0, rank: int = 0,
                     world_size: int = 1):
        """``(sampler, loader)`` over ``train_dataset`` in batches of ``batch_size`` per rank."""
        from humanseg.datasets.loader import build_train_loader
        return build_train_loader(self.train_dataset, self.batch_size, seed=seed,
                                  num_workers=num_workers, rank=rank, world_size=world_size)

    @property
    def batch_size(self) -> int:
        return int(self.cfg["batch_size"])

    @property
    def iters(self) -> int:
        return int(self.cfg["iters"])

    @property
    def save_interval(self) -> int:
        return int(self.cfg.get("save_interval") or DEFAULT_SAVE_INTERVAL)

    @property
    def img_channels(self) -> int:
        """Channels of the input images (``val_dataset.img_channels``, PaddleSeg's key; 3)."""
        return int((self.cfg.get("val_dataset") or {}).get("img_channels", 3))

    @property
    def test_config(self) -> dict:
        """PaddleSeg's ``test_config`` with its defaults filled in."""
        return check_test_config(self.cfg.get("test_config"))

    @property
    def nan_policy(self) -> str:
        return check_nan_policy(self.cfg.get("nan_policy"))

    @property
    def sync_bn(self) -> str | bool:
        return check_sync_bn(self.cfg.get("sync_bn"))

    @property
    def grad_ratio(self) -> dict | None:
        """The ``grad_ratio`` section (defaults filled), or None when the diagnostic is off."""
        return check_grad_ratio(self.cfg.get("grad_ratio"))

    @cached_property
    def eval_transforms(self):
        """The ``Compose`` of :func:`eval_transforms_section`, for predicting on images."""
        from humanseg.transforms import Compose
        section, key = eval_transforms_section(self.cfg)
        return Compose(build(copy.deepcopy(section), TRANSFORMS, key),
                       img_channels=self.img_channels)


"""Load pretrained weights into a model, strictly by default, with a key and shape report.

Weights may be local files, directories, archives or URLs: ``resolve_weights_path`` (in
``humanseg.utils.download``) turns them into a local file, downloading and extracting into the
cache.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import paddle
import paddle.nn as nn

from humanseg.errors import ConfigError
from humanseg.utils.download import resolve_weights_path

__all__ = ["LoadReport", "compare_state_dicts", "load_pretrained", "read_state_dict",
           "state_dict_from_checkpoint"]

logger = logging.getLogger("humanseg")

_MAX_LISTED_KEYS = 20
# Metadata entry written by older Paddle versions next to the parameters.
_METADATA_KEYS = ("StructuredToParameterName@@",)


@dataclass
class LoadReport:
    """How a state dict matches a model.

    Attributes:
        loaded: Keys present in both with equal shapes.
        missing: Model keys absent from the file.
        unexpected: File keys the model does not have.
        mismatched: ``(key, model_shape, file_shape)`` for keys present in both with other shapes.
    """

    loaded: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, list[int], list[int]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True if every key matches in name and shape."""
        return not (self.missing or self.unexpected or self.mismatched)

    def summary(self) -> str:
        """Multi-line text listing each kind of mismatch (long lists truncated)."""
        lines = [f"{len(self.loaded)} tensors match"]
        if self.missing:
            lines.append(f"missing in file ({len(self.missing)}): {_truncated(self.missing)}")
        if self.unexpected:
            lines.append(f"unexpected in file ({len(self.unexpected)}): "
                         f"{_truncated(self.unexpected)}")
        if self.mismatched:
            items = [f"{k} (model {m}, file {f})" for k, m, f in self.mismatched]
            lines.append(f"shape mismatch ({len(items)}): {_truncated(items)}")
        return "\n  ".join(lines)


def _truncated(items: list[str], limit: int = _MAX_LISTED_KEYS) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f", ... and {len(items) - limit} more" if len(items) > limit else "")


def _shape(value: Any) -> list[int]:
    return [int(d) for d in value.shape]


def state_dict_from_checkpoint(obj: Any, source: str = "checkpoint") -> dict[str, Any]:
    """Return the model state dict held by ``obj``.

    Args:
        obj: What ``paddle.load`` returned: a plain state dict, or a training checkpoint dict
            whose ``'model'`` entry is the model's state dict.
        source: Name of the file, for error messages.

    Raises:
        ConfigError: ``obj`` holds no state dict.
    """
    if isinstance(obj, Mapping) and isinstance(obj.get("model"), Mapping):
        obj = obj["model"]
    tensors = ({k: v for k, v in obj.items() if k not in _METADATA_KEYS and hasattr(v, "shape")}
               if isinstance(obj, Mapping) else {})
    if not tensors:
        raise ConfigError(f"{source}: holds neither a model state dict nor a checkpoint dict with "
                          f"a 'model' state dict (got {type(obj).__name__}); pass a .pdparams "
                          f"file saved from model.state_dict()")
    return tensors


def read_state_dict(path: str | os.PathLike) -> dict[str, Any]:
    """Read the model state dict from a weights file, a directory, or a training checkpoint.

    Args:
        path: A ``.pdparams`` file, a directory containing ``model.pdparams``, or a checkpoint
            file saved as a dict with a ``'model'`` entry.

    Raises:
        ConfigError: Missing or unreadable file, or no state dict inside.
    """
    file = resolve_weights_path(path)
    try:
        obj = paddle.load(file)
    except Exception as e:  # paddle raises many types for corrupt or foreign files
        raise ConfigError(f"cannot read weights file '{file}': {e}") from e
    return state_dict_from_checkpoint(obj, file)


def compare_state_dicts(model_state: Mapping[str, Any], file_state: Mapping[str, Any]
                        ) -> LoadReport:
    """Compare names and shapes of a model's state dict with a loaded one."""
    report = LoadReport()
    for key, target in model_state.items():
        if key not in file_state:
            report.missing.append(key)
        elif _shape(target) != _shape(file_state[key]):
            report.mismatched.append((key, _shape(target), _shape(file_state[key])))
        else:
            report.loaded.append(key)
    report.unexpected = [k for k in file_state if k not in model_state]
    return report


def _assign(target: paddle.Tensor, value: Any) -> None:
    if isinstance(value, np.ndarray):
        value = paddle.to_tensor(value)
    if value.dtype != target.dtype:
        value = paddle.cast(value, target.dtype)
    target.set_value(value)


def load_pretrained(model: nn.Layer, path: str | os.PathLike, allow_partial: bool = False,
                    progress: bool | None = None) -> LoadReport:
    """Load weights from ``path`` into ``model`` in place.

    Args:
        model: The model to fill.
        path: A ``.pdparams`` file, a directory containing ``model.pdparams``, a training
            checkpoint with a ``'model'`` entry, an archive holding ``model.pdparams``, or an
            ``http(s)://``/``file://`` URL to a file or archive (see :func:`resolve_weights_path`).
        allow_partial: Load the tensors whose names and shapes match and log the others instead
            of failing (e.g. fine-tuning with another number of classes). Backbones load their
            ``pretrained`` this way (ImageNet weights carry a classifier the backbone lacks);
            models expose it as the ``allow_partial_pretrained`` config key.
        progress: Show a download progress bar (``None``: only on a terminal).

    Returns:
        The report of matched, missing, unexpected and mismatched keys.

    Raises:
        ConfigError: Missing or unreadable file; or, unless ``allow_partial``, any key missing,
            unexpected or of another shape (the message lists them).
    """
    file = resolve_weights_path(path, progress=progress)
    file_state = read_state_dict(file)
    model_state = model.state_dict()
    report = compare_state_dicts(model_state, file_state)
    name = type(model).__name__
    if not report.ok and not allow_partial:
        raise ConfigError(f"pretrained weights '{file}' do not match {name}:\n  "
                          f"{report.summary()}\nUse weights saved from the same model and "
                          f"arguments (num_classes, in_channels, ...), or keep only the matching "
                          f"tensors with allow_partial=True (in a config: "
                          f"'allow_partial_pretrained: true' in the model section).")
    with paddle.no_grad():
        for key in report.loaded:
            _assign(model_state[key], file_state[key])
    if report.ok:
        logger.info("loaded %d tensors into %s from %s", len(report.loaded), name, file)
    else:
        logger.warning("partially loaded %s from %s:\n  %s", name, file, report.summary())
    return report

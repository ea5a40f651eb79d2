"""Checks before the first training step, so a config mistake costs seconds, not a queue slot.

``dry_check`` runs the model and the loss once on one training sample (no gradients) and then
restores what that touched (BatchNorm running statistics, RNG states), so the run that follows is the
same as without it.
"""
from __future__ import annotations

import random
from typing import Any, Callable

import numpy as np
import paddle

from humanseg.errors import ConfigError
from humanseg.utils.dist import non_trainable_state


def _snapshot(model: paddle.nn.Layer) -> tuple[dict, tuple]:
    state = {n: t.numpy().copy() for n, t in non_trainable_state(model).items()}
    rng = (random.getstate(), np.random.get_state(), paddle.get_rng_state())
    return state, rng


def _restore(model: paddle.nn.Layer, snapshot: tuple[dict, tuple]) -> None:
    state, (py_state, np_state, pd_state) = snapshot
    for name, tensor in non_trainable_state(model).items():
        tensor.set_value(state[name])
    random.setstate(py_state)
    np.random.set_state(np_state)
    paddle.set_rng_state(pd_state)


def _check_channels(logits: list, num_classes: int | None) -> None:
    if num_classes is None:
        return
    for i, out in enumerate(logits):
        if out.shape[1] != num_classes:
            raise ConfigError(
                f"model output {i} has {out.shape[1]} channels but the datasets have num_classes="
                f"{num_classes}; set model.num_classes: {num_classes} (or fix the head).")


def dry_check(model: paddle.nn.Layer, loss_fn: Callable, dataset: Any,
              num_classes: int | None = None) -> list[str]:
    """Forward two copies of ``dataset[0]`` in training mode and evaluate the loss on them.

    Catches before the first step: a model whose number of outputs differs from
    ``loss.types``/``loss.coef`` and outputs whose channels differ from ``num_classes``.

    Args:
        model: The model in training mode (as the trainer calls it).
        loss_fn: ``SegLoss`` (checks the output count, raises ConfigError).
        dataset: The training dataset.
        num_classes: Classes the datasets declare.

    Returns:
        The loss term names.

    Raises:
        ConfigError: naming the key and the fix.
    """
    snapshot = _snapshot(model)
    was_training = model.training
    try:
        sample = dataset[0]
        img = paddle.to_tensor(np.stack([sample["img"]] * 2))
        label = paddle.to_tensor(np.stack([sample["label"]] * 2))
        model.train()
        with paddle.no_grad():
            logits = model(img)
            if isinstance(logits, paddle.Tensor):
                logits = [logits]
            _check_channels(list(logits), num_classes)
            _, terms = loss_fn(logits, label)
        return list(terms)
    finally:
        _restore(model, snapshot)
        if not was_training:
            model.eval()

"""Helpers for the loss tests: random inputs and values with gradients."""
from __future__ import annotations

import numpy as np
import paddle

IGNORE = 255


def make_inputs(n: int = 2, c: int = 4, h: int = 6, w: int = 7, ignore_frac: float = 0.2,
                seed: int = 0) -> tuple[paddle.Tensor, paddle.Tensor]:
    """Random logits (requiring grad) and int64 labels with about ``ignore_frac`` ignore pixels."""
    rng = np.random.default_rng(seed)
    logit = paddle.to_tensor(rng.normal(0, 2, (n, c, h, w)).astype("float32"), stop_gradient=False)
    label = rng.integers(0, c, (n, h, w))
    label[rng.random((n, h, w)) < ignore_frac] = IGNORE
    return logit, paddle.to_tensor(label.astype("int64"))


def value_and_grad(loss_fn, logit: paddle.Tensor, *args) -> tuple[float, np.ndarray]:
    loss = loss_fn(logit, *args)
    (grad,) = paddle.grad(loss, logit)
    return float(loss), grad.numpy()

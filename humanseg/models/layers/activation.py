"""An activation chosen by name, as configs spell it."""
from __future__ import annotations

import paddle.nn as nn

_ACTIVATIONS = {
    "relu": nn.ReLU, "relu6": nn.ReLU6, "leakyrelu": nn.LeakyReLU, "prelu": nn.PReLU,
    "sigmoid": nn.Sigmoid, "hardsigmoid": nn.Hardsigmoid, "hardswish": nn.Hardswish,
    "swish": nn.Swish, "silu": nn.Silu, "gelu": nn.GELU, "tanh": nn.Tanh, "elu": nn.ELU,
    "softmax": nn.Softmax, "identity": nn.Identity,
}


class Activation(nn.Layer):
    """Apply the activation named ``act`` (case-insensitive); ``None`` means identity.

    The wrapped layer is stored as ``act_func``. Only ``prelu`` has parameters.

    Args:
        act: One of ``relu, relu6, leakyrelu, prelu, sigmoid, hardsigmoid, hardswish, swish,
            silu, gelu, tanh, elu, softmax, identity`` or ``None``.

    Raises:
        ValueError: Unknown activation name.
    """

    def __init__(self, act: str | None = None):
        super().__init__()
        key = "identity" if act is None else act.lower()
        if key not in _ACTIVATIONS:
            raise ValueError(f"unknown activation '{act}'; choose one of {sorted(_ACTIVATIONS)}")
        self.act_func = _ACTIVATIONS[key]()

    def forward(self, x):
        return self.act_func(x)

"""Weight initialisation applied to every sublayer of a model."""
from __future__ import annotations

import paddle.nn as nn

_BATCH_NORMS = (nn.BatchNorm, nn.BatchNorm1D, nn.BatchNorm2D, nn.BatchNorm3D, nn.SyncBatchNorm)


def init_conv_normal_bn_constant(model: nn.Layer, std: float = 0.001) -> None:
    """Conv weights ~ Normal(0, ``std``), conv biases 0; batch-norm weights 1, biases 0.

    Args:
        model: Layer whose sublayers (itself included) are initialised in place.
        std: Standard deviation of the conv weights.
    """
    normal = nn.initializer.Normal(mean=0.0, std=std)
    zero, one = nn.initializer.Constant(0.0), nn.initializer.Constant(1.0)
    for layer in model.sublayers(include_self=True):
        if isinstance(layer, nn.Conv2D):
            normal(layer.weight)
            if layer.bias is not None:
                zero(layer.bias)
        elif isinstance(layer, _BATCH_NORMS):
            if layer.weight is not None:
                one(layer.weight)
            if layer.bias is not None:
                zero(layer.bias)

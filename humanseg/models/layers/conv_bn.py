"""Convolution + batch norm (+ activation) blocks with PaddleSeg's parameter names."""
from __future__ import annotations

import paddle.nn as nn

from humanseg.models.layers.activation import Activation

Padding = int | str | tuple[int, int] | list[int]


class ConvBN(nn.Layer):
    """Conv2D followed by BatchNorm2D, stored as ``_conv`` and ``_batch_norm``.

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        kernel_size: Convolution kernel size.
        stride: Convolution stride.
        padding: An int, a pair, or ``"same"`` (PaddleSeg's default).
        dilation: Convolution dilation.
        groups: Convolution groups (``in_channels`` for a depthwise convolution).
        bias: Whether the convolution has a bias (PaddleSeg's generic blocks do; most backbones don't).
        data_format: ``"NCHW"`` or ``"NHWC"``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int = 1, padding: Padding = "same", dilation: int = 1, groups: int = 1,
                 bias: bool = True, data_format: str = "NCHW"):
        super().__init__()
        self._conv = nn.Conv2D(in_channels, out_channels, kernel_size, stride=stride,
                               padding=padding, dilation=dilation, groups=groups,
                               bias_attr=None if bias else False, data_format=data_format)
        self._batch_norm = nn.BatchNorm2D(out_channels, data_format=data_format)

    def forward(self, x):
        return self._batch_norm(self._conv(x))


class ConvBNAct(ConvBN):
    """:class:`ConvBN` followed by an activation (no parameters, so the state dict is ConvBN's).

    Args:
        act: Activation name understood by :class:`Activation`, e.g. ``"relu"``.
        **kwargs: Arguments of :class:`ConvBN`.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 act: str = "relu", **kwargs):
        super().__init__(in_channels, out_channels, kernel_size, **kwargs)
        self._act = Activation(act)

    def forward(self, x):
        # No super().forward here: paddle.jit.to_static cannot convert zero-argument super().
        return self._act(self._batch_norm(self._conv(x)))


class ConvBNReLU(ConvBNAct):
    """:class:`ConvBN` followed by ReLU.

    Args:
        **kwargs: Arguments of :class:`ConvBN`.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 **kwargs):
        super().__init__(in_channels, out_channels, kernel_size, act="relu", **kwargs)

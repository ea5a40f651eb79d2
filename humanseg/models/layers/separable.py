"""Depthwise and depthwise-separable convolution blocks with PaddleSeg's parameter names."""
from __future__ import annotations

import paddle.nn as nn

from humanseg.models.layers.conv_bn import ConvBN, ConvBNReLU, Padding


class DepthwiseConvBN(nn.Layer):
    """Depthwise convolution + BN, stored as ``depthwise_conv``.

    Args:
        in_channels: Input channels (also the number of groups).
        out_channels: Output channels, a multiple of ``in_channels``.
        kernel_size: Kernel size.
        stride: Stride.
        padding: An int, a pair, or ``"same"``.
        dilation: Dilation.
        bias: Whether the convolution has a bias.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: Padding = "same", dilation: int = 1, bias: bool = True):
        super().__init__()
        self.depthwise_conv = ConvBN(in_channels, out_channels, kernel_size, stride=stride,
                                     padding=padding, dilation=dilation, groups=in_channels,
                                     bias=bias)

    def forward(self, x):
        return self.depthwise_conv(x)


class SeparableConvBNReLU(nn.Layer):
    """Depthwise conv + BN, then pointwise 1x1 conv + BN + ReLU.

    The sublayers are ``depthwise_conv`` and ``piontwise_conv``; the misspelling is PaddleSeg's and
    is kept so that its checkpoints load. Stride and dilation apply to the depthwise convolution.

    Args:
        in_channels: Input channels.
        out_channels: Output channels of the pointwise convolution.
        kernel_size: Depthwise kernel size.
        stride: Depthwise stride.
        padding: Depthwise padding: an int, a pair, or ``"same"``.
        dilation: Depthwise dilation.
        bias: Whether the depthwise convolution has a bias.
        pointwise_bias: Whether the pointwise convolution has a bias.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: Padding = "same", dilation: int = 1, bias: bool = True,
                 pointwise_bias: bool = True):
        super().__init__()
        self.depthwise_conv = ConvBN(in_channels, in_channels, kernel_size, stride=stride,
                                     padding=padding, dilation=dilation, groups=in_channels,
                                     bias=bias)
        self.piontwise_conv = ConvBNReLU(in_channels, out_channels, 1, padding=0,
                                         bias=pointwise_bias)

    def forward(self, x):
        return self.piontwise_conv(self.depthwise_conv(x))

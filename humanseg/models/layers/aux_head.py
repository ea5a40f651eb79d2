"""Auxiliary segmentation head used for deep supervision, with PaddleSeg's parameter names."""
from __future__ import annotations

import paddle
import paddle.nn as nn

from humanseg.models.layers.conv_bn import ConvBNReLU


class AuxLayer(nn.Layer):
    """3x3 conv+BN+ReLU, dropout, 1x1 conv to ``out_channels`` (PaddleSeg's ``AuxLayer``).

    Args:
        in_channels: Input channels.
        inter_channels: Channels of the 3x3 convolution.
        out_channels: Output channels, usually the number of classes.
        dropout_prob: Dropout probability in training.
    """

    def __init__(self, in_channels: int, inter_channels: int, out_channels: int,
                 dropout_prob: float = 0.1):
        super().__init__()
        self.conv_bn_relu = ConvBNReLU(in_channels, inter_channels, 3, padding=1)
        self.dropout = nn.Dropout(p=dropout_prob)
        self.conv = nn.Conv2D(inter_channels, out_channels, 1)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.conv(self.dropout(self.conv_bn_relu(x)))

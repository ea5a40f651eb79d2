"""Pyramid pooling module (PSPNet) with PaddleSeg's parameter names."""
from __future__ import annotations

from typing import Sequence

import paddle
import paddle.nn as nn

from humanseg.models.layers.conv_bn import ConvBNReLU
from humanseg.models.layers.ops import resize_to, spatial_size


class PPModule(nn.Layer):
    """Average-pool the input to each of ``bin_sizes``, reduce with 1x1 conv+BN+ReLU, upsample
    back, concatenate with the input (input first, then the bins in reverse order) and fuse with
    a 3x3 conv+BN+ReLU.

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        bin_sizes: Pooled sizes, e.g. ``(1, 2, 3, 6)``.
        dim_reduction: Each bin keeps ``in_channels // len(bin_sizes)`` channels (else
            ``in_channels``).
        align_corners: ``align_corners`` of the upsampling.
    """

    def __init__(self, in_channels: int, out_channels: int, bin_sizes: Sequence[int] = (1, 2, 3, 6),
                 dim_reduction: bool = True, align_corners: bool = False):
        super().__init__()
        inter = in_channels // len(bin_sizes) if dim_reduction else in_channels
        self.stages = nn.LayerList([
            nn.Sequential(nn.AdaptiveAvgPool2D(output_size=(size, size)),
                          ConvBNReLU(in_channels, inter, 1))
            for size in bin_sizes])
        self.conv_bn_relu2 = ConvBNReLU(in_channels + inter * len(bin_sizes), out_channels, 3,
                                        padding=1)
        self.align_corners = align_corners

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        size = spatial_size(x)
        pooled = [resize_to(stage(x), size, align_corners=self.align_corners)
                  for stage in self.stages]
        return self.conv_bn_relu2(paddle.concat([x, *pooled[::-1]], axis=1))

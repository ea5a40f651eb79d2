"""FCN head on a backbone (Long, Shelhamer, Darrell, CVPR 2015, arXiv:1411.4038).

FCN + HRNet-W18 is a row of the PP-HumanSeg Cityscapes table; FCN + HRNet-W18-Small-V1 is
PP-HumanSeg-Mobile. Parameter names equal PaddleSeg's (``backbone.*``, ``head.conv_1``,
``head.cls``).
"""
from __future__ import annotations

from typing import Sequence

import paddle
import paddle.nn as nn

from humanseg.cvlibs.registry import MODELS
from humanseg.models.layers import (ConvBNReLU, init_conv_normal_bn_constant, resize_to,
                                    select_channels, spatial_size)

__all__ = ["FCN", "FCNHead"]


class FCNHead(nn.Layer):
    """1x1 conv+BN+ReLU then a 1x1 classifier, on one backbone feature.

    Args:
        num_classes: Number of classes.
        backbone_indices: Which backbone output to use (only the first index is used).
        backbone_channels: Channels of the selected backbone outputs.
        channels: Channels of the hidden conv; defaults to the input's.
        bias: Whether both convolutions have a bias.
    """

    def __init__(self, num_classes: int, backbone_indices: Sequence[int] = (-1,),
                 backbone_channels: Sequence[int] = (270,), channels: int | None = None,
                 bias: bool = True):
        super().__init__()
        self.backbone_indices = list(backbone_indices)
        channels = backbone_channels[0] if channels is None else channels
        self.conv_1 = ConvBNReLU(backbone_channels[0], channels, 1, bias=bias)
        self.cls = nn.Conv2D(channels, num_classes, 1, bias_attr=None if bias else False)
        init_conv_normal_bn_constant(self, std=0.001)

    def forward(self, feats: list[paddle.Tensor]) -> list[paddle.Tensor]:
        return [self.cls(self.conv_1(feats[self.backbone_indices[0]]))]


@MODELS.register
class FCN(nn.Layer):
    """Fully convolutional network: backbone, :class:`FCNHead`, bilinear upsampling.

    Returns ``[logit]`` in training and evaluation.

    Args:
        num_classes: Number of classes.
        backbone: A backbone declaring ``feat_channels``.
        backbone_indices: Backbone output fed to the head.
        channels: Hidden channels of the head; defaults to the backbone feature's.
        align_corners: ``align_corners`` of the final upsampling.
        pretrained: Weights of the whole model (file, directory, archive or URL), stored here
            and loaded strictly by the builder (``cvlibs.builder.build_model``).
        bias: Whether the head's convolutions have a bias.
        data_format: Only ``"NCHW"``.
        allow_partial_pretrained: Load ``pretrained`` partially (matching tensors only, the rest
            reported), e.g. to fine-tune with another ``num_classes``.
    """

    def __init__(self, num_classes: int, backbone: nn.Layer,
                 backbone_indices: Sequence[int] = (-1,), channels: int | None = None,
                 align_corners: bool = False, pretrained: str | None = None, bias: bool = True,
                 data_format: str = "NCHW", allow_partial_pretrained: bool = False):
        super().__init__()
        if data_format != "NCHW":
            raise ValueError(f"FCN supports data_format NCHW only, got {data_format!r}")
        self.backbone = backbone
        self.num_classes = num_classes
        self.align_corners = align_corners
        self.pretrained = pretrained
        feat_channels = select_channels(backbone.feat_channels, list(backbone_indices), "FCN")
        self.head = FCNHead(num_classes, backbone_indices, feat_channels, channels, bias=bias)
        self.allow_partial_pretrained = allow_partial_pretrained

    def forward(self, x: paddle.Tensor) -> list[paddle.Tensor]:
        """Return ``[logit]`` of shape ``[N, num_classes, H, W]``."""
        size = spatial_size(x)
        return [resize_to(logit, size, align_corners=self.align_corners)
                for logit in self.head(self.backbone(x))]

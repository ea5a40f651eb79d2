"""PP-HumanSeg-Lite (ConnectNet): the ultra-lightweight portrait segmentation network."""
from __future__ import annotations

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from humanseg.cvlibs.registry import MODELS
from humanseg.models.layers import (ConvBNReLU, SeparableConvBNReLU, channel_shuffle,
                                    init_conv_normal_bn_constant, resize_to, spatial_size)

__all__ = ["PPHumanSegLite"]


def _separable(in_channels: int, out_channels: int, stride: int = 1) -> SeparableConvBNReLU:
    """3x3 depthwise (+BN) and 1x1 pointwise (+BN+ReLU), both without bias."""
    return SeparableConvBNReLU(in_channels, out_channels, 3, stride=stride, padding=1,
                               bias=False, pointwise_bias=False)


class ShuffleUnit(nn.Layer):
    """ShuffleNetV2 unit as ConnectNet uses it.

    Stride 1: the input is split in two halves; the second goes through 1x1 conv, 3x3 depthwise
    conv and 1x1 conv; the halves are concatenated and shuffled. Stride 2: both branches see the
    whole input, one through a separable conv, the other through 1x1 + separable conv.

    ``_depthwise_separable_0`` (the stride-2 shortcut branch) is also built, but never called, in
    stride-1 units because the released checkpoints contain it.

    Args:
        in_channels: Input channels (even for stride 1).
        stride: 1 or 2.
        out_channels: Output channels; defaults to ``in_channels`` for stride 1 and
            ``2 * in_channels`` for stride 2.
    """

    def __init__(self, in_channels: int, stride: int, out_channels: int | None = None):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"ShuffleUnit stride must be 1 or 2, got {stride}")
        branch_in = in_channels // 2 if stride == 1 else in_channels
        branch_out = branch_in if out_channels is None else out_channels // 2
        self.stride = stride
        self._depthwise_separable_0 = _separable(in_channels, branch_out, stride)
        self._conv = ConvBNReLU(branch_in, branch_out, 1, padding=0, bias=False)
        self._depthwise_separable_1 = _separable(branch_out, branch_out, stride)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        if self.stride == 1:
            shortcut, branch = paddle.split(x, 2, axis=1)
        else:
            shortcut, branch = self._depthwise_separable_0(x), x
        branch = self._depthwise_separable_1(self._conv(branch))
        return channel_shuffle(paddle.concat([shortcut, branch], axis=1), 2)


def _stage(in_channels: int, out_channels: int, num_units: int) -> nn.Sequential:
    """One stride-2 unit to ``out_channels`` followed by ``num_units - 1`` stride-1 units."""
    units = [ShuffleUnit(in_channels, 2, out_channels)]
    units += [ShuffleUnit(out_channels, 1) for _ in range(num_units - 1)]
    return nn.Sequential(*units)


@MODELS.register
class PPHumanSegLite(nn.Layer):
    """PP-HumanSeg-Lite, the ConnectNet of the PP-HumanSeg paper.

    Chu, L., Liu, Y., Wu, Z., et al. "PP-HumanSeg: Connectivity-Aware Portrait Segmentation with a
    Large-Scale Teleconferencing Video Dataset." WACV 2022 Workshops. arXiv:2112.07146.

    Encoder: 3x3 stride-2 conv, max pool, two ShuffleNetV2 stages (1/8, 1/16). Decoder: separable
    conv, bilinear upsampling to 1/2 concatenated with a 1x1 shortcut from the first conv, two
    separable convs (the last one to ``num_classes``, with BN and ReLU), bilinear upsampling to the
    input size. Parameter names and shapes equal PaddleSeg's, so its checkpoints load strictly.

    Args:
        num_classes: Number of classes.
        in_channels: Input image channels.
        pretrained: Path of a ``.pdparams`` file (or a directory holding ``model.pdparams``)
            (or an archive or a URL), stored here and loaded strictly by the builder
            (``cvlibs.builder.build_model``).
        align_corners: ``align_corners`` of both bilinear upsamplings.
        allow_partial_pretrained: Load ``pretrained`` partially (matching tensors only, the rest
            reported), e.g. to fine-tune released weights for another number of classes.
    """

    def __init__(self, num_classes: int, in_channels: int = 3, pretrained: str | None = None,
                 align_corners: bool = False, allow_partial_pretrained: bool = False):
        super().__init__()
        self.num_classes = num_classes
        self.align_corners = align_corners
        self.pretrained = pretrained

        self.conv_bn0 = ConvBNReLU(in_channels, 36, 3, stride=2, padding=1, bias=False)
        self.conv_bn1 = ConvBNReLU(36, 18, 1, padding=0, bias=False)
        self.block1 = _stage(36, 72, 4)
        self.block2 = _stage(72, 144, 8)
        self.depthwise_separable0 = _separable(144, 64)
        self.depthwise_separable1 = _separable(18 + 64, 64)
        self.depthwise_separable2 = _separable(64, num_classes)

        init_conv_normal_bn_constant(self, std=0.001)
        self.allow_partial_pretrained = allow_partial_pretrained

    def forward(self, x: paddle.Tensor) -> list[paddle.Tensor]:
        """Return ``[logit]``, the logits of shape ``[N, num_classes, H, W]`` (non-negative)."""
        input_size = spatial_size(x)
        x = self.conv_bn0(x)
        shortcut = self.conv_bn1(x)
        x = F.max_pool2d(x, kernel_size=3, stride=2, padding=1)
        x = self.block2(self.block1(x))

        x = self.depthwise_separable0(x)
        x = resize_to(x, spatial_size(shortcut), align_corners=self.align_corners)
        x = self.depthwise_separable1(paddle.concat([shortcut, x], axis=1))
        logit = self.depthwise_separable2(x)
        return [resize_to(logit, input_size, align_corners=self.align_corners)]

"""Fast-SCNN (Poudel, Liwicki, Cipolla, BMVC 2019, arXiv:1902.04502) with PaddleSeg's names."""
from __future__ import annotations

from typing import Sequence

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from humanseg.cvlibs.registry import MODELS
from humanseg.models.layers import (AuxLayer, ConvBN, ConvBNReLU, PPModule, SeparableConvBNReLU,
                                    resize_to, spatial_size)

__all__ = ["FastSCNN"]


class LearningToDownsample(nn.Layer):
    """Stride-2 conv and two stride-2 separable convs: 1/8 resolution, ``out_channels``."""

    def __init__(self, in_channels: int = 3, dw_channels1: int = 32, dw_channels2: int = 48,
                 out_channels: int = 64):
        super().__init__()
        self.conv_bn_relu = ConvBNReLU(in_channels, dw_channels1, 3, stride=2)
        self.dsconv_bn_relu1 = SeparableConvBNReLU(dw_channels1, dw_channels2, 3, stride=2,
                                                   padding=1)
        self.dsconv_bn_relu2 = SeparableConvBNReLU(dw_channels2, out_channels, 3, stride=2,
                                                   padding=1)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.dsconv_bn_relu2(self.dsconv_bn_relu1(self.conv_bn_relu(x)))


class InvertedBottleneck(nn.Layer):
    """MobileNetV2 block: 1x1 expand, 3x3 depthwise (stride), 1x1 project; residual if shapes allow.

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        expansion: Expansion factor of the hidden width.
        stride: Stride of the depthwise conv.
    """

    def __init__(self, in_channels: int, out_channels: int, expansion: int = 6, stride: int = 2):
        super().__init__()
        self.use_shortcut = stride == 1 and in_channels == out_channels
        hidden = in_channels * expansion
        self.block = nn.Sequential(
            ConvBNReLU(in_channels, hidden, 1, bias=False),
            ConvBNReLU(hidden, hidden, 3, stride=stride, padding=1, groups=hidden, bias=False),
            ConvBN(hidden, out_channels, 1, bias=False))

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        out = self.block(x)
        return x + out if self.use_shortcut else out


class GlobalFeatureExtractor(nn.Layer):
    """Three groups of inverted bottlenecks (to 1/32) and a pyramid pooling module."""

    def __init__(self, in_channels: int, block_channels: Sequence[int], out_channels: int,
                 expansion: int, num_blocks: Sequence[int], align_corners: bool):
        super().__init__()
        strides = (2, 2, 1)
        prev = in_channels
        for n, (channels, blocks, stride) in enumerate(zip(block_channels, num_blocks, strides)):
            group = [InvertedBottleneck(prev, channels, expansion, stride)]
            group += [InvertedBottleneck(channels, channels, expansion, 1)
                      for _ in range(blocks - 1)]
            setattr(self, f"bottleneck{n + 1}", nn.Sequential(*group))
            prev = channels
        self.ppm = PPModule(prev, out_channels, bin_sizes=(1, 2, 3, 6), dim_reduction=True,
                            align_corners=align_corners)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.ppm(self.bottleneck3(self.bottleneck2(self.bottleneck1(x))))


class FeatureFusionModule(nn.Layer):
    """Adds the upsampled low-resolution branch (depthwise conv + 1x1) to the 1x1-projected
    high-resolution branch, then ReLU."""

    def __init__(self, high_in_channels: int, low_in_channels: int, out_channels: int,
                 align_corners: bool):
        super().__init__()
        # groups=128 as in PaddleSeg (depthwise for the default 128 channels).
        self.dwconv = ConvBNReLU(low_in_channels, out_channels, 3, padding=1, groups=128,
                                 bias=False)
        self.conv_low_res = ConvBN(out_channels, out_channels, 1)
        self.conv_high_res = ConvBN(high_in_channels, out_channels, 1)
        self.align_corners = align_corners

    def forward(self, high: paddle.Tensor, low: paddle.Tensor) -> paddle.Tensor:
        low = resize_to(low, spatial_size(high), align_corners=self.align_corners)
        low = self.conv_low_res(self.dwconv(low))
        return F.relu(self.conv_high_res(high) + low)


class Classifier(nn.Layer):
    """Two separable convs, dropout and a 1x1 conv to the classes."""

    def __init__(self, in_channels: int, num_classes: int):
        super().__init__()
        self.dsconv1 = SeparableConvBNReLU(in_channels, in_channels, 3, padding=1)
        self.dsconv2 = SeparableConvBNReLU(in_channels, in_channels, 3, padding=1)
        self.conv = nn.Conv2D(in_channels, num_classes, 1)
        self.dropout = nn.Dropout(p=0.1)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.conv(self.dropout(self.dsconv2(self.dsconv1(x))))


@MODELS.register
class FastSCNN(nn.Layer):
    """Fast-SCNN: learning to downsample, global feature extractor with PPM, feature fusion and
    classifier, plus an optional auxiliary head on the 1/8 features.

    Returns ``[logit, aux_logit]`` when ``enable_auxiliary_loss`` (in training *and* evaluation,
    as PaddleSeg's model does; evaluation and export use the first), else ``[logit]``.

    Args:
        num_classes: Number of classes.
        in_channels: Input image channels.
        enable_auxiliary_loss: Add the auxiliary head (needs a second loss in ``loss.types``).
        align_corners: ``align_corners`` of the fusion and final upsampling (the PPM always uses
            ``True``, as PaddleSeg).
        pretrained: Weights of the whole model (file, directory, archive or URL), stored here
            and loaded strictly by the builder (``cvlibs.builder.build_model``).
        allow_partial_pretrained: Load ``pretrained`` partially (matching tensors only, the rest
            reported).
    """

    def __init__(self, num_classes: int, in_channels: int = 3, enable_auxiliary_loss: bool = True,
                 align_corners: bool = False, pretrained: str | None = None,
                 allow_partial_pretrained: bool = False):
        super().__init__()
        self.num_classes = num_classes
        self.learning_to_downsample = LearningToDownsample(in_channels, 32, 48, 64)
        self.global_feature_extractor = GlobalFeatureExtractor(
            64, [64, 96, 128], 128, expansion=6, num_blocks=[3, 3, 3], align_corners=True)
        self.feature_fusion = FeatureFusionModule(64, 128, 128, align_corners)
        self.classifier = Classifier(128, num_classes)
        if enable_auxiliary_loss:
            self.auxlayer = AuxLayer(64, 32, num_classes)
        self.enable_auxiliary_loss = enable_auxiliary_loss
        self.align_corners = align_corners
        self.pretrained = pretrained
        self.allow_partial_pretrained = allow_partial_pretrained

    def forward(self, x: paddle.Tensor) -> list[paddle.Tensor]:
        """Return ``[logit]`` or ``[logit, aux_logit]``, each ``[N, num_classes, H, W]``."""
        size = spatial_size(x)
        high = self.learning_to_downsample(x)
        fused = self.feature_fusion(high, self.global_feature_extractor(high))
        logits = [self.classifier(fused)]
        if self.enable_auxiliary_loss:
            logits.append(self.auxlayer(high))
        return [resize_to(logit, size, align_corners=self.align_corners) for logit in logits]

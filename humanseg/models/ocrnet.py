"""OCRNet: object-contextual representations (Yuan, Chen, Wang, ECCV 2020, arXiv:1909.11065).

OCRNet + HRNet-W48 is the strongest row of the PP-HumanSeg Cityscapes table. Parameter names
equal PaddleSeg's (``head.spatial_ocr.attention_block.f_pixel`` ...).
"""
from __future__ import annotations

from typing import Sequence

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from humanseg.cvlibs.registry import MODELS
from humanseg.models.layers import (ConvBNReLU, init_conv_normal_bn_constant, resize_to,
                                    select_channels, spatial_size)

__all__ = ["OCRNet", "OCRHead", "SpatialGatherBlock", "SpatialOCRModule",
           "ObjectAttentionBlock"]


def _flatten(x: paddle.Tensor, channels: int) -> paddle.Tensor:
    """``[N, C, H, W]`` -> ``[N, C, H*W]``."""
    return paddle.reshape(x, [0, channels, -1])


class SpatialGatherBlock(nn.Layer):
    """Object region representations: the pixel features averaged with each class's spatial
    softmax of the soft object regions. Returns ``[N, C, K, 1]``.

    Args:
        pixels_channels: Channels ``C`` of the pixel features.
        regions_channels: Number of regions ``K`` (the classes).
    """

    def __init__(self, pixels_channels: int, regions_channels: int):
        super().__init__()
        self.pixels_channels = pixels_channels
        self.regions_channels = regions_channels

    def forward(self, pixels: paddle.Tensor, regions: paddle.Tensor) -> paddle.Tensor:
        pixels = paddle.transpose(_flatten(pixels, self.pixels_channels), [0, 2, 1])
        weights = F.softmax(_flatten(regions, self.regions_channels), axis=2)
        feats = paddle.transpose(paddle.bmm(weights, pixels), [0, 2, 1])
        return paddle.unsqueeze(feats, axis=-1)


class ObjectAttentionBlock(nn.Layer):
    """Pixel-to-region attention: queries from the pixels, keys and values from the regions.

    Args:
        in_channels: Channels of the pixel and region features.
        key_channels: Channels of queries, keys and values.
    """

    def __init__(self, in_channels: int, key_channels: int):
        super().__init__()
        self.key_channels = key_channels

        def two_convs() -> nn.Sequential:
            return nn.Sequential(ConvBNReLU(in_channels, key_channels, 1),
                                 ConvBNReLU(key_channels, key_channels, 1))

        self.f_pixel = two_convs()
        self.f_object = two_convs()
        self.f_down = ConvBNReLU(in_channels, key_channels, 1)
        self.f_up = ConvBNReLU(key_channels, in_channels, 1)

    def forward(self, x: paddle.Tensor, proxy: paddle.Tensor) -> paddle.Tensor:
        hw = spatial_size(x)
        query = paddle.transpose(_flatten(self.f_pixel(x), self.key_channels), [0, 2, 1])
        key = _flatten(self.f_object(proxy), self.key_channels)
        value = paddle.transpose(_flatten(self.f_down(proxy), self.key_channels), [0, 2, 1])
        sim = F.softmax((self.key_channels ** -0.5) * paddle.bmm(query, key), axis=-1)
        context = paddle.transpose(paddle.bmm(sim, value), [0, 2, 1])
        context = paddle.reshape(context, [0, self.key_channels, hw[0], hw[1]])
        return self.f_up(context)


class SpatialOCRModule(nn.Layer):
    """Augments each pixel with its object context: attention, concat with the pixels, 1x1 conv.

    Args:
        in_channels: Channels of the pixel features.
        key_channels: Channels of the attention.
        out_channels: Output channels.
        dropout_rate: Channel dropout after the fusion conv.
    """

    def __init__(self, in_channels: int, key_channels: int, out_channels: int,
                 dropout_rate: float = 0.1):
        super().__init__()
        self.attention_block = ObjectAttentionBlock(in_channels, key_channels)
        self.conv1x1 = nn.Sequential(ConvBNReLU(2 * in_channels, out_channels, 1),
                                     nn.Dropout2D(dropout_rate))

    def forward(self, pixels: paddle.Tensor, regions: paddle.Tensor) -> paddle.Tensor:
        context = self.attention_block(pixels, regions)
        return self.conv1x1(paddle.concat([context, pixels], axis=1))


class OCRHead(nn.Layer):
    """Soft object regions from an auxiliary head, then OCR on 3x3-conv pixel features.

    Returns ``[logit, soft_regions]``.

    Args:
        num_classes: Number of classes.
        in_channels: Channels of the selected backbone features: one (used for both) or two
            (shallow for the auxiliary head, deep for the pixels).
        ocr_mid_channels: Channels of the pixel and object representations.
        ocr_key_channels: Channels of the attention.
    """

    def __init__(self, num_classes: int, in_channels: Sequence[int], ocr_mid_channels: int = 512,
                 ocr_key_channels: int = 256):
        super().__init__()
        self.indices = [-2, -1] if len(in_channels) > 1 else [-1, -1]
        shallow, deep = in_channels[self.indices[0]], in_channels[self.indices[1]]
        self.spatial_gather = SpatialGatherBlock(ocr_mid_channels, num_classes)
        self.spatial_ocr = SpatialOCRModule(ocr_mid_channels, ocr_key_channels, ocr_mid_channels)
        self.conv3x3_ocr = ConvBNReLU(deep, ocr_mid_channels, 3, padding=1)
        self.cls_head = nn.Conv2D(ocr_mid_channels, num_classes, 1)
        self.aux_head = nn.Sequential(ConvBNReLU(shallow, shallow, 1),
                                      nn.Conv2D(shallow, num_classes, 1))
        init_conv_normal_bn_constant(self, std=0.001)

    def forward(self, feats: list[paddle.Tensor]) -> list[paddle.Tensor]:
        soft_regions = self.aux_head(feats[self.indices[0]])
        pixels = self.conv3x3_ocr(feats[self.indices[1]])
        objects = self.spatial_gather(pixels, soft_regions)
        return [self.cls_head(self.spatial_ocr(pixels, objects)), soft_regions]


@MODELS.register
class OCRNet(nn.Layer):
    """OCRNet: backbone, :class:`OCRHead`, bilinear upsampling to the input size.

    Returns ``[logit, soft_regions]`` in training (losses ``[CE, CE]`` with coef ``[1, 0.4]`` in
    PaddleSeg's configs) and ``[logit]`` in evaluation.

    Args:
        num_classes: Number of classes.
        backbone: A backbone declaring ``feat_channels``.
        backbone_indices: One or two backbone outputs (see :class:`OCRHead`).
        ocr_mid_channels: Channels of the pixel and object representations.
        ocr_key_channels: Channels of the attention.
        align_corners: ``align_corners`` of the final upsampling.
        pretrained: Weights of the whole model (file, directory, archive or URL), stored here
            and loaded strictly by the builder (``cvlibs.builder.build_model``).
        allow_partial_pretrained: Load ``pretrained`` partially (matching tensors only, the rest
            reported).
    """

    def __init__(self, num_classes: int, backbone: nn.Layer, backbone_indices: Sequence[int],
                 ocr_mid_channels: int = 512, ocr_key_channels: int = 256,
                 align_corners: bool = False, pretrained: str | None = None,
                 allow_partial_pretrained: bool = False):
        super().__init__()
        self.backbone = backbone
        self.backbone_indices = list(backbone_indices)
        self.num_classes = num_classes
        self.align_corners = align_corners
        self.pretrained = pretrained
        in_channels = select_channels(backbone.feat_channels, self.backbone_indices, "OCRNet")
        self.head = OCRHead(num_classes, in_channels, ocr_mid_channels, ocr_key_channels)
        self.allow_partial_pretrained = allow_partial_pretrained

    def forward(self, x: paddle.Tensor) -> list[paddle.Tensor]:
        """Return ``[logit, soft_regions]`` (training) or ``[logit]`` (evaluation)."""
        feats = self.backbone(x)
        logits = self.head([feats[i] for i in self.backbone_indices])
        if not self.training:
            logits = logits[:1]
        size = spatial_size(x)
        return [resize_to(logit, size, align_corners=self.align_corners) for logit in logits]

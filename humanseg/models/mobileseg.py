"""MobileSeg: PaddleSeg's PP-LiteSeg variant for mobile devices (separable convolutions, an
optional last fusion of every decoder stage), with PaddleSeg's parameter names.

MobileSeg on MobileNetV3-Large x1.0 is PP-HumanSeg V2 Lite.
"""
from __future__ import annotations

from typing import Sequence

import paddle
import paddle.nn as nn

from humanseg.cvlibs.registry import MODELS
from humanseg.models.layers import SeparableConvBNReLU, resize_to, spatial_size
from humanseg.models.pp_liteseg import PPContextModule, PPLiteSegHead, _DecoderSegModel

__all__ = ["MobileSeg", "MobileSegHead"]


def _separable(in_channels: int, out_channels: int) -> SeparableConvBNReLU:
    """3x3 depthwise conv (no bias) + BN, 1x1 conv + BN + ReLU."""
    return SeparableConvBNReLU(in_channels, out_channels, 3, bias=False)


class MobileSegHead(PPLiteSegHead):
    """:class:`PPLiteSegHead` with a separable context-module projection and, with
    ``use_last_fuse``, a last step that projects every deeper stage to the first stage's channels
    (``fuse_convs``), upsamples, concatenates and fuses them (``last_conv``) into the first output.

    Args:
        backbone_out_chs: Channels of the selected backbone features, shallow to deep.
        arm_out_chs: Output channels of each UAFM, shallow to deep.
        cm_bin_sizes: Bin sizes of the context module.
        cm_out_ch: Output channels of the context module.
        arm_type: UAFM class name.
        resize_mode: Interpolation mode of the UAFMs' upsampling.
        use_last_fuse: Add the last fusion.
    """

    def __init__(self, backbone_out_chs: Sequence[int], arm_out_chs: Sequence[int],
                 cm_bin_sizes: Sequence[int], cm_out_ch: int, arm_type: str, resize_mode: str,
                 use_last_fuse: bool):
        cm = PPContextModule(backbone_out_chs[-1], cm_out_ch, cm_out_ch, cm_bin_sizes,
                             conv_out=_separable(cm_out_ch, cm_out_ch))
        super().__init__(backbone_out_chs, arm_out_chs, cm_bin_sizes, cm_out_ch, arm_type,
                         resize_mode, cm=cm)
        self.use_last_fuse = use_last_fuse
        if use_last_fuse:
            first = arm_out_chs[0]
            self.fuse_convs = nn.LayerList([_separable(c, first) for c in arm_out_chs[1:]])
            self.last_conv = _separable(len(arm_out_chs) * first, first)

    def forward(self, feats: list[paddle.Tensor]) -> list[paddle.Tensor]:
        """Return one fused feature per input feature, shallow to deep."""
        outs = PPLiteSegHead.forward(self, feats)
        if self.use_last_fuse:
            size = spatial_size(outs[0])
            ups = [resize_to(conv(f), size, align_corners=False)
                   for f, conv in zip(outs[1:], self.fuse_convs)]
            outs[0] = self.last_conv(paddle.concat([outs[0], *ups], axis=1))
        return outs


class SegHead(nn.Layer):
    """Separable 3x3 conv (+BN+ReLU) then a bias-free 1x1 classifier."""

    def __init__(self, in_channels: int, mid_channels: int, num_classes: int):
        super().__init__()
        self.conv = _separable(in_channels, mid_channels)
        self.conv_out = nn.Conv2D(mid_channels, num_classes, 1, bias_attr=False)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.conv_out(self.conv(x))


@MODELS.register
class MobileSeg(_DecoderSegModel):
    """MobileSeg: backbone, pyramid-pooling context module, separable UAFM decoder (optionally with
    a last fusion of all stages), one separable segmentation head per decoder stage.

    Returns ``len(backbone_indices)`` logits in training (the main output first, then one per
    deeper stage; ``loss.types`` needs one entry each) and ``[logit]`` in evaluation.

    Args:
        num_classes: Number of classes.
        backbone: A backbone declaring ``feat_channels`` (e.g. ``MobileNetV3_large_x1_0``).
        backbone_indices: Backbone outputs fed to the decoder, shallow to deep.
        cm_bin_sizes: Bin sizes of the context module.
        cm_out_ch: Output channels of the context module.
        arm_type: UAFM class name; ``UAFMMobile`` (default) or any
            :class:`~humanseg.models.pp_liteseg.PPLiteSeg` accepts.
        arm_out_chs: Output channels of each UAFM (one value is repeated for every stage).
        seg_head_inter_chs: Hidden channels of each segmentation head (one value is repeated).
        resize_mode: Interpolation mode of the decoder's upsampling.
        use_last_fuse: Fuse every decoder stage into the main one before its head.
        pretrained: Weights of the whole model for the builder to load (stored only).
    """

    head_class = MobileSegHead
    seg_head_class = SegHead

    def __init__(self, num_classes: int, backbone: nn.Layer,
                 backbone_indices: Sequence[int] = (1, 2, 3), cm_bin_sizes: Sequence[int] = (1, 2),
                 cm_out_ch: int = 64, arm_type: str = "UAFMMobile",
                 arm_out_chs: Sequence[int] = (32, 48, 64),
                 seg_head_inter_chs: Sequence[int] = (32, 32, 32),
                 resize_mode: str = "bilinear", use_last_fuse: bool = False,
                 pretrained: str | None = None):
        super().__init__(num_classes, backbone, backbone_indices, arm_out_chs, seg_head_inter_chs,
                         pretrained, cm_bin_sizes=cm_bin_sizes, cm_out_ch=cm_out_ch,
                         arm_type=arm_type, resize_mode=resize_mode, use_last_fuse=use_last_fuse)

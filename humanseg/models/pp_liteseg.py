"""PP-LiteSeg (Peng et al., "PP-LiteSeg: A Superior Real-Time Semantic Segmentation Model",
arXiv:2204.02681) with PaddleSeg's parameter names (``backbone.*``, ``ppseg_head.cm``,
``ppseg_head.arm_list``, ``seg_heads``).

PP-LiteSeg on STDC1 is also PP-HumanSeg V2 Mobile.
"""
from __future__ import annotations

from typing import Sequence

import paddle
import paddle.nn as nn

from humanseg.cvlibs.registry import MODELS
from humanseg.models.layers import (ConvBNReLU, build_uafm, resize_to, select_channels,
                                    spatial_size)

__all__ = ["PPLiteSeg", "PPLiteSegHead", "PPContextModule", "broadcast_channels"]


def broadcast_channels(values: Sequence[int], n: int, name: str, owner: str) -> list[int]:
    """``values`` repeated ``n`` times if it has one item, else checked to have ``n`` items.

    Raises:
        ValueError: ``values`` has neither 1 nor ``n`` items.
    """
    values = list(values)
    if len(values) == 1:
        return values * n
    if len(values) != n:
        raise ValueError(f"{owner}: {name} {values} must have 1 or {n} values (one per "
                         f"backbone_indices entry)")
    return values


class PPContextModule(nn.Layer):
    """Simple pyramid pooling: average-pool to each of ``bin_sizes``, 1x1 ConvBNReLU to
    ``inter_channels``, upsample back, *sum*, then ``conv_out``.

    Args:
        in_channels: Input channels.
        inter_channels: Channels of each pooled branch.
        out_channels: Output channels.
        bin_sizes: Pooled sizes.
        align_corners: ``align_corners`` of the upsampling.
        conv_out: The output projection; defaults to a 3x3 ConvBNReLU.
    """

    def __init__(self, in_channels: int, inter_channels: int, out_channels: int,
                 bin_sizes: Sequence[int], align_corners: bool = False,
                 conv_out: nn.Layer | None = None):
        super().__init__()
        self.stages = nn.LayerList([
            nn.Sequential(nn.AdaptiveAvgPool2D(output_size=size),
                          ConvBNReLU(in_channels, inter_channels, 1))
            for size in bin_sizes])
        self.conv_out = conv_out if conv_out is not None else ConvBNReLU(
            inter_channels, out_channels, 3, padding=1)
        self.align_corners = align_corners

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        size = spatial_size(x)
        out = None
        for stage in self.stages:
            y = resize_to(stage(x), size, align_corners=self.align_corners)
            out = y if out is None else out + y
        return self.conv_out(out)


class PPLiteSegHead(nn.Layer):
    """Decoder: a context module on the deepest feature, then one UAFM per selected feature from
    deep to shallow, each fusing a feature with the previous (deeper) output.

    Args:
        backbone_out_chs: Channels of the selected backbone features, shallow to deep.
        arm_out_chs: Output channels of each UAFM, shallow to deep.
        cm_bin_sizes: Bin sizes of the context module.
        cm_out_ch: Output channels of the context module.
        arm_type: UAFM class name (see :mod:`humanseg.models.layers.attention_fusion`).
        resize_mode: Interpolation mode of the UAFMs' upsampling.
        cm: The context module; defaults to :class:`PPContextModule`.
    """

    def __init__(self, backbone_out_chs: Sequence[int], arm_out_chs: Sequence[int],
                 cm_bin_sizes: Sequence[int], cm_out_ch: int, arm_type: str,
                 resize_mode: str, cm: nn.Layer | None = None):
        super().__init__()
        self.cm = cm if cm is not None else PPContextModule(backbone_out_chs[-1], cm_out_ch,
                                                            cm_out_ch, cm_bin_sizes)
        n = len(backbone_out_chs)
        self.arm_list = nn.LayerList([
            build_uafm(arm_type, backbone_out_chs[i],
                       cm_out_ch if i == n - 1 else arm_out_chs[i + 1], arm_out_chs[i],
                       ksize=3, resize_mode=resize_mode)
            for i in range(n)])

    def forward(self, feats: list[paddle.Tensor]) -> list[paddle.Tensor]:
        """Return one fused feature per input feature, shallow to deep."""
        high = self.cm(feats[-1])
        outs = []
        for i in reversed(range(len(feats))):
            high = self.arm_list[i](feats[i], high)
            outs.insert(0, high)
        return outs


class SegHead(nn.Layer):
    """3x3 ConvBNReLU (no bias) then a bias-free 1x1 classifier."""

    def __init__(self, in_channels: int, mid_channels: int, num_classes: int):
        super().__init__()
        self.conv = ConvBNReLU(in_channels, mid_channels, 3, padding=1, bias=False)
        self.conv_out = nn.Conv2D(mid_channels, num_classes, 1, bias_attr=False)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.conv_out(self.conv(x))


class _DecoderSegModel(nn.Layer):
    """The layout PP-LiteSeg and MobileSeg share: ``backbone``, a ``head_class`` decoder
    (``ppseg_head``) on the ``backbone_indices`` features and one ``seg_head_class`` head per
    decoder stage (``seg_heads``).

    Args:
        num_classes: Number of classes.
        backbone: A backbone declaring ``feat_channels``.
        backbone_indices: Backbone outputs fed to the decoder, shallow to deep.
        arm_out_chs: Output channels of each UAFM (one value is repeated for every stage).
        seg_head_inter_chs: Hidden channels of each segmentation head (one value is repeated).
        pretrained: Weights of the whole model for the builder to load (stored only).
        **head_kwargs: Further arguments of ``head_class``.
    """

    head_class: type[nn.Layer]
    seg_head_class: type[nn.Layer]

    def __init__(self, num_classes: int, backbone: nn.Layer, backbone_indices: Sequence[int],
                 arm_out_chs: Sequence[int], seg_head_inter_chs: Sequence[int],
                 pretrained: str | None, **head_kwargs):
        super().__init__()
        owner = type(self).__name__
        in_chs = select_channels(backbone.feat_channels, list(backbone_indices), owner)
        n = len(in_chs)
        arm_out_chs = broadcast_channels(arm_out_chs, n, "arm_out_chs", owner)
        seg_head_inter_chs = broadcast_channels(seg_head_inter_chs, n, "seg_head_inter_chs",
                                                owner)
        self.num_classes = num_classes
        self.backbone = backbone
        self.backbone_indices = list(backbone_indices)
        self.ppseg_head = self.head_class(in_chs, arm_out_chs, **head_kwargs)
        self.seg_heads = nn.LayerList([self.seg_head_class(c, m, num_classes)
                                       for c, m in zip(arm_out_chs, seg_head_inter_chs)])
        self.pretrained = pretrained

    def forward(self, x: paddle.Tensor) -> list[paddle.Tensor]:
        """Return ``[main, aux...]`` (training: every ``seg_heads`` entry) or ``[main]`` (only the
        first), each upsampled bilinearly to ``[N, num_classes, H, W]``."""
        size = spatial_size(x)
        feats = self.backbone(x)
        feats = self.ppseg_head([feats[i] for i in self.backbone_indices])
        if self.training:
            logits = [head(f) for head, f in zip(self.seg_heads, feats)]
        else:
            logits = [self.seg_heads[0](feats[0])]
        return [resize_to(logit, size, align_corners=False) for logit in logits]


@MODELS.register
class PPLiteSeg(_DecoderSegModel):
    """PP-LiteSeg: backbone, simple pyramid pooling context module, UAFM decoder, one segmentation
    head per decoder stage.

    Returns ``len(backbone_indices)`` logits in training (the shallowest decoder stage first: the
    main output, then one auxiliary output per deeper stage; ``loss.types`` needs one entry each)
    and ``[logit]`` in evaluation.

    Args:
        num_classes: Number of classes.
        backbone: A backbone declaring ``feat_channels`` (e.g. ``STDC1``, ``STDC2``).
        backbone_indices: Backbone outputs fed to the decoder, shallow to deep (at least two).
        arm_type: UAFM class name: ``UAFM_SpAtten`` (default), ``UAFM_SpAtten_S``,
            ``UAFM_ChAtten``, ``UAFM_ChAtten_S``, ``UAFM``, ``UAFMMobile``, ``UAFMMobile_SpAtten``.
        cm_bin_sizes: Bin sizes of the context module.
        cm_out_ch: Output channels of the context module.
        arm_out_chs: Output channels of each UAFM (one value is repeated for every stage).
        seg_head_inter_chs: Hidden channels of each segmentation head (one value is repeated).
        resize_mode: Interpolation mode of the decoder's upsampling.
        pretrained: Weights of the whole model for the builder to load (stored only).
    """

    head_class = PPLiteSegHead
    seg_head_class = SegHead

    def __init__(self, num_classes: int, backbone: nn.Layer,
                 backbone_indices: Sequence[int] = (2, 3, 4), arm_type: str = "UAFM_SpAtten",
                 cm_bin_sizes: Sequence[int] = (1, 2, 4), cm_out_ch: int = 128,
                 arm_out_chs: Sequence[int] = (64, 96, 128),
                 seg_head_inter_chs: Sequence[int] = (64, 64, 64),
                 resize_mode: str = "bilinear", pretrained: str | None = None):
        if len(backbone_indices) < 2:
            raise ValueError(f"PPLiteSeg: backbone_indices needs at least two entries, got "
                             f"{list(backbone_indices)}")
        super().__init__(num_classes, backbone, backbone_indices, arm_out_chs, seg_head_inter_chs,
                         pretrained, cm_bin_sizes=cm_bin_sizes, cm_out_ch=cm_out_ch,
                         arm_type=arm_type, resize_mode=resize_mode)

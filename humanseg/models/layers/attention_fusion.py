"""Unified Attention Fusion Modules (UAFM) of PP-LiteSeg, with PaddleSeg's parameter names.

Peng et al., "PP-LiteSeg: A Superior Real-Time Semantic Segmentation Model", arXiv:2204.02681.
A UAFM upsamples a high-level feature ``y`` to a low-level feature ``x`` (projected to ``y``'s
channels by ``conv_x``), fuses the two (a sum, or ``x * a + y * (1 - a)`` with a channel or
spatial attention ``a``) and projects the result with ``conv_out``. The classes are named as
PaddleSeg's ``arm_type`` values; :func:`build_uafm` builds one by that name.
"""
from __future__ import annotations

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from humanseg.models.layers.conv_bn import ConvBN, ConvBNAct, ConvBNReLU
from humanseg.models.layers.ops import resize_to, spatial_size
from humanseg.models.layers.separable import SeparableConvBNReLU

__all__ = ["UAFM", "UAFMMobile", "UAFMMobile_SpAtten", "UAFM_ChAtten", "UAFM_ChAtten_S",
           "UAFM_SpAtten", "UAFM_SpAtten_S", "UAFM_TYPES", "build_uafm"]


def _mean_max_channels(feats: list[paddle.Tensor]) -> paddle.Tensor:
    """``[mean_c(f0), max_c(f0), mean_c(f1), max_c(f1), ...]`` along the channel axis."""
    out = []
    for f in feats:
        out += [paddle.mean(f, axis=1, keepdim=True), paddle.max(f, axis=1, keepdim=True)]
    return paddle.concat(out, axis=1)


def _mean_channels(feats: list[paddle.Tensor]) -> paddle.Tensor:
    return paddle.concat([paddle.mean(f, axis=1, keepdim=True) for f in feats], axis=1)


def _mean_max_spatial(feats: list[paddle.Tensor], training: bool) -> paddle.Tensor:
    """``[avg_hw(f0), avg_hw(f1), ..., max_hw(f0), max_hw(f1), ...]``, each ``[N, C, 1, 1]``."""
    avg = [F.adaptive_avg_pool2d(f, 1) for f in feats]
    # PaddleSeg takes the max with adaptive pooling in training and paddle.max in evaluation
    # (the same values); kept so that the exported graph is PaddleSeg's.
    mx = [F.adaptive_max_pool2d(f, 1) if training else paddle.max(f, axis=[2, 3], keepdim=True)
          for f in feats]
    return paddle.concat(avg + mx, axis=1)


def _mean_spatial(feats: list[paddle.Tensor]) -> paddle.Tensor:
    return paddle.concat([F.adaptive_avg_pool2d(f, 1) for f in feats], axis=1)


class UAFM(nn.Layer):
    """Fuse by sum: ``conv_out(conv_x(x) + up(y))``, with ConvBNReLU projections.

    Args:
        x_ch: Channels of ``x``, the low-level (higher-resolution) feature.
        y_ch: Channels of ``y``, the high-level feature (and of the fused tensor).
        out_ch: Output channels.
        ksize: Kernel size of ``conv_x``.
        resize_mode: Interpolation mode of the upsampling of ``y``.
    """

    separable = False

    def __init__(self, x_ch: int, y_ch: int, out_ch: int, ksize: int = 3,
                 resize_mode: str = "bilinear"):
        super().__init__()
        if self.separable:
            self.conv_x = SeparableConvBNReLU(x_ch, y_ch, ksize, padding=ksize // 2, bias=False)
            self.conv_out = SeparableConvBNReLU(y_ch, out_ch, 3, padding=1, bias=False)
        else:
            self.conv_x = ConvBNReLU(x_ch, y_ch, ksize, padding=ksize // 2, bias=False)
            self.conv_out = ConvBNReLU(y_ch, out_ch, 3, padding=1, bias=False)
        self.resize_mode = resize_mode

    def fuse(self, x: paddle.Tensor, y: paddle.Tensor) -> paddle.Tensor:
        return self.conv_out(x + y)

    def forward(self, x: paddle.Tensor, y: paddle.Tensor) -> paddle.Tensor:
        """Fuse ``x`` (low level) with ``y`` (high level, upsampled to ``x``'s size)."""
        x = self.conv_x(x)
        y = resize_to(y, spatial_size(x), mode=self.resize_mode)
        return self.fuse(x, y)


class _AttentionUAFM(UAFM):
    """UAFM fusing as ``x * a + y * (1 - a)``, with an attention ``a = sigmoid(conv_xy_atten(s))``
    from statistics ``s`` of ``x`` and ``y``: their means, and their maxima as well with
    ``use_max``; taken over the channels for a spatial attention (``[N, 1, H, W]``, two 3x3
    ConvBNs), over the pixels for a channel attention (``[N, C, 1, 1]``, two 1x1 ConvBNs).
    Arguments as :class:`UAFM`.
    """

    spatial = True
    use_max = True

    def __init__(self, x_ch: int, y_ch: int, out_ch: int, ksize: int = 3,
                 resize_mode: str = "bilinear"):
        super().__init__(x_ch, y_ch, out_ch, ksize, resize_mode)
        stats = 4 if self.use_max else 2
        if self.spatial:
            self.conv_xy_atten = nn.Sequential(ConvBNReLU(stats, 2, 3, padding=1, bias=False),
                                               ConvBN(2, 1, 3, padding=1, bias=False))
        else:
            self.conv_xy_atten = nn.Sequential(
                ConvBNAct(stats * y_ch, y_ch // 2, 1, act="leakyrelu", bias=False),
                ConvBN(y_ch // 2, y_ch, 1, bias=False))

    def attention(self, x: paddle.Tensor, y: paddle.Tensor) -> paddle.Tensor:
        if self.spatial:
            stats = _mean_max_channels([x, y]) if self.use_max else _mean_channels([x, y])
        elif self.use_max:
            stats = _mean_max_spatial([x, y], self.training)
        else:
            stats = _mean_spatial([x, y])
        return F.sigmoid(self.conv_xy_atten(stats))

    def fuse(self, x: paddle.Tensor, y: paddle.Tensor) -> paddle.Tensor:
        atten = self.attention(x, y)
        return self.conv_out(x * atten + y * (1 - atten))


class UAFM_ChAtten(_AttentionUAFM):
    """UAFM with channel attention from the spatial means and maxima of ``x`` and ``y``."""

    spatial = False


class UAFM_ChAtten_S(_AttentionUAFM):
    """UAFM with channel attention from the spatial means of ``x`` and ``y``."""

    spatial = False
    use_max = False


class UAFM_SpAtten(_AttentionUAFM):
    """UAFM with spatial attention from the channel means and maxima of ``x`` and ``y`` (PP-LiteSeg's
    default). ``y`` is weighted by ``_scale - atten``; ``_scale`` is a frozen parameter equal to 1
    (PaddleSeg's checkpoints hold it)."""

    def __init__(self, x_ch: int, y_ch: int, out_ch: int, ksize: int = 3,
                 resize_mode: str = "bilinear"):
        super().__init__(x_ch, y_ch, out_ch, ksize, resize_mode)
        self._scale = self.create_parameter(
            shape=[1], dtype="float32",
            attr=paddle.ParamAttr(initializer=nn.initializer.Constant(1.0)))
        self._scale.stop_gradient = True

    def fuse(self, x: paddle.Tensor, y: paddle.Tensor) -> paddle.Tensor:
        atten = self.attention(x, y)
        return self.conv_out(x * atten + y * (self._scale - atten))


class UAFM_SpAtten_S(_AttentionUAFM):
    """UAFM with spatial attention from the channel means of ``x`` and ``y``."""

    use_max = False


class UAFMMobile(UAFM):
    """:class:`UAFM` (fusion by sum) with separable projections (MobileSeg's default)."""

    separable = True


class UAFMMobile_SpAtten(_AttentionUAFM):
    """UAFM with separable projections and spatial attention from channel means and maxima."""

    separable = True


UAFM_TYPES = {cls.__name__: cls for cls in (UAFM, UAFM_ChAtten, UAFM_ChAtten_S, UAFM_SpAtten,
                                            UAFM_SpAtten_S, UAFMMobile, UAFMMobile_SpAtten)}


def build_uafm(arm_type: str, x_ch: int, y_ch: int, out_ch: int, ksize: int = 3,
               resize_mode: str = "bilinear") -> UAFM:
    """Build the UAFM class named ``arm_type`` (PaddleSeg's names).

    Raises:
        ValueError: Unknown ``arm_type`` (lists the known ones).
    """
    if arm_type not in UAFM_TYPES:
        raise ValueError(f"unknown arm_type '{arm_type}'; choose one of {sorted(UAFM_TYPES)}")
    return UAFM_TYPES[arm_type](x_ch, y_ch, out_ch, ksize=ksize, resize_mode=resize_mode)

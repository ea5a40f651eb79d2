"""MobileNetV3 backbone (Howard et al., "Searching for MobileNetV3", ICCV 2019, arXiv:1905.02244)
with PaddleSeg-identical parameter names.

One :class:`MobileNetV3`; the registered variants (``MobileNetV3_small_x0_35`` ...
``MobileNetV3_large_x1_25`` and the dilated, output-stride-8 ``MobileNetV3_large_x1_0_os8`` and
``MobileNetV3_small_x1_0_os8``) only choose the block table and the width multiplier. The
sublayer names (``conv``, ``blocks.<i>.expand_conv.bn``, ``mid_se.conv1`` ...) are PaddleSeg's,
so its ``.pdparams`` (e.g. ``mobilenetv3_large_x1_0_ssld``) load strictly.
"""
from __future__ import annotations

from typing import Sequence

import paddle
import paddle.nn as nn
import paddle.nn.functional as F
from paddle.regularizer import L2Decay

from humanseg.cvlibs.registry import BACKBONES

__all__ = ["MobileNetV3", "MobileNetV3_large_x0_35", "MobileNetV3_large_x0_5",
           "MobileNetV3_large_x0_75", "MobileNetV3_large_x1_0", "MobileNetV3_large_x1_0_os8",
           "MobileNetV3_large_x1_25", "MobileNetV3_small_x0_35", "MobileNetV3_small_x0_5",
           "MobileNetV3_small_x0_75", "MobileNetV3_small_x1_0", "MobileNetV3_small_x1_0_os8",
           "MobileNetV3_small_x1_25"]

# One row per inverted residual block:
# (kernel, expanded channels, out channels, squeeze-excitation, activation, stride, dilation).
_L, _S = False, True
BLOCKS = {
    "large": [
        (3, 16, 16, _L, "relu", 1, 1),
        (3, 64, 24, _L, "relu", 2, 1),
        (3, 72, 24, _L, "relu", 1, 1),  # 1/4
        (5, 72, 40, _S, "relu", 2, 1),
        (5, 120, 40, _S, "relu", 1, 1),
        (5, 120, 40, _S, "relu", 1, 1),  # 1/8
        (3, 240, 80, _L, "hardswish", 2, 1),
        (3, 200, 80, _L, "hardswish", 1, 1),
        (3, 184, 80, _L, "hardswish", 1, 1),
        (3, 184, 80, _L, "hardswish", 1, 1),
        (3, 480, 112, _S, "hardswish", 1, 1),
        (3, 672, 112, _S, "hardswish", 1, 1),  # 1/16
        (5, 672, 160, _S, "hardswish", 2, 1),
        (5, 960, 160, _S, "hardswish", 1, 1),
        (5, 960, 160, _S, "hardswish", 1, 1),  # 1/32
    ],
    "small": [
        (3, 16, 16, _S, "relu", 2, 1),  # 1/4
        (3, 72, 24, _L, "relu", 2, 1),
        (3, 88, 24, _L, "relu", 1, 1),  # 1/8
        (5, 96, 40, _S, "hardswish", 2, 1),
        (5, 240, 40, _S, "hardswish", 1, 1),
        (5, 240, 40, _S, "hardswish", 1, 1),
        (5, 120, 48, _S, "hardswish", 1, 1),
        (5, 144, 48, _S, "hardswish", 1, 1),  # 1/16
        (5, 288, 96, _S, "hardswish", 2, 1),
        (5, 576, 96, _S, "hardswish", 1, 1),
        (5, 576, 96, _S, "hardswish", 1, 1),  # 1/32
    ],
}
# Output stride 8: the strides after 1/8 become 1 and the later blocks are dilated instead.
BLOCKS["large_os8"] = [row[:5] + (1 if i >= 6 else row[5], d)
                       for i, (row, d) in enumerate(zip(BLOCKS["large"],
                                                        [1] * 7 + [2] * 6 + [4] * 2))]
BLOCKS["small_os8"] = [row[:5] + (1 if i >= 3 else row[5], d)
                       for i, (row, d) in enumerate(zip(BLOCKS["small"],
                                                        [1] * 4 + [2] * 5 + [4] * 2))]
# Blocks whose outputs are returned (the last block at 1/4, 1/8, 1/16 and 1/32 of the input).
OUT_INDEX = {"large": (2, 5, 11, 14), "small": (0, 2, 7, 10)}


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round ``value`` to a multiple of ``divisor`` (at least ``divisor``), never more than 10%
    below ``value``."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def _no_decay() -> paddle.ParamAttr:
    # PaddleSeg exempts MobileNetV3's batch-norm parameters from weight decay.
    return paddle.ParamAttr(regularizer=L2Decay(0.0))


class ConvBNLayer(nn.Layer):
    """Bias-free conv, batch norm (no weight decay), optional activation; ``conv`` and ``bn``.

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        kernel_size: Kernel size.
        stride: Stride.
        padding: Padding.
        groups: Convolution groups.
        act: ``"relu"``, ``"hardswish"`` or ``None``.
        dilation: Dilation.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, groups: int = 1, act: str | None = None, dilation: int = 1):
        super().__init__()
        self.conv = nn.Conv2D(in_channels, out_channels, kernel_size, stride=stride,
                              padding=padding, groups=groups, dilation=dilation, bias_attr=False)
        self.bn = nn.BatchNorm2D(out_channels, weight_attr=_no_decay(), bias_attr=_no_decay())
        if act not in (None, "relu", "hardswish"):
            raise ValueError(f"MobileNetV3: unsupported activation '{act}' (relu or hardswish)")
        self.act = {None: None, "relu": nn.ReLU, "hardswish": nn.Hardswish}[act]
        self.act = self.act() if self.act is not None else None

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = self.bn(self.conv(x))
        return x if self.act is None else self.act(x)


class SEModule(nn.Layer):
    """Squeeze-and-excitation with 1x1 convs and a hard sigmoid (slope 0.2, offset 0.5).

    Args:
        channels: Channels of the gated tensor.
        reduction: Ratio of ``channels`` to the hidden width.
    """

    def __init__(self, channels: int, reduction: int = 4):
        super().__init__()
        self.conv1 = nn.Conv2D(channels, channels // reduction, 1)
        self.conv2 = nn.Conv2D(channels // reduction, channels, 1)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        w = self.conv2(F.relu(self.conv1(F.adaptive_avg_pool2d(x, 1))))
        return x * F.hardsigmoid(w, slope=0.2, offset=0.5)


class ResidualUnit(nn.Layer):
    """Inverted residual: 1x1 expand, k x k depthwise (stride, dilation), optional SE, 1x1
    linear projection; identity shortcut when the shapes allow.

    Args:
        in_channels: Input channels.
        mid_channels: Expanded channels.
        out_channels: Output channels.
        kernel_size: Depthwise kernel size.
        stride: Depthwise stride.
        use_se: Add squeeze-and-excitation after the depthwise conv.
        act: Activation of the expand and depthwise convs.
        dilation: Depthwise dilation.
    """

    def __init__(self, in_channels: int, mid_channels: int, out_channels: int, kernel_size: int,
                 stride: int, use_se: bool, act: str | None = None, dilation: int = 1):
        super().__init__()
        self.use_shortcut = stride == 1 and in_channels == out_channels
        self.use_se = use_se
        self.expand_conv = ConvBNLayer(in_channels, mid_channels, 1, act=act)
        self.bottleneck_conv = ConvBNLayer(mid_channels, mid_channels, kernel_size, stride=stride,
                                           padding=(kernel_size - 1) // 2 * dilation,
                                           groups=mid_channels, act=act, dilation=dilation)
        if use_se:
            self.mid_se = SEModule(mid_channels)
        self.linear_conv = ConvBNLayer(mid_channels, out_channels, 1)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        y = self.bottleneck_conv(self.expand_conv(x))
        if self.use_se:
            y = self.mid_se(y)
        y = self.linear_conv(y)
        return x + y if self.use_shortcut else y


@BACKBONES.register
class MobileNetV3(nn.Layer):
    """MobileNetV3: a 3x3 stride-2 stem and a table of inverted residual blocks.

    Returns the outputs of the blocks in ``out_index`` (by default the last block at 1/4, 1/8,
    1/16 and 1/32 of the input; the ``_os8`` tables stay at 1/8 after the second), whose channels
    are ``feat_channels``.

    Args:
        config: A block table name (``large``, ``small``, ``large_os8``, ``small_os8``) or the
            rows ``(kernel, expanded, out, se, act, stride[, dilation])``.
        out_index: Blocks whose outputs are returned; defaults to the table's four stages.
        in_channels: Input image channels.
        scale: Width multiplier.
        pretrained: Backbone weights for the builder to load (stored only; never loaded here).
    """

    def __init__(self, config: str | Sequence[Sequence] = "large",
                 out_index: Sequence[int] | None = None, in_channels: int = 3,
                 scale: float = 1.0, pretrained: str | None = None):
        super().__init__()
        if isinstance(config, str):
            if config not in BLOCKS:
                raise ValueError(f"MobileNetV3: unknown config '{config}'; choose one of "
                                 f"{sorted(BLOCKS)}")
            if out_index is None:
                out_index = OUT_INDEX[config.split("_")[0]]
            config = BLOCKS[config]
        if out_index is None:
            raise ValueError("MobileNetV3: out_index is required with a custom block table")
        rows = [tuple(row) + (1,) * (7 - len(row)) for row in config]
        self.out_index = list(out_index)
        self.scale = scale
        self.pretrained = pretrained

        stem = make_divisible(16 * scale)
        self.conv = ConvBNLayer(in_channels, stem, 3, stride=2, padding=1, act="hardswish")
        blocks, prev = [], stem
        for k, exp, c, se, act, s, d in rows:
            out = make_divisible(scale * c)
            blocks.append(ResidualUnit(prev, make_divisible(scale * exp), out, k, s, se, act, d))
            prev = out
        self.blocks = nn.Sequential(*blocks)
        self.feat_channels = [make_divisible(scale * rows[i][2]) for i in self.out_index]

    def forward(self, x: paddle.Tensor) -> list[paddle.Tensor]:
        """Return the features of the ``out_index`` blocks, shallow to deep."""
        x = self.conv(x)
        feats = []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in self.out_index:
                feats.append(x)
        return feats


def _variant(config: str, scale: float, /, **kwargs) -> MobileNetV3:
    clash = sorted({"config", "scale"} & set(kwargs))
    if clash:
        raise ValueError(f"this MobileNetV3 variant fixes {', '.join(clash)}; use MobileNetV3 "
                         "to choose them")
    return MobileNetV3(config=config, scale=scale, **kwargs)


@BACKBONES.register
def MobileNetV3_small_x0_35(**kwargs) -> MobileNetV3:
    """MobileNetV3-Small, width 0.35; ``kwargs`` as :class:`MobileNetV3`."""
    return _variant("small", 0.35, **kwargs)


@BACKBONES.register
def MobileNetV3_small_x0_5(**kwargs) -> MobileNetV3:
    """MobileNetV3-Small, width 0.5; ``kwargs`` as :class:`MobileNetV3`."""
    return _variant("small", 0.5, **kwargs)


@BACKBONES.register
def MobileNetV3_small_x0_75(**kwargs) -> MobileNetV3:
    """MobileNetV3-Small, width 0.75; ``kwargs`` as :class:`MobileNetV3`."""
    return _variant("small", 0.75, **kwargs)


@BACKBONES.register
def MobileNetV3_small_x1_0(**kwargs) -> MobileNetV3:
    """MobileNetV3-Small, width 1.0; ``kwargs`` as :class:`MobileNetV3`."""
    return _variant("small", 1.0, **kwargs)


@BACKBONES.register
def MobileNetV3_small_x1_25(**kwargs) -> MobileNetV3:
    """MobileNetV3-Small, width 1.25; ``kwargs`` as :class:`MobileNetV3`."""
    return _variant("small", 1.25, **kwargs)


@BACKBONES.register
def MobileNetV3_large_x0_35(**kwargs) -> MobileNetV3:
    """MobileNetV3-Large, width 0.35; ``kwargs`` as :class:`MobileNetV3`."""
    return _variant("large", 0.35, **kwargs)


@BACKBONES.register
def MobileNetV3_large_x0_5(**kwargs) -> MobileNetV3:
    """MobileNetV3-Large, width 0.5; ``kwargs`` as :class:`MobileNetV3`."""
    return _variant("large", 0.5, **kwargs)


@BACKBONES.register
def MobileNetV3_large_x0_75(**kwargs) -> MobileNetV3:
    """MobileNetV3-Large, width 0.75; ``kwargs`` as :class:`MobileNetV3`."""
    return _variant("large", 0.75, **kwargs)


@BACKBONES.register
def MobileNetV3_large_x1_0(**kwargs) -> MobileNetV3:
    """MobileNetV3-Large, width 1.0 (the PP-HumanSeg V2 Lite backbone); ``kwargs`` as
    :class:`MobileNetV3`."""
    return _variant("large", 1.0, **kwargs)


@BACKBONES.register
def MobileNetV3_large_x1_25(**kwargs) -> MobileNetV3:
    """MobileNetV3-Large, width 1.25; ``kwargs`` as :class:`MobileNetV3`."""
    return _variant("large", 1.25, **kwargs)


@BACKBONES.register
def MobileNetV3_large_x1_0_os8(**kwargs) -> MobileNetV3:
    """MobileNetV3-Large, width 1.0, output stride 8 (dilated); ``kwargs`` as
    :class:`MobileNetV3`."""
    return _variant("large_os8", 1.0, **kwargs)


@BACKBONES.register
def MobileNetV3_small_x1_0_os8(**kwargs) -> MobileNetV3:
    """MobileNetV3-Small, width 1.0, output stride 8 (dilated); ``kwargs`` as
    :class:`MobileNetV3`."""
    return _variant("small_os8", 1.0, **kwargs)

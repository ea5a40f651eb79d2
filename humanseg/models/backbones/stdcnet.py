"""STDC backbone (Fan et al., "Rethinking BiSeNet For Real-time Semantic Segmentation", CVPR 2021,
arXiv:2104.13188) with PaddleSeg-identical parameter names.

One :class:`STDCNet`; ``STDC1`` and ``STDC2`` only choose the number of blocks per stage. The
sublayer names (``features.<i>.conv_list.<j>.conv``, ``avd_layer``, ``skip``) are PaddleSeg's, so
its ``PP_STDCNet1``/``PP_STDCNet2`` weights load strictly.
"""
from __future__ import annotations

from typing import Sequence

import paddle
import paddle.nn as nn

from humanseg.cvlibs.registry import BACKBONES
from humanseg.models.layers import init_conv_normal_bn_constant

__all__ = ["STDCNet", "STDC1", "STDC2"]


def _attr(relative_lr: float) -> paddle.ParamAttr:
    return paddle.ParamAttr(learning_rate=relative_lr)


def _conv_bn(in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
             groups: int = 1, relative_lr: float = 1.0) -> list[nn.Layer]:
    """Bias-free conv with ``kernel_size // 2`` padding and its batch norm, as a list of layers."""
    return [nn.Conv2D(in_channels, out_channels, kernel_size, stride=stride,
                      padding=kernel_size // 2, groups=groups, weight_attr=_attr(relative_lr),
                      bias_attr=False),
            nn.BatchNorm2D(out_channels, weight_attr=_attr(relative_lr),
                           bias_attr=_attr(relative_lr))]


class ConvBNRelu(nn.Layer):
    """Conv (no bias, ``kernel // 2`` padding), batch norm and ReLU: ``conv``, ``bn``.

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        kernel_size: Kernel size.
        stride: Stride.
        relative_lr: Learning-rate multiplier of the parameters.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3,
                 stride: int = 1, relative_lr: float = 1.0):
        super().__init__()
        self.conv, self.bn = _conv_bn(in_channels, out_channels, kernel_size, stride,
                                      relative_lr=relative_lr)
        self.relu = nn.ReLU()

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.relu(self.bn(self.conv(x)))


def _branch_convs(in_channels: int, out_channels: int, block_num: int,
                  relative_lr: float) -> nn.LayerList:
    """The STDC module's chain of convs: a 1x1 to ``out/2``, then 3x3 convs halving the width,
    the last keeping it, so that the concatenated widths sum to ``out_channels``."""
    if block_num < 2:
        raise ValueError(f"STDC block_num must be at least 2, got {block_num}")
    widths = [out_channels // 2 ** min(i + 1, block_num - 1) for i in range(block_num)]
    convs = [ConvBNRelu(in_channels, widths[0], 1, relative_lr=relative_lr)]
    convs += [ConvBNRelu(widths[i - 1], widths[i], 3, relative_lr=relative_lr)
              for i in range(1, block_num)]
    return nn.LayerList(convs)


class _STDCModule(nn.Layer):
    """What both STDC modules share: the conv chain (``conv_list``) and, with stride 2, a
    depthwise stride-2 conv (``avd_layer``) that downsamples its first output for the rest of the
    chain, and the ``skip`` that :meth:`make_skip` builds.

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        block_num: Number of convs in the chain.
        stride: 1 or 2.
        relative_lr: Learning-rate multiplier of the parameters.
    """

    def __init__(self, in_channels: int, out_channels: int, block_num: int = 3, stride: int = 1,
                 relative_lr: float = 1.0):
        super().__init__()
        self.conv_list = _branch_convs(in_channels, out_channels, block_num, relative_lr)
        self.stride = stride
        if stride == 2:
            half = out_channels // 2
            self.avd_layer = nn.Sequential(*_conv_bn(half, half, 3, 2, groups=half,
                                                     relative_lr=relative_lr))
            self.skip = self.make_skip(in_channels, out_channels, relative_lr)

    def make_skip(self, in_channels: int, out_channels: int, relative_lr: float) -> nn.Layer:
        """The stride-2 downsampling of what the module adds or concatenates untransformed."""
        raise NotImplementedError


class CatBottleneck(_STDCModule):
    """STDC module that concatenates the outputs of its conv chain.

    With stride 2 the first output is downsampled for the chain by ``avd_layer`` and for the
    concatenation by 3x3 average pooling (``skip``). Arguments as :class:`_STDCModule`.
    """

    def make_skip(self, in_channels: int, out_channels: int, relative_lr: float) -> nn.Layer:
        return nn.AvgPool2D(kernel_size=3, stride=2, padding=1)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        first = self.conv_list[0](x)
        out = self.avd_layer(first) if self.stride == 2 else first
        outs = []
        for conv in self.conv_list[1:]:
            out = conv(out)
            outs.append(out)
        if self.stride == 2:
            first = self.skip(first)
        return paddle.concat([first, *outs], axis=1)


class AddBottleneck(_STDCModule):
    """STDC module that concatenates the outputs of its conv chain and adds the input (projected
    by a depthwise stride-2 conv and a 1x1 conv, ``skip``, when the stride is 2). Arguments as
    :class:`_STDCModule`.
    """

    def make_skip(self, in_channels: int, out_channels: int, relative_lr: float) -> nn.Layer:
        return nn.Sequential(
            *_conv_bn(in_channels, in_channels, 3, 2, groups=in_channels,
                      relative_lr=relative_lr),
            *_conv_bn(in_channels, out_channels, 1, relative_lr=relative_lr))

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        outs, out = [], x
        for i, conv in enumerate(self.conv_list):
            out = conv(out)
            if i == 0 and self.stride == 2:
                out = self.avd_layer(out)
            outs.append(out)
        return paddle.concat(outs, axis=1) + (self.skip(x) if self.stride == 2 else x)


@BACKBONES.register
class STDCNet(nn.Layer):
    """STDC network: two stride-2 ConvBNReLU stems, then three stages of STDC modules (the first
    of each with stride 2).

    Returns five features at 1/2, 1/4, 1/8, 1/16 and 1/32 of the input with ``feat_channels``
    ``[base/2, base, 4 base, 8 base, 16 base]``.

    Args:
        base: Width of the second stem; the stages have 4, 8 and 16 times it.
        layers: Number of STDC modules of each of the three stages.
        block_num: Number of convs in each STDC module.
        block_type: ``"cat"`` (the STDC paper's and PaddleSeg's default) or ``"add"``. PaddleSeg
            calls this argument ``type``, which a YAML config cannot set (it names the component).
        relative_lr: Learning-rate multiplier of every parameter.
        in_channels: Input image channels.
        pretrained: Backbone weights for the builder to load (stored only; never loaded here).
    """

    def __init__(self, base: int = 64, layers: Sequence[int] = (4, 5, 3), block_num: int = 4,
                 block_type: str = "cat", relative_lr: float = 1.0, in_channels: int = 3,
                 pretrained: str | None = None):
        super().__init__()
        blocks = {"cat": CatBottleneck, "add": AddBottleneck}
        if block_type not in blocks:
            raise ValueError(f"STDCNet: block_type must be 'cat' or 'add', got '{block_type}'")
        block = blocks[block_type]
        self.layers = list(layers)
        self.feat_channels = [base // 2, base, base * 4, base * 8, base * 16]
        self.pretrained = pretrained

        features = [ConvBNRelu(in_channels, base // 2, 3, 2, relative_lr),
                    ConvBNRelu(base // 2, base, 3, 2, relative_lr)]
        prev = base
        for stage, num in enumerate(self.layers):
            width = base * 4 * 2 ** stage
            for j in range(num):
                features.append(block(prev, width, block_num, 2 if j == 0 else 1, relative_lr))
                prev = width
        self.features = nn.Sequential(*features)
        init_conv_normal_bn_constant(self, std=0.001)

    def forward(self, x: paddle.Tensor) -> list[paddle.Tensor]:
        """Return the stems' and the three stages' outputs, 1/2 to 1/32."""
        feats = []
        x = self.features[0](x)
        feats.append(x)
        x = self.features[1](x)
        feats.append(x)
        start = 2
        for num in self.layers:
            for i in range(start, start + num):
                x = self.features[i](x)
            feats.append(x)
            start += num
        return feats


def _variant(layers: list[int], /, **kwargs) -> STDCNet:
    clash = sorted({"base", "layers"} & set(kwargs))
    if clash:
        raise ValueError(f"this STDC variant fixes {', '.join(clash)}; use STDCNet to choose them")
    return STDCNet(base=64, layers=layers, **kwargs)


@BACKBONES.register
def STDC1(**kwargs) -> STDCNet:
    """STDC1 (2, 2, 2 modules per stage; the PP-LiteSeg-T / PP-HumanSeg V2 Mobile backbone);
    ``kwargs`` as :class:`STDCNet`."""
    return _variant([2, 2, 2], **kwargs)


@BACKBONES.register
def STDC2(**kwargs) -> STDCNet:
    """STDC2 (4, 5, 3 modules per stage; PP-LiteSeg-B); ``kwargs`` as :class:`STDCNet`."""
    return _variant([4, 5, 3], **kwargs)

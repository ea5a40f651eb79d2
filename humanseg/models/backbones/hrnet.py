"""HRNet backbone (Wang et al., "Deep High-Resolution Representation Learning for Visual
Recognition", TPAMI 2020, arXiv:1908.07919) with PaddleSeg-identical parameter names.

One :class:`HRNet` implementation; the registered variants (``HRNet_W18_Small_V1`` ...
``HRNet_W48``) only choose the stage widths and depths. The sublayer names (``bb_layer2_1``,
``transition_tr1_layer_1``, ``stage_st2_1``, ...) are PaddleSeg's, so its ``.pdparams`` load.
"""
from __future__ import annotations

import math
from typing import Sequence

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from humanseg.cvlibs.registry import BACKBONES
from humanseg.models.layers import (ConvBN, ConvBNReLU, init_conv_normal_bn_constant, resize_to,
                                    spatial_size)

__all__ = ["HRNet", "HRNet_W18_Small_V1", "HRNet_W18_Small_V2", "HRNet_W18", "HRNet_W32",
           "HRNet_W48"]


def _pad(padding_same: bool) -> int | str:
    """Padding of the 3x3 convolutions: ``"same"`` (PaddleSeg's default) or 1."""
    return "same" if padding_same else 1


class SELayer(nn.Layer):
    """Squeeze-and-excitation: global average pool, two linear layers, channel gating.

    Args:
        channels: Channels of the gated tensor.
        reduction: Ratio of ``channels`` to the hidden width.
    """

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        hidden = int(channels / reduction)
        self.channels = channels

        def uniform(fan_in: int) -> paddle.ParamAttr:
            bound = 1.0 / math.sqrt(fan_in)
            return paddle.ParamAttr(initializer=nn.initializer.Uniform(-bound, bound))

        self.squeeze = nn.Linear(channels, hidden, weight_attr=uniform(channels))
        self.excitation = nn.Linear(hidden, channels, weight_attr=uniform(hidden))

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        w = paddle.reshape(F.adaptive_avg_pool2d(x, 1), [-1, self.channels])
        w = F.sigmoid(self.excitation(F.relu(self.squeeze(w))))
        return x * paddle.reshape(w, [-1, self.channels, 1, 1])


class BottleneckBlock(nn.Layer):
    """1x1 -> 3x3 -> 1x1 (x4 channels) residual block of the first stage.

    Args:
        in_channels: Input channels.
        width: Width of the inner convolutions; the output has ``4 * width`` channels.
        has_se: Gate the residual branch with squeeze-and-excitation.
        downsample: Project the shortcut with a 1x1 conv (first block of the stage).
        padding_same: ``"same"`` padding for the 3x3 conv (else 1).
    """

    def __init__(self, in_channels: int, width: int, has_se: bool = False,
                 downsample: bool = False, padding_same: bool = True):
        super().__init__()
        self.has_se, self.downsample = has_se, downsample
        self.conv1 = ConvBNReLU(in_channels, width, 1, bias=False)
        self.conv2 = ConvBNReLU(width, width, 3, padding=_pad(padding_same), bias=False)
        self.conv3 = ConvBN(width, width * 4, 1, bias=False)
        if downsample:
            self.conv_down = ConvBN(in_channels, width * 4, 1, bias=False)
        if has_se:
            self.se = SELayer(width * 4)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        y = self.conv3(self.conv2(self.conv1(x)))
        if self.has_se:
            y = self.se(y)
        return F.relu(y + (self.conv_down(x) if self.downsample else x))


class BasicBlock(nn.Layer):
    """Two 3x3 convolutions with an identity shortcut (the branch block of stages 2-4).

    Args:
        in_channels: Input channels.
        channels: Output channels (equal to ``in_channels`` in every HRNet variant).
        has_se: Gate the residual branch with squeeze-and-excitation.
        padding_same: ``"same"`` padding (else 1).
    """

    def __init__(self, in_channels: int, channels: int, has_se: bool = False,
                 padding_same: bool = True):
        super().__init__()
        self.has_se = has_se
        self.conv1 = ConvBNReLU(in_channels, channels, 3, padding=_pad(padding_same), bias=False)
        self.conv2 = ConvBN(channels, channels, 3, padding=_pad(padding_same), bias=False)
        if has_se:
            self.se = SELayer(channels)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        y = self.conv2(self.conv1(x))
        if self.has_se:
            y = self.se(y)
        return F.relu(y + x)


class Layer1(nn.Layer):
    """Stage 1: ``num_blocks`` bottleneck blocks at 1/4 resolution."""

    def __init__(self, in_channels: int, width: int, num_blocks: int, has_se: bool,
                 padding_same: bool):
        super().__init__()
        self.blocks = []
        for i in range(num_blocks):
            block = BottleneckBlock(in_channels if i == 0 else width * 4, width, has_se,
                                    downsample=i == 0, padding_same=padding_same)
            self.blocks.append(self.add_sublayer(f"bb_layer2_{i + 1}", block))

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        for block in self.blocks:
            x = block(x)
        return x


class TransitionLayer(nn.Layer):
    """Adapts the branches of one stage to the next: changes widths, adds a 1/2-resolution branch.

    Args:
        in_channels: Channels of the incoming branches.
        out_channels: Channels of the outgoing branches (one more than ``in_channels``).
        name: PaddleSeg's name of the transition (``tr1`` ...), part of the parameter names.
        padding_same: ``"same"`` padding (else 1).
    """

    def __init__(self, in_channels: Sequence[int], out_channels: Sequence[int], name: str,
                 padding_same: bool):
        super().__init__()
        self.convs: list[nn.Layer | None] = []
        for i, out_ch in enumerate(out_channels):
            conv = None
            if i >= len(in_channels):
                conv = ConvBNReLU(in_channels[-1], out_ch, 3, stride=2,
                                  padding=_pad(padding_same), bias=False)
            elif in_channels[i] != out_ch:
                conv = ConvBNReLU(in_channels[i], out_ch, 3, padding=_pad(padding_same),
                                  bias=False)
            if conv is not None:
                self.add_sublayer(f"transition_{name}_layer_{i + 1}", conv)
            self.convs.append(conv)

    def forward(self, xs: list[paddle.Tensor]) -> list[paddle.Tensor]:
        outs = []
        for i, conv in enumerate(self.convs):
            x = xs[min(i, len(xs) - 1)]
            outs.append(x if conv is None else conv(x))
        return outs


class FuseLayers(nn.Layer):
    """Exchanges information between branches: each output branch sums every input branch,
    upsampled (1x1 conv + bilinear) from lower resolutions or downsampled (strided 3x3 convs)
    from higher ones.

    Args:
        channels: Channels of the branches.
        name: Module name (``st2_1`` ...), part of the parameter names.
        align_corners: ``align_corners`` of the upsampling.
        padding_same: ``"same"`` padding (else 1).
    """

    def __init__(self, channels: Sequence[int], name: str, align_corners: bool,
                 padding_same: bool):
        super().__init__()
        self.num_branches = len(channels)
        self.align_corners = align_corners
        # paths[i][j]: the layers taking branch j to branch i (empty for i == j).
        self.paths: list[list[list[nn.Layer]]] = []
        for i in range(self.num_branches):
            row = []
            for j in range(self.num_branches):
                path = []
                if j > i:
                    path.append(self.add_sublayer(
                        f"residual_{name}_layer_{i + 1}_{j + 1}",
                        ConvBN(channels[j], channels[i], 1, bias=False)))
                elif j < i:
                    for k in range(i - j):
                        last = k == i - j - 1
                        block = ConvBN if last else ConvBNReLU
                        conv = block(channels[j], channels[i] if last else channels[j], 3,
                                     stride=2, padding=_pad(padding_same), bias=False)
                        path.append(self.add_sublayer(
                            f"residual_{name}_layer_{i + 1}_{j + 1}_{k + 1}", conv))
                row.append(path)
            self.paths.append(row)

    def forward(self, xs: list[paddle.Tensor]) -> list[paddle.Tensor]:
        outs = []
        for i in range(self.num_branches):
            y = xs[i]
            size = spatial_size(y)
            for j in range(self.num_branches):
                if j == i:
                    continue
                z = xs[j]
                for layer in self.paths[i][j]:
                    z = layer(z)
                if j > i:
                    z = resize_to(z, size, align_corners=self.align_corners)
                y = y + z
            outs.append(F.relu(y))
        return outs


class Branches(nn.Layer):
    """Runs each branch through its own chain of basic blocks."""

    def __init__(self, num_blocks: Sequence[int], in_channels: Sequence[int],
                 channels: Sequence[int], has_se: bool, name: str, padding_same: bool):
        super().__init__()
        self.chains: list[list[nn.Layer]] = []
        for i, width in enumerate(channels):
            chain = []
            for j in range(num_blocks[i]):
                block = BasicBlock(in_channels[i] if j == 0 else width, width, has_se,
                                   padding_same)
                chain.append(self.add_sublayer(f"bb_{name}_branch_layer_{i + 1}_{j + 1}", block))
            self.chains.append(chain)

    def forward(self, xs: list[paddle.Tensor]) -> list[paddle.Tensor]:
        outs = []
        for x, chain in zip(xs, self.chains):
            for block in chain:
                x = block(x)
            outs.append(x)
        return outs


class HighResolutionModule(nn.Layer):
    """Parallel branches followed by the multi-resolution fusion."""

    def __init__(self, num_blocks: Sequence[int], channels: Sequence[int], has_se: bool,
                 name: str, align_corners: bool, padding_same: bool):
        super().__init__()
        self.branches_func = Branches(num_blocks, channels, channels, has_se, name, padding_same)
        self.fuse_func = FuseLayers(channels, name, align_corners, padding_same)

    def forward(self, xs: list[paddle.Tensor]) -> list[paddle.Tensor]:
        return self.fuse_func(self.branches_func(xs))


class Stage(nn.Layer):
    """``num_modules`` high-resolution modules in sequence."""

    def __init__(self, num_modules: int, num_blocks: Sequence[int], channels: Sequence[int],
                 has_se: bool, name: str, align_corners: bool, padding_same: bool):
        super().__init__()
        self.modules_ = []
        for m in range(num_modules):
            module = HighResolutionModule(num_blocks, channels, has_se, f"{name}_{m + 1}",
                                          align_corners, padding_same)
            self.modules_.append(self.add_sublayer(f"stage_{name}_{m + 1}", module))

    def forward(self, xs: list[paddle.Tensor]) -> list[paddle.Tensor]:
        for module in self.modules_:
            xs = module(xs)
        return xs


class HRNet(nn.Layer):
    """High-resolution network: a 1/4-resolution stem and stage 1, then stages 2-4 keeping 2, 3
    and 4 parallel branches (1/4 ... 1/32). The output is the four branches of stage 4 upsampled
    to 1/4 and concatenated: one feature map of ``sum(stage4_num_channels)`` channels.

    Args:
        in_channels: Input image channels.
        pretrained: Backbone weights (file, directory, archive or URL), stored here and loaded
            by the builder (``cvlibs.builder.build_model``), partially by design: the
            tensors that match are loaded and the rest (e.g. ImageNet classifier layers) reported.
        stage1_num_modules: Must be 1 (stage 1 is a single chain of bottleneck blocks).
        stage1_num_blocks: ``[blocks]`` of stage 1.
        stage1_num_channels: ``[width]`` of stage 1 (outputs ``4 * width`` channels).
        stage2_num_modules: Modules of stage 2 (stages 3 and 4 likewise).
        stage2_num_blocks: Basic blocks per branch in each module of stage 2.
        stage2_num_channels: Widths of the branches of stage 2.
        stage3_num_modules: See stage 2.
        stage3_num_blocks: See stage 2.
        stage3_num_channels: See stage 2.
        stage4_num_modules: See stage 2.
        stage4_num_blocks: See stage 2.
        stage4_num_channels: See stage 2.
        has_se: Squeeze-and-excitation in every residual block.
        align_corners: ``align_corners`` of every bilinear upsampling.
        padding_same: ``"same"`` padding for the 3x3 convolutions (PaddleSeg's default), else 1.

    Attributes:
        feat_channels: ``[sum(stage4_num_channels)]``, the channels of the single output.
    """

    def __init__(self, in_channels: int = 3, pretrained: str | None = None,
                 stage1_num_modules: int = 1, stage1_num_blocks: Sequence[int] = (4,),
                 stage1_num_channels: Sequence[int] = (64,),
                 stage2_num_modules: int = 1, stage2_num_blocks: Sequence[int] = (4, 4),
                 stage2_num_channels: Sequence[int] = (18, 36),
                 stage3_num_modules: int = 4, stage3_num_blocks: Sequence[int] = (4, 4, 4),
                 stage3_num_channels: Sequence[int] = (18, 36, 72),
                 stage4_num_modules: int = 3, stage4_num_blocks: Sequence[int] = (4, 4, 4, 4),
                 stage4_num_channels: Sequence[int] = (18, 36, 72, 144),
                 has_se: bool = False, align_corners: bool = False, padding_same: bool = True):
        super().__init__()
        if stage1_num_modules != 1:
            raise ValueError(f"stage1_num_modules must be 1, got {stage1_num_modules}")
        self.pretrained = pretrained
        self.has_se = has_se
        self.align_corners = align_corners
        self.feat_channels = [sum(stage4_num_channels)]
        pad = _pad(padding_same)

        self.conv_layer1_1 = ConvBNReLU(in_channels, 64, 3, stride=2, padding=pad, bias=False)
        self.conv_layer1_2 = ConvBNReLU(64, 64, 3, stride=2, padding=pad, bias=False)
        self.la1 = Layer1(64, stage1_num_channels[0], stage1_num_blocks[0], has_se, padding_same)
        stages = [(stage2_num_modules, stage2_num_blocks, stage2_num_channels),
                  (stage3_num_modules, stage3_num_blocks, stage3_num_channels),
                  (stage4_num_modules, stage4_num_blocks, stage4_num_channels)]
        prev = [stage1_num_channels[0] * 4]
        for n, (modules, blocks, channels) in enumerate(stages, start=1):
            setattr(self, f"tr{n}", TransitionLayer(prev, channels, f"tr{n}", padding_same))
            setattr(self, f"st{n + 1}", Stage(modules, blocks, channels, has_se, f"st{n + 1}",
                                              align_corners, padding_same))
            prev = channels

        init_conv_normal_bn_constant(self, std=0.001)

    def forward(self, x: paddle.Tensor) -> list[paddle.Tensor]:
        """Return ``[features]`` at 1/4 of the input size with ``feat_channels[0]`` channels."""
        x = self.la1(self.conv_layer1_2(self.conv_layer1_1(x)))
        xs = self.st2(self.tr1([x]))
        xs = self.st3(self.tr2(xs))
        xs = self.st4(self.tr3(xs))
        size = spatial_size(xs[0])
        ups = [resize_to(b, size, align_corners=self.align_corners) for b in xs[1:]]
        return [paddle.concat([xs[0], *ups], axis=1)]


# (stage1 blocks, stage1 width, [modules of stages 2-4], [blocks per branch of stages 2-4], widths)
_VARIANTS = {
    "HRNet_W18_Small_V1": (1, 32, (1, 1, 1), (2, 2, 2), (16, 32, 64, 128)),
    "HRNet_W18_Small_V2": (2, 64, (1, 3, 2), (2, 2, 2), (18, 36, 72, 144)),
    "HRNet_W18": (4, 64, (1, 4, 3), (4, 4, 4), (18, 36, 72, 144)),
    "HRNet_W32": (4, 64, (1, 4, 3), (4, 4, 4), (32, 64, 128, 256)),
    "HRNet_W48": (4, 64, (1, 4, 3), (4, 4, 4), (48, 96, 192, 384)),
}


def _variant(name: str, **kwargs) -> HRNet:
    blocks1, width1, modules, blocks, widths = _VARIANTS[name]
    arch = {"stage1_num_modules": 1, "stage1_num_blocks": [blocks1],
            "stage1_num_channels": [width1]}
    for n, stage in enumerate((2, 3, 4)):
        arch[f"stage{stage}_num_modules"] = modules[n]
        arch[f"stage{stage}_num_blocks"] = [blocks[n]] * stage
        arch[f"stage{stage}_num_channels"] = list(widths[:stage])
    clash = sorted(set(arch) & set(kwargs))
    if clash:
        raise ValueError(f"{name} fixes {', '.join(clash)}; use HRNet to choose them")
    return HRNet(**arch, **kwargs)


@BACKBONES.register
def HRNet_W18_Small_V1(**kwargs) -> HRNet:
    """HRNet-W18-Small-V1 (the PP-HumanSeg-Mobile backbone); ``kwargs`` as :class:`HRNet`."""
    return _variant("HRNet_W18_Small_V1", **kwargs)


@BACKBONES.register
def HRNet_W18_Small_V2(**kwargs) -> HRNet:
    """HRNet-W18-Small-V2; ``kwargs`` as :class:`HRNet`."""
    return _variant("HRNet_W18_Small_V2", **kwargs)


@BACKBONES.register
def HRNet_W18(**kwargs) -> HRNet:
    """HRNet-W18 (FCN in the paper's Cityscapes table); ``kwargs`` as :class:`HRNet`."""
    return _variant("HRNet_W18", **kwargs)


@BACKBONES.register
def HRNet_W32(**kwargs) -> HRNet:
    """HRNet-W32; ``kwargs`` as :class:`HRNet`."""
    return _variant("HRNet_W32", **kwargs)


@BACKBONES.register
def HRNet_W48(**kwargs) -> HRNet:
    """HRNet-W48 (OCRNet in the paper's Cityscapes table); ``kwargs`` as :class:`HRNet`."""
    return _variant("HRNet_W48", **kwargs)

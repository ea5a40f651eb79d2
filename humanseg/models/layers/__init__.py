"""Reusable building blocks shared by the models (names match PaddleSeg's state dicts)."""
from humanseg.models.layers.activation import Activation
from humanseg.models.layers.attention_fusion import UAFM_TYPES, build_uafm
from humanseg.models.layers.aux_head import AuxLayer
from humanseg.models.layers.conv_bn import ConvBN, ConvBNAct, ConvBNReLU
from humanseg.models.layers.init import init_conv_normal_bn_constant
from humanseg.models.layers.ops import (channel_shuffle, resize_to, select_channels,
                                        spatial_size)
from humanseg.models.layers.pyramid_pool import PPModule
from humanseg.models.layers.separable import DepthwiseConvBN, SeparableConvBNReLU

__all__ = [
    "Activation",
    "AuxLayer",
    "ConvBN",
    "ConvBNAct",
    "ConvBNReLU",
    "DepthwiseConvBN",
    "PPModule",
    "SeparableConvBNReLU",
    "UAFM_TYPES",
    "build_uafm",
    "channel_shuffle",
    "init_conv_normal_bn_constant",
    "resize_to",
    "select_channels",
    "spatial_size",
]

"""Shape-generic tensor operations that stay exportable (no Python ints taken from dynamic shapes)."""
from __future__ import annotations

import paddle
import paddle.nn.functional as F


def spatial_size(x: paddle.Tensor) -> paddle.Tensor:
    """Return ``[H, W]`` of an NCHW tensor as a tensor, so exported graphs keep dynamic sizes."""
    return paddle.shape(x)[2:]


def resize_to(x: paddle.Tensor, size: paddle.Tensor | list[int], mode: str = "bilinear",
              align_corners: bool = False) -> paddle.Tensor:
    """Resize an NCHW tensor to ``size`` = ``[H, W]``.

    Always passes ``size`` (never ``scale_factor``, which does not export to ONNX cleanly).

    Args:
        x: Tensor to resize.
        size: Target ``[H, W]``, e.g. ``spatial_size(reference)``.
        mode: Interpolation mode.
        align_corners: Passed to ``F.interpolate`` for the linear modes.
    """
    if mode in ("nearest", "area"):
        return F.interpolate(x, size, mode=mode)
    return F.interpolate(x, size, mode=mode, align_corners=align_corners)


def select_channels(feat_channels: list[int], indices: list[int], owner: str) -> list[int]:
    """``feat_channels[i]`` for each of ``indices``, checked.

    Raises:
        ValueError: An index outside the backbone's outputs (names the valid range).
    """
    n = len(feat_channels)
    bad = [i for i in indices if not -n <= i < n]
    if not indices or bad:
        raise ValueError(f"{owner}: backbone_indices {list(indices)} do not fit a backbone with "
                         f"{n} output(s) (feat_channels {feat_channels}); use indices in "
                         f"[{-n}, {n - 1}]")
    return [feat_channels[i] for i in indices]


def channel_shuffle(x: paddle.Tensor, groups: int) -> paddle.Tensor:
    """Interleave the channels of ``groups`` equal groups (ShuffleNet), NCHW.

    Args:
        x: Tensor whose channel count is static and divisible by ``groups``.
        groups: Number of groups.
    """
    channels = x.shape[1]
    hw = paddle.shape(x)[2:]
    h, w = hw[0], hw[1]
    x = paddle.reshape(x, [0, groups, channels // groups, h, w])
    x = paddle.transpose(x, [0, 2, 1, 3, 4])
    return paddle.reshape(x, [0, channels, h, w])

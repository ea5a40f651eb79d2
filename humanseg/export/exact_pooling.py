"""Adaptive average pooling that paddle2onnx converts exactly at every static input size.

paddle2onnx writes ``nn.AdaptiveAvgPool2D`` with an output larger than 1x1 as one fixed
AveragePool, which equals adaptive pooling only when the input divides into the bins: MobileSeg at
160x90 (a 5x3 map into 2x2 and 4x4 bins) came out 0.12 off, PP-LiteSeg at 192x192 1.5e-3 off,
Fast-SCNN at 192x320 refused. ``exact_adaptive_pooling`` swaps those layers, for the time of an
export at a static shape, for ``SlicedAdaptiveAvgPool2D``: each bin as a slice and a mean, with
Paddle's bin edges (start = floor(i * H / n), end = ceil((i + 1) * H / n)). That is the same
arithmetic, so the Paddle model is unchanged and the ONNX model equals it.
"""
from __future__ import annotations

import contextlib

import paddle
import paddle.nn as nn
import paddle.nn.functional as F


def _pair(size) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


def bin_edges(length: int, bins: int) -> list[tuple[int, int]]:
    """Paddle's adaptive pooling windows along one axis of ``length`` into ``bins``."""
    return [(i * length // bins, -(-(i + 1) * length // bins)) for i in range(bins)]


class SlicedAdaptiveAvgPool2D(nn.Layer):
    """``nn.AdaptiveAvgPool2D(output_size)`` (NCHW) as slices and means; falls back to the
    adaptive op when H or W is not known when the graph is built."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = _pair(output_size)

    def forward(self, x):
        h, w = int(x.shape[2]), int(x.shape[3])
        if h <= 0 or w <= 0:
            return F.adaptive_avg_pool2d(x, self.output_size)
        rows = []
        for r0, r1 in bin_edges(h, self.output_size[0]):
            cells = [paddle.mean(x[:, :, r0:r1, c0:c1], axis=[2, 3], keepdim=True)
                     for c0, c1 in bin_edges(w, self.output_size[1])]
            rows.append(paddle.concat(cells, axis=3) if len(cells) > 1 else cells[0])
        return paddle.concat(rows, axis=2) if len(rows) > 1 else rows[0]


def _replaceable(layer: nn.Layer) -> bool:
    if not isinstance(layer, nn.AdaptiveAvgPool2D):
        return False
    size = layer._output_size
    if getattr(layer, "_data_format", "NCHW") != "NCHW" or size is None or (
            not isinstance(size, int) and None in tuple(size)):
        return False  # None keeps a dimension: not a fixed grid of bins
    return _pair(size) != (1, 1)  # 1x1 is a global mean: already exact


@contextlib.contextmanager
def exact_adaptive_pooling(model: nn.Layer):
    """Within the block, every ``nn.AdaptiveAvgPool2D`` of ``model`` with bins larger than 1x1
    is a ``SlicedAdaptiveAvgPool2D``; the original layers are back afterwards. Yields how many
    layers were swapped."""
    swapped = []
    for parent in model.sublayers(include_self=True):
        for name, child in list(parent._sub_layers.items()):
            if _replaceable(child):
                parent._sub_layers[name] = SlicedAdaptiveAvgPool2D(child._output_size)
                swapped.append((parent, name, child))
    try:
        yield len(swapped)
    finally:
        for parent, name, child in swapped:
            parent._sub_layers[name] = child

"""humanseg/export/exact_pooling.py: the sliced adaptive pooling equals Paddle's at sizes that do
not divide into the bins, and the swap is undone after the export."""
import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F
import pytest

from humanseg.export.exact_pooling import (SlicedAdaptiveAvgPool2D, bin_edges,
                                           exact_adaptive_pooling)
from humanseg.cvlibs.builder import build_model


@pytest.mark.parametrize("hw, bins", [((3, 5), (2, 2)), ((3, 5), (4, 4)), ((6, 10), (6, 6)),
                                      ((7, 7), (3, 2)), ((8, 8), (4, 4)), ((2, 3), (1, 3))])
def test_sliced_equals_adaptive(hw, bins):
    x = paddle.to_tensor(np.random.default_rng(0).standard_normal((2, 3) + hw).astype("float32"))
    want = F.adaptive_avg_pool2d(x, bins).numpy()
    got = SlicedAdaptiveAvgPool2D(bins)(x).numpy()
    assert got.shape == want.shape
    assert np.abs(got - want).max() < 1e-6


def test_bin_edges_cover_and_overlap_like_paddle():
    assert bin_edges(5, 2) == [(0, 3), (2, 5)]
    assert bin_edges(3, 4) == [(0, 1), (0, 2), (1, 3), (2, 3)]
    assert bin_edges(8, 4) == [(0, 2), (2, 4), (4, 6), (6, 8)]


def test_swap_covers_bins_only_and_is_undone():
    model = build_model({"model": {"type": "MobileSeg", "num_classes": 2,
                                   "cm_bin_sizes": [1, 2, 4],
                                   "backbone": {"type": "MobileNetV3_small_x1_0"}}},
                        pretrained=False)
    model.eval()
    pools = [l for l in model.sublayers() if isinstance(l, nn.AdaptiveAvgPool2D)]
    assert {tuple(np.atleast_1d(p._output_size)) for p in pools} >= {(2,), (4,)}
    x = paddle.to_tensor(np.random.default_rng(1).standard_normal((1, 3, 90, 160))
                         .astype("float32"))
    with paddle.no_grad():
        before = model(x)[0].numpy()
        with exact_adaptive_pooling(model) as n:
            assert n == sum(1 for p in pools if np.atleast_1d(p._output_size).max() > 1)
            assert not any(isinstance(l, nn.AdaptiveAvgPool2D) and
                           np.atleast_1d(l._output_size).max() > 1 for l in model.sublayers())
            inside = model(x)[0].numpy()
        after = [l for l in model.sublayers() if isinstance(l, nn.AdaptiveAvgPool2D)]
    assert np.abs(inside - before).max() < 1e-5
    assert len(after) == len(pools) and all(a is b for a, b in zip(after, pools))

"""CrossEntropyLoss: PaddleSeg 2.8 parity (values and gradients) and a hand computation."""
from __future__ import annotations

import math

import numpy as np
import paddle
import pytest

from loss_testutil import IGNORE, make_inputs, value_and_grad
from humanseg.models.losses import CrossEntropyLoss

WEIGHT = [0.5, 2.0, 1.0, 3.0]


@pytest.mark.parametrize("weight", [None, WEIGHT], ids=["noweight", "weight"])
@pytest.mark.parametrize("top_k", [1.0, 0.3, 0.9])
@pytest.mark.parametrize("avg_non_ignore", [True, False])
@pytest.mark.parametrize("ignore_frac", [0.2, 0.0], ids=["ignore", "noignore"])
def test_matches_paddleseg(paddleseg_ce, weight, top_k, avg_non_ignore, ignore_frac):
    if weight is not None and not avg_non_ignore and ignore_frac > 0:
        pytest.skip("PaddleSeg one_hot()s the raw 255 label here and raises; see test below")
    logit, label = make_inputs(ignore_frac=ignore_frac)
    kwargs = dict(weight=weight, top_k_percent_pixels=top_k, avg_non_ignore=avg_non_ignore)
    ours, ours_grad = value_and_grad(CrossEntropyLoss(**kwargs), logit, label)
    ref, ref_grad = value_and_grad(paddleseg_ce(**kwargs), logit, label)
    assert ours == pytest.approx(ref, rel=1e-5, abs=1e-6)
    np.testing.assert_allclose(ours_grad, ref_grad, rtol=1e-5, atol=1e-7)


def test_top_k_picking_ignore_pixels_counts_them(paddleseg_ce):
    # 90% of the pixels with 20% ignored: the top-k includes zero-loss ignore pixels.
    logit, label = make_inputs(ignore_frac=0.2, seed=3)
    assert (label.numpy() == IGNORE).mean() > 0.1
    ours = CrossEntropyLoss(weight=WEIGHT, top_k_percent_pixels=0.9)(logit, label)
    ref = paddleseg_ce(weight=WEIGHT, top_k_percent_pixels=0.9)(logit, label)
    assert float(ours) == pytest.approx(float(ref), rel=1e-5)


def test_semantic_weights_match_paddleseg(paddleseg_ce):
    logit, label = make_inputs()
    sw = paddle.to_tensor(np.random.default_rng(1).random(label.shape).astype("float32"))
    ours = CrossEntropyLoss(weight=WEIGHT)(logit, label, semantic_weights=sw)
    ref = paddleseg_ce(weight=WEIGHT)(logit, label, semantic_weights=sw)
    assert float(ours) == pytest.approx(float(ref), rel=1e-5)


def _nll(logits: list[float], target: int) -> float:
    return math.log(sum(math.exp(v) for v in logits)) - logits[target]


# One image, 2 classes, 1x3 pixels: labels 0, 1 and ignore.
TINY_LOGITS = [[2.0, 0.5, -1.0], [0.0, -0.5, 3.0]]  # [C][W]
TINY_LABEL = [0, 1, IGNORE]
L0 = _nll([2.0, 0.0], 0)   # log(1 + e^-2)
L1 = _nll([0.5, -0.5], 1)  # log(1 + e^1)


def _tiny():
    logit = paddle.to_tensor(np.array(TINY_LOGITS, "float32")[None, :, None, :],
                             stop_gradient=False)
    return logit, paddle.to_tensor([[TINY_LABEL]], dtype="int64")


@pytest.mark.parametrize("kwargs, expected", [
    ({}, (L0 + L1) / 2),
    ({"avg_non_ignore": False}, (L0 + L1) / 3),
    ({"weight": [1.0, 3.0]}, (1 * L0 + 3 * L1) / (1 + 3)),
    ({"weight": [1.0, 3.0], "top_k_percent_pixels": 0.34}, (3 * L1) / 3),  # k = 1: pixel 1
    ({"top_k_percent_pixels": 0.67}, (L1 + L0) / 2),  # k = 2
])
def test_hand_computed_values(kwargs, expected):
    logit, label = _tiny()
    assert float(CrossEntropyLoss(**kwargs)(logit, label)) == pytest.approx(expected, rel=1e-6)


def test_hand_computed_gradient():
    logit, label = _tiny()
    _, grad = value_and_grad(CrossEntropyLoss(), logit, label)
    p0 = 1 / (1 + math.exp(-2.0))   # softmax of class 0 at pixel 0
    p1 = 1 / (1 + math.exp(-1.0))   # softmax of class 0 at pixel 1
    # d mean / d logit = (softmax - onehot) / num_valid; nothing for the ignore pixel.
    expected = np.array([[p0 - 1, p1, 0.0], [1 - p0, (1 - p1) - 1, 0.0]]) / 2
    np.testing.assert_allclose(grad[0, :, 0, :], expected, rtol=1e-5, atol=1e-7)


def test_label_layouts_and_nhwc_agree():
    logit, label = make_inputs()
    ref = float(CrossEntropyLoss()(logit, label))
    assert float(CrossEntropyLoss()(logit, label.unsqueeze(1))) == pytest.approx(ref, rel=1e-6)
    assert float(CrossEntropyLoss()(logit, label.astype("int32"))) == pytest.approx(ref, rel=1e-6)
    nhwc = logit.transpose([0, 2, 3, 1])
    assert float(CrossEntropyLoss(data_format="NHWC")(nhwc, label)) == pytest.approx(ref, rel=1e-6)


def test_returns_0d_and_all_ignored_is_zero():
    logit, label = make_inputs()
    assert CrossEntropyLoss()(logit, label).shape == []
    all_ignored = paddle.full_like(label, IGNORE)
    loss, grad = value_and_grad(CrossEntropyLoss(weight=WEIGHT), logit, all_ignored)
    assert loss == 0.0 and np.all(grad == 0)


def test_weighted_without_avg_non_ignore_counts_ignore_as_class0():
    # PaddleSeg raises here (one_hot of 255); ours counts ignore pixels with class 0's weight.
    logit, label = make_inputs()
    ours = float(CrossEntropyLoss(weight=WEIGHT, avg_non_ignore=False)(logit, label))
    lab = label.numpy()
    w = np.array(WEIGHT)[np.where(lab == IGNORE, 0, lab)]
    per_px = CrossEntropyLoss(weight=WEIGHT, avg_non_ignore=True)(logit, label)  # = sum/sum_valid
    valid_w = w[lab != IGNORE].sum()
    assert ours == pytest.approx(float(per_px) * valid_w / w.sum(), rel=1e-5)


def test_bad_arguments():
    logit, label = make_inputs(c=4)
    with pytest.raises(ValueError, match="3 class weights .* 4 classes"):
        CrossEntropyLoss(weight=[1.0, 1.0, 1.0])(logit, label)
    with pytest.raises(ValueError, match="top_k_percent_pixels"):
        CrossEntropyLoss(top_k_percent_pixels=0.0)
    with pytest.raises(ValueError, match="data_format"):
        CrossEntropyLoss(data_format="CHW")

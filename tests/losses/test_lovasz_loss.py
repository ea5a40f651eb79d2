"""Lovász losses: PaddleSeg 2.8 parity (values and gradients) and edge cases."""
from __future__ import annotations

import numpy as np
import paddle
import pytest
from paddleseg.models import losses as ps_losses

from loss_testutil import IGNORE, make_inputs, value_and_grad
from humanseg.models.losses import LovaszHingeLoss, LovaszSoftmaxLoss


@pytest.mark.parametrize("classes", ["present", "all", [0, 2]], ids=str)
@pytest.mark.parametrize("ignore_frac", [0.2, 0.0], ids=["ignore", "noignore"])
@pytest.mark.parametrize("size", [(6, 7), (48, 40)], ids=str)
def test_softmax_matches_paddleseg(classes, ignore_frac, size):
    logit, label = make_inputs(h=size[0], w=size[1], ignore_frac=ignore_frac, seed=5)
    label = paddle.where(label == 3, paddle.full_like(label, 1), label)  # 'present' != 'all'
    ours, ours_grad = value_and_grad(LovaszSoftmaxLoss(classes=classes), logit, label)
    ref, ref_grad = value_and_grad(ps_losses.LovaszSoftmaxLoss(classes=classes), logit, label)
    assert ours == pytest.approx(ref, rel=1e-5, abs=1e-6)
    np.testing.assert_allclose(ours_grad, ref_grad, rtol=1e-5, atol=1e-6)


def test_softmax_label_with_channel_axis_and_0d():
    logit, label = make_inputs()
    loss = LovaszSoftmaxLoss()(logit, label)
    assert loss.shape == []
    assert float(LovaszSoftmaxLoss()(logit, label.unsqueeze(1))) == pytest.approx(float(loss))


def test_softmax_all_ignored_is_zero_with_zero_grad():
    logit, label = make_inputs()
    loss, grad = value_and_grad(LovaszSoftmaxLoss(), logit, paddle.full_like(label, IGNORE))
    assert loss == 0.0 and np.all(grad == 0)


def test_softmax_perfect_prediction_is_near_zero():
    _, label = make_inputs(ignore_frac=0.0)
    logit = paddle.nn.functional.one_hot(label, 4).transpose([0, 3, 1, 2]) * 30.0
    assert float(LovaszSoftmaxLoss()(logit, label)) < 1e-6


@pytest.mark.parametrize("ignore_frac", [0.2, 0.0], ids=["ignore", "noignore"])
def test_hinge_matches_paddleseg_one_channel(ignore_frac):
    logit, label = make_inputs(c=1, ignore_frac=ignore_frac, seed=7)
    rng = np.random.default_rng(7)
    binary = np.where(label.numpy() == IGNORE, IGNORE, rng.integers(0, 2, label.shape))
    label = paddle.to_tensor(binary.astype("int64"))
    ours, ours_grad = value_and_grad(LovaszHingeLoss(), logit, label)
    ref, ref_grad = value_and_grad(ps_losses.LovaszHingeLoss(), logit, label)
    assert ours == pytest.approx(ref, rel=1e-5, abs=1e-6)
    np.testing.assert_allclose(ours_grad, ref_grad, rtol=1e-5, atol=1e-6)


def test_hinge_two_channels_use_log_odds():
    # Deliberate difference from PaddleSeg (whose 2-channel conversion is about log(p)).
    logit2, _ = make_inputs(c=2, ignore_frac=0.0)
    label = paddle.to_tensor(np.random.default_rng(2).integers(0, 2, [2, 6, 7]).astype("int64"))
    diff = logit2[:, 1:2] - logit2[:, 0:1]
    assert float(LovaszHingeLoss()(logit2, label)) == pytest.approx(
        float(LovaszHingeLoss()(diff, label)), rel=1e-6)

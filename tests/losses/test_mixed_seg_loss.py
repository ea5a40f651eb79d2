"""MixedLoss and SegLoss: PaddleSeg 2.8 parity, term names, coef scaling and config errors."""
from __future__ import annotations

import numpy as np
import paddle
import pytest
from paddle import nn
from paddleseg.models import losses as ps_losses

from loss_testutil import make_inputs, value_and_grad
from humanseg.cvlibs.registry import LOSSES, build
from humanseg.errors import ConfigError
from humanseg.models.losses import CrossEntropyLoss, LovaszSoftmaxLoss, MixedLoss
from humanseg.models.seg_loss import SegLoss


def _portrait_mixed() -> MixedLoss:
    return MixedLoss([CrossEntropyLoss(), LovaszSoftmaxLoss()], [0.8, 0.2])


def test_mixed_matches_paddleseg(paddleseg_ce):
    logit, label = make_inputs()
    ours = _portrait_mixed()
    ref_terms = ps_losses.MixedLoss([paddleseg_ce(), ps_losses.LovaszSoftmaxLoss()],
                                    [0.8, 0.2])(logit, label)
    terms = ours.terms(logit, label)
    assert list(terms) == ["CrossEntropyLoss", "LovaszSoftmaxLoss"]
    for value, ref in zip(terms.values(), ref_terms):
        assert float(value) == pytest.approx(float(ref), rel=1e-5)
    total, grad = value_and_grad(ours, logit, label)
    ref_total, ref_grad = value_and_grad(
        lambda x, y: sum(ps_losses.MixedLoss([paddleseg_ce(), ps_losses.LovaszSoftmaxLoss()],
                                             [0.8, 0.2])(x, y)), logit, label)
    assert total == pytest.approx(ref_total, rel=1e-5)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-5, atol=1e-7)


def test_mixed_built_from_config_and_length_check():
    cfg = {"type": "MixedLoss", "coef": [0.8, 0.2],
           "losses": [{"type": "CrossEntropyLoss"}, {"type": "LovaszSoftmaxLoss"}]}
    mixed = build(cfg, LOSSES)
    assert isinstance(mixed, MixedLoss) and mixed.coef == [0.8, 0.2]
    with pytest.raises(ValueError, match=r"2 losses and 3 coefs"):
        MixedLoss([CrossEntropyLoss(), LovaszSoftmaxLoss()], [0.5, 0.3, 0.2])
    with pytest.raises(TypeError, match=r"losses\[1\]"):
        MixedLoss([CrossEntropyLoss(), {"ignore_index": 255}], [1, 1])


class _FutureLoss(nn.Layer):
    """Stands for a loss added later (e.g. SemanticConnectivityLoss): only the contract."""

    def forward(self, logit, label):
        return logit.mean() * 0 + 0.5


def test_mixed_takes_any_loss_and_names_repeats():
    logit, label = make_inputs()
    mixed = MixedLoss([CrossEntropyLoss(), _FutureLoss(), CrossEntropyLoss(weight=[1, 2, 3, 4])],
                      [1.0, 0.1, 2.0])
    terms = mixed.terms(logit, label)
    assert list(terms) == ["CrossEntropyLoss", "_FutureLoss", "CrossEntropyLoss_2"]
    assert float(terms["_FutureLoss"]) == pytest.approx(0.05)
    assert float(mixed(logit, label)) == pytest.approx(sum(float(v) for v in terms.values()),
                                                       rel=1e-6)


def test_nested_mixed_terms_are_prefixed():
    logit, label = make_inputs()
    outer = MixedLoss([_portrait_mixed(), _FutureLoss()], [2.0, 1.0])
    terms = outer.terms(logit, label)
    assert list(terms) == ["MixedLoss.CrossEntropyLoss", "MixedLoss.LovaszSoftmaxLoss",
                           "_FutureLoss"]
    assert float(terms["MixedLoss.CrossEntropyLoss"]) == pytest.approx(
        2 * 0.8 * float(CrossEntropyLoss()(logit, label)), rel=1e-6)


def test_seg_loss_matches_paddleseg_loss_computation(paddleseg_ce):
    from paddleseg.core.train import loss_computation

    logit, label = make_inputs()
    aux = (logit * 0.7 + 0.1).detach()
    aux.stop_gradient = False
    seg = SegLoss([_portrait_mixed(), CrossEntropyLoss()], [1.0, 0.4])
    total, terms = seg([logit, aux], label)
    assert list(terms) == ["out0.CrossEntropyLoss", "out0.LovaszSoftmaxLoss",
                           "out1.CrossEntropyLoss"]
    ref_losses = {"types": [ps_losses.MixedLoss([paddleseg_ce(), ps_losses.LovaszSoftmaxLoss()],
                                                [0.8, 0.2]), paddleseg_ce()],
                  "coef": [1.0, 0.4]}
    ref_list = loss_computation([logit, aux], label, None, ref_losses)
    for value, ref in zip(terms.values(), ref_list):
        assert float(value) == pytest.approx(float(ref), rel=1e-5)
    assert total.shape == []
    assert float(total) == pytest.approx(float(sum(ref_list)), rel=1e-5)
    assert float(total) == pytest.approx(sum(float(v) for v in terms.values()), rel=1e-6)
    grads = paddle.grad(total, [logit, aux])
    ref_grads = paddle.grad(sum(ref_list), [logit, aux])
    for g, r in zip(grads, ref_grads):
        np.testing.assert_allclose(g.numpy(), r.numpy(), rtol=1e-5, atol=1e-7)


def test_seg_loss_coef_scaling_and_label_channel():
    logit, label = make_inputs()
    ce = float(CrossEntropyLoss()(logit, label))
    total, terms = SegLoss([CrossEntropyLoss()], [2.5])([logit], label.unsqueeze(1))
    assert list(terms) == ["out0.CrossEntropyLoss"]
    assert float(total) == pytest.approx(2.5 * ce, rel=1e-6)
    total, terms = SegLoss([_portrait_mixed()], [0.5])(logit, label)  # a bare tensor is one output
    assert float(terms["out0.CrossEntropyLoss"]) == pytest.approx(0.5 * 0.8 * ce, rel=1e-6)


def test_seg_loss_count_mismatch_is_config_error():
    logit, label = make_inputs()
    seg = SegLoss([CrossEntropyLoss(), CrossEntropyLoss()], [1.0, 0.4])
    with pytest.raises(ConfigError) as err:
        seg([logit], label)
    msg = str(err.value)
    assert "returned 1 output" in msg and "2 loss type" in msg
    assert "give `loss.types` and `loss.coef` one entry per model output" in msg
    with pytest.raises(ConfigError, match="`loss.types` has 2 entries and `loss.coef` has 1"):
        SegLoss([CrossEntropyLoss(), CrossEntropyLoss()], [1.0])


class _EdgeLoss(nn.Layer):
    def forward(self, logit, label, edges=None):
        return edges.astype("float32").mean() + logit.mean() * 0


def test_seg_loss_passes_edges_only_to_losses_taking_them():
    logit, label = make_inputs()
    edges = paddle.ones_like(label)
    total, terms = SegLoss([_EdgeLoss(), CrossEntropyLoss()], [1.0, 1.0])([logit, logit], label,
                                                                          edges=edges)
    assert float(terms["out0._EdgeLoss"]) == pytest.approx(1.0)
    assert "out1.CrossEntropyLoss" in terms

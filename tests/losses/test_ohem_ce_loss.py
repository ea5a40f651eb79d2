"""OhemCrossEntropyLoss: PaddleSeg 2.8 parity (values and gradients), hand computation, config."""
from __future__ import annotations

import math

import numpy as np
import paddle
import pytest

from loss_testutil import IGNORE, make_inputs, value_and_grad
from humanseg.cvlibs.registry import LOSSES, build
from humanseg.cvlibs.checks import check_config
from humanseg.models.losses import CrossEntropyLoss, OhemCrossEntropyLoss


def _num_valid(label: paddle.Tensor) -> int:
    return int((label.numpy() != IGNORE).sum())


@pytest.mark.parametrize("thresh", [0.3, 0.7, 0.95])
@pytest.mark.parametrize("min_kept", [0, 1, 10, 40, 66, 67, 1000])
@pytest.mark.parametrize("ignore_frac", [0.2, 0.0], ids=["ignore", "noignore"])
def test_matches_paddleseg(paddleseg_ohem, thresh, min_kept, ignore_frac):
    logit, label = make_inputs(ignore_frac=ignore_frac)  # 84 pixels, 67 labelled with ignore
    kwargs = dict(thresh=thresh, min_kept=min_kept)
    ours, ours_grad = value_and_grad(OhemCrossEntropyLoss(**kwargs), logit, label)
    ref, ref_grad = value_and_grad(paddleseg_ohem(**kwargs), logit, label)
    assert ours == pytest.approx(ref, rel=1e-5, abs=1e-6)
    np.testing.assert_allclose(ours_grad, ref_grad, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("seed", [1, 2])
def test_matches_paddleseg_many_classes(paddleseg_ohem, seed):
    logit, label = make_inputs(n=2, c=19, h=24, w=32, ignore_frac=0.1, seed=seed)
    loss = OhemCrossEntropyLoss(min_kept=300)
    ours, ours_grad = value_and_grad(loss, logit, label)
    ref, ref_grad = value_and_grad(paddleseg_ohem(min_kept=300), logit, label)
    assert int(loss.kept_mask(logit, label).sum()) < _num_valid(label), "nothing was mined"
    assert ours == pytest.approx(ref, rel=1e-5)
    np.testing.assert_allclose(ours_grad, ref_grad, rtol=1e-5, atol=1e-7)


def _tiny():
    # One image, 2 classes, 1x5 pixels; label 1 everywhere but the last pixel (ignore).
    # Class-1 logit minus class-0 logit d gives the true-class probability sigmoid(d).
    diffs = [-2.0, -0.5, 0.5, 2.0, 0.0]
    logit = np.zeros((1, 2, 1, 5), "float32")
    logit[0, 1, 0] = diffs
    label = paddle.to_tensor([[[1, 1, 1, 1, IGNORE]]], dtype="int64")
    nll = [math.log1p(math.exp(-d)) for d in diffs[:4]]  # -log sigmoid(d)
    return paddle.to_tensor(logit, stop_gradient=False), label, nll


@pytest.mark.parametrize("kwargs, kept", [
    # true-class probabilities: 0.119, 0.378, 0.622, 0.881
    ({"thresh": 0.7, "min_kept": 1}, [0, 1, 2]),      # 1st prob 0.119 < thresh: thresh wins
    ({"thresh": 0.5, "min_kept": 2}, [0, 1]),
    ({"thresh": 0.3, "min_kept": 3}, [0, 1]),         # raised to the 3rd prob, strict '<'
    ({"thresh": 0.7, "min_kept": 0}, [0, 1, 2, 3]),   # min_kept 0: no mining
    ({"thresh": 0.1, "min_kept": 4}, [0, 1, 2, 3]),   # min_kept >= labelled pixels: no mining
])
def test_hand_computed_values_and_gradient(kwargs, kept):
    logit, label, nll = _tiny()
    loss, grad = value_and_grad(OhemCrossEntropyLoss(**kwargs), logit, label)
    frac = len(kept) / 5
    expected = sum(nll[i] for i in kept) / 5 / (frac + 1e-5)
    assert loss == pytest.approx(expected, rel=1e-6)
    dropped = [i for i in range(5) if i not in kept]
    assert np.all(grad[0, :, 0, dropped] == 0)
    assert np.all(grad[0, 1, 0, kept] < 0), "kept pixels push their true class up"


def test_without_mining_equals_cross_entropy():
    logit, label = make_inputs(seed=4)
    ohem = OhemCrossEntropyLoss(min_kept=_num_valid(label))
    ce, ce_grad = value_and_grad(CrossEntropyLoss(), logit, label)
    ours, ours_grad = value_and_grad(ohem, logit, label)
    assert ours == pytest.approx(ce, rel=1e-4)  # the 1e-5 in the denominator differs from CE's
    np.testing.assert_allclose(ours_grad, ce_grad, rtol=1e-4, atol=1e-7)
    mined = float(OhemCrossEntropyLoss(min_kept=5)(logit, label))
    assert mined > ce, "the hard pixels have a higher mean loss than all pixels"


def test_label_layouts_and_all_ignored():
    logit, label = make_inputs()
    ref = float(OhemCrossEntropyLoss(min_kept=10)(logit, label))
    assert float(OhemCrossEntropyLoss(min_kept=10)(logit, label.unsqueeze(1))) == ref
    assert OhemCrossEntropyLoss()(logit, label).shape == []
    loss, grad = value_and_grad(OhemCrossEntropyLoss(min_kept=10), logit,
                                paddle.full_like(label, IGNORE))
    assert loss == 0.0 and np.all(grad == 0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="min_kept"):
        OhemCrossEntropyLoss(min_kept=-1)
    with pytest.raises(ValueError, match="min_kept"):
        OhemCrossEntropyLoss(min_kept=2.5)
    logit, label = make_inputs()
    with pytest.raises(ValueError, match=r"\[N, C, H, W\]"):
        OhemCrossEntropyLoss()(logit.reshape([2, 4, 42]), label.reshape([2, 42]))


def test_config_inherits_dataset_ignore_index():
    dataset = {"type": "Dataset", "num_classes": 2, "ignore_index": 250}
    cfg = check_config({
        "batch_size": 2, "iters": 10,
        "train_dataset": dict(dataset, mode="train"), "val_dataset": dict(dataset, mode="val"),
        "optimizer": {"type": "sgd"},
        "lr_scheduler": {"type": "PolynomialDecay", "learning_rate": 0.1},
        "loss": {"types": [{"type": "OhemCrossEntropyLoss", "min_kept": 130000}], "coef": [1]},
        "model": {"type": "PPHumanSegLite", "num_classes": 2},
    })
    loss = build(cfg["loss"]["types"][0], LOSSES, "loss.types[0]")
    assert isinstance(loss, OhemCrossEntropyLoss)
    assert (loss.ignore_index, loss.min_kept, loss.thresh) == (250, 130000, 0.7)

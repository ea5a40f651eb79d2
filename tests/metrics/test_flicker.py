"""Temporal flicker against hand-computed cases."""
import numpy as np
import pytest

from humanseg.metrics import FlickerMetric, compute_flicker, flicker_pair


def test_pair_counts_only_label_stable_pixels():
    label_prev = np.array([[0, 0, 1, 1], [0, 0, 1, 1]])
    label_cur = np.array([[0, 1, 1, 1], [0, 0, 1, 255]])   # (0,1) changes, (1,3) ignored
    pred_prev = np.array([[0, 0, 1, 1], [1, 0, 1, 1]])
    pred_cur = np.array([[1, 1, 1, 0], [1, 0, 1, 0]])
    # stable pixels: 8 - 1 changed label - 1 ignored = 6; prediction changes on them: (0,0), (0,3)
    # ((0,1) changes but its label changed too, (1,3) changes but is ignored)
    changed, stable, alpha_sum = flicker_pair(pred_prev, pred_cur, label_prev, label_cur)
    assert (changed, stable, alpha_sum) == (2, 6, 0.0)


def test_soft_version_sums_abs_alpha_change_on_stable_pixels():
    label = np.array([[0, 1], [1, 1]])
    label_cur = np.array([[0, 1], [0, 1]])                 # (1,0) not stable
    a_prev = np.array([[0.1, 0.9], [0.5, 0.6]])
    a_cur = np.array([[0.3, 0.8], [0.0, 0.6]])
    _, stable, alpha_sum = flicker_pair(a_prev > 0.5, a_cur > 0.5, label, label_cur, a_prev, a_cur)
    assert stable == 3
    assert alpha_sum == pytest.approx(0.2 + 0.1 + 0.0)


def test_clip_mean_is_over_pairs_and_skips_pairs_without_stable_pixels():
    labels = [np.zeros((2, 2), int), np.zeros((2, 2), int), np.zeros((2, 2), int),
              np.ones((2, 2), int)]                           # last pair: every label changes
    preds = [np.zeros((2, 2), int), np.array([[1, 0], [0, 0]]), np.array([[1, 1], [1, 1]]),
             np.zeros((2, 2), int)]
    alphas = [p.astype(float) for p in preds]
    out = compute_flicker(preds, labels, alphas)
    # pair 1: 1 of 4 changed; pair 2: 3 of 4 changed; pair 3: no stable pixel -> skipped
    assert out["pairs"] == 2
    assert out["flicker"] == pytest.approx((1 / 4 + 3 / 4) / 2)
    assert out["soft_flicker"] == pytest.approx((1 / 4 + 3 / 4) / 2)


def test_static_prediction_on_static_labels_has_zero_flicker():
    label = np.random.default_rng(0).integers(0, 2, (8, 8))
    out = compute_flicker([label] * 5, [label] * 5, [label.astype(float)] * 5)
    assert out == {"flicker": 0.0, "soft_flicker": 0.0, "pairs": 4}


def test_new_clip_breaks_the_chain_and_soft_is_none_without_alphas():
    metric = FlickerMetric()
    zero, one = np.zeros((1, 2), int), np.ones((1, 2), int)
    metric.update(zero, zero)
    metric.new_clip()
    metric.update(one, zero)          # would be a full flicker if compared with the previous clip
    metric.update(one, zero)
    assert metric.compute() == {"flicker": 0.0, "soft_flicker": None, "pairs": 1}


def test_mismatched_inputs_raise():
    with pytest.raises(ValueError, match="2 predictions, 1 labels"):
        compute_flicker([np.zeros((2, 2))] * 2, [np.zeros((2, 2))])
    with pytest.raises(ValueError, match="differ in shape"):
        flicker_pair(np.zeros((2, 2)), np.zeros((2, 3)), np.zeros((2, 2)), np.zeros((2, 2)))

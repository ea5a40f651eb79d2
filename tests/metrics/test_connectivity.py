"""Connectivity metric: hand-computed values, batching, ignore pixels and evaluate()'s report."""
from __future__ import annotations

import numpy as np
import pytest

from humanseg.metrics import ConnectivityMetric
from humanseg.metrics import compute_connectivity as connectivity
from humanseg.metrics.connectivity import connectivity_per_group, match_components

IGNORE = 255


def square() -> np.ndarray:
    g = np.zeros((32, 32), np.int64)
    g[4:12, 4:12] = 1
    return g


def test_hand_computed_values():
    g = square()
    assert connectivity(g, g, 2) == {"connectivity": 1.0, "class_connectivity": [1.0, 1.0]}
    speck = g.copy()
    speck[20, 20] = 1
    assert connectivity(speck, g, 2)["class_connectivity"] == pytest.approx([959 / 960, 0.5])
    split = np.zeros_like(g)
    split[4:12, 4:8] = 1
    split[4:12, 9:12] = 1
    assert connectivity(split, g, 2)["class_connectivity"] == pytest.approx([960 / 968, 0.4375])
    disjoint = np.zeros_like(g)
    disjoint[20:28, 20:28] = 1
    assert connectivity(disjoint, g, 2)["class_connectivity"] == pytest.approx([0.875, 0.0])
    # a missed class and a false-positive class both score 0; class 2 is absent from both
    missed = connectivity(np.zeros_like(g), g, 3)
    assert missed["class_connectivity"] == pytest.approx([960 / 1024, 0.0, 0.0])
    assert missed["connectivity"] == pytest.approx((960 / 1024) / 2)  # mean over classes seen


def test_one_ground_truth_matched_by_two_and_two_by_one():
    label = np.zeros((10, 20), np.int64)
    label[2:8, 2:6] = 1
    label[2:8, 10:14] = 1
    pred = np.zeros_like(label)
    pred[2:8, 2:14] = 1  # one prediction covering both: IoU 24/72 with each
    per_class = connectivity(pred, label, 2)["class_connectivity"]
    assert per_class[1] == pytest.approx(2 * (24 / 72) / 2)


def test_ignore_pixels_and_batches():
    g = square()
    label = g.copy()
    label[:, 8] = IGNORE
    pred = g.copy()
    pred[20:24, 20:24] = 1
    label[20:24, 20:24] = IGNORE
    assert connectivity(pred, label, 2)["connectivity"] == 1.0
    metric = ConnectivityMetric(2)
    metric.update(np.stack([g, g]), np.stack([g, g]))
    speck = g.copy()
    speck[20, 20] = 1
    metric.update(speck, g)
    per_class = metric.compute()["class_connectivity"]
    assert per_class == pytest.approx([(2 + 959 / 960) / 3, 2.5 / 3])


def test_groups_agree_with_a_per_image_per_class_loop():
    rng = np.random.default_rng(0)
    label = np.repeat(np.repeat(rng.integers(0, 4, (3, 5, 6)), 4, 1), 4, 2)
    pred = label.copy()
    noise = rng.random(pred.shape) < 0.15
    pred[noise] = rng.integers(0, 4, int(noise.sum()))
    label[rng.random(label.shape) < 0.05] = IGNORE
    conn, present = connectivity_per_group(match_components(pred, label, 4))
    for b in range(3):
        for c in range(4):
            one = connectivity(pred[b], label[b], 4)["class_connectivity"][c]
            assert conn[b * 4 + c] == pytest.approx(one)
            valid = label[b] != IGNORE
            in_either = ((pred[b] == c) & valid).any() or ((label[b] == c) & valid).any()
            assert present[b * 4 + c] == in_either


def test_both_ways_of_finding_pairs_agree():
    from humanseg.metrics.connectivity import _components, _pairs
    rng = np.random.default_rng(5)
    pred = rng.integers(0, 3, (2, 30, 40)).astype(np.uint16) + 1
    label = np.repeat(np.repeat(rng.integers(0, 3, (2, 6, 8)), 5, 1), 5, 2).astype(np.uint16) + 1
    pred_id, label_id = _components(pred)[0], _components(label)[0]
    agree = pred * (pred == label)
    table = _pairs(pred_id, label_id, agree, by_ccl=False)
    ccl = _pairs(pred_id, label_id, agree, by_ccl=True)
    for a, b in zip(table, ccl):
        np.testing.assert_array_equal(a, b)
    assert len(table[1]) > 10


def test_bad_input_is_reported():
    with pytest.raises(ValueError, match="shape"):
        connectivity(np.zeros((4, 4), int), np.zeros((4, 5), int), 2)
    with pytest.raises(ValueError, match="label has class ids outside"):
        connectivity(np.zeros((4, 4), int), np.full((4, 4), 3), 2)


def test_evaluate_reports_connectivity(synthetic_root):
    from support import tiny_config
    from humanseg.cvlibs.builder import SegBuilder
    from humanseg.cvlibs.checks import check_config
    from humanseg.engine.evaluate import evaluate, format_metrics

    b = SegBuilder(check_config(tiny_config(synthetic_root)))
    result = evaluate(b.model, b.val_dataset, progress=False)
    assert {"miou", "class_iou", "acc", "kappa", "mdice", "connectivity",
            "class_connectivity"} <= set(result)
    assert 0.0 <= result["connectivity"] <= 1.0 and len(result["class_connectivity"]) == 2
    text = format_metrics(result)
    assert "Conn=" in text and "Conn" in text.splitlines()[1]

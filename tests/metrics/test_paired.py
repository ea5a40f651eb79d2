"""Paired differences and their bootstrap intervals on constructed data with a known answer."""
import numpy as np
import pytest

from humanseg.metrics.boundary import BoundaryFMetric
from humanseg.metrics.connectivity import ConnectivityMetric
from humanseg.metrics.flicker import FlickerMetric
from humanseg.metrics.iou import IoUMetric
from humanseg.metrics.paired import FrameStats, paired_difference, unit_sums, verdict


def mean_of(sums):
    """Statistic of (value sum, count) rows: the mean value."""
    return sums[..., 0] / sums[..., 1]


def paired_data(shift, seeds=5, units=60, noise=0.05, seed=0):
    """Per (seed, unit) values: a unit effect shared by both arms, seed noise, and ``shift``."""
    rng = np.random.default_rng(seed)
    unit_effect = rng.normal(0.6, 0.1, size=units)
    control = unit_effect + rng.normal(0, noise, size=(seeds, units))
    arm = unit_effect + shift + rng.normal(0, noise, size=(seeds, units))
    as_rows = lambda v: np.stack([v, np.ones_like(v)], axis=-1)  # noqa: E731
    return as_rows(arm), as_rows(control)


def test_a_known_shift_is_detected_with_the_right_sign():
    arm, control = paired_data(0.05)
    result = paired_difference(arm, control, mean_of, n_boot=1000, seed=1)
    assert result["mean"] == pytest.approx(0.05, abs=0.01)
    assert result["ci95"][0] > 0
    assert verdict(result["ci95"], +1) == "helps"
    assert verdict(result["ci95"], -1) == "hurts"  # lower-is-better metric: the same rise hurts
    worse = paired_difference(control, arm, mean_of, n_boot=1000, seed=1)
    assert worse["ci95"][1] < 0 and verdict(worse["ci95"], +1) == "hurts"


def test_no_effect_gives_no_detectable_effect_with_the_half_width():
    arm, control = paired_data(0.0)
    result = paired_difference(arm, control, mean_of, n_boot=1000, seed=1)
    low, high = result["ci95"]
    assert low < 0 < high
    assert verdict(result["ci95"]) == f"no detectable effect at ±{(high - low) / 2:.3g}"


def test_identical_arms_give_exactly_zero():
    arm, _ = paired_data(0.0)
    result = paired_difference(arm, arm.copy(), mean_of, n_boot=200)
    assert result["mean"] == 0 and result["ci95"] == [0.0, 0.0] and result["sd"] == 0


def test_the_interval_covers_the_true_mean_about_95_percent_of_the_time():
    covered = 0
    trials = 60
    for t in range(trials):
        arm, control = paired_data(0.02, seeds=5, units=40, noise=0.05, seed=100 + t)
        lo, hi = paired_difference(arm, control, mean_of, n_boot=400, seed=t)["ci95"]
        covered += lo <= 0.02 <= hi
    assert covered >= 0.85 * trials  # nominal 95%; percentile bootstrap with 5 seeds runs narrow


def test_deterministic_with_a_seed_and_different_without_it():
    arm, control = paired_data(0.01)
    a = paired_difference(arm, control, mean_of, n_boot=300, seed=7)
    assert a == paired_difference(arm, control, mean_of, n_boot=300, seed=7)
    assert a["ci95"] != paired_difference(arm, control, mean_of, n_boot=300, seed=8)["ci95"]


def test_shape_mismatch_is_a_clear_error():
    arm, control = paired_data(0.0)
    with pytest.raises(ValueError, match="one shape"):
        paired_difference(arm, control[:3], mean_of)


def test_unit_sums_group_rows_by_unit():
    names, sums = unit_sums(np.array([[1.0, 1], [2, 1], [4, 1]]), ["b", "a", "b"])
    assert names == ["a", "b"]
    np.testing.assert_array_equal(sums, [[2, 1], [5, 2]])


def test_frame_stats_sum_to_the_whole_set_metrics():
    """Summed per-frame rows give what the accumulators of humanseg.metrics give on the set."""
    rng = np.random.default_rng(0)
    layout = FrameStats(num_classes=3)
    labels = np.zeros((6, 20, 24), np.int64)
    labels[:, 4:14, 5:15] = 1
    labels[:, 15:18, 2:22] = 2
    labels[:, 0, :] = 255
    preds = labels.copy()
    preds[preds == 255] = 0
    flips = rng.random(preds.shape) < 0.08
    preds[flips] = rng.integers(0, 3, size=flips.sum())
    iou, conn, bf, fl = IoUMetric(3), ConnectivityMetric(3), BoundaryFMetric(3), FlickerMetric()
    rows, prev = [], None
    for p, g in zip(preds, labels):
        rows.append(layout.frame(p, g, prev))
        prev = (p, g)
        iou.update(p, g), conn.update(p, g), bf.update(p, g), fl.update(p, g)
    metrics = layout.metrics(np.sum(rows, axis=0))
    assert metrics["miou"] == pytest.approx(iou.compute()["miou"])
    assert metrics["connectivity"] == pytest.approx(conn.compute()["connectivity"])
    assert metrics["boundary_f"] == pytest.approx(bf.compute()["boundary_f"])
    assert metrics["flicker"] == pytest.approx(fl.compute()["flicker"])
    assert metrics["label_components"] == pytest.approx(2.0)  # one square and one bar per frame
    assert metrics["pred_components"] > 2 and metrics["components"] > 0  # the speckles
    clean = np.where(labels == 255, 0, labels)
    perfect = layout.metrics(layout.frame(clean[1], labels[1], (clean[0], labels[0])))
    assert (perfect["miou"], perfect["connectivity"], perfect["components"],
            perfect["flicker"]) == (1.0, 1.0, 0.0, 0.0)


def test_frame_components_per_row():
    layout = FrameStats(num_classes=2)
    label = np.zeros((12, 12), np.int64)
    label[2:6, 2:6] = 1
    pred = label.copy()
    pred[9:11, 9:11] = 1          # a spurious piece
    pred[0, 11] = 1               # and another
    rows = np.stack([layout.frame(pred, label), layout.frame(label, label)])
    predicted, labelled = layout.components(rows)
    assert predicted.tolist() == [3.0, 1.0] and labelled.tolist() == [1.0, 1.0]
    assert layout.metrics(rows.sum(0))["pred_components"] == predicted.mean()

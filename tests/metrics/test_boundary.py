"""Boundary F-score on hand-computed cases."""
import numpy as np
import pytest

from humanseg.metrics.boundary import (BoundaryFMetric, boundary, boundary_counts,
                                       scores_from_counts, tolerance_pixels)


def square(x0, size=4, shape=(10, 10), y0=2):
    m = np.zeros(shape, np.uint8)
    m[y0:y0 + size, x0:x0 + size] = 1
    return m


def test_boundary_is_the_inner_ring_and_not_the_image_edge():
    b = boundary(square(2).astype(bool))
    assert b.sum() == 12  # a 4x4 square: 16 pixels, 4 inside
    assert not b[3:5, 3:5].any()
    assert not boundary(np.ones((5, 5), bool)).any(), "the image edge is not a boundary"


def test_identical_maps_score_one():
    label = square(2)
    counts = boundary_counts(label, label, 2, tolerance=0)
    # class 0: the 16 background pixels 4-adjacent to the square; class 1: the 12-pixel ring
    assert counts.tolist() == [[16, 16, 16, 16], [12, 12, 12, 12]]
    assert scores_from_counts(counts)["class_boundary_f"] == [1.0, 1.0]


def test_one_pixel_shift_with_and_without_tolerance():
    label, pred = square(2), square(3)
    c1 = boundary_counts(pred, label, 2, tolerance=0)[1]
    # rings share only the top and bottom edges' 3 common columns: 6 of 12 on each side
    assert c1.tolist() == [6, 12, 6, 12]
    scores = scores_from_counts(boundary_counts(pred, label, 2, tolerance=0))
    assert scores["class_boundary_f"][1] == pytest.approx(0.5)
    assert scores["class_boundary_precision"][1] == pytest.approx(0.5)
    assert boundary_counts(pred, label, 2, tolerance=1)[1].tolist() == [12, 12, 12, 12]
    # a fraction of the diagonal: 0.08 * hypot(10, 10) = 1.13 px
    assert tolerance_pixels(0.08, (10, 10)) == pytest.approx(1.1314, abs=1e-4)
    assert boundary_counts(pred, label, 2, tolerance=0.08)[1].tolist() == [12, 12, 12, 12]


def test_missing_classes_and_ignored_pixels():
    label = square(2)
    pred = np.zeros_like(label)  # class 1 never predicted
    scores = scores_from_counts(boundary_counts(pred, label, 3, tolerance=1))
    f0, f1, f2 = scores["class_boundary_f"]
    assert f1 == 0.0 and f2 is None, "missed class scores 0; absent class has no score"
    assert f0 == 0.0  # background has labelled boundary pixels, the prediction none
    assert scores["boundary_f"] == pytest.approx(0.0)
    # a predicted blob inside an ignored region counts nowhere
    label2 = np.full((10, 10), 255, np.uint8)
    label2[:, :5] = 0
    pred2 = np.zeros_like(label2)
    pred2[3:6, 6:9] = 1
    assert boundary_counts(pred2, label2, 2, tolerance=0).tolist() == [[0, 0, 0, 0]] * 2
    assert scores_from_counts(np.zeros((2, 4)))["boundary_f"] is None


def test_metric_accumulates_counts_over_images():
    m = BoundaryFMetric(2, tolerance=0)
    m.update(np.stack([square(2), square(3)]), np.stack([square(2), square(2)]))
    # class 1: image 1 gives 12/12 both ways, image 2 gives 6/12: P = R = 18/24
    assert m.counts[1].tolist() == [18, 24, 18, 24]
    out = m.compute()
    assert out["class_boundary_f"][1] == pytest.approx(0.75)
    assert out["boundary_tolerance"] == 0


@pytest.mark.parametrize("bad", [-1, "3px", True])
def test_bad_tolerance_is_refused(bad):
    with pytest.raises(ValueError, match="tolerance"):
        BoundaryFMetric(2, tolerance=bad)

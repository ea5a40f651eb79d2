"""IoU-family metrics against hand-computed values and PaddleSeg's metric functions."""
import numpy as np
import pytest

from humanseg.metrics import IoUMetric, confusion_matrix, metrics_from_confusion


def test_hand_computed_binary_example():
    label = np.array([[0, 0, 1, 1], [0, 0, 1, 255]])
    pred = np.array([[0, 1, 1, 1], [0, 0, 0, 1]])
    cm = confusion_matrix(pred, label, 2)
    assert cm.tolist() == [[3, 1], [1, 2]]
    m = metrics_from_confusion(cm)
    assert m["class_iou"] == pytest.approx([3 / 5, 2 / 4])
    assert m["miou"] == pytest.approx((0.6 + 0.5) / 2)
    assert m["acc"] == pytest.approx(5 / 7)
    assert m["class_precision"] == pytest.approx([3 / 4, 2 / 3])
    assert m["class_recall"] == pytest.approx([3 / 4, 2 / 3])
    pe = (4 * 4 + 3 * 3) / 49
    assert m["kappa"] == pytest.approx((5 / 7 - pe) / (1 - pe))
    assert m["class_dice"] == pytest.approx([6 / 8, 4 / 6])


def test_accumulates_over_images_not_per_image_mean():
    metric = IoUMetric(2)
    metric.update(np.array([1, 1]), np.array([1, 1]))
    metric.update(np.array([0, 0, 0, 0]), np.array([0, 0, 0, 1]))
    m = metric.compute()
    assert m["class_iou"] == pytest.approx([3 / 4, 2 / 3])


def test_matches_paddleseg_metrics():
    import paddle
    from paddleseg.utils import metrics as ps

    rng = np.random.default_rng(0)
    label = rng.integers(0, 4, size=(2, 1, 16, 16))
    label[:, :, :3] = 255
    pred = rng.integers(0, 4, size=(2, 1, 16, 16))
    cm = confusion_matrix(pred, label, 4, 255)
    ours = metrics_from_confusion(cm)
    # PaddleSeg's calculate_area breaks on Paddle 3 (concat of 0-D sums), so compute its areas
    # from our confusion matrix and check its formulas agree with ours.
    inter = paddle.to_tensor(np.diag(cm).astype("int64"))
    pred_area = paddle.to_tensor(cm.sum(0).astype("int64"))
    label_area = paddle.to_tensor(cm.sum(1).astype("int64"))
    class_iou, miou = ps.mean_iou(inter, pred_area, label_area)
    acc, class_precision, class_recall = ps.class_measurement(inter, pred_area, label_area)
    kappa = ps.kappa(inter, pred_area, label_area)
    class_dice, mdice = ps.dice(inter, pred_area, label_area)
    assert ours["miou"] == pytest.approx(miou)
    assert ours["class_iou"] == pytest.approx(list(class_iou))
    assert ours["acc"] == pytest.approx(acc)
    assert ours["class_precision"] == pytest.approx(list(class_precision))
    assert ours["class_recall"] == pytest.approx(list(class_recall))
    assert ours["kappa"] == pytest.approx(kappa)
    assert ours["mdice"] == pytest.approx(mdice)
    # and the confusion matrix is a real count
    keep = label != 255
    assert cm.sum() == keep.sum()
    assert np.diag(cm).sum() == ((pred == label) & keep).sum()

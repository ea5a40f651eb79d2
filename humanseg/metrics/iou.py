"""IoU-family metrics from a confusion matrix accumulated over a whole set (PaddleSeg's protocol)."""
from __future__ import annotations

import numpy as np


def confusion_matrix(pred: np.ndarray, label: np.ndarray, num_classes: int,
                     ignore_index: int = 255) -> np.ndarray:
    """``cm[i, j]`` = number of pixels with label i predicted as j; ignore pixels excluded."""
    pred = np.asarray(pred).reshape(-1).astype(np.int64)
    label = np.asarray(label).reshape(-1).astype(np.int64)
    if pred.shape != label.shape:
        raise ValueError(f"prediction has {pred.size} pixels but label has {label.size}")
    keep = (label != ignore_index) & (label >= 0) & (label < num_classes)
    idx = label[keep] * num_classes + pred[keep]
    return np.bincount(idx, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def metrics_from_confusion(cm: np.ndarray) -> dict:
    """mIoU, per-class IoU, precision, recall, Dice, accuracy and Cohen's kappa.

    Classes absent from both labels and predictions get IoU 0, as PaddleSeg reports them.
    """
    cm = cm.astype(np.float64)
    tp = np.diag(cm)
    label_area = cm.sum(axis=1)
    pred_area = cm.sum(axis=0)
    union = label_area + pred_area - tp
    total = cm.sum()

    def ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.divide(a, b, out=np.zeros_like(a), where=b > 0)

    class_iou = ratio(tp, union)
    class_dice = ratio(2 * tp, label_area + pred_area)
    accuracy = tp.sum() / total if total else 0.0
    expected = (label_area * pred_area).sum() / total ** 2 if total else 0.0
    kappa = (accuracy - expected) / (1 - expected) if expected < 1 else 0.0
    return {
        "miou": float(class_iou.mean()),
        "class_iou": class_iou.tolist(),
        "class_precision": ratio(tp, pred_area).tolist(),
        "class_recall": ratio(tp, label_area).tolist(),
        "mdice": float(class_dice.mean()),
        "class_dice": class_dice.tolist(),
        "acc": float(accuracy),
        "kappa": float(kappa),
    }


class IoUMetric:
    """Accumulates a confusion matrix over ``update(pred, label)`` calls; ``compute()`` the metrics."""

    def __init__(self, num_classes: int, ignore_index: int = 255):
        self.num_classes, self.ignore_index = num_classes, ignore_index
        self.cm = np.zeros((num_classes, num_classes), dtype=np.int64)

    def update(self, pred: np.ndarray, label: np.ndarray) -> None:
        self.cm += confusion_matrix(pred, label, self.num_classes, self.ignore_index)

    def compute(self) -> dict:
        return metrics_from_confusion(self.cm)

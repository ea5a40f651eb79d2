"""Mode 'paddleseg' of the SC loss: PaddleSeg 2.8.0's values, defects included, no gradient.

Background scored 1, IoU scaled by the class id (PaddleSeg multiplies the class map into the
intersection), raster-order cap on prediction components, no false-positive term; see
docs/scl.md. PaddleSeg's loops over images and classes are kept, since the cap and the averaging
depend on them; the pair IoUs are segment sums.
"""
from __future__ import annotations

import cv2
import numpy as np
import paddle


def _class_loss(values: np.ndarray, classes: np.ndarray, label: np.ndarray, cls: int,
                cap: int) -> float:
    """PaddleSeg's per-class term for one image (``values``: the float map it multiplies in)."""
    n_pred, pred_cc = cv2.connectedComponents((classes == cls).astype(np.uint8))
    n_label, label_cc = cv2.connectedComponents((label == cls).astype(np.uint8))
    if n_pred > 2 * n_label:
        n_pred = min(n_pred, cap)
    real_pred, real_label = n_pred - 1, n_label - 1
    if real_label > 0 and real_pred > 0:
        return 1.0 - _connectivity(values, pred_cc, label_cc, real_pred, real_label)
    if real_label == 0 and real_pred == 0:
        return 0.0
    missed = (label == cls) & ~(values == cls)
    return float(missed.sum()) / missed.size + 1.0


def _connectivity(values: np.ndarray, pred_cc: np.ndarray, label_cc: np.ndarray,
                  real_pred: int, real_label: int) -> float:
    """IoUs of the first ``real_pred`` prediction components with every label component."""
    keep = (pred_cc >= 1) & (pred_cc <= real_pred)
    pj, li, v = pred_cc[keep].astype(np.int64), label_cc[keep].astype(np.int64), values[keep]
    size = (real_label + 1) * (real_pred + 1)
    inter = np.bincount(li * (real_pred + 1) + pj, v.astype(np.float64), minlength=size)
    inter = inter.reshape(real_label + 1, real_pred + 1)[1:, 1:].astype(np.float32)
    pred_area = np.bincount(pj, v.astype(np.float64), minlength=real_pred + 1)[1:]
    label_area = np.bincount(label_cc.reshape(-1), minlength=real_label + 1)[1:real_label + 1]
    union = (pred_area[None, :].astype(np.float32) + label_area[:, None].astype(np.float32)
             - inter)
    iou = np.where(inter == 0, 0.0, np.where(union == 0, 1.0, inter / np.where(union == 0, 1,
                                                                                  union)))
    iou = iou.astype(np.float32)
    paired = iou != 0
    count = paired.sum(1)
    per_label = np.where(count > 0, iou.sum(1, dtype=np.float64) / np.maximum(count, 1), 0.0)
    lone = int((iou.sum(0) == 0).sum())
    return float(per_label.sum() / (real_label + lone))


def paddleseg_sc_loss(logits: paddle.Tensor, labels: paddle.Tensor, ignore_index: int = 255,
                      max_pred_num_conn: int = 10, use_argmax: bool = True) -> paddle.Tensor:
    """PaddleSeg 2.8.0's ``SemanticConnectivityLoss`` value, as a tensor without gradient.

    Args:
        logits: [N, C, H, W] logits, or [N, H, W] maps with ``use_argmax=False``.
        labels: [N, H, W] (or [N, 1, H, W]) class ids.
        ignore_index: Skipped as a class (but, as in PaddleSeg, not masked out of predictions).
        max_pred_num_conn: PaddleSeg's raster-order cap.
        use_argmax: Take the argmax over axis 1 first.
    """
    preds = paddle.argmax(logits, axis=1) if use_argmax else logits
    classes = preds.astype("uint8").numpy()
    values = preds.astype("float32").numpy()
    if labels.ndim == 4 and labels.shape[1] == 1:
        labels = labels.squeeze(1)
    labels_np = labels.astype("uint8").numpy()
    per_image = np.zeros(len(classes), np.float32)
    for b in range(len(classes)):
        present = [c for c in np.unique(labels_np[b]) if c != ignore_index]
        losses = [_class_loss(values[b], classes[b], labels_np[b], int(c), max_pred_num_conn)
                  for c in present]
        per_image[b] = sum(losses) / len(losses) if losses else 0.0
    return paddle.to_tensor(per_image.mean(dtype=np.float32))

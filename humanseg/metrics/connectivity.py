"""Semantic connectivity: connected components of prediction and label, matched by IoU.

For one image and one class ``c`` let ``p_1..p_M`` be the 8-connected components of
``pred == c`` and ``g_1..g_N`` those of ``label == c`` (ignore pixels belong to neither). A pair
``(i, j)`` is a label component and a prediction component that overlap. With ``S_i`` the
prediction components paired with ``g_i`` and ``K`` the number of *lone* prediction components
(paired with nothing)::

    connectivity_c = sum_i r_i / (N + K),   r_i = mean_{j in S_i} IoU(p_j, g_i)  (0 if S_i empty)

It is 1 only when every component of the class is predicted as exactly one component with the
same pixels, and 0 when the class is only in the prediction or only in the label. Classes absent
from both are skipped. ``ConnectivityMetric`` averages it per class over the images where the class
is present (in the prediction or the label) and reports the mean over classes seen at least once.

The matching is shared with ``SemanticConnectivityLoss`` (mode 'paper'), which computes the same
quantities on softmax probabilities: ``match_components`` does the integer work once per batch,
with one multi-label CCL pass for the prediction and one for the label, pairs from their agreement,
and segment sums (``np.bincount``) for every pair at once.
"""
from __future__ import annotations

from dataclasses import dataclass

import cc3d
import numpy as np


_ARANGE: dict[int, np.ndarray] = {}


def _arange(size: int) -> np.ndarray:
    """``np.arange(size)``, kept for the few sizes a training run uses (read-only)."""
    if size not in _ARANGE:
        if len(_ARANGE) > 8:
            _ARANGE.clear()
        _ARANGE[size] = np.arange(size, dtype=np.int64)
        _ARANGE[size].flags.writeable = False
    return _ARANGE[size]


def _components(maps: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """8-connected components of every nonzero value of a batch [N, H, W] of maps, at once.

    The images are stacked into one tall image with an empty row between them, so a single
    multi-label CCL pass labels the whole batch with batch-wide ids (raster order, so image by
    image) and no component crosses from one image to the next.

    Returns:
        ``ids``: int64 [N*H*W], component id per pixel (1-based; 0 where the map is 0),
        ``rep``: int64 [count + 1], the flat index of one pixel of each component, and ``count``.
    """
    n, h, w = maps.shape
    canvas = np.zeros((n, h + 1, w), maps.dtype)
    canvas[:, :h] = maps
    labels, count = cc3d.connected_components(canvas.reshape(n * (h + 1), w), connectivity=8,
                                              return_N=True, out_dtype=np.uint32)
    ids = labels.reshape(n, h + 1, w)[:, :h].reshape(-1).astype(np.int64)
    rep = np.zeros(count + 1, np.int64)
    rep[ids] = _arange(ids.size)  # any pixel of a component represents it
    return ids, rep, int(count)


@dataclass
class Components:
    """Prediction and label components of a batch and their pairs (all ids batch-wide, 1-based).

    Attributes:
        num_classes: Number of classes; groups are ``image * num_classes + class``.
        valid: bool [P] (P = N*H*W), pixels whose label is not ignored.
        pred_id: int64 [P], prediction component of each pixel (0 on ignore pixels).
        label_id: int64 [P], label component of each pixel (0 on ignore pixels).
        pair_id: int64 [P], pair of each pixel where prediction and label agree, else 0.
        pred_group, label_group: int64 [M+1], [G+1], group of each component (entry 0 unused).
        pred_size, label_size: float64 [M+1], [G+1], pixel count of each component.
        pair_pred, pair_label: int64 [K+1], the two components of each pair (entry 0 unused).
        valid_pixels: float64 [N], number of non-ignored pixels per image.
    """

    num_classes: int
    valid: np.ndarray
    pred_id: np.ndarray
    label_id: np.ndarray
    pair_id: np.ndarray
    pred_group: np.ndarray
    label_group: np.ndarray
    pred_size: np.ndarray
    label_size: np.ndarray
    pair_pred: np.ndarray
    pair_label: np.ndarray
    valid_pixels: np.ndarray

    @property
    def num_groups(self) -> int:
        return len(self.valid_pixels) * self.num_classes

    def per_group(self, group: np.ndarray, values: np.ndarray | None = None) -> np.ndarray:
        """Sum ``values`` (or count) per group, skipping entry 0 of a component table."""
        w = None if values is None else values[1:]
        return np.bincount(group[1:], weights=w, minlength=self.num_groups).astype(np.float64)


def _pairs(pred_id: np.ndarray, label_id: np.ndarray, agree_map: np.ndarray,
           by_ccl: bool | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of overlapping components: ``pair_id`` per pixel, and each pair's two components.

    With few components every (prediction, label) id pair gets a slot and one ``np.bincount``
    over the agreeing pixels finds the pairs. Otherwise the agreement region is labelled once: a
    connected piece of ``pred == label == c`` lies inside one prediction and one label component,
    and pieces of the same pair are merged with ``np.unique`` over the (few) pieces. ``by_ccl``
    forces one way (None: the table when it has at most one slot per pixel).
    """
    stride = int(label_id.max(initial=0)) + 1
    slots = (int(pred_id.max(initial=0)) + 1) * stride
    agree = agree_map.reshape(-1) > 0
    if not (by_ccl if by_ccl is not None else slots > pred_id.size):
        key = pred_id * stride
        key += label_id
        key *= agree
        keys = np.flatnonzero(np.bincount(key, minlength=slots)[1:]) + 1  # key 0: no agreement
        lookup = np.zeros(slots, np.int64)
        lookup[keys] = np.arange(1, len(keys) + 1)
        pair_id = lookup[key]
    else:
        piece, rep, _ = _components(agree_map)
        keys, inverse = np.unique(pred_id[rep[1:]] * stride + label_id[rep[1:]],
                                  return_inverse=True)
        pair_id = np.concatenate([[0], inverse.reshape(-1) + 1]).astype(np.int64)[piece]
    pair_pred = np.concatenate([[0], keys // stride]).astype(np.int64)
    pair_label = np.concatenate([[0], keys % stride]).astype(np.int64)
    return pair_id, pair_pred, pair_label


def _check_ids(name: str, ids: np.ndarray, valid: np.ndarray, num_classes: int,
               ignore_index: int) -> None:
    bad = valid & ((ids < 0) | (ids >= num_classes))
    if bad.any():
        raise ValueError(f"{name} has class ids outside [0, {num_classes}) (e.g. "
                         f"{ids[bad].flat[0]}); ignore_index is {ignore_index}")


def match_components(pred: np.ndarray, label: np.ndarray, num_classes: int,
                     ignore_index: int = 255, check_pred: bool = True) -> Components:
    """Components of ``pred`` and ``label`` per class (8-connectivity) and their pairs.

    Args:
        pred: Predicted class ids [N, H, W] (or [H, W]).
        label: Label class ids, same shape; ``ignore_index`` pixels are excluded.
        num_classes: Number of classes; ids must be in ``[0, num_classes)``.
        ignore_index: Label value to ignore.
        check_pred: Check the range of ``pred`` too (skipped for an argmax, in range by design).

    Raises:
        ValueError: shapes differ, or an id is outside ``[0, num_classes)``.
    """
    pred, label = np.asarray(pred), np.asarray(label)
    if pred.shape != label.shape:
        raise ValueError(f"pred has shape {pred.shape} but label has {label.shape}")
    if pred.ndim == 2:
        pred, label = pred[None], label[None]
    if num_classes > 65534:
        raise ValueError(f"num_classes must be below 65535, got {num_classes}")
    valid = label != ignore_index
    _check_ids("label", label, valid, num_classes, ignore_index)
    if check_pred:
        _check_ids("pred", pred, np.ones_like(valid), num_classes, ignore_index)
    pred_map = (pred.astype(np.uint16) + 1) * valid
    label_map = (label.astype(np.uint16) + 1) * valid
    pred_id, pred_rep, m = _components(pred_map)
    label_id, label_rep, g = _components(label_map)
    pair_id, pair_pred, pair_label = _pairs(pred_id, label_id,
                                            pred_map * (pred_map == label_map))
    hw = pred[0].size
    flat_pred, flat_label = pred_map.reshape(-1), label_map.reshape(-1)
    pred_group = (pred_rep // hw) * num_classes + flat_pred[pred_rep].astype(np.int64) - 1
    label_group = (label_rep // hw) * num_classes + flat_label[label_rep].astype(np.int64) - 1
    pred_group[0] = label_group[0] = 0
    return Components(
        num_classes=num_classes, valid=valid.reshape(-1), pred_id=pred_id, label_id=label_id,
        pair_id=pair_id, pred_group=pred_group, label_group=label_group,
        pred_size=np.bincount(pred_id, minlength=m + 1).astype(np.float64),
        label_size=np.bincount(label_id, minlength=g + 1).astype(np.float64),
        pair_pred=pair_pred, pair_label=pair_label,
        valid_pixels=valid.reshape(len(valid), -1).sum(1).astype(np.float64))


def connectivity_terms(comp: Components) -> dict[str, np.ndarray]:
    """The terms of the hard connectivity of every (image, class) group, each ``[N * C]``:
    ``label`` components (n), ``pred`` components, ``lone`` predicted components that overlap
    no label component of their class (k), ``missed`` label components that no predicted
    component overlaps, and ``matched_iou``: the sum over label components of their mean IoU with
    the predicted components they overlap. Connectivity is ``matched_iou / (label + lone)``."""
    inter = np.bincount(comp.pair_id, minlength=len(comp.pair_pred)).astype(np.float64)
    j, i = comp.pair_pred, comp.pair_label
    iou = inter / np.maximum(comp.pred_size[j] + comp.label_size[i] - inter, 1.0)
    iou[0] = 0.0
    pairs_of_label = np.bincount(i[1:], minlength=len(comp.label_size)).astype(np.float64)
    r = np.bincount(i[1:], weights=iou[1:], minlength=len(comp.label_size))
    r = np.divide(r, pairs_of_label, out=np.zeros_like(r), where=pairs_of_label > 0)
    lone = (np.bincount(j[1:], minlength=len(comp.pred_size)) == 0).astype(np.float64)
    return {"label": comp.per_group(comp.label_group), "pred": comp.per_group(comp.pred_group),
            "lone": comp.per_group(comp.pred_group, lone),
            "missed": comp.per_group(comp.label_group, (pairs_of_label == 0).astype(np.float64)),
            "matched_iou": comp.per_group(comp.label_group, r)}


def connectivity_per_group(comp: Components) -> tuple[np.ndarray, np.ndarray]:
    """Hard connectivity of every (image, class) group.

    Returns:
        ``conn`` float64 [N * num_classes] and ``present`` bool of the same shape (the class is in
        the prediction or the label of that image); ``conn`` is 0 where not present.
    """
    t = connectivity_terms(comp)
    present = (t["label"] + t["pred"]) > 0
    conn = np.divide(t["matched_iou"], t["label"] + t["lone"],
                     out=np.zeros_like(t["matched_iou"]), where=present)
    return conn, present


def compute_connectivity(pred: np.ndarray, label: np.ndarray, num_classes: int,
                 ignore_index: int = 255) -> dict:
    """Connectivity of one batch: per class (mean over images where present) and their mean.

    Returns:
        dict with ``connectivity`` (mean over classes present somewhere; 0 if none) and
        ``class_connectivity`` (list, 0 for classes never present).
    """
    metric = ConnectivityMetric(num_classes, ignore_index)
    metric.update(pred, label)
    return metric.compute()


class ConnectivityMetric:
    """Accumulates per-class connectivity over ``update(pred, label)`` calls.

    Args:
        num_classes: Number of classes.
        ignore_index: Label value to ignore.
    """

    def __init__(self, num_classes: int, ignore_index: int = 255):
        self.num_classes, self.ignore_index = int(num_classes), ignore_index
        self.total = np.zeros(self.num_classes, np.float64)
        self.count = np.zeros(self.num_classes, np.int64)

    def update(self, pred: np.ndarray, label: np.ndarray) -> None:
        """Add a batch of predictions and labels ([N, H, W] or [H, W] class ids)."""
        comp = match_components(pred, label, self.num_classes, self.ignore_index)
        conn, present = connectivity_per_group(comp)
        conn = conn.reshape(-1, self.num_classes)
        present = present.reshape(-1, self.num_classes)
        self.total += conn.sum(0)
        self.count += present.sum(0)

    def compute(self) -> dict:
        """``connectivity`` (mean over classes seen) and ``class_connectivity`` (per class)."""
        seen = self.count > 0
        per_class = np.divide(self.total, self.count, out=np.zeros_like(self.total), where=seen)
        mean = float(per_class[seen].mean()) if seen.any() else 0.0
        return {"connectivity": mean, "class_connectivity": per_class.tolist()}


__all__ = ["Components", "ConnectivityMetric", "compute_connectivity", "connectivity_per_group",
           "connectivity_terms",
           "match_components"]

"""Boundary F-score: how well predicted class boundaries line up with the labelled ones.

For each class c, the boundary of a mask is its set of pixels with a 4-neighbour outside the mask
(the image edge is not a boundary). A predicted boundary pixel is *matched* when a labelled
boundary pixel of c lies within ``tolerance`` (Euclidean distance, pixels), and the other way
round. Over a whole set (counts summed over images, like the confusion matrix of mIoU):

    precision_c = matched predicted boundary pixels / predicted boundary pixels
    recall_c    = matched labelled boundary pixels / labelled boundary pixels
    F_c         = 2 P R / (P + R)

A class with boundary pixels on one side only scores 0; a class with none on either side has no
score (None) and is left out of the mean (None when no class has a boundary). Pixels labelled ``ignore_index`` are not counted on
either side, and a labelled region's edge against ignored pixels is not a boundary.

Tolerance: an int is pixels; a float in (0, 1) is a fraction of each image's diagonal. The default
is a fixed 3 px: the portrait frames here are small (398x224, where 1% of the diagonal would be
4.6 px, and the 0.75% DAVIS uses 3.4 px), and a pixel count says plainly how far off a boundary
may be at the resolution evaluated. Use a fraction to compare sets of different resolutions
(Cityscapes at 2048x1024: 1% is 23 px).
"""
from __future__ import annotations

import math

import cv2
import numpy as np

DEFAULT_TOLERANCE = 3
_CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))


def tolerance_pixels(tolerance: float, shape: tuple[int, int]) -> float:
    """``tolerance`` in pixels for an image of ``shape`` (H, W) (see the module docstring)."""
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or tolerance < 0:
        raise ValueError(f"boundary tolerance must be pixels (an int >= 0) or a fraction of the "
                         f"image diagonal (a float in (0, 1)); got {tolerance!r}")
    if isinstance(tolerance, float) and 0 < tolerance < 1:
        return tolerance * math.hypot(*shape)
    return float(tolerance)


def boundary(mask: np.ndarray) -> np.ndarray:
    """Pixels of the boolean ``mask`` with a 4-neighbour outside it (image edges excluded)."""
    m = mask.astype(np.uint8)
    inner = cv2.erode(m, _CROSS, borderType=cv2.BORDER_CONSTANT, borderValue=1)
    return (m > inner)


def near(points: np.ndarray, tolerance: float) -> np.ndarray:
    """Pixels within Euclidean ``tolerance`` of any True pixel of ``points``."""
    if not points.any():
        return np.zeros_like(points)
    dist = cv2.distanceTransform((~points).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return dist <= tolerance + 1e-6


def _window(points: np.ndarray, tolerance: float):
    """Slices of the box around ``points`` grown by the tolerance (None: no points)."""
    rows, cols = np.flatnonzero(points.any(1)), np.flatnonzero(points.any(0))
    if not rows.size:
        return None
    grow = int(math.ceil(tolerance)) + 1
    return (slice(max(rows[0] - grow, 0), rows[-1] + grow + 1),
            slice(max(cols[0] - grow, 0), cols[-1] + grow + 1))


def boundary_counts(pred: np.ndarray, label: np.ndarray, num_classes: int,
                    ignore_index: int = 255, tolerance: float = DEFAULT_TOLERANCE) -> np.ndarray:
    """[num_classes, 4] counts for one image: matched predicted, predicted, matched labelled,
    labelled boundary pixels."""
    pred, label = np.asarray(pred), np.asarray(label)
    if pred.shape != label.shape or pred.ndim != 2:
        raise ValueError(f"boundary_counts needs two HxW maps of one size; got {pred.shape} "
                         f"and {label.shape}")
    tol = tolerance_pixels(tolerance, label.shape)
    valid = label != ignore_index
    counts = np.zeros((num_classes, 4), np.int64)
    for c in range(num_classes):
        p, g = pred == c, label == c
        if not (p & valid).any() and not g.any():
            continue
        # an edge against ignored pixels is no labelled boundary (what lies there is unknown)
        bp, bg = boundary(p) & valid, boundary(g | ~valid) & g
        window = _window(bp | bg, tol)  # distances only where they can matter
        if window is None:
            continue
        bp, bg = bp[window], bg[window]
        counts[c] = [(bp & near(bg, tol)).sum(), bp.sum(), (bg & near(bp, tol)).sum(), bg.sum()]
    return counts


def scores_from_counts(counts: np.ndarray) -> dict:
    """``boundary_f`` (mean over classes with a score), ``class_boundary_f`` and the per-class
    precision and recall (None where a class has no boundary on either side)."""
    per_class, precision, recall = [], [], []
    for mp, p, mg, g in np.asarray(counts, np.float64):
        if p == 0 and g == 0:
            per_class.append(None), precision.append(None), recall.append(None)
            continue
        pr = mp / p if p else 0.0
        rc = mg / g if g else 0.0
        per_class.append(2 * pr * rc / (pr + rc) if pr + rc > 0 else 0.0)
        precision.append(pr), recall.append(rc)
    scored = [f for f in per_class if f is not None]
    return {"boundary_f": float(np.mean(scored)) if scored else None,
            "class_boundary_f": per_class, "class_boundary_precision": precision,
            "class_boundary_recall": recall}


class BoundaryFMetric:
    """Accumulates boundary counts over ``update(pred, label)`` ([N, H, W] or [H, W]).

    Args:
        num_classes: Number of classes.
        ignore_index: Label value to ignore.
        tolerance: Pixels (int) or a fraction of the diagonal (float in (0, 1)); default 3 px.
    """

    def __init__(self, num_classes: int, ignore_index: int = 255,
                 tolerance: float = DEFAULT_TOLERANCE):
        tolerance_pixels(tolerance, (1, 1))  # checks the value
        self.num_classes, self.ignore_index, self.tolerance = num_classes, ignore_index, tolerance
        self.counts = np.zeros((num_classes, 4), np.int64)

    def update(self, pred: np.ndarray, label: np.ndarray) -> None:
        pred, label = np.asarray(pred), np.asarray(label)
        pred = pred.reshape((-1,) + pred.shape[-2:])
        label = label.reshape(pred.shape)
        for p, g in zip(pred, label):
            self.counts += boundary_counts(p, g, self.num_classes, self.ignore_index,
                                           self.tolerance)

    def compute(self) -> dict:
        out = scores_from_counts(self.counts)
        out["boundary_tolerance"] = self.tolerance
        return out


__all__ = ["BoundaryFMetric", "DEFAULT_TOLERANCE", "boundary", "boundary_counts",
           "scores_from_counts", "tolerance_pixels"]

"""Temporal flicker of predicted masks on consecutive video frames.

A pixel flickers when its predicted label changes between two consecutive frames while its
ground-truth label does not. The hard score of a frame pair is the fraction of such label-stable
pixels whose prediction changed; the soft score is the mean ``|alpha_t - alpha_{t-1}|`` on the same
pixels (alpha = the predicted foreground probability in [0, 1]). Both are averaged over frame pairs
(pairs without a label-stable pixel are skipped), so a long clip and a short one weigh per pair.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np


def _stable_mask(label_prev: np.ndarray, label_cur: np.ndarray, ignore_index: int) -> np.ndarray:
    return (label_prev == label_cur) & (label_cur != ignore_index)


def _check_shapes(**arrays: np.ndarray) -> None:
    shapes = {name: np.shape(a) for name, a in arrays.items() if a is not None}
    if len(set(shapes.values())) > 1:
        raise ValueError(f"flicker: frame arrays differ in shape: {shapes}")


def flicker_pair(pred_prev: np.ndarray, pred_cur: np.ndarray, label_prev: np.ndarray,
                 label_cur: np.ndarray, alpha_prev: np.ndarray | None = None,
                 alpha_cur: np.ndarray | None = None,
                 ignore_index: int = 255) -> tuple[int, int, float]:
    """Counts for one pair of consecutive frames.

    Args:
        pred_prev, pred_cur: Predicted labels (H, W) of the earlier and the later frame.
        label_prev, label_cur: Ground-truth labels (H, W); pixels with ``ignore_index`` in the later
            frame, or whose label changes, are not counted.
        alpha_prev, alpha_cur: Optional foreground probabilities (H, W) in [0, 1].
        ignore_index: Label value that marks pixels to ignore.

    Returns:
        ``(changed, stable, abs_alpha_sum)``: label-stable pixels whose prediction changed, the
        number of label-stable pixels, and the sum of ``|alpha_cur - alpha_prev|`` over them
        (0.0 without alphas).
    """
    _check_shapes(pred_prev=pred_prev, pred_cur=pred_cur, label_prev=label_prev,
                  label_cur=label_cur, alpha_prev=alpha_prev, alpha_cur=alpha_cur)
    stable = _stable_mask(np.asarray(label_prev), np.asarray(label_cur), ignore_index)
    changed = int(np.count_nonzero((np.asarray(pred_prev) != np.asarray(pred_cur)) & stable))
    alpha_sum = 0.0
    if alpha_prev is not None and alpha_cur is not None:
        diff = np.abs(np.asarray(alpha_cur, np.float64) - np.asarray(alpha_prev, np.float64))
        alpha_sum = float(diff[stable].sum())
    return changed, int(np.count_nonzero(stable)), alpha_sum


class FlickerMetric:
    """Accumulates flicker over a stream of frames; call ``new_clip()`` between clips.

    ``update(pred, label, alpha=None)`` takes the next frame of the current clip; the first frame
    of a clip only primes the state, and only that one previous frame is kept. ``compute()``
    returns ``{"flicker", "soft_flicker", "pairs"}``: the mean per-pair hard and soft scores
    (``soft_flicker`` is None unless every frame had an alpha) and the number of pairs counted.

    The accumulators are additive NumPy arrays (``sums`` = per-pair hard and soft score sums,
    ``pairs``, ``no_alpha``), so summing them over ranks (``humanseg.utils.dist.all_reduce_attrs``)
    gives the metric of all the ranks' clips together.
    """

    def __init__(self, ignore_index: int = 255):
        self.ignore_index = ignore_index
        self.sums = np.zeros(2, np.float64)
        self.pairs = np.zeros(1, np.int64)
        self.no_alpha = np.zeros(1, np.int64)
        self._prev: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None

    def new_clip(self) -> None:
        """Starts a new clip: the next frame is not compared with the previous one."""
        self._prev = None

    def update(self, pred: np.ndarray, label: np.ndarray, alpha: np.ndarray | None = None) -> None:
        pred, label = np.asarray(pred), np.asarray(label)
        if alpha is None:
            self.no_alpha += 1
        if self._prev is not None:
            p_prev, l_prev, a_prev = self._prev
            changed, stable, alpha_sum = flicker_pair(p_prev, pred, l_prev, label, a_prev, alpha,
                                                      self.ignore_index)
            if stable:
                self.sums += (changed / stable, alpha_sum / stable)
                self.pairs += 1
        self._prev = (pred, label, None if alpha is None else np.asarray(alpha))

    def compute(self) -> dict:
        pairs = int(self.pairs[0])
        hard, soft = (self.sums / pairs).tolist() if pairs else (0.0, 0.0)
        return {"flicker": hard, "soft_flicker": None if self.no_alpha[0] else soft,
                "pairs": pairs}


def compute_flicker(preds: Sequence[np.ndarray] | Iterable[np.ndarray],
                    labels: Sequence[np.ndarray] | Iterable[np.ndarray],
                    alphas: Sequence[np.ndarray] | Iterable[np.ndarray] | None = None,
                    ignore_index: int = 255) -> dict:
    """Flicker of one clip: predicted and ground-truth label frames in time order.

    Returns ``{"flicker", "soft_flicker", "pairs"}`` as ``FlickerMetric.compute``.

    Raises:
        ValueError: If the sequences differ in length or frames differ in shape.
    """
    preds, labels = list(preds), list(labels)
    alphas = None if alphas is None else list(alphas)
    if len(preds) != len(labels) or (alphas is not None and len(alphas) != len(preds)):
        raise ValueError(f"flicker: {len(preds)} predictions, {len(labels)} labels"
                         + ("" if alphas is None else f", {len(alphas)} alphas")
                         + "; give one of each per frame")
    metric = FlickerMetric(ignore_index)
    for i, (pred, label) in enumerate(zip(preds, labels)):
        metric.update(pred, label, None if alphas is None else alphas[i])
    return metric.compute()

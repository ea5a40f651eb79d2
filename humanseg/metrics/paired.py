"""Paired comparisons of two training arms: additive per-frame statistics, metrics computed from
their sums, and bootstrap intervals of the arm - control differences.

A run's evaluation is a matrix ``[frames, K]`` of additive counts (``FrameStats``): confusion
matrix, connectivity sums, boundary counts, component counts and flicker sums. Any subset or
resample of frames gives its metrics by summing rows and applying ``FrameStats.metrics``, exactly
as the whole-set accumulators of ``humanseg.metrics`` do for the full set.

``paired_difference`` compares arm and control runs that share a seed (same starting checkpoint,
same data order): the difference per seed on the same frames, its mean over seeds, and a 95%
percentile bootstrap interval that resamples seeds and units (clips, or frames) with replacement,
the same resample for arm and control (the pairing). ``verdict`` turns an interval into words.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from humanseg.metrics.boundary import boundary_counts
from humanseg.metrics.connectivity import connectivity_per_group, match_components
from humanseg.metrics.flicker import flicker_pair
from humanseg.metrics.iou import confusion_matrix

# metric -> +1 when higher is better, -1 when lower is better
DIRECTIONS = {"miou": 1, "connectivity": 1, "boundary_f": 1, "components": -1, "flicker": -1}


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros_like(a, dtype=np.float64), where=b > 0)


@dataclass(frozen=True)
class FrameStats:
    """The column layout of per-frame additive statistics for ``num_classes`` classes.

    Columns: confusion matrix (C*C), connectivity sum and count per class (C, C), boundary counts
    per class (C*4: matched predicted, predicted, matched labelled, labelled), predicted and label
    components of classes >= 1 (2), frames (1), flicker score sum and pairs (2).
    """

    num_classes: int
    ignore_index: int = 255

    @property
    def _sizes(self) -> dict[str, int]:
        c = self.num_classes
        return {"cm": c * c, "conn_sum": c, "conn_count": c, "bf": 4 * c, "components": 2,
                "frames": 1, "flicker": 2}

    def _slice(self, name: str) -> slice:
        start = 0
        for key, size in self._sizes.items():
            if key == name:
                return slice(start, start + size)
            start += size
        raise KeyError(name)

    @property
    def width(self) -> int:
        return sum(self._sizes.values())

    def frame(self, pred: np.ndarray, label: np.ndarray, prev: tuple | None = None) -> np.ndarray:
        """The statistics of one frame (``pred``, ``label``: [H, W]); ``prev`` = (pred, label) of
        the previous frame of the same clip adds its flicker pair."""
        c, row = self.num_classes, np.zeros(self.width, np.float64)
        row[self._slice("cm")] = confusion_matrix(pred, label, c, self.ignore_index).reshape(-1)
        comp = match_components(pred[None], label[None], c, self.ignore_index)
        conn, present = connectivity_per_group(comp)
        row[self._slice("conn_sum")], row[self._slice("conn_count")] = conn, present
        row[self._slice("bf")] = boundary_counts(pred, label, c, self.ignore_index).reshape(-1)
        fg_pred = np.count_nonzero(comp.pred_group[1:] % c != 0)
        fg_label = np.count_nonzero(comp.label_group[1:] % c != 0)
        row[self._slice("components")] = (fg_pred, fg_label)
        row[self._slice("frames")] = 1
        if prev is not None:
            changed, stable, _ = flicker_pair(prev[0], pred, prev[1], label,
                                              ignore_index=self.ignore_index)
            if stable:
                row[self._slice("flicker")] = (changed / stable, 1)
        return row

    def metrics(self, sums: np.ndarray) -> dict[str, np.ndarray]:
        """Every metric of ``DIRECTIONS`` (plus components per frame) from summed rows
        ``[..., width]``; the leading axes are kept.

        ``miou`` follows ``metrics_from_confusion`` (mean over all classes, 0 where a class is in
        neither map), ``connectivity`` ``ConnectivityMetric`` (mean over classes seen),
        ``boundary_f`` ``scores_from_counts`` (mean over classes with a boundary), ``flicker``
        ``FlickerMetric`` (mean per pair), ``components`` the predicted minus the label
        components of classes >= 1 per frame (0: as many pieces as the truth).
        """
        s, c = np.asarray(sums, np.float64), self.num_classes
        cm = s[..., self._slice("cm")].reshape(s.shape[:-1] + (c, c))
        tp = np.diagonal(cm, axis1=-2, axis2=-1)
        union = cm.sum(-1) + cm.sum(-2) - tp
        miou = _ratio(tp, union).mean(-1)
        count = s[..., self._slice("conn_count")]
        seen = count > 0
        per_class = _ratio(s[..., self._slice("conn_sum")], count)
        connectivity = _ratio((per_class * seen).sum(-1), seen.sum(-1).astype(np.float64))
        bf = s[..., self._slice("bf")].reshape(s.shape[:-1] + (c, 4))
        mp, p, mg, g = (bf[..., k] for k in range(4))
        precision, recall = _ratio(mp, p), _ratio(mg, g)
        f = _ratio(2 * precision * recall, precision + recall)
        scored = (p + g) > 0
        boundary_f = _ratio((f * scored).sum(-1), scored.sum(-1).astype(np.float64))
        frames = s[..., self._slice("frames")][..., 0]
        pred_comp, label_comp = np.moveaxis(s[..., self._slice("components")], -1, 0)
        flick_sum, pairs = np.moveaxis(s[..., self._slice("flicker")], -1, 0)
        return {"miou": miou, "connectivity": connectivity, "boundary_f": boundary_f,
                "components": _ratio(pred_comp - label_comp, frames),
                "pred_components": _ratio(pred_comp, frames),
                "label_components": _ratio(label_comp, frames),
                "flicker": _ratio(flick_sum, pairs)}

    def components(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Predicted and label components of classes >= 1 of each row ``[..., width]``."""
        comp = np.asarray(rows, np.float64)[..., self._slice("components")]
        return comp[..., 0], comp[..., 1]


def unit_sums(rows: np.ndarray, units: list[str] | np.ndarray) -> tuple[list[str], np.ndarray]:
    """Rows ``[frames, K]`` summed per unit (e.g. clip name): ``(sorted units, [U, K])``."""
    names, inverse = np.unique(np.asarray(units), return_inverse=True)
    out = np.zeros((len(names), rows.shape[1]), np.float64)
    np.add.at(out, inverse, rows)
    return names.tolist(), out


def paired_difference(arm: np.ndarray, control: np.ndarray, statistic, n_boot: int = 2000,
                      seed: int = 0) -> dict:
    """Mean over seeds of statistic(arm) - statistic(control), with a 95% bootstrap interval.

    Args:
        arm, control: ``[seeds, units, K]`` additive unit sums; seed ``s`` of the arm is paired
            with seed ``s`` of the control, unit ``u`` is the same clip (or frame) in both.
        statistic: Maps summed rows ``[..., K]`` to a value ``[...]``.
        n_boot: Bootstrap resamples. Each draws seeds and units with replacement; arm and
            control get the same draw.
        seed: Seed of the resampling (the same seed gives the same interval).

    Returns:
        ``mean``, ``ci95`` [low, high] (percentiles 2.5 and 97.5), ``per_seed`` differences and
        their ``sd``, ``seeds`` and ``units``.
    """
    arm, control = np.asarray(arm, np.float64), np.asarray(control, np.float64)
    if arm.shape != control.shape or arm.ndim != 3:
        raise ValueError(f"paired_difference needs arm and control of one shape [seeds, units, K]"
                         f", got {arm.shape} and {control.shape}")
    seeds, units, _ = arm.shape
    per_seed = statistic(arm.sum(1)) - statistic(control.sum(1))
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(units, np.full(units, 1.0 / units), size=n_boot).astype(np.float64)
    pick = rng.integers(0, seeds, size=(n_boot, seeds))
    diff = (statistic(np.einsum("bu,suk->bsk", weights, arm))
            - statistic(np.einsum("bu,suk->bsk", weights, control)))      # [B, seeds]
    boot = np.take_along_axis(diff, pick, axis=1).mean(1)
    low, high = np.percentile(boot, [2.5, 97.5])
    return {"mean": float(per_seed.mean()), "ci95": [float(low), float(high)],
            "per_seed": per_seed.tolist(),
            "sd": float(per_seed.std(ddof=1)) if seeds > 1 else 0.0,
            "seeds": seeds, "units": units}


def verdict(ci95: list[float], direction: int = 1) -> str:
    """'helps' or 'hurts' when the interval excludes 0 (``direction`` +1: higher is better, -1:
    lower is better), else 'no detectable effect at ±X' with X the interval's half-width."""
    low, high = ci95
    if low > 0 or high < 0:
        return "helps" if (low > 0) == (direction > 0) else "hurts"
    return f"no detectable effect at ±{(high - low) / 2:.3g}"


__all__ = ["DIRECTIONS", "FrameStats", "paired_difference", "unit_sums", "verdict"]

"""The paper-mode SC loss of one batch as NumPy arithmetic: its value and its per-pixel weights.

``PaperTerms`` turns the batch's components and pairs (``humanseg.metrics.connectivity``) and the
softmax probabilities ``s`` into every quantity of the formulas in the package docstring
(``A_j``, ``I_ij``, ``IoU_ij``, ``r_i``, ``k_j``, ``L_c``), then into ``d loss / d s`` per pixel in
closed form. It knows nothing of Paddle: where ``s`` comes from and how the weights become a
gradient of the logits is the job of a probability backend (``backends.py``).
"""
from __future__ import annotations

import numpy as np

from humanseg.metrics.connectivity import Components


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a / b``, 0 where ``b`` is 0."""
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b != 0)


class PaperTerms:
    """The paper-mode value and its per-pixel weights for one batch, all on host.

    Args:
        comp: Components and pairs of the batch.
        s_pred: float [P], softmax probability of the argmax class at every pixel.
        missed: Flat indices of the pixels of label components without a pair.
        s_missed: float, probability of the label class at those pixels (None if none).
    """

    def __init__(self, comp: Components, s_pred: np.ndarray, missed: np.ndarray,
                 s_missed: np.ndarray | None):
        self.missed_pixels = missed
        self.comp = c = comp  # ignore pixels have component id 0, whose entries are dropped
        j, i = c.pair_pred, c.pair_label
        self.area = np.bincount(c.pred_id, s_pred, minlength=len(c.pred_size))      # A_j
        self.inter = np.bincount(c.pair_id, s_pred, minlength=len(j))               # I_ij
        self.union = self.area[j] + c.label_size[i] - self.inter
        self.iou = _div(self.inter, self.union)
        self.iou[0] = 0.0
        self.pairs_of_label = np.bincount(i[1:], minlength=len(c.label_size)).astype(float)
        self.pairs_of_pred = np.bincount(j[1:], minlength=len(c.pred_size))
        q = np.zeros(len(c.label_size))                                             # sum_g s
        if s_missed is not None:
            q = np.bincount(c.label_id[missed], s_missed, minlength=len(c.label_size))
        self.q = q
        paired_r = _div(np.bincount(i[1:], self.iou[1:], minlength=len(c.label_size)),
                        self.pairs_of_label)
        self.r = np.where(self.pairs_of_label > 0, paired_r, _div(q, c.label_size))
        self.lone = (self.pairs_of_pred == 0)
        self.lone[0] = False
        self.k = np.where(self.lone, _div(self.area, c.pred_size), 0.0)
        self.n = c.per_group(c.label_group)
        self.m = c.per_group(c.pred_group)
        self.denominator = self.n + c.per_group(c.pred_group, self.k)
        self.numerator = c.per_group(c.label_group, self.r)
        self.label_area = c.per_group(c.label_group, c.label_size)
        self.pred_area = c.per_group(c.pred_group, self.area)
        self.label_s = c.per_group(c.label_group, q)
        self.both, self.missed = (self.n > 0) & (self.m > 0), (self.n > 0) & (self.m == 0)
        self.false_pos = (self.n == 0) & (self.m > 0)
        self.v = np.repeat(c.valid_pixels, c.num_classes)

    def group_losses(self) -> np.ndarray:
        """``L_c`` of every (image, class) group (0 where the class is absent from both)."""
        both = 1.0 - _div(self.numerator, self.denominator)
        missed = 1.0 + _div(self.label_area - self.label_s, self.v)
        false_pos = 1.0 + _div(self.pred_area, self.v)
        return np.select([self.both, self.missed, self.false_pos], [both, missed, false_pos], 0.0)

    def group_weights(self) -> np.ndarray:
        """``alpha_g``: d loss / d L_g, i.e. 1 / (images with valid pixels * classes present)."""
        present = (self.n + self.m).reshape(len(self.comp.valid_pixels), -1) > 0
        per_image = present.sum(1)
        images = max(int((per_image > 0).sum()), 1)
        alpha = _div(np.ones(present.shape), per_image[:, None].astype(float) * images)
        return np.where(present, alpha, 0.0).reshape(-1)

    def value(self) -> float:
        """The loss: ``mean_b mean_c L_c`` over the images with valid pixels."""
        return float((self.group_losses() * self.group_weights()).sum())

    def pixel_weights(self, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        """``d loss / d s``: per pixel for the argmax-class probability, and at the ``missed``
        pixels (``missed_pixels``) for the label-class probability."""
        c, alpha = self.comp, self.group_weights()
        j, i = c.pair_pred, c.pair_label
        d_num = np.where(self.both, _div(-alpha, self.denominator), 0.0)         # dL/d sum r
        d_den = np.where(self.both, alpha * _div(self.numerator, self.denominator ** 2), 0.0)
        d_iou = d_num[c.label_group[i]] * _div(np.ones(len(i)), self.pairs_of_label[i])
        d_iou[0] = 0.0
        u2 = self.union ** 2
        w_inter = d_iou * _div(self.area[j] + c.label_size[i], u2)
        w_area = np.bincount(j[1:], (d_iou * _div(-self.inter, u2))[1:],
                             minlength=len(c.pred_size))
        w_area += np.where(self.lone, d_den[c.pred_group] / np.maximum(c.pred_size, 1.0), 0.0)
        fp = self.false_pos[c.pred_group]
        w_area += np.where(fp, _div(alpha, self.v)[c.pred_group], 0.0)
        w_area[0] = 0.0
        unpaired = self.pairs_of_label == 0
        g = c.label_group
        w_label = np.where(unpaired & self.both[g], d_num[g] / np.maximum(c.label_size, 1.0), 0.0)
        w_label += np.where(unpaired & self.missed[g], -_div(alpha, self.v)[g], 0.0)
        w_label[0] = 0.0
        w_inter[0] = 0.0
        w_pred = w_area.astype(dtype)[c.pred_id]
        w_pred += w_inter.astype(dtype)[c.pair_id]
        return w_pred, w_label[c.label_id[self.missed_pixels]].astype(dtype)

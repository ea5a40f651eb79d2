"""SC loss (semantic connectivity-aware loss) of PP-HumanSeg, differentiable, plus PaddleSeg's.

Mode ``'paper'`` (default). For image ``b`` and every class ``c`` present in its argmax
prediction or its label (ignore pixels excluded everywhere), take the 8-connected components
``p_j`` of ``argmax == c`` and ``g_i`` of ``label == c`` and pair those that overlap
(``humanseg.metrics.connectivity.match_components``). With ``s(x)`` the softmax probability of the
class of the component that contains pixel ``x``:

* pair ``(i, j)``: ``IoU_ij = I_ij / (A_j + |g_i| - I_ij)``, ``I_ij = sum_{p_j and g_i} s``,
  ``A_j = sum_{p_j} s`` (soft prediction inside the hard component);
* label component ``g_i`` with pairs ``S_i``: ``r_i = mean_{j in S_i} IoU_ij``; a *missed*
  component (no pair) counts softly, ``r_i = mean_{g_i} s_c`` (< 1/2: no pixel of it is argmax c);
* lone prediction component (no pair): ``k_j = mean_{p_j} s_c`` instead of PaddleSeg's 1;
* class in both: ``L_c = 1 - sum_i r_i / (N_c + sum_lone k_j)``, in [0, 1];
* class only in the label (missed class): ``L_c = 1 + sum_{label == c} (1 - s_c) / V_b``;
* class only in the prediction (false-positive class): ``L_c = 1 + sum_{argmax == c} s_c / V_b``;

with ``V_b`` the number of non-ignored pixels of the image. Both special cases lie in [1, 2], so
missing or inventing a whole class always costs more than any prediction that finds it. The loss
is ``mean_b mean_c L_c`` over images with at least one non-ignored pixel (0 if none); it lies in
[0, 2] and is exactly 0 iff the argmax equals the label with probability 1 on every valid pixel.

Components and pairs are integers, held fixed for the gradient (the CCL has none). Every term is
a sum of ``s`` over pixel sets, so the loss' gradient is ``sum_x w(x) ds(x)/dlogits`` with a
per-pixel weight ``w`` computed on host in closed form. ``s`` is needed for the argmax class on
every pixel and for the label class only on pixels of missed label components; both come from
one channel-by-channel softmax pass (``class_probabilities``). The host work is two or three CCL
passes per batch (cc3d) and ``np.bincount`` segment sums; memory is linear in H*W.

Mode ``'paddleseg'`` reproduces PaddleSeg 2.8.0's values, defects included (background scored
1, IoU scaled by the class id, raster-order cap, no false-positive term); it is not
differentiable (no gradient reaches the logits, as in PaddleSeg). See docs/scl.md.
"""
from __future__ import annotations

import cv2
import numpy as np
import paddle
from paddle import nn

from humanseg.cvlibs.registry import LOSSES
from humanseg.metrics.connectivity import Components, match_components

MODES = ("paper", "paddleseg")


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b != 0)


class _PaperTerms:
    """The paper-mode value and its per-pixel weights for one batch, all on host.

    Args:
        comp: Components and pairs of the batch.
        s_pred: float64 [P], softmax probability of the argmax class at every pixel.
        missed: Flat indices of the pixels of label components without a pair.
        s_missed: float64, probability of the label class at those pixels (None if none).
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


def _check_labels(labels: paddle.Tensor, logits_shape: list[int]) -> paddle.Tensor:
    if labels.ndim == 4 and labels.shape[1] == 1:
        labels = labels.squeeze(1)
    n, _, h, w = logits_shape
    if list(labels.shape) != [n, h, w]:
        raise ValueError(f"SemanticConnectivityLoss: labels have shape {list(labels.shape)} but "
                         f"the logits {logits_shape} need [{n}, {h}, {w}]")
    return labels


@LOSSES.register
class SemanticConnectivityLoss(nn.Layer):
    """SC loss of PP-HumanSeg: 1 - connectivity of the prediction's components to the label's.

    The formulas of both modes are in the module docstring and in docs/scl.md.

    Args:
        ignore_index: Label value excluded from components and from the loss.
        max_pred_num_conn: PaddleSeg's cap on prediction components (mode 'paddleseg' only; mode
            'paper' needs no cap and ignores it).
        use_argmax: PaddleSeg's switch: True takes the argmax of [N, C, H, W] logits; False
            (mode 'paddleseg' only) takes [N, H, W] class maps as given.
        mode: 'paper' (differentiable, the default) or 'paddleseg' (PaddleSeg 2.8.0's values,
            no gradient).

    Raises:
        ValueError: an unknown ``mode``, ``max_pred_num_conn`` < 1, or ``use_argmax=False``
            with mode 'paper'.
    """

    def __init__(self, ignore_index: int = 255, max_pred_num_conn: int = 10,
                 use_argmax: bool = True, mode: str = "paper"):
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"SemanticConnectivityLoss: mode must be one of {MODES}, got {mode!r}")
        if int(max_pred_num_conn) < 1:
            raise ValueError(f"SemanticConnectivityLoss: max_pred_num_conn must be >= 1, got "
                             f"{max_pred_num_conn}")
        if mode == "paper" and not use_argmax:
            raise ValueError("SemanticConnectivityLoss: use_argmax=False works only with "
                             "mode='paddleseg'; mode 'paper' needs [N, C, H, W] logits")
        self.ignore_index = int(ignore_index)
        self.max_pred_num_conn = int(max_pred_num_conn)
        self.use_argmax = bool(use_argmax)
        self.mode = mode

    def forward(self, logits: paddle.Tensor, labels: paddle.Tensor) -> paddle.Tensor:
        """Return the loss as a 0-D float32 tensor.

        Args:
            logits: [N, C, H, W] logits (or [N, H, W] class maps with ``use_argmax=False``).
            labels: [N, H, W] or [N, 1, H, W] class ids.
        """
        if self.mode == "paddleseg":
            return paddleseg_sc_loss(logits, labels, self.ignore_index, self.max_pred_num_conn,
                                     self.use_argmax)
        if logits.ndim != 4:
            raise ValueError(f"SemanticConnectivityLoss: logits must be [N, C, H, W], got shape "
                             f"{list(logits.shape)}")
        return self._paper(logits, _check_labels(labels, list(logits.shape)))

    def _paper(self, logits: paddle.Tensor, labels: paddle.Tensor) -> paddle.Tensor:
        n, num_classes, h, w = logits.shape
        with paddle.no_grad():
            if num_classes == 2:  # argmax's tie rule (first index) with a cheaper kernel
                pred_np = (logits[:, 1] > logits[:, 0]).numpy().astype(np.int64)
            else:
                pred_np = paddle.argmax(logits, axis=1).numpy()
        label_np = labels.numpy()
        comp = match_components(pred_np, label_np, num_classes, self.ignore_index,
                                check_pred=False)
        unpaired = np.bincount(comp.pair_label[1:], minlength=len(comp.label_size)) == 0
        unpaired[0] = False
        where = np.flatnonzero(unpaired[comp.label_id])  # pixels of missed label components
        missed_label = None
        if where.size:
            missed_label = np.full(n * h * w, -1, np.int32)
            missed_label[where] = label_np.reshape(-1)[where]
            missed_label = missed_label.reshape(n, h, w)
        s_pred, s_label = class_probabilities(logits, missed_label)
        s_missed = None if s_label is None else s_label.reshape([-1]).numpy()[where]
        terms = _PaperTerms(comp, s_pred.reshape([-1]).numpy().astype(np.float64), where,
                            None if s_missed is None else s_missed.astype(np.float64))
        value = paddle.to_tensor(terms.value(), dtype=logits.dtype)
        np_dtype = np.float64 if s_pred.dtype == paddle.float64 else np.float32
        w_pred, w_missed = terms.pixel_weights(np_dtype)
        surrogate = (s_pred * paddle.to_tensor(w_pred.reshape(n, h, w))).sum()
        if s_label is not None:
            w_label = np.zeros(n * h * w, np_dtype)
            w_label[where] = w_missed
            surrogate = surrogate + (s_label * paddle.to_tensor(w_label.reshape(n, h, w))).sum()
        # Value from the host, gradient from the surrogate (whose gradient is the exact one).
        return value + (surrogate - surrogate.detach())


def class_probabilities(logits: paddle.Tensor, label: np.ndarray | None = None
                        ) -> tuple[paddle.Tensor, paddle.Tensor | None]:
    """Softmax probability of the argmax class, and of ``label``'s class where it is >= 0.

    ``s_pred = 1 / sum_c exp(z_c - max_c z)``, computed channel by channel on [N, H, W] slices:
    on CPU this costs about one fused cross-entropy pass for 19 classes and a third of one for
    2, and its backward is as cheap (no [N, C, H, W] softmax or one-hot is materialised beyond
    the per-channel slices).

    Args:
        logits: [N, C, H, W].
        label: int [N, H, W] class ids, -1 where the label-class probability is not needed;
            None if it is needed nowhere.

    Returns:
        ``s_pred`` [N, H, W] and ``s_label`` [N, H, W] (0 where ``label`` is -1) or None.
    """
    channels = paddle.unbind(logits, axis=1)
    top = channels[0]
    for z in channels[1:]:
        top = paddle.maximum(top, z)
    wanted = set() if label is None else set(np.unique(label[label >= 0]).tolist())
    label_t = None if label is None else paddle.to_tensor(label)
    total, picked = None, None
    for c, z in enumerate(channels):
        e = paddle.exp(z - top)
        total = e if total is None else total + e
        if c in wanted:
            picked = paddle.where(label_t == c, e, paddle.zeros_like(e) if picked is None
                                  else picked)
    s_pred = 1.0 / total
    return s_pred, None if picked is None else picked * s_pred


# ---------------------------------------------------------------------------------------------
# mode 'paddleseg': PaddleSeg 2.8.0's values (its loops over images and classes are kept, since
# the cap and the averaging depend on them; the pair IoUs are segment sums).


def _paddleseg_class_loss(values: np.ndarray, classes: np.ndarray, label: np.ndarray, cls: int,
                          cap: int) -> float:
    """PaddleSeg's per-class term for one image (``values``: the float map it multiplies in)."""
    n_pred, pred_cc = cv2.connectedComponents((classes == cls).astype(np.uint8))
    n_label, label_cc = cv2.connectedComponents((label == cls).astype(np.uint8))
    if n_pred > 2 * n_label:
        n_pred = min(n_pred, cap)
    real_pred, real_label = n_pred - 1, n_label - 1
    if real_label > 0 and real_pred > 0:
        return 1.0 - _paddleseg_connectivity(values, pred_cc, label_cc, real_pred, real_label)
    if real_label == 0 and real_pred == 0:
        return 0.0
    missed = (label == cls) & ~(values == cls)
    return float(missed.sum()) / missed.size + 1.0


def _paddleseg_connectivity(values: np.ndarray, pred_cc: np.ndarray, label_cc: np.ndarray,
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
        losses = [_paddleseg_class_loss(values[b], classes[b], labels_np[b], int(c),
                                        max_pred_num_conn) for c in present]
        per_image[b] = sum(losses) / len(losses) if losses else 0.0
    return paddle.to_tensor(per_image.mean(dtype=np.float32))


__all__ = ["SemanticConnectivityLoss", "paddleseg_sc_loss"]

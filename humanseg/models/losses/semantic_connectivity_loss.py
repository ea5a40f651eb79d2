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
every pixel and for the label class only on pixels of missed label components. For CPU logits
both come from one exp per logit on host (``s_p = 1 / sum_k exp(z_k - max z)``, the backward a
rescaling of that buffer in place; two classes need only ``sigmoid(|z_1 - z_0|)``), so the dense
work is lighter than a cross-entropy's. For GPU logits (more than two classes) the first comes
from the fused softmax-cross-entropy kernel with the argmax as target (``s_p = exp(-nll_p)``,
``ds_p = -s_p dnll_p``) and the second from the two logits gathered at the missed pixels.
The host work is two or three CCL passes per batch (cc3d) and ``np.bincount`` segment sums;
memory is linear in H*W.

Mode ``'paddleseg'`` reproduces PaddleSeg 2.8.0's values, defects included (background scored
1, IoU scaled by the class id, raster-order cap, no false-positive term); it is not
differentiable (no gradient reaches the logits, as in PaddleSeg). See docs/scl.md.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import paddle
import paddle.nn.functional as F
from paddle import nn
from paddle.autograd import PyLayer

from humanseg.cvlibs.registry import LOSSES
from humanseg.metrics.connectivity import Components, match_components

MODES = ("paper", "paddleseg")


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b != 0)


class _PaperTerms:
    """The paper-mode value and its per-pixel weights for one batch, all on host.

    Args:
        comp: Components and pairs of the batch.
        s_pred: float [P], softmax probability of the argmax class at every pixel.
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
        prob = _probability(logits)
        label_np = labels.numpy()
        comp = match_components(prob.pred, label_np, logits.shape[1], self.ignore_index,
                                check_pred=False)
        unpaired = np.bincount(comp.pair_label[1:], minlength=len(comp.label_size)) == 0
        unpaired[0] = False
        where = np.flatnonzero(unpaired[comp.label_id])  # pixels of missed label components
        s_missed = prob.label_class(label_np, where) if where.size else None
        terms = _PaperTerms(comp, prob.s_pred, where, s_missed)
        # Per-pixel arrays in the logits' precision (float32 halves the host memory traffic).
        w_pred, w_missed = terms.pixel_weights(prob.s_pred.dtype)
        return prob.loss(terms.value(), w_pred, w_missed, where)


def _probability(logits: paddle.Tensor):
    """The probability pass for ``logits``: closed form on host for two classes; for more, on
    host where the logits are (CPU), else the fused cross-entropy kernel on the device."""
    if logits.shape[1] == 2:
        return _BinaryProbability(logits)
    if logits.place.is_cpu_place():
        return _HostSoftmaxProbability(logits)
    return _SoftmaxProbability(logits)  # written for GPUs; tested here by forcing it on CPU


class _BinaryProbability:
    """Two classes, all on host: ``s_p = sigmoid(|z_1 - z_0|)``, the argmax class' probability,
    and at the missed pixels, where the label class is the other one, ``s_l = 1 - s_p``. The
    gradient is closed-form too (``ds_p = s_p (1 - s_p) sign dz``), handed to Paddle by
    ``_HostGradient``: no dense op runs in Paddle at all.

    Attributes:
        pred: uint8 [N, H, W] argmax (ties go to class 0, as in ``argmax``).
        s_pred: [N*H*W] the argmax class' probability, in the logits' float precision.
    """

    def __init__(self, logits: paddle.Tensor):
        z = _host_array(logits)
        diff = z[:, 1] - z[:, 0]
        self._positive = (diff > 0).reshape(-1)
        self.pred = self._positive.view(np.uint8).reshape(diff.shape)
        self._logits = logits
        s = np.abs(diff).reshape(-1)                     # s_p = 1 / (1 + exp(-|diff|)), in place
        np.negative(s, out=s)
        np.exp(s, out=s)
        s += 1
        self.s_pred = np.reciprocal(s, out=s)

    def label_class(self, label: np.ndarray, where: np.ndarray) -> np.ndarray:
        return 1.0 - self.s_pred[where]

    def loss(self, value: float, w_pred: np.ndarray, w_missed: np.ndarray,
             where: np.ndarray) -> paddle.Tensor:
        """``value`` as a tensor whose gradient is ``sum w_pred ds_p + sum_where w_missed ds_l``."""
        w = w_pred                                                 # a fresh array: ours
        w[where] -= w_missed                                       # ds_l = -ds_p
        d_diff = 1 - self.s_pred                                   # w s_p (1 - s_p) sign
        d_diff *= self.s_pred
        d_diff *= w
        n, h, width = self.pred.shape
        grad = np.empty((n, 2, h, width), d_diff.dtype)            # d diff / d (z_0, z_1)
        # the sign of diff by a select: a masked ufunc (where=) is ~50x slower per pixel
        np.copyto(grad[:, 1], np.where(self._positive, d_diff, -d_diff).reshape(n, h, width))
        np.negative(grad[:, 1], out=grad[:, 0])
        return _HostGradient.apply(self._logits, grad, value)


class _HostSoftmaxProbability:
    """More classes, CPU logits, all on host. With ``m`` the max logit of a pixel and
    ``e_k = exp(z_k - m)``, the argmax class' probability is ``s_p = 1 / sum_k e_k`` (its own
    ``e`` is 1) and the label class' is ``s_l = e_l s_p``. The gradient is closed-form:
    ``ds_p = s_p (dz_p - sum_k p_k dz_k)`` with ``p_k = e_k s_p``, so the backward rescales the
    ``e`` buffer in place and adds the argmax (and missed label) entries; it reaches Paddle
    through ``_HostGradient``. One exp per logit, no other full-size temporary; the work is split
    into row blocks over a thread pool (NumPy releases the GIL).

    Attributes:
        pred: uint8 (uint16 past 255 classes) [N, H, W] argmax (ties go to the lowest class).
        s_pred: [N*H*W] the argmax class' probability, in the logits' float precision.
    """

    def __init__(self, logits: paddle.Tensor):
        z = _host_array(logits)                 # may share memory with the logits: read only
        n, c, h, w = z.shape
        self._logits, self._shape = logits, (n, c, h, w)
        self._e = np.empty_like(z)
        self.pred = np.empty((n, h, w), np.uint8 if c <= 256 else np.uint16)
        self.s_pred = np.empty((n, h, w), z.dtype)

        def block(b: int, rows: slice) -> None:
            zb, eb = z[b, :, rows], self._e[b, :, rows]
            top = zb.max(axis=0)
            pred = self.pred[b, rows]
            for k in range(c - 1, -1, -1):      # descending, so ties end at the lowest class
                pred[zb[k] == top] = k
            np.subtract(zb, top, out=eb)
            np.exp(eb, out=eb)
            np.divide(1.0, eb.sum(axis=0), out=self.s_pred[b, rows])

        _map_row_blocks(block, n, h)
        self.s_pred = self.s_pred.reshape(-1)
        self._missed, self._s_missed = None, None

    def _flat_index(self, classes: np.ndarray, pixels: np.ndarray) -> np.ndarray:
        """Flat indices into [N, C, H, W] of class ``classes`` at flat [N*H*W] ``pixels``."""
        n, c, h, w = self._shape
        image, pixel = np.divmod(pixels, h * w)
        return (image * c + classes) * (h * w) + pixel

    def label_class(self, label: np.ndarray, where: np.ndarray) -> np.ndarray:
        self._missed = self._flat_index(label.reshape(-1)[where].astype(np.int64), where)
        self._s_missed = self._e.reshape(-1)[self._missed] * self.s_pred[where]
        return self._s_missed.astype(np.float64)

    def loss(self, value: float, w_pred: np.ndarray, w_missed: np.ndarray,
             where: np.ndarray) -> paddle.Tensor:
        """``value`` with the gradient of ``sum w_pred s_p + sum_where w_missed s_l``: with
        ``a = w_pred s_p (+ w_missed s_l)``, ``d/dz_k = -a p_k``, plus ``w_pred s_p`` at the
        argmax class and ``w_missed s_l`` at the label class of the missed pixels."""
        n, c, h, w = self._shape
        at_pred = w_pred * self.s_pred                          # a fresh array: ours
        total = at_pred.copy()
        if where.size:
            at_label = w_missed * self._s_missed
            total[where] += at_label
        scale = (total * self.s_pred).reshape(n, h, w)
        np.negative(scale, out=scale)

        def block(b: int, rows: slice) -> None:
            self._e[b, :, rows] *= scale[b, rows]

        _map_row_blocks(block, n, h)
        grad = self._e.reshape(-1)                              # now the gradient
        argmax_index = self.pred.astype(np.int64).reshape(n, -1) * (h * w)
        argmax_index += np.arange(h * w)
        argmax_index += (np.arange(n) * (c * h * w))[:, None]   # == _flat_index(pred, all)
        grad[argmax_index.reshape(-1)] += at_pred
        if where.size:                                          # label class != argmax there
            grad[self._missed] += at_label
        self._e = None
        return _HostGradient.apply(self._logits, grad.reshape(self._shape), value)


_ROW_BLOCK = 64
_POOL: ThreadPoolExecutor | None = None


def _map_row_blocks(fn, images: int, rows: int) -> None:
    """``fn(image, row slice)`` over blocks of ``_ROW_BLOCK`` rows of every image, on a thread
    pool of one thread per core (the blocks write disjoint memory)."""
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=max(1, min(os.cpu_count() or 1, 8)),
                                   thread_name_prefix="scl")
    jobs = [(b, slice(r, min(r + _ROW_BLOCK, rows)))
            for b in range(images) for r in range(0, rows, _ROW_BLOCK)]
    for future in [_POOL.submit(fn, b, rows_) for b, rows_ in jobs]:
        future.result()


def _host_array(tensor: paddle.Tensor) -> np.ndarray:
    """``tensor``'s values as a NumPy array, without a copy for a contiguous CPU float tensor."""
    tensor = tensor.detach()
    if tensor.dtype not in (paddle.float32, paddle.float64):
        tensor = tensor.astype("float32")
    if tensor.place.is_cpu_place() and tensor.is_contiguous():
        return np.from_dlpack(tensor)
    return tensor.numpy()


_NUMPY_DTYPES = {paddle.float32: np.dtype(np.float32), paddle.float64: np.dtype(np.float64)}


class _HostGradient(PyLayer):
    """``value`` in the forward pass; in the backward pass ``grad`` (a host array shaped like
    ``logits``, the exact gradient of the value) times the incoming gradient, as the gradient
    of ``logits``."""

    @staticmethod
    def forward(ctx, logits: paddle.Tensor, grad: np.ndarray, value: float) -> paddle.Tensor:
        ctx.grad, ctx.dtype, ctx.place = grad, logits.dtype, logits.place
        return paddle.full([], value, dtype=logits.dtype)

    @staticmethod
    def backward(ctx, upstream: paddle.Tensor) -> paddle.Tensor:
        grad, ctx.grad = ctx.grad, None     # a fresh array made for this call: scaled in place
        scale = float(upstream)
        if scale != 1.0:                    # e.g. the SC loss' coef inside MixedLoss
            grad *= scale
        if ctx.place.is_cpu_place() and grad.dtype == _NUMPY_DTYPES.get(ctx.dtype):
            return paddle.from_dlpack(np.ascontiguousarray(grad))  # zero-copy: ours to give
        return paddle.to_tensor(grad, dtype=ctx.dtype, place=ctx.place)


class _SoftmaxProbability:
    """More classes: ``s_p = exp(-nll_p)`` from the fused softmax-cross-entropy kernel with the
    argmax as target (so ``ds_p = -s_p dnll_p`` and the backward is that kernel's), and at missed
    pixels ``s_l = exp(z_l - z_p - nll_p)`` from the two logits there.

    Attributes:
        pred: int64 [N, H, W] argmax.
        s_pred: [N*H*W] the argmax class' probability, in the logits' float precision.
    """

    def __init__(self, logits: paddle.Tensor):
        with paddle.no_grad():
            pred = paddle.argmax(logits, axis=1)
        self.pred = pred.numpy()
        self._logits = logits
        self._correction = _SparseCorrection()
        n, _, h, w = logits.shape
        self._nll = F.cross_entropy(_ChannelsLast.apply(logits, self._correction), pred,
                                    reduction="none").reshape([n, h, w])
        self._nll_np = self._nll.numpy().reshape(-1)
        self.s_pred = np.exp(-self._nll_np)
        self._index, self._s_missed = None, None

    def label_class(self, label: np.ndarray, where: np.ndarray) -> np.ndarray:
        self._index, self._s_missed = _label_class_probability(
            self._logits, label, self.pred, where, self._nll_np)
        return self._s_missed

    def loss(self, value: float, w_pred: np.ndarray, w_missed: np.ndarray,
             where: np.ndarray) -> paddle.Tensor:
        """``value`` plus a zero-valued surrogate whose gradient is ``sum w_pred ds_p +
        sum_where w_missed ds_l``: with ``ds_l = s_l (dz_l - dz_p - dnll_p)``, a weighted
        cross-entropy term plus a sparse term in the logits ``z_l, z_p`` of the missed pixels
        (added in ``_ChannelsLast.backward``)."""
        coef = -w_pred * self.s_pred
        if where.size:
            g = w_missed * self._s_missed
            coef[where] -= g
            self._correction.set(self._index, np.concatenate([g, -g]).astype(coef.dtype))
        coef_t = paddle.to_tensor(coef.reshape(self._nll.shape), dtype=self._nll.dtype)
        surrogate = (self._nll * coef_t).sum()
        return paddle.to_tensor(value, dtype=self._nll.dtype) + (surrogate - surrogate.detach())


class _SparseCorrection:
    """Gradient entries to add at flat channels-last indices of the logits (filled after the
    forward pass, used by ``_ChannelsLast.backward``)."""

    def __init__(self):
        self.index, self.values = None, None

    def set(self, index: np.ndarray, values: np.ndarray) -> None:
        self.index, self.values = index, values

    def add_to(self, grad: paddle.Tensor) -> None:
        """Add the entries to ``grad`` (contiguous, channels-last) in place."""
        if self.index is None:
            return
        flat = grad.reshape([-1])
        if flat.place.is_cpu_place():
            np.from_dlpack(flat)[self.index] += self.values  # zero-copy view, O(entries)
        else:  # written for GPUs, not tested here (no GPU)
            index = paddle.to_tensor(self.index, place=flat.place)
            values = paddle.to_tensor(self.values, place=flat.place)
            flat.scatter_(index, paddle.gather(flat, index) + values)


class _ChannelsLast(PyLayer):
    """[N, C, H, W] -> [N, H, W, C] view whose backward also adds a sparse correction in place,
    so the sparse gradient costs no extra full-size tensor (a gather's backward allocates and
    accumulates one)."""

    @staticmethod
    def forward(ctx, logits: paddle.Tensor, correction: _SparseCorrection) -> paddle.Tensor:
        ctx.correction = correction
        return paddle.transpose(logits, [0, 2, 3, 1])

    @staticmethod
    def backward(ctx, grad: paddle.Tensor) -> paddle.Tensor:
        # The cross-entropy is the only consumer of the view, so its gradient buffer is ours.
        grad = grad.detach().contiguous()
        ctx.correction.add_to(grad)
        return paddle.transpose(grad, [0, 3, 1, 2])


def _label_class_probability(logits: paddle.Tensor, label: np.ndarray, pred: np.ndarray,
                             where: np.ndarray, nll_pred: np.ndarray
                             ) -> tuple[np.ndarray, np.ndarray]:
    """The label class' softmax probability at the flat pixels ``where``,
    ``s_l = exp(z_l - z_p - nll_pred)``, from the logits of the label class (z_l) and of the
    argmax class (z_p) there.

    Returns:
        ``index``: int64 [2K], the flat channels-last indices of ``z_l`` then ``z_p``, and
        ``s_l``: float64 [K].
    """
    n, c, h, w = logits.shape
    classes = np.concatenate([label.reshape(-1)[where], pred.reshape(-1)[where]])
    pixels = np.concatenate([where, where])
    index = pixels * c + classes                                    # channels-last, for backward
    image, pixel = np.divmod(pixels, h * w)
    with paddle.no_grad():                                          # channels-first, contiguous
        z = paddle.gather(logits.reshape([-1]),
                          paddle.to_tensor((image * c + classes) * (h * w) + pixel))
    z = z.numpy().astype(np.float64)
    k = len(where)
    return index, np.exp(z[:k] - z[k:] - nll_pred[where])


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

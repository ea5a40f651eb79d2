"""Probability backends of the paper-mode SC loss: where ``s`` comes from, how the gradient goes.

The paper terms (``terms.py``) need, from the logits, the argmax map, the softmax probability
``s_p`` of the argmax class at every pixel and that of the label class ``s_l`` at the pixels of
missed label components; they return the loss value and its derivative with respect to those
probabilities as per-pixel weights. A backend computes the probabilities and turns the weights
into the gradient of the logits. ``for_logits`` picks one of three:

* ``BinaryProbability``: two classes, closed form on host (``sigmoid(|z_1 - z_0|)``);
* ``HostSoftmaxProbability``: more classes, CPU logits, one exp per logit on host;
* ``DeviceSoftmaxProbability``: more classes, logits elsewhere (GPU): the fused
  softmax-cross-entropy kernel with the argmax as target.

The host backends hand their closed-form gradient to Paddle through the ``_HostGradient``
``PyLayer``; the device backend returns a zero-valued surrogate whose sparse part is added by the
``_ChannelsLast`` ``PyLayer`` in its backward pass.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol, runtime_checkable

import numpy as np
import paddle
import paddle.nn.functional as F
from paddle.autograd import PyLayer


@runtime_checkable
class ProbabilityBackend(Protocol):
    """What the paper mode needs from the logits of one forward pass.

    The backend is made from the logits (which fills ``pred`` and ``s_pred``); the loss then
    calls ``label_class`` once if some label component has no pair, and ``loss`` once. A backend
    keeps buffers from one call to the next and may free them in ``loss``: one instance serves
    one forward pass.

    Attributes:
        pred: Integer [N, H, W] argmax of the logits (ties go to the lowest class).
        s_pred: float [N*H*W], the argmax class' softmax probability at every pixel, in the
            logits' float precision (the per-pixel weights take its dtype).
    """

    pred: np.ndarray
    s_pred: np.ndarray

    def label_class(self, label: np.ndarray, where: np.ndarray) -> np.ndarray:
        """The label class' softmax probability ``s_l`` at the flat pixels ``where``.

        Args:
            label: [N, H, W] class ids.
            where: Non-empty int64 flat indices into [N*H*W] (pixels of missed label
                components, where the label class is not the argmax class).

        Returns:
            float [len(where)].
        """
        ...

    def loss(self, value: float, w_pred: np.ndarray, w_missed: np.ndarray,
             where: np.ndarray) -> paddle.Tensor:
        """A 0-D tensor equal to ``value`` whose gradient reaches the logits.

        The gradient is that of ``sum w_pred s_p + sum_where w_missed s_l``.

        Args:
            value: The loss value.
            w_pred: float [N*H*W], ``d loss / d s_p``; the backend may overwrite it.
            w_missed: float [len(where)], ``d loss / d s_l``.
            where: The pixels given to ``label_class`` (empty if it was not called).
        """
        ...


def for_logits(logits: paddle.Tensor) -> ProbabilityBackend:
    """The probability backend for ``logits``: closed form on host for two classes; for more, on
    host where the logits are (CPU), else the fused cross-entropy kernel on the device."""
    if logits.shape[1] == 2:
        return BinaryProbability(logits)
    if logits.place.is_cpu_place():
        return HostSoftmaxProbability(logits)
    return DeviceSoftmaxProbability(logits)  # written for GPUs; tested here by forcing it on CPU


class BinaryProbability:
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


class HostSoftmaxProbability:
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


class DeviceSoftmaxProbability:
    """More classes, logits on a device (GPU): ``s_p = exp(-nll_p)`` from the fused
    softmax-cross-entropy kernel with the argmax as target (so ``ds_p = -s_p dnll_p`` and the
    backward is that kernel's), and at missed pixels ``s_l = exp(z_l - z_p - nll_p)`` from the
    two logits there.

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


# ---------------------------------------------------------------------------------------------
# host glue: NumPy views of the logits, row blocks on a thread pool, the gradient PyLayer


def _host_array(tensor: paddle.Tensor) -> np.ndarray:
    """``tensor``'s values as a NumPy array, without a copy for a contiguous CPU float tensor."""
    tensor = tensor.detach()
    if tensor.dtype not in (paddle.float32, paddle.float64):
        tensor = tensor.astype("float32")
    if tensor.place.is_cpu_place() and tensor.is_contiguous():
        return np.from_dlpack(tensor)
    return tensor.numpy()


_ROW_BLOCK = 64
_POOL: ThreadPoolExecutor | None = None


def _map_row_blocks(fn: Callable[[int, slice], None], images: int, rows: int) -> None:
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


# ---------------------------------------------------------------------------------------------
# device glue: the sparse correction added in the backward pass of a channels-last view


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

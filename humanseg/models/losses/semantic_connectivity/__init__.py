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

The package keeps the *what* apart from the *how*: ``terms.py`` holds the formulas above as
NumPy arithmetic (value and per-pixel weights), ``backends.py`` the three ways of computing ``s``
and turning the weights into a gradient of the logits, ``paddleseg_mode.py`` mode 'paddleseg'.
This file is the layer that ties them together.
"""
from __future__ import annotations

import numpy as np
import paddle
from paddle import nn

from humanseg.cvlibs.registry import LOSSES
from humanseg.metrics.connectivity import match_components
from humanseg.models.losses.semantic_connectivity import backends
from humanseg.models.losses.semantic_connectivity.paddleseg_mode import paddleseg_sc_loss
from humanseg.models.losses.semantic_connectivity.terms import PaperTerms

MODES = ("paper", "paddleseg")


def _check_labels(labels: paddle.Tensor, logits_shape: list[int]) -> paddle.Tensor:
    """``labels`` as [N, H, W] (a [N, 1, H, W] squeezed), or a ValueError naming both shapes."""
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

    The formulas of both modes are in the package docstring and in docs/scl.md.

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
        """Mode 'paper': integer matching, then the terms on host, then the backend's gradient."""
        backend = backends.for_logits(logits)
        label_np = labels.numpy()
        comp = match_components(backend.pred, label_np, logits.shape[1], self.ignore_index,
                                check_pred=False)
        unpaired = np.bincount(comp.pair_label[1:], minlength=len(comp.label_size)) == 0
        unpaired[0] = False
        where = np.flatnonzero(unpaired[comp.label_id])  # pixels of missed label components
        s_missed = backend.label_class(label_np, where) if where.size else None
        terms = PaperTerms(comp, backend.s_pred, where, s_missed)
        # Per-pixel arrays in the logits' precision (float32 halves the host memory traffic).
        w_pred, w_missed = terms.pixel_weights(backend.s_pred.dtype)
        return backend.loss(terms.value(), w_pred, w_missed, where)


__all__ = ["SemanticConnectivityLoss", "paddleseg_sc_loss"]

"""Lovász-Softmax (multi-class) and Lovász hinge (binary) losses, surrogates of the Jaccard index."""
from __future__ import annotations

from typing import Sequence

import paddle
import paddle.nn.functional as F
from paddle import nn

from humanseg.cvlibs.registry import LOSSES
from humanseg.models.losses.cross_entropy_loss import squeeze_label


def lovasz_grad(gt_sorted: paddle.Tensor) -> paddle.Tensor:
    """Gradient of the Lovász extension of the Jaccard loss w.r.t. errors sorted descending.

    Args:
        gt_sorted: Ground truth (0/1, float) in the order of decreasing error, along the last
            axis ([P] or [C, P]); each row is treated independently.

    Returns:
        Tensor shaped like ``gt_sorted``: the Jaccard loss increments along the sorted order.
    """
    gts = gt_sorted.sum(axis=-1, keepdim=True)
    intersection = gts - paddle.cumsum(gt_sorted, axis=-1)
    union = gts + paddle.cumsum(1.0 - gt_sorted, axis=-1)
    jaccard = 1.0 - intersection / union
    return paddle.concat([jaccard[..., :1], jaccard[..., 1:] - jaccard[..., :-1]], axis=-1)


def _at_least_fp32(x: paddle.Tensor) -> paddle.Tensor:
    """Half-precision (AMP) logits are sorted and accumulated in float32."""
    return x.astype("float32") if x.dtype in (paddle.float16, paddle.bfloat16) else x


def _sorted_lovasz(errors: paddle.Tensor, gt: paddle.Tensor) -> paddle.Tensor:
    """Sum of ``errors * lovasz_grad`` in decreasing-error order along the last axis."""
    perm = paddle.argsort(errors, axis=-1, descending=True).detach()
    errors_sorted = paddle.take_along_axis(errors, perm, axis=-1)
    gt_sorted = paddle.take_along_axis(gt, perm, axis=-1)
    return (errors_sorted * lovasz_grad(gt_sorted).detach()).sum(axis=-1)


@LOSSES.register
class LovaszSoftmaxLoss(nn.Layer):
    """Multi-class Lovász-Softmax loss (Berman et al., CVPR 2018) over the whole batch.

    For each class, the per-pixel errors ``|[label == c] - softmax_c|`` are sorted and weighted
    by the Lovász gradient of the Jaccard loss; the per-class losses are averaged. All classes
    are computed at once (no loop over classes) and ignore pixels are masked rather than removed,
    so no data-dependent shapes or host synchronisation occur.

    Args:
        ignore_index: Label value excluded from the loss and its gradient.
        classes: 'present' to average over classes present in the (non-ignored) labels, 'all' for
            every class, or a list of class ids to average over.
    """

    def __init__(self, ignore_index: int = 255, classes: str | Sequence[int] = "present"):
        super().__init__()
        if isinstance(classes, str) and classes not in ("present", "all"):
            raise ValueError(f"classes must be 'present', 'all' or a list of ids, got {classes!r}")
        self.ignore_index = int(ignore_index)
        self.classes = classes if isinstance(classes, str) else [int(c) for c in classes]

    def forward(self, logit: paddle.Tensor, label: paddle.Tensor) -> paddle.Tensor:
        """Return the loss as a 0-D tensor.

        Args:
            logit: Logits [N, C, H, W].
            label: Class ids [N, H, W] or [N, 1, H, W].
        """
        num_classes = logit.shape[1]
        label = squeeze_label(label, logit.ndim, 1).reshape([1, -1])
        probas = F.softmax(_at_least_fp32(logit), axis=1)
        # [C, P]: each class is one row, sorted along the contiguous axis.
        probas = paddle.transpose(probas, [1, 0, *range(2, logit.ndim)]).reshape([num_classes, -1])
        valid = (label != self.ignore_index).astype(probas.dtype)
        classes = paddle.arange(num_classes, dtype="int64").unsqueeze(1)
        fg = (label == classes).astype(probas.dtype) * valid
        # Ignore pixels get error 0: they sort last and add nothing before the valid ones.
        errors = (fg - probas).abs() * valid
        per_class = _sorted_lovasz(errors, fg)
        if self.classes == "all":
            return per_class.mean()
        if self.classes == "present":
            present = (fg.sum(axis=1) > 0).astype(per_class.dtype)
            return (per_class * present).sum() / paddle.clip(present.sum(), min=1.0)
        return paddle.gather(per_class, paddle.to_tensor(self.classes, dtype="int64")).mean()


@LOSSES.register
class LovaszHingeLoss(nn.Layer):
    """Binary Lovász hinge loss over the whole batch.

    Deliberate difference from PaddleSeg 2.8: two-channel logits are turned into one logit as
    ``logit[:, 1] - logit[:, 0]`` (the log-odds of the foreground), whereas PaddleSeg's conversion
    computes ``log(p + eps / (1 - p + eps))``, i.e. about ``log(p)``, because of misplaced
    parentheses. One-channel logits give PaddleSeg's values.

    Args:
        ignore_index: Label value excluded from the loss and its gradient.
    """

    def __init__(self, ignore_index: int = 255):
        super().__init__()
        self.ignore_index = int(ignore_index)

    def forward(self, logit: paddle.Tensor, label: paddle.Tensor) -> paddle.Tensor:
        """Return the loss as a 0-D tensor.

        Args:
            logit: Logits [N, 1, H, W] or [N, 2, H, W].
            label: Binary labels (0/1 or ignore_index) [N, H, W] or [N, 1, H, W].
        """
        if logit.shape[1] == 2:
            logit = logit[:, 1:2] - logit[:, 0:1]
        elif logit.shape[1] != 1:
            raise ValueError(f"LovaszHingeLoss needs 1 or 2 channels, got {logit.shape[1]}")
        label = squeeze_label(label, logit.ndim, 1).reshape([-1])
        scores = _at_least_fp32(logit).reshape([-1])
        valid = label != self.ignore_index
        gt = label.astype(scores.dtype) * valid.astype(scores.dtype)
        errors = 1.0 - scores * (2.0 * gt - 1.0)
        # Ignore pixels get error 0; zero errors add nothing, whatever their sorted position.
        errors = paddle.where(valid, F.relu(errors), paddle.zeros_like(errors))
        return _sorted_lovasz(errors, gt)

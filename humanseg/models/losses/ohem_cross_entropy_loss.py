"""Cross entropy over the hard pixels only (online hard example mining), as in PaddleSeg 2.8."""
from __future__ import annotations

import paddle
import paddle.nn.functional as F
from paddle import nn

from humanseg.cvlibs.registry import LOSSES
from humanseg.models.losses.cross_entropy_loss import squeeze_label

_EPS = 1e-5


@LOSSES.register
class OhemCrossEntropyLoss(nn.Layer):
    """Softmax cross entropy averaged over the pixels the network finds hard.

    A labelled pixel is hard when the softmax probability of its true class is below a
    threshold. The threshold is ``thresh``, raised to the ``min_kept``-th smallest true-class
    probability of the batch when that one is larger, so that about ``min_kept`` pixels are kept
    however confident the network is. The loss is ``mean(ce * kept) / (mean(kept) + 1e-5)``
    over all pixels of the batch, i.e. the mean cross entropy of the kept pixels.

    PaddleSeg 2.8's rules, kept for parity (values and gradients are equal to PaddleSeg's):
    the comparison is strict, so when the threshold is raised to the ``min_kept``-th
    probability that pixel itself (and any tie) is left out; when ``min_kept`` is 0 or at least
    the number of labelled pixels, nothing is mined and every labelled pixel counts. The
    selection carries no gradient.

    Args:
        thresh: Probability of the true class under which a pixel is hard.
        min_kept: About how many pixels of the batch are kept at least (see above).
        ignore_index: Label value excluded from the loss and its gradient.
    """

    def __init__(self, thresh: float = 0.7, min_kept: int = 10000, ignore_index: int = 255):
        super().__init__()
        if isinstance(min_kept, bool) or int(min_kept) != min_kept or min_kept < 0:
            raise ValueError(f"min_kept must be an integer >= 0, got {min_kept!r}")
        self.thresh = float(thresh)
        self.min_kept = int(min_kept)
        self.ignore_index = int(ignore_index)

    def kept_mask(self, logit: paddle.Tensor, label: paddle.Tensor) -> paddle.Tensor:
        """Boolean [N, H, W] mask of the pixels that enter the loss (labelled and hard).

        Args:
            logit: Logits [N, C, H, W].
            label: int64 class ids [N, H, W].
        """
        valid = label != self.ignore_index
        num_valid = int(valid.astype("int64").sum().item())
        if self.min_kept == 0 or self.min_kept >= num_valid:
            return valid
        with paddle.no_grad():
            prob = F.softmax(logit.detach(), axis=1)
            safe_label = paddle.where(valid, label, paddle.zeros_like(label))
            true_prob = paddle.take_along_axis(prob, safe_label.unsqueeze(1), axis=1).squeeze(1)
            # Ignore pixels sort after every labelled one, so the k-th smallest is labelled.
            ranked = paddle.where(valid, true_prob, paddle.full_like(true_prob, float("inf")))
            kth = paddle.sort(ranked.reshape([-1]))[self.min_kept - 1]
            threshold = paddle.maximum(kth, paddle.full_like(kth, self.thresh))
            return valid & (true_prob < threshold)

    def forward(self, logit: paddle.Tensor, label: paddle.Tensor) -> paddle.Tensor:
        """Return the averaged loss as a 0-D tensor.

        Args:
            logit: Logits [N, C, H, W].
            label: Class ids [N, H, W] or [N, 1, H, W].
        """
        if logit.ndim != 4:
            raise ValueError(f"OhemCrossEntropyLoss expects logits [N, C, H, W], got shape "
                             f"{list(logit.shape)}")
        label = squeeze_label(label, logit.ndim, 1)
        kept = self.kept_mask(logit, label)
        target = paddle.where(kept, label, paddle.full_like(label, self.ignore_index))
        loss = F.cross_entropy(paddle.transpose(logit, [0, 2, 3, 1]), target,
                               ignore_index=self.ignore_index, reduction="none")
        weight = kept.astype(loss.dtype)
        loss = loss.reshape(label.shape) * weight
        return loss.mean() / (weight.mean() + _EPS)

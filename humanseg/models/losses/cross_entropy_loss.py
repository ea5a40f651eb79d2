"""Pixel-wise cross entropy with class weights, ignore pixels and top-k hard pixel mining."""
from __future__ import annotations

import math
from typing import Sequence

import paddle
import paddle.nn.functional as F
from paddle import nn

from humanseg.cvlibs.registry import LOSSES

_EPS = 1e-8


def squeeze_label(label: paddle.Tensor, logit_ndim: int, channel_axis: int) -> paddle.Tensor:
    """Drop a size-1 channel axis of ``label`` ([N,1,H,W] -> [N,H,W]) and cast it to int64."""
    if label.ndim == logit_ndim and label.shape[channel_axis] == 1:
        label = paddle.squeeze(label, axis=channel_axis)
    return label.astype("int64")


@LOSSES.register
class CrossEntropyLoss(nn.Layer):
    """Softmax cross entropy over pixels, with PaddleSeg 2.8's arguments and averaging rules.

    With ``top_k_percent_pixels == 1`` the loss is
    ``mean(loss_px) / (mean(mask * w_px) + 1e-8)``, where ``loss_px`` already carries the class
    weight of the pixel's label (0 on ignore pixels), ``w_px`` is that class weight (1 without
    ``weight``) and ``mask`` is 1 on non-ignored pixels (``avg_non_ignore=True``) or 1 everywhere.
    So with ``avg_non_ignore=True`` it is the class-weighted mean over labelled pixels.

    With ``top_k_percent_pixels < 1`` the ``k = int(p * num_pixels)`` (at least 1) largest pixel
    losses of the whole batch are kept and divided by the mean of their ``w_px``. As in PaddleSeg,
    ``k`` counts ignore pixels too, and an ignore pixel picked by the top-k (only when fewer than
    ``k`` pixels have a positive loss) counts in the denominator with the weight of class 0
    (1 without ``weight``).

    Args:
        weight: Per-class weights, one per class; None for equal weights.
        ignore_index: Label value excluded from the loss and its gradient.
        top_k_percent_pixels: Fraction in (0, 1] of the hardest pixels kept (hard pixel mining).
        data_format: Layout of the logits, 'NCHW' or 'NHWC'.
        avg_non_ignore: Average over non-ignored pixels only (True) or over all pixels (False).
    """

    def __init__(self, weight: Sequence[float] | paddle.Tensor | None = None,
                 ignore_index: int = 255, top_k_percent_pixels: float = 1.0,
                 data_format: str = "NCHW", avg_non_ignore: bool = True):
        super().__init__()
        if data_format not in ("NCHW", "NHWC"):
            raise ValueError(f"data_format must be 'NCHW' or 'NHWC', got {data_format!r}")
        if not 0.0 < float(top_k_percent_pixels) <= 1.0:
            raise ValueError(f"top_k_percent_pixels must be in (0, 1], got {top_k_percent_pixels}")
        self.ignore_index = int(ignore_index)
        self.top_k_percent_pixels = float(top_k_percent_pixels)
        self.data_format = data_format
        self.avg_non_ignore = bool(avg_non_ignore)
        if weight is not None:
            weight = paddle.to_tensor(weight, dtype="float32").reshape([-1])
        self.register_buffer("weight", weight, persistable=False)

    def forward(self, logit: paddle.Tensor, label: paddle.Tensor,
                semantic_weights: paddle.Tensor | None = None) -> paddle.Tensor:
        """Return the averaged loss as a 0-D tensor.

        Args:
            logit: Logits [N, C, H, W] (or [N, H, W, C] with data_format 'NHWC').
            label: Class ids [N, H, W] or [N, 1, H, W] ([N, H, W, 1] for 'NHWC').
            semantic_weights: Optional per-pixel multipliers of the loss, shaped like ``label``
                without its channel axis; they do not enter the denominator.
        """
        channel_axis = 1 if self.data_format == "NCHW" else logit.ndim - 1
        num_classes = logit.shape[channel_axis]
        if self.weight is not None and self.weight.shape[0] != num_classes:
            raise ValueError(f"CrossEntropyLoss has {self.weight.shape[0]} class weights but the "
                             f"logits have {num_classes} classes")
        label = squeeze_label(label, logit.ndim, channel_axis)
        if channel_axis == 1:
            logit = paddle.transpose(logit, [0, *range(2, logit.ndim), 1])
        loss = F.cross_entropy(logit, label, weight=self.weight, ignore_index=self.ignore_index,
                               reduction="none").reshape(label.shape)
        if semantic_weights is not None:
            loss = loss * semantic_weights.reshape(label.shape).astype(loss.dtype)

        valid = label != self.ignore_index
        if self.weight is None:
            pixel_w = paddle.ones(label.shape, dtype=loss.dtype)
        else:
            # Ignore pixels look up class 0; they count only where PaddleSeg counts them too.
            index = paddle.where(valid, label, paddle.zeros_like(label))
            pixel_w = paddle.gather(self.weight, index.reshape([-1])).reshape(label.shape)
        pixel_w = pixel_w.astype(loss.dtype).detach()

        if self.top_k_percent_pixels == 1.0:
            mask = valid.astype(loss.dtype) if self.avg_non_ignore else 1.0
            return loss.mean() / ((pixel_w * mask).mean() + _EPS)
        num_pixels = math.prod(loss.shape)
        k = max(1, int(self.top_k_percent_pixels * num_pixels))
        top_loss, index = paddle.topk(loss.reshape([-1]), k)
        top_w = paddle.gather(pixel_w.reshape([-1]), index)
        return top_loss.mean() / (top_w.mean() + _EPS)

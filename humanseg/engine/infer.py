"""Model inference: forward pass and mapping logits back to the original image size."""
from __future__ import annotations

import paddle
import paddle.nn.functional as F


def reverse_transform(logits: paddle.Tensor, trans_info: list, mode: str = "bilinear") -> paddle.Tensor:
    """Undo the resize/padding steps recorded in ``trans_info`` (last first).

    Args:
        logits: [N, C, h, w] logits (or a label map cast to float with ``mode='nearest'``).
        trans_info: ``[('resize'|'padding', (h, w)), ...]`` as the transforms recorded them.
        mode: Interpolation for 'resize' steps.
    """
    for op, (h, w) in reversed(trans_info):
        if op == "resize":
            align = {"align_corners": False} if mode != "nearest" else {}
            logits = F.interpolate(logits, size=[int(h), int(w)], mode=mode, **align)
        elif op == "padding":
            logits = logits[:, :, :int(h), :int(w)]
        else:
            raise ValueError(f"unknown trans_info step '{op}'")
    return logits


def inference(model: paddle.nn.Layer, img: paddle.Tensor, trans_info: list | None = None) -> paddle.Tensor:
    """Main logits of ``model`` on ``img`` [N, C, H, W], mapped back through ``trans_info``."""
    logits = model(img)[0]
    if trans_info:
        logits = reverse_transform(logits, trans_info)
    return logits

"""Model inference: forward pass, mapping logits back to the original image size, and the
evaluation modes of PaddleSeg's ``test_config`` (whole image, sliding window, flips and scales)."""
from __future__ import annotations

import numpy as np
import paddle
import paddle.nn.functional as F

from humanseg.errors import ConfigError


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


# ----------------------------------------------------------------------------- evaluation modes
def flip_combinations(flip_horizontal: bool = False, flip_vertical: bool = False) -> list:
    """(horizontal, vertical) flips to average: none first, then h, v, both (as PaddleSeg)."""
    combos = [(False, False)]
    if flip_horizontal:
        combos.append((True, False))
    if flip_vertical:
        combos.append((False, True))
        if flip_horizontal:
            combos.append((True, True))
    return combos


def flip(x: paddle.Tensor, flips: tuple[bool, bool]) -> paddle.Tensor:
    """Flip an NCHW tensor left-right and/or top-bottom (its own inverse)."""
    axes = [a for a, on in ((3, flips[0]), (2, flips[1])) if on]
    return paddle.flip(x, axis=axes) if axes else x


def window_boxes(height: int, width: int, crop_size: list[int], stride: list[int]) -> list:
    """(y1, y2, x1, x2) of the sliding windows: a grid by ``stride``, the last row/column moved
    back to end at the image edge; one window along a side not larger than the crop."""
    (w_crop, h_crop), (w_step, h_step) = crop_size, stride
    if w_step > w_crop or h_step > h_crop:
        raise ConfigError(f"test_config.stride {stride} is larger than crop_size {crop_size}: "
                          f"some pixels would never be predicted.")
    rows = 1 if height <= h_crop else -(-(height - h_crop) // h_step) + 1
    cols = 1 if width <= w_crop else -(-(width - w_crop) // w_step) + 1
    boxes = []
    for r in range(rows):
        for c in range(cols):
            y2, x2 = min(r * h_step + h_crop, height), min(c * w_step + w_crop, width)
            boxes.append((max(y2 - h_crop, 0), y2, max(x2 - w_crop, 0), x2))
    return boxes


def slide_inference(model: paddle.nn.Layer, img: paddle.Tensor, crop_size: list[int],
                    stride: list[int]) -> paddle.Tensor:
    """Main logits over sliding windows of ``crop_size`` [w, h] every ``stride`` [w, h],
    averaged where windows overlap."""
    height, width = img.shape[-2:]
    total, count = None, paddle.zeros([1, 1, height, width], dtype="float32")
    for y1, y2, x1, x2 in window_boxes(height, width, crop_size, stride):
        logit = model(img[:, :, y1:y2, x1:x2])[0]
        if total is None:
            total = paddle.zeros([img.shape[0], logit.shape[1], height, width], dtype=logit.dtype)
        total[:, :, y1:y2, x1:x2] += logit[:, :, :y2 - y1, :x2 - x1]
        count[:, :, y1:y2, x1:x2] += 1
    return total / count


def forward_logits(model: paddle.nn.Layer, img: paddle.Tensor, is_slide: bool = False,
                   crop_size: list[int] | None = None, stride: list[int] | None = None):
    """Main logits of ``model`` on ``img``: whole image, or sliding window."""
    if is_slide:
        return slide_inference(model, img, crop_size, stride)
    return model(img)[0]


def aug_inference(model: paddle.nn.Layer, img: paddle.Tensor, scales: list[float],
                  flip_horizontal: bool = False, flip_vertical: bool = False,
                  is_slide: bool = False, crop_size: list[int] | None = None,
                  stride: list[int] | None = None) -> paddle.Tensor:
    """Mean of the logits over ``scales`` x flips, each resized back to the input size.

    Each scale resizes the input (bilinear) to ``int(side * scale + 0.5)``; each flip is undone
    on the logits before they are resized back.
    """
    height, width = img.shape[-2:]
    combos = flip_combinations(flip_horizontal, flip_vertical)
    total = None
    for scale in scales:
        size = [int(height * scale + 0.5), int(width * scale + 0.5)]
        scaled = F.interpolate(img, size=size, mode="bilinear", align_corners=False)
        for flips in combos:
            logit = flip(forward_logits(model, flip(scaled, flips), is_slide, crop_size, stride),
                         flips)
            logit = F.interpolate(logit, size=[height, width], mode="bilinear",
                                  align_corners=False)
            total = logit if total is None else total + logit
    return total / (len(scales) * len(combos))


def eval_logits(model: paddle.nn.Layer, img: paddle.Tensor, trans_info: list | None = None,
                test_config: dict | None = None) -> paddle.Tensor:
    """Logits for evaluation as ``test_config`` (checked by ``cvlibs.checks.check_test_config``) says, mapped
    back through ``trans_info`` to the label's size."""
    tc = test_config or {"is_slide": False, "aug_eval": False}
    slide = {k: tc.get(k) for k in ("is_slide", "crop_size", "stride")}
    if tc.get("aug_eval"):
        logits = aug_inference(model, img, tc["scales"], tc["flip_horizontal"],
                               tc["flip_vertical"], **slide)
    else:
        logits = forward_logits(model, img, **slide)
    if trans_info:
        logits = reverse_transform(logits, trans_info)
    return logits


def predict_sample(model: paddle.nn.Layer, dataset, index: int,
                   test_config: dict | None = None) -> tuple:
    """``(prediction, label)`` as numpy class maps of ``dataset[index]`` at the label's size, as
    evaluation sees them."""
    data = dataset[index]
    with paddle.no_grad():
        logits = eval_logits(model, paddle.to_tensor(data["img"][None]), data["trans_info"],
                             test_config)
    return (paddle.argmax(logits, axis=1)[0].numpy(),
            np.asarray(data["label"]).reshape(logits.shape[-2:]))


def describe_test_config(tc: dict) -> str:
    """One line: the inference mode ``eval_logits`` uses."""
    mode = (f"sliding window {tc['crop_size'][0]}x{tc['crop_size'][1]} stride "
            f"{tc['stride'][0]}x{tc['stride'][1]}") if tc.get("is_slide") else "whole image"
    if tc.get("aug_eval"):
        flips = [n for n, on in (("horizontal", tc["flip_horizontal"]),
                                 ("vertical", tc["flip_vertical"])) if on]
        mode += f", scales {tc['scales']}, flips: {', '.join(flips) or 'none'}"
    return mode

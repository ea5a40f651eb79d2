"""The deterministic transforms of deploy.yaml, with cv2/numpy only, and their reversal.

Each transform acts on an HxWxC float32 image (0..255, the network's colour order) and appends
``('resize'|'padding', (h, w))`` — the size *before* it — to ``trans_info``, exactly as
humanseg's (and PaddleSeg 2.8's) transforms do, so a test can compare them array for array.
``reverse`` maps a network output back to the original image through ``trans_info``.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import cv2
import numpy as np

INTERP_FLAGS = {"NEAREST": cv2.INTER_NEAREST, "LINEAR": cv2.INTER_LINEAR,
                "CUBIC": cv2.INTER_CUBIC, "AREA": cv2.INTER_AREA,
                "LANCZOS4": cv2.INTER_LANCZOS4}

Op = Callable[[np.ndarray, list], np.ndarray]


def _resize(img: np.ndarray, w: int, h: int, interp: int = cv2.INTER_LINEAR) -> np.ndarray:
    out = cv2.resize(img, (int(w), int(h)), interpolation=interp)
    return out[..., None] if img.ndim == 3 and out.ndim == 2 else out


def _scaled(h: int, w: int, scale: float) -> tuple[int, int]:
    return int(round(h * scale)), int(round(w * scale))


def _resize_long(img: np.ndarray, long_size: int) -> np.ndarray:
    h, w = img.shape[:2]
    nh, nw = _scaled(h, w, float(long_size) / float(max(h, w)))
    return _resize(img, nw, nh)


def _pad(img: np.ndarray, target_w: int, target_h: int, value: float) -> np.ndarray:
    h, w = img.shape[:2]
    if h > target_h or w > target_w:
        raise ValueError(f"Padding: the image ({w}x{h}, w x h) is larger than target_size "
                         f"({target_w}x{target_h}); resize it first or raise target_size")
    if h == target_h and w == target_w:
        return img
    out = np.full((target_h, target_w) + img.shape[2:], value, dtype=img.dtype)
    out[:h, :w] = img
    return out


def make_op(t: dict[str, Any]) -> Op:
    """A callable ``op(img, trans_info) -> img`` for one validated transform dict."""
    kind = t["type"]
    if kind == "Resize":
        tw, th = t["target_size"]
        interp = INTERP_FLAGS[t["interp"]]

        def resize(img, info):
            h, w = img.shape[:2]
            info.append(("resize", (h, w)))
            size = [tw, th]
            if t["keep_ratio"]:
                scale = min(max(tw, th) / max(w, h), min(tw, th) / min(w, h))
                size = [round(w * scale), round(h * scale)]
            if t["size_divisor"]:
                d = t["size_divisor"]
                size = [math.ceil(s / d) * d for s in size]
            return _resize(img, size[0], size[1], interp)
        return resize
    if kind == "ResizeByLong":
        def resize_by_long(img, info):
            info.append(("resize", img.shape[:2]))
            return _resize_long(img, t["long_size"])
        return resize_by_long
    if kind == "ResizeByShort":
        def resize_by_short(img, info):
            h, w = img.shape[:2]
            info.append(("resize", (h, w)))
            short = t["short_size"]
            if short / min(h, w) * max(h, w) > t["max_size"]:
                short = int(t["max_size"] / max(h, w) * min(h, w))
            nh, nw = _scaled(h, w, float(short) / float(min(h, w)))
            return _resize(img, nw, nh)
        return resize_by_short
    if kind == "LimitLong":
        def limit_long(img, info):
            long_edge = max(img.shape[:2])
            info.append(("resize", img.shape[:2]))
            target = long_edge
            if t["max_long"] is not None and long_edge > t["max_long"]:
                target = t["max_long"]
            elif t["min_long"] is not None and long_edge < t["min_long"]:
                target = t["min_long"]
            return img if target == long_edge else _resize_long(img, target)
        return limit_long
    if kind == "Padding":
        def padding(img, info):
            info.append(("padding", img.shape[:2]))
            return _pad(img, t["target_size"][0], t["target_size"][1], t["im_padding_value"])
        return padding
    if kind == "PaddingByAspectRatio":
        def padding_by_aspect_ratio(img, info):
            h, w = img.shape[:2]
            ratio = w / h
            if ratio == t["aspect_ratio"]:
                return img
            if ratio > t["aspect_ratio"]:
                h = int(w / t["aspect_ratio"])
            else:
                w = int(h * t["aspect_ratio"])
            info.append(("padding", img.shape[:2]))
            return _pad(img, w, h, t["im_padding_value"])
        return padding_by_aspect_ratio
    if kind == "Normalize":
        mean = np.array(t["mean"], dtype=np.float64)
        std = np.array(t["std"], dtype=np.float64)
        # (img / 255 - mean) / std as one multiply-add per channel (cv2 scalars are per channel):
        # equal to the textbook form within float32 rounding, and ~5x faster than numpy's
        # broadcasting over a last axis of 3.
        scale = np.broadcast_to(1.0 / (255.0 * std), (3,))
        offset = np.broadcast_to(-mean / std, (3,))
        scale4 = tuple(float(v) for v in scale) + (0.0,)
        offset4 = tuple(float(v) for v in offset) + (0.0,)

        def normalize(img, info):
            img = img.astype(np.float32, copy=False)
            channels = 1 if img.ndim == 2 else img.shape[2]
            if channels == 3 and len(mean) in (1, 3) and len(std) in (1, 3):
                return cv2.add(cv2.multiply(img, scale4), offset4)
            out = img / 255.0
            np.subtract(out, mean, out=out, casting="same_kind")
            np.divide(out, std, out=out, casting="same_kind")
            return out
        return normalize
    raise ValueError(f"unsupported transform type {kind!r}")


class Preprocessor:
    """deploy.yaml's transforms as one callable: BGR uint8 image -> NCHW float32 + trans_info.

    Args:
        transforms: Validated transform dicts (``DeployConfig.transforms``).
        color_order: The network's channel order, 'RGB' or 'BGR'.
    """

    def __init__(self, transforms: list[dict[str, Any]], color_order: str = "RGB"):
        self.ops = [make_op(t) for t in transforms]
        self.color_order = color_order

    def apply(self, img: np.ndarray) -> tuple[np.ndarray, list]:
        """Run the transforms on an HxWxC float32 image already in the network's colour order;
        returns the HxWxC result and trans_info."""
        info: list = []
        for op in self.ops:
            img = op(img, info)
        return img, info

    def __call__(self, image_bgr: np.ndarray) -> tuple[np.ndarray, list]:
        """A [1, C, H, W] float32 network input for ``image_bgr`` (HxWx3 uint8) and trans_info."""
        img = image_bgr
        if img.ndim == 2:
            img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
        if self.color_order == "RGB":
            img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        img, info = self.apply(img.astype(np.float32))
        return np.ascontiguousarray(img.transpose(2, 0, 1)[None], dtype=np.float32), info


def reverse(output: np.ndarray, trans_info: list, nearest: bool = False,
            input_hw: tuple[int, int] | None = None) -> np.ndarray:
    """Map a [C, h, w] network output back through ``trans_info`` (last step first).

    A resize step is undone with cv2.resize (INTER_LINEAR, half-pixel centres, which equals
    bilinear interpolation with align_corners=False; INTER_NEAREST for label maps when
    ``nearest``), a padding step by cropping.

    ``input_hw`` is the network input's (h, w). An output smaller than it (a model exported with
    ``--skip_final_resize``) is resized straight to the next resize step's size; before a
    padding crop, or when no step is left, it is first resized to the size the crop expects.
    Without ``input_hw`` the output must have the input's size wherever a crop comes first.
    """
    hwc = np.ascontiguousarray(output.transpose(1, 2, 0))
    interp = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    expected = tuple(int(v) for v in input_hw) if input_hw is not None else None
    for kind, (h, w) in reversed(trans_info):
        if kind == "resize":
            if hwc.shape[:2] != (h, w):
                hwc = _resize(hwc, w, h, interp)
        elif kind == "padding":
            if expected is not None and hwc.shape[:2] != expected:
                hwc = _resize(hwc, expected[1], expected[0], interp)
            elif hwc.shape[0] < h or hwc.shape[1] < w:
                raise ValueError(f"reverse: a {hwc.shape[1]}x{hwc.shape[0]} output cannot be "
                                 f"cropped to {w}x{h}; pass input_hw (the network input's size) "
                                 "for a lower-resolution output")
            hwc = hwc[:h, :w]
        else:
            raise ValueError(f"unknown trans_info step {kind!r}")
        expected = (h, w)
    if expected is not None and hwc.shape[:2] != expected:
        hwc = _resize(hwc, expected[1], expected[0], interp)
    return np.ascontiguousarray(hwc.transpose(2, 0, 1))


def to_logits(output: np.ndarray, output_op: str) -> np.ndarray:
    """Logits, up to a per-pixel constant, of a float ``softmax`` or ``none`` network output.

    log p = logits - logsumexp(logits) per pixel, and resizing is linear, so resizing these and
    then taking the softmax gives exactly dygraph's softmax of the resized logits (resizing the
    probabilities themselves differs by up to 1e-3).
    """
    return output if output_op == "none" else np.log(np.maximum(output, 1e-30))


def softmax(logits: np.ndarray, axis: int = 0) -> np.ndarray:
    """float32 softmax of ``logits`` along ``axis``."""
    e = np.exp(logits - logits.max(axis=axis, keepdims=True))
    return (e / e.sum(axis=axis, keepdims=True)).astype(np.float32)

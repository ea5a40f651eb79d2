"""Array-level image and label operations used by the transforms (HxW or HxWxC numpy arrays)."""
from __future__ import annotations

from typing import Callable, Sequence

import cv2
import numpy as np
from PIL import Image, ImageEnhance

INTERP_FLAGS: dict[str, int] = {
    "NEAREST": cv2.INTER_NEAREST,
    "LINEAR": cv2.INTER_LINEAR,
    "CUBIC": cv2.INTER_CUBIC,
    "AREA": cv2.INTER_AREA,
    "LANCZOS4": cv2.INTER_LANCZOS4,
}

# dtypes cv2 processes without silently converting them.
_CV2_DTYPES = {np.dtype(t) for t in
               (np.uint8, np.int8, np.uint16, np.int16, np.int32, np.float32, np.float64)}
_CV2_MAX_BORDER_CHANNELS = 4


def _to_cv2(arr: np.ndarray) -> np.ndarray:
    """Return ``arr`` as a C-contiguous array of a dtype cv2 keeps unchanged."""
    arr = np.ascontiguousarray(arr)
    if arr.dtype in _CV2_DTYPES:
        return arr
    if arr.dtype.kind == "b":
        return arr.astype(np.uint8)
    if arr.dtype.kind in "iu":
        info = np.iinfo(np.int32)
        if arr.size and (arr.min() < info.min or arr.max() > info.max):
            raise ValueError(f"array of dtype {arr.dtype} has values outside the int32 range; "
                             "convert labels to int32 or smaller before the transforms")
        return arr.astype(np.int32)
    if arr.dtype.kind == "f":
        return arr.astype(np.float32)
    raise ValueError(f"unsupported array dtype {arr.dtype}: use uint8, int32 or float32 arrays")


def _apply_cv2(arr: np.ndarray, fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Run the cv2 call ``fn`` on ``arr`` keeping its dtype and its (possibly 1-channel) rank."""
    out = fn(_to_cv2(arr))
    if arr.ndim == 3 and out.ndim == 2:
        out = out[..., np.newaxis]
    return out.astype(arr.dtype, copy=False)


def _saturate(value: float, dtype: np.dtype) -> float | int:
    """Cast a fill value the way cv2 does for ``dtype`` (round and clip for integers)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return int(np.clip(np.rint(value), info.min, info.max))
    if dtype.kind == "b":
        return bool(value)
    return value


def num_channels(im: np.ndarray) -> int:
    """Number of channels of an HxW (1) or HxWxC (C) array."""
    return 1 if im.ndim == 2 else im.shape[2]


def resize(im: np.ndarray, target_size: int | Sequence[int],
           interp: int = cv2.INTER_LINEAR) -> np.ndarray:
    """Resize to ``target_size`` given as ``(w, h)`` or one int for a square."""
    if isinstance(target_size, (list, tuple)):
        w, h = int(target_size[0]), int(target_size[1])
    else:
        w = h = int(target_size)
    return _apply_cv2(im, lambda a: cv2.resize(a, (w, h), interpolation=interp))


def scaled_shape(h: int, w: int, scale: float) -> tuple[int, int]:
    """``(h, w)`` multiplied by ``scale`` and rounded to ints."""
    return int(round(h * scale)), int(round(w * scale))


def resize_long(im: np.ndarray, long_size: int, interp: int = cv2.INTER_LINEAR) -> np.ndarray:
    """Resize so that the longer side equals ``long_size``, keeping the aspect ratio."""
    h, w = im.shape[:2]
    new_h, new_w = scaled_shape(h, w, float(long_size) / float(max(h, w)))
    return resize(im, (new_w, new_h), interp)


def resize_short(im: np.ndarray, short_size: int, interp: int = cv2.INTER_LINEAR) -> np.ndarray:
    """Resize so that the shorter side equals ``short_size``, keeping the aspect ratio."""
    h, w = im.shape[:2]
    new_h, new_w = scaled_shape(h, w, float(short_size) / float(min(h, w)))
    return resize(im, (new_w, new_h), interp)


def rescale_size(img_size: Sequence[int], target_size: Sequence[int]) -> tuple[list[int], float]:
    """Largest scaling of ``img_size`` fitting ``target_size`` (long to long, short to short).

    Args:
        img_size: Image size, e.g. ``(w, h)``.
        target_size: Bounding size in the same order.

    Returns:
        The rescaled size (same order as ``img_size``) and the scale factor.
    """
    scale = min(max(target_size) / max(img_size), min(target_size) / min(img_size))
    return [round(s * scale) for s in img_size], scale


def normalize(im: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Return float32 ``(im / 255 - mean) / std``."""
    out = im.astype(np.float32, copy=False) / 255.0  # the division makes the new array
    np.subtract(out, mean, out=out, casting="same_kind")
    np.divide(out, std, out=out, casting="same_kind")
    return out


def horizontal_flip(im: np.ndarray) -> np.ndarray:
    """Mirror left-right."""
    return im[:, ::-1]


def vertical_flip(im: np.ndarray) -> np.ndarray:
    """Mirror top-bottom."""
    return im[::-1]


def crop(im: np.ndarray, box: Sequence[int]) -> np.ndarray:
    """Crop ``box = (x1, y1, x2, y2)`` (x2, y2 exclusive)."""
    x1, y1, x2, y2 = box
    return im[y1:y2, x1:x2]


def pad_bottom_right(im: np.ndarray, pad_h: int, pad_w: int, value: float) -> np.ndarray:
    """Add ``pad_h`` rows at the bottom and ``pad_w`` columns on the right filled with ``value``."""
    if pad_h <= 0 and pad_w <= 0:
        return im
    h, w = im.shape[:2]
    out = np.full((h + max(pad_h, 0), w + max(pad_w, 0)) + im.shape[2:],
                  _saturate(value, im.dtype), dtype=im.dtype)
    out[:h, :w] = im
    return out


def rotation_matrix(h: int, w: int, angle: float) -> tuple[np.ndarray, tuple[int, int]]:
    """Affine matrix rotating an ``h x w`` image by ``angle`` degrees about its centre, and the
    ``(w, h)`` output size that holds the whole rotated image."""
    cx, cy = w // 2, h // 2
    matrix = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w = int(h * sin + w * cos)
    new_h = int(h * cos + w * sin)
    matrix[0, 2] += new_w / 2 - cx
    matrix[1, 2] += new_h / 2 - cy
    return matrix, (new_w, new_h)


def warp_affine(im: np.ndarray, matrix: np.ndarray, dsize: Sequence[int], interp: int,
                value: float) -> np.ndarray:
    """Warp with the 2x3 ``matrix`` to size ``dsize = (w, h)``; outside pixels get ``value``."""
    dsize = (int(dsize[0]), int(dsize[1]))

    def _warp(a: np.ndarray) -> np.ndarray:
        border = (value,) * min(num_channels(a), _CV2_MAX_BORDER_CHANNELS)
        return cv2.warpAffine(a, matrix, dsize, flags=interp, borderMode=cv2.BORDER_CONSTANT,
                              borderValue=border)

    if num_channels(im) <= _CV2_MAX_BORDER_CHANNELS:
        return _apply_cv2(im, _warp)
    chunks = [_apply_cv2(im[..., i:i + _CV2_MAX_BORDER_CHANNELS], _warp)
              for i in range(0, im.shape[2], _CV2_MAX_BORDER_CHANNELS)]
    return np.concatenate(chunks, axis=2)


def to_uint8(im: np.ndarray) -> np.ndarray:
    """Clip to [0, 255] and truncate to uint8."""
    if im.dtype == np.uint8:
        return im
    return np.clip(im, 0, 255).astype(np.uint8)


def adjust_brightness(im: Image.Image, factor: float) -> Image.Image:
    """PIL brightness enhancement (1 = unchanged)."""
    return ImageEnhance.Brightness(im).enhance(factor)


def adjust_contrast(im: Image.Image, factor: float) -> Image.Image:
    """PIL contrast enhancement (1 = unchanged)."""
    return ImageEnhance.Contrast(im).enhance(factor)


def adjust_saturation(im: Image.Image, factor: float) -> Image.Image:
    """PIL colour (saturation) enhancement (1 = unchanged)."""
    return ImageEnhance.Color(im).enhance(factor)


def adjust_sharpness(im: Image.Image, factor: float) -> Image.Image:
    """PIL sharpness enhancement (1 = unchanged)."""
    return ImageEnhance.Sharpness(im).enhance(factor)


def adjust_hue(im: Image.Image, delta: float) -> Image.Image:
    """Shift the hue of an RGB image by ``delta`` in PIL HSV units (256 = full turn).

    The shifted hue is truncated toward zero and wraps around modulo 256.
    """
    hsv = np.array(im.convert("HSV"))
    hue = (hsv[..., 0].astype(np.float64) + delta).astype(np.int64) % 256
    hsv[..., 0] = hue.astype(np.uint8)
    return Image.frombytes("HSV", im.size, hsv.tobytes()).convert("RGB")


def blur(im: np.ndarray, kind: str, ksize: int) -> np.ndarray:
    """Blur a uint8 image: ``kind`` is 'gaussian', 'median' or 'blur' (box), ``ksize`` odd."""
    if kind == "gaussian":
        return _apply_cv2(im, lambda a: cv2.GaussianBlur(a, (ksize, ksize), 0, 0))
    if kind == "median":
        return _apply_cv2(im, lambda a: cv2.medianBlur(a, ksize))
    if kind == "blur":
        return _apply_cv2(im, lambda a: cv2.blur(a, (ksize, ksize)))
    raise ValueError(f"blur kind must be 'gaussian', 'median' or 'blur', got {kind!r}")

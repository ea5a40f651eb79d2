"""Drawing primitives of the synthetic portrait generator: a canvas that draws the image and the
label with the same geometry, point sets (ellipses, rectangles, rotations) and colour draws."""
from __future__ import annotations

import math

import cv2
import numpy as np

_SHIFT = 4
_ONE = 1 << _SHIFT
_AA = cv2.LINE_AA
_HARD = cv2.LINE_8


class Canvas:
    """An RGB image and a label mask drawn with the same geometry (antialiasing only in the image)."""

    def __init__(self, image: np.ndarray, mask: np.ndarray) -> None:
        self.image = image
        self.mask = mask

    def poly(self, pts: np.ndarray, colour, label: int | None) -> None:
        fixed = [np.round(pts * _ONE).astype(np.int32)]
        cv2.fillPoly(self.image, fixed, _colour(colour), _AA, _SHIFT)
        if label is not None:
            cv2.fillPoly(self.mask, fixed, label, _HARD, _SHIFT)

    def line(self, pts: np.ndarray, thickness: float, colour, label: int | None) -> None:
        fixed = [np.round(pts * _ONE).astype(np.int32)]
        width = max(1, int(round(thickness)))
        cv2.polylines(self.image, fixed, False, _colour(colour), width, _AA, _SHIFT)
        if label is not None:
            cv2.polylines(self.mask, fixed, False, label, width, _HARD, _SHIFT)


def _colour(colour) -> tuple[float, float, float]:
    return tuple(min(max(float(c), 0.0), 255.0) for c in colour)


def ellipse(center, axes, angle: float = 0.0, start: float = 0.0, end: float = 360.0,
             n: int = 28) -> np.ndarray:
    """Points of an ellipse arc (degrees, image coordinates: 270 is the top)."""
    t = np.deg2rad(np.linspace(start, end, n))
    a = math.radians(angle)
    x, y = axes[0] * np.cos(t), axes[1] * np.sin(t)
    return np.stack([center[0] + x * math.cos(a) - y * math.sin(a),
                     center[1] + x * math.sin(a) + y * math.cos(a)], 1)


def rotate(pts: np.ndarray, center, degrees: float) -> np.ndarray:
    """Points ``pts`` (..., 2) rotated by ``degrees`` about ``center``."""
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    d = np.asarray(pts, np.float64) - center
    return np.stack([center[0] + d[..., 0] * c - d[..., 1] * s, center[1] + d[..., 0] * s + d[..., 1] * c], -1)


def jitter(rng: np.random.Generator, colour, amount: float) -> np.ndarray:
    """``colour`` with each channel moved by up to ``amount``, clipped to 0..255."""
    return np.clip(np.asarray(colour, np.float32) + rng.uniform(-amount, amount, 3), 0, 255)


def random_colour(rng: np.random.Generator, sat: tuple[float, float] = (0.0, 1.0),
                  val: tuple[float, float] = (0.1, 1.0)) -> np.ndarray:
    """A random RGB colour (float32) with saturation and value drawn from the given ranges."""
    hsv = np.array([[[rng.uniform(0, 180), rng.uniform(*sat) * 255, rng.uniform(*val) * 255]]], np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32)


def smoothstep(x: float) -> float:
    """The smooth 0..1 ramp 3x^2 - 2x^3 of ``x`` clamped to 0..1."""
    x = min(max(x, 0.0), 1.0)
    return x * x * (3 - 2 * x)


def rect(x0: float, y0: float, bw: float, bh: float) -> np.ndarray:
    """Corners of the axis-aligned rectangle at (``x0``, ``y0``) of size ``bw`` x ``bh``."""
    return np.array([[x0, y0], [x0 + bw, y0], [x0 + bw, y0 + bh], [x0, y0 + bh]], np.float64)

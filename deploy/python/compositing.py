"""Alpha mattes from probabilities, background sources, compositing and letterboxing.

Backgrounds (``parse_background``): an image file, a video file (looped), ``blur``
(``blur:K`` for a kernel of K pixels), ``green`` (0, 255, 0) or a colour ``#RRGGBB``. Each is an
object with ``get(frame) -> HxWx3 uint8 BGR`` at the frame's size; images and videos are scaled
to cover the frame and centre-cropped, never distorted.
"""
from __future__ import annotations

import os
from typing import Callable

import cv2
import numpy as np

from preprocess import softmax, to_logits

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
LETTERBOX_VALUE = 127


# ----------------------------------------------------------------------------- alpha
def alpha_from_probs(probs: np.ndarray) -> np.ndarray:
    """Foreground alpha in [0, 1], HxW float32: 1 - P(background = class 0) of [C, H, W]."""
    if probs.shape[0] == 2:
        return np.ascontiguousarray(probs[1], dtype=np.float32)
    return np.clip(1.0 - probs[0], 0.0, 1.0).astype(np.float32)


def alpha_from_output(output: np.ndarray, output_op: str,
                      resize: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """Foreground alpha (1 - P(class 0)) from one raw network output [C|1, h, w].

    ``resize`` maps an [n, h, w] array to the image (bilinear; identity when None). Like dygraph,
    probabilities are taken after resizing the logits: for softmax outputs the log-probabilities
    are resized (the per-pixel log-sum-exp shift cancels), and with two classes only the logit
    difference is resized and passed through a sigmoid (one channel instead of two).
    """
    resize = resize or (lambda a: a)
    output = output.astype(np.float32, copy=False)
    if output_op == "argmax":
        return resize((output[:1] != 0).astype(np.float32))[0]
    logits = to_logits(output, output_op)
    if logits.shape[0] == 2:
        # sigmoid(d) = 1 / (1 + exp(-d)), in place on the frame-sized array (``resize`` returns
        # a new array or a view of its input, which is ours): each frame-sized temporary costs
        # an allocation and its page faults, 2-4x the time of the math itself
        e = np.asarray(resize((logits[1] - logits[0])[None])[0], dtype=np.float32)
        np.negative(e, out=e)
        np.clip(e, -80.0, 80.0, out=e)
        np.exp(e, out=e)
        e += 1.0
        return np.reciprocal(e, out=e)
    return np.ascontiguousarray(1.0 - softmax(resize(logits))[0], dtype=np.float32)


# ----------------------------------------------------------------------------- letterbox
def letterbox(frame: np.ndarray, aspect: float | None,
              value: int = LETTERBOX_VALUE) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Pad ``frame`` evenly (grey) to the width/height ratio ``aspect``.

    Returns the padded frame and ``(top, bottom, left, right)``; no padding when ``aspect`` is
    None or already matches (within one pixel).
    """
    h, w = frame.shape[:2]
    if not aspect:
        return frame, (0, 0, 0, 0)
    if w / h > aspect:
        new_h = int(round(w / aspect))
        pad = max(new_h - h, 0)
        pads = (pad // 2, pad - pad // 2, 0, 0)
    else:
        new_w = int(round(h * aspect))
        pad = max(new_w - w, 0)
        pads = (0, 0, pad // 2, pad - pad // 2)
    if pads[0] + pads[1] <= 1 and pads[2] + pads[3] <= 1:
        return frame, (0, 0, 0, 0)
    top, bottom, left, right = pads
    return cv2.copyMakeBorder(frame, top, bottom, left, right, cv2.BORDER_CONSTANT,
                              value=(value, value, value)), pads


def unletterbox(arr: np.ndarray, pads: tuple[int, int, int, int]) -> np.ndarray:
    """Remove the padding ``letterbox`` added from an HxW(xC) array of the padded size."""
    top, bottom, left, right = pads
    h, w = arr.shape[:2]
    return arr[top:h - bottom, left:w - right]


# ----------------------------------------------------------------------------- backgrounds
def cover(image: np.ndarray, w: int, h: int) -> np.ndarray:
    """Scale ``image`` to cover ``w`` x ``h`` keeping its aspect ratio, then centre-crop."""
    ih, iw = image.shape[:2]
    scale = max(w / iw, h / ih)
    nw, nh = max(w, int(round(iw * scale))), max(h, int(round(ih * scale)))
    if (nw, nh) != (iw, ih):
        image = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1
                           else cv2.INTER_LINEAR)
    x, y = (nw - w) // 2, (nh - h) // 2
    return np.ascontiguousarray(image[y:y + h, x:x + w])


class ColorBackground:
    """A solid BGR colour."""

    def __init__(self, bgr: tuple[int, int, int]):
        self.bgr = tuple(int(v) for v in bgr)
        self._cache: np.ndarray | None = None

    def get(self, frame: np.ndarray) -> np.ndarray:
        if self._cache is None or self._cache.shape != frame.shape:
            self._cache = np.empty(frame.shape, np.uint8)
            self._cache[:] = self.bgr
        return self._cache


class ImageBackground:
    """A still image, scaled to cover the frame (cached per frame size)."""

    def __init__(self, path: str):
        self.image = cv2.imread(path, cv2.IMREAD_COLOR)
        if self.image is None:
            raise ValueError(f"--background {path}: cannot read the image (corrupt or not an "
                             "image file)")
        self._cache: np.ndarray | None = None

    def get(self, frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        if self._cache is None or self._cache.shape[:2] != (h, w):
            self._cache = cover(self.image, w, h)
        return self._cache


class VideoBackground:
    """A video file played in a loop, one frame per call, scaled to cover the frame."""

    def __init__(self, path: str):
        self.path = path
        self.cap = cv2.VideoCapture(path)
        ok, first = self.cap.read() if self.cap.isOpened() else (False, None)
        if not ok:
            raise ValueError(f"--background {path}: cannot decode the video (give an image, a "
                             "video OpenCV can read, blur, green or #RRGGBB)")
        self._first = first

    def get(self, frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        if self._first is not None:
            bg, self._first = self._first, None
        else:
            ok, bg = self.cap.read()
            if not ok:
                self.cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, bg = self.cap.read()
                if not ok:
                    self.cap.release()
                    self.cap = cv2.VideoCapture(self.path)
                    ok, bg = self.cap.read()
                if not ok:
                    raise RuntimeError(f"--background {self.path}: the video stopped decoding")
        return cover(bg, w, h)

    def close(self) -> None:
        self.cap.release()


class BlurBackground:
    """The frame itself, Gaussian-blurred (computed at a quarter of the size for speed).

    Args:
        ksize: Blur kernel size in full-resolution pixels (odd or even; rounded internally).
    """

    def __init__(self, ksize: int = 41):
        if ksize < 3:
            raise ValueError(f"--background blur:K needs K >= 3; got {ksize}")
        self.ksize = int(ksize)

    def get(self, frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        small = cv2.resize(frame, (max(w // 4, 1), max(h // 4, 1)), interpolation=cv2.INTER_AREA)
        k = max(self.ksize // 4, 1) | 1
        small = cv2.GaussianBlur(small, (k, k), 0)
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def parse_color(spec: str) -> tuple[int, int, int]:
    """'#RRGGBB' -> (B, G, R)."""
    s = spec.lstrip("#")
    if len(s) != 6 or any(c not in "0123456789abcdefABCDEF" for c in s):
        raise ValueError(f"--background {spec!r}: a colour must be written #RRGGBB, e.g. #00FF00")
    r, g, b = (int(s[i:i + 2], 16) for i in (0, 2, 4))
    return b, g, r


def parse_background(spec: str):
    """A background object for ``--background``: image/video path, blur[:K], green, #RRGGBB."""
    if spec is None or spec == "":
        raise ValueError("--background is empty: give an image, a video, blur, green or #RRGGBB")
    low = spec.lower()
    if low == "green":
        return ColorBackground((0, 255, 0))
    if low == "blur" or low.startswith("blur:"):
        k = low.split(":", 1)[1] if ":" in low else "41"
        if not k.isdigit():
            raise ValueError(f"--background {spec!r}: write blur or blur:K with K an int, "
                             "e.g. blur:41")
        return BlurBackground(int(k))
    if spec.startswith("#"):
        return ColorBackground(parse_color(spec))
    if not os.path.isfile(spec):
        raise ValueError(f"--background {spec}: no such file; give an image, a video, blur, "
                         "green or #RRGGBB")
    if low.endswith(IMAGE_EXTENSIONS):
        return ImageBackground(spec)
    return VideoBackground(spec)


# ----------------------------------------------------------------------------- compositing
def composite(frame: np.ndarray, alpha: np.ndarray, background: np.ndarray) -> np.ndarray:
    """``alpha * frame + (1 - alpha) * background`` as uint8 BGR (alpha HxW float32 in [0, 1])."""
    alpha = np.ascontiguousarray(alpha, dtype=np.float32)
    return cv2.blendLinear(frame, background, alpha, 1.0 - alpha)


def rgba_cutout(image_bgr: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """BGRA uint8 image whose alpha channel is ``alpha`` x 255 (for PNG cut-outs)."""
    a = np.clip(np.rint(alpha * 255.0), 0, 255).astype(np.uint8)
    return np.dstack([image_bgr, a])

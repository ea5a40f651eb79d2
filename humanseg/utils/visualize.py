"""Colouring label maps: palette PNGs, pseudo-colour images and overlays."""
from __future__ import annotations

import numpy as np
from PIL import Image


def get_palette(num_classes: int = 256) -> np.ndarray:
    """The PASCAL VOC bit-interleaved palette (class 1 = (128, 0, 0)), shape [num_classes, 3]."""
    palette = np.zeros((num_classes, 3), dtype=np.uint8)
    for k in range(num_classes):
        c, bit = k, 0
        while c:
            for ch in range(3):
                palette[k, ch] |= ((c >> ch) & 1) << (7 - bit)
            c >>= 3
            bit += 1
    return palette


def save_palette_png(mask: np.ndarray, path: str) -> None:
    """Save a class-index map as a 'P' mode PNG (indices readable with ``np.asarray(Image.open)``)."""
    im = Image.fromarray(mask.astype(np.uint8), mode="P")
    im.putpalette(get_palette(256).reshape(-1).tolist())
    im.save(path)


def pseudo_color(mask: np.ndarray) -> np.ndarray:
    """RGB uint8 image of ``mask`` coloured by the palette."""
    return get_palette(256)[mask.astype(np.uint8)]


def overlay(image_rgb: np.ndarray, mask: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """Blend the pseudo-colour of non-background classes over ``image_rgb`` (uint8 RGB)."""
    color = pseudo_color(mask).astype(np.float32)
    out = image_rgb.astype(np.float32)
    fg = mask > 0
    out[fg] = (1 - alpha) * out[fg] + alpha * color[fg]
    return out.clip(0, 255).astype(np.uint8)

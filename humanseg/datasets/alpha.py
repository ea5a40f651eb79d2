"""Matting alpha mattes -> 0/1 person masks."""
from __future__ import annotations

import os

import numpy as np
from PIL import Image

from humanseg.errors import DataError

ALPHA_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def alpha_to_mask(alpha: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """0/1 uint8 mask: 1 where alpha >= ``threshold`` of its full scale (255, 65535 or 1.0).

    ``alpha`` is HxW, or HxWx4 (RGBA: the 4th channel is used), or HxWx2 (LA).
    """
    if alpha.ndim == 3:
        if alpha.shape[2] not in (2, 4):
            raise ValueError(f"an image with {alpha.shape[2]} channels has no alpha channel")
        alpha = alpha[..., -1]
    if alpha.dtype == np.uint8:
        full = 255.0
    elif alpha.dtype == np.uint16:
        full = 65535.0
    else:
        full = 1.0
    return (alpha.astype(np.float64) >= threshold * full).astype(np.uint8)


def convert_folder(alpha_dir: str, out_dir: str, threshold: float = 0.5) -> dict:
    """Write ``out_dir/<relative path>.png`` 0/1 masks for every alpha under ``alpha_dir``.

    Returns:
        ``{'written': n, 'foreground': fraction of mask pixels that are 1}``.

    Raises:
        DataError: missing folder, ``out_dir`` inside or equal to ``alpha_dir`` (sources are
            never overwritten), threshold outside (0, 1], unreadable or alpha-less files.
    """
    if not os.path.isdir(alpha_dir):
        raise DataError(f"alpha folder not found: {alpha_dir}")
    if not 0 < threshold <= 1:
        raise DataError(f"--threshold must be in (0, 1] (a fraction of full alpha), got {threshold}")
    src, dst = os.path.realpath(alpha_dir), os.path.realpath(out_dir)
    if dst == src or dst.startswith(src + os.sep):
        raise DataError(f"--out_dir {out_dir} is inside the alpha folder; choose another folder "
                        f"(the alpha files are never overwritten).")
    written, fg, total = 0, 0, 0
    for folder, _, files in sorted(os.walk(alpha_dir)):
        for name in sorted(files):
            if os.path.splitext(name)[1].lower() not in ALPHA_EXTS:
                continue
            path = os.path.join(folder, name)
            try:
                with Image.open(path) as im:
                    alpha = np.asarray(im)
                mask = alpha_to_mask(alpha, threshold)
            except (OSError, ValueError, SyntaxError) as e:
                raise DataError(f"cannot use {path} as an alpha matte: {e}") from None
            rel = os.path.splitext(os.path.relpath(path, alpha_dir))[0] + ".png"
            out = os.path.join(out_dir, rel)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            Image.fromarray(mask).save(out)
            written += 1
            fg += int(mask.sum())
            total += mask.size
    if not written:
        raise DataError(f"no alpha images ({', '.join(ALPHA_EXTS)}) under {alpha_dir}")
    return {"written": written, "foreground": fg / total}

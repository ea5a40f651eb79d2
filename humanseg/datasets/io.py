"""Reading images and label maps from disk, with errors that name the file."""
from __future__ import annotations

import os

import cv2
import numpy as np
from PIL import Image

from humanseg.errors import DataError


def read_image(path: str, channels: int = 3) -> np.ndarray:
    """Read an image as float32 HxWxC RGB (HxW for ``channels=1``).

    Raises:
        DataError: the file is missing or cannot be decoded.
    """
    if not os.path.isfile(path):
        raise DataError(f"image not found: {path}. Check the file list and dataset_root.")
    flag = cv2.IMREAD_GRAYSCALE if channels == 1 else cv2.IMREAD_COLOR
    img = cv2.imread(path, flag)
    if img is None:
        raise DataError(f"cannot read image {path}: the file is corrupt or not an image "
                        f"(re-export it as JPEG/PNG or remove it from the file list).")
    if channels == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    return img.astype("float32")


def read_label(path: str) -> np.ndarray:
    """Read a label map as class indices (palette PNGs give their raw indices, not colours).

    Raises:
        DataError: the file is missing, unreadable, or holds colours instead of class indices.
    """
    if not os.path.isfile(path):
        raise DataError(f"label not found: {path}. Check the file list and dataset_root.")
    try:
        with Image.open(path) as im:
            label = np.asarray(im)
    except (OSError, ValueError) as e:
        raise DataError(f"cannot read label {path}: {e}. Re-export it as a single-channel PNG.")
    if label.ndim != 2:
        raise DataError(f"label {path} has {label.shape[2]} channels; labels must be single-"
                        f"channel class-index PNGs (grayscale or palette 'P' mode). Convert "
                        f"colour masks to indices, e.g. with tools/data/ converters.")
    return label


def check_label_values(label: np.ndarray, num_classes: int, ignore_index: int, path: str) -> None:
    """Raise DataError when ``label`` holds values outside ``[0, num_classes) ∪ {ignore_index}``."""
    bad = (label >= num_classes) & (label != ignore_index)
    if bad.any():
        values = np.unique(label[bad])[:8].tolist()
        hint = ""
        if num_classes == 2 and 255 in values and ignore_index == 255:
            hint = " (0/255 binary masks: 255 is read as ignore; remap 255 -> 1)"
        elif num_classes == 2 and values and max(values) > 1:
            hint = " (binary masks must hold 0 and 1, e.g. remap 255 -> 1)"
        raise DataError(f"label {path} holds values {values} outside [0, {num_classes}) and "
                        f"ignore_index {ignore_index}{hint}. Fix the labels or num_classes.")


def image_size(path: str) -> tuple[int, int]:
    """(width, height) from the file header, without decoding the pixels.

    Raises:
        DataError: the file is not a readable image.
    """
    try:
        with Image.open(path) as im:
            return im.size
    except (OSError, ValueError, SyntaxError):
        raise DataError(f"cannot read image {path}: the file is corrupt or not an image "
                        f"(re-export it as JPEG/PNG or remove it from the file list).") from None

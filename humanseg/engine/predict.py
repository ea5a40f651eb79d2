"""Prediction on image files: mask PNG, pseudo-colour map and overlay for each image."""
from __future__ import annotations

import os

import cv2
import numpy as np
import paddle
from tqdm import tqdm

from humanseg.datasets.io import read_image
from humanseg.engine.infer import inference
from humanseg.errors import DataError
from humanseg.utils.visualize import overlay, pseudo_color, save_palette_png

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


def list_images(image_path: str) -> list[str]:
    """``image_path`` itself, or the images under the folder ``image_path`` (sorted)."""
    if os.path.isfile(image_path):
        return [image_path]
    if os.path.isdir(image_path):
        found = sorted(os.path.join(root, f) for root, _, files in os.walk(image_path)
                       for f in files if f.lower().endswith(IMAGE_EXTENSIONS))
        if not found:
            raise DataError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) under {image_path}.")
        return found
    raise DataError(f"--image_path not found: {image_path}. Give an image file or a folder.")


def predict(model: paddle.nn.Layer, transforms, image_paths: list[str], save_dir: str,
            image_root: str | None = None, progress: bool = True) -> list[dict]:
    """Segment each image and write ``mask/``, ``pseudo_color/`` and ``overlay/`` under ``save_dir``.

    Args:
        model: The segmentation model (put in eval mode here).
        transforms: A ``Compose`` of the evaluation transforms.
        image_paths: Image files.
        save_dir: Output folder.
        image_root: Paths are saved relative to this folder (keeps sub-folders apart).

    Returns:
        One dict per image: the input path, the output paths and the foreground fraction.
    """
    model.eval()
    results = []
    for sub in ("mask", "pseudo_color", "overlay"):
        os.makedirs(os.path.join(save_dir, sub), exist_ok=True)
    with paddle.no_grad():
        for path in tqdm(image_paths, desc="predict", unit="img", disable=not progress):
            img = read_image(path, transforms.img_channels)
            data = transforms({"img": img.copy(), "trans_info": [], "gt_fields": []})
            logits = inference(model, paddle.to_tensor(data["img"][None]), data["trans_info"])
            mask = paddle.argmax(logits, axis=1)[0].numpy().astype(np.uint8)
            rel = os.path.relpath(path, image_root) if image_root else os.path.basename(path)
            stem = os.path.splitext(rel)[0]
            out = {name: os.path.join(save_dir, name, stem + ext) for name, ext in
                   (("mask", ".png"), ("pseudo_color", ".png"), ("overlay", ".jpg"))}
            for p in out.values():
                os.makedirs(os.path.dirname(p), exist_ok=True)
            save_palette_png(mask, out["mask"])
            cv2.imwrite(out["pseudo_color"], cv2.cvtColor(pseudo_color(mask), cv2.COLOR_RGB2BGR))
            rgb = img.astype(np.uint8) if img.ndim == 3 else np.repeat(
                img.astype(np.uint8)[..., None], 3, axis=2)
            cv2.imwrite(out["overlay"], cv2.cvtColor(overlay(rgb, mask), cv2.COLOR_RGB2BGR))
            results.append({"image": path, **out, "foreground": float((mask > 0).mean())})
    return results

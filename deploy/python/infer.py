"""Segment images with an exported model: mask, soft alpha, RGBA cut-out, overlay, pseudo-colour.

    python deploy/python/infer.py --model_dir output/export --image_path photos/ --save_dir out

Writes, per image (the sub-folders of a folder input are kept):
  mask/<name>.png          palette PNG of class indices (np.asarray(PIL.Image.open(p)) = indices)
  alpha/<name>.png         foreground probability x 255 (1 - P(class 0)), grey uint8
  cutout/<name>.png        BGRA cut-out whose alpha channel is the soft alpha
  overlay/<name>.jpg       class colours blended over the image (non-background classes)
  pseudo_color/<name>.png  class colours

API (the parity tests use exactly these names)::

    from infer import Predictor            # with deploy/python on sys.path
    p = Predictor(model_dir, backend="onnx", device="cpu", threads=None)
    probs = p.predict_probs(image_bgr)     # float32 [C, H, W] at the image size
    label = p.predict_label(image_bgr)     # int32 [H, W]

This folder imports only numpy, cv2, yaml and the chosen backend (onnxruntime or
paddle.inference), so it can be copied and run on its own.
"""
from __future__ import annotations

import argparse
import os
import struct
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from compositing import alpha_from_probs, rgba_cutout  # noqa: E402
from deploy_config import add_model_args, model_from_args, voc_palette  # noqa: E402
from predictor import Predictor, add_backend_args, default_backend  # noqa: E402,F401

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
OUTPUTS = ("mask", "alpha", "cutout", "overlay", "pseudo_color")
_EXT = {"mask": ".png", "alpha": ".png", "cutout": ".png", "overlay": ".jpg",
        "pseudo_color": ".png"}


def list_images(image_path: str) -> list[str]:
    """``image_path`` itself, or the images under the folder (recursive, sorted)."""
    if os.path.isfile(image_path):
        return [image_path]
    if os.path.isdir(image_path):
        found = sorted(os.path.join(root, f) for root, _, files in os.walk(image_path)
                       for f in files if f.lower().endswith(IMAGE_EXTENSIONS))
        if not found:
            raise FileNotFoundError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) under "
                                    f"{image_path}")
        return found
    raise FileNotFoundError(f"--image_path {image_path}: no such file or folder")


def full_palette(palette: list[list[int]] | None) -> np.ndarray:
    """A 256x3 uint8 RGB palette: deploy.yaml's colours first, then the VOC palette."""
    out = np.array(voc_palette(256), dtype=np.uint8)
    if palette:
        out[:len(palette)] = np.array(palette, dtype=np.uint8)[:256]
    return out


def write_palette_png(path: str, mask: np.ndarray, palette: np.ndarray) -> None:
    """Save an HxW class-index map as an 8-bit palette PNG (written with zlib; cv2 cannot)."""
    h, w = mask.shape
    raw = np.zeros((h, w + 1), np.uint8)  # filter byte 0 per row
    raw[:, 1:] = mask.astype(np.uint8)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    png = (b"\x89PNG\r\n\x1a\n"
           + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 3, 0, 0, 0))
           + chunk(b"PLTE", palette.astype(np.uint8).tobytes())
           + chunk(b"IDAT", zlib.compress(raw.tobytes(), 6))
           + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(png)


def _imwrite(path: str, image: np.ndarray) -> None:
    ok, buf = cv2.imencode(os.path.splitext(path)[1], image)
    if not ok:
        raise RuntimeError(f"cannot encode {path}")
    buf.tofile(path)  # works for non-ASCII paths, unlike cv2.imwrite on Windows


def read_image(path: str) -> np.ndarray:
    """HxWx3 uint8 BGR; clear error for unreadable files (non-ASCII paths work)."""
    data = np.fromfile(path, dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if img is None:
        raise ValueError(f"cannot read image {path}: the file is corrupt or not an image")
    return img


def save_outputs(image: np.ndarray, probs: np.ndarray, label: np.ndarray, stem: str,
                 save_dir: str, outputs: tuple[str, ...], palette: np.ndarray) -> dict[str, str]:
    """Write the requested outputs of one image; returns {kind: path}."""
    paths = {}
    alpha = alpha_from_probs(probs)
    colors_bgr = palette[:, ::-1]
    for kind in outputs:
        path = os.path.join(save_dir, kind, stem + _EXT[kind])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if kind == "mask":
            write_palette_png(path, label, palette)
        elif kind == "alpha":
            _imwrite(path, np.clip(np.rint(alpha * 255.0), 0, 255).astype(np.uint8))
        elif kind == "cutout":
            _imwrite(path, rgba_cutout(image, alpha))
        elif kind == "pseudo_color":
            _imwrite(path, colors_bgr[label.astype(np.uint8)])
        elif kind == "overlay":
            out = image.astype(np.float32)
            fg = label > 0
            out[fg] = 0.5 * out[fg] + 0.5 * colors_bgr[label[fg].astype(np.uint8)]
            _imwrite(path, out.clip(0, 255).astype(np.uint8))
        paths[kind] = path
    return paths


def run(predictor: Predictor, image_path: str, save_dir: str,
        outputs: tuple[str, ...] = OUTPUTS) -> list[dict]:
    """Segment every image of ``image_path`` and save ``outputs`` under ``save_dir``."""
    images = list_images(image_path)
    root = image_path if os.path.isdir(image_path) else None
    palette = full_palette(predictor.config.palette)
    results = []
    for path in images:
        image = read_image(path)
        probs = predictor.predict_probs(image)
        label = np.argmax(probs, axis=0).astype(np.int32)
        rel = os.path.relpath(path, root) if root else os.path.basename(path)
        paths = save_outputs(image, probs, label, os.path.splitext(rel)[0], save_dir, outputs,
                             palette)
        results.append({"image": path, **paths, "foreground": float((label > 0).mean())})
    return results


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_model_args(p)
    p.add_argument("--image_path", required=True, help="an image or a folder of images")
    p.add_argument("--save_dir", default="output/infer", help="output folder")
    add_backend_args(p)
    p.add_argument("--outputs", default=",".join(OUTPUTS),
                   help=f"comma-separated subset of {','.join(OUTPUTS)}")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        outputs = tuple(o.strip() for o in args.outputs.split(",") if o.strip())
        bad = [o for o in outputs if o not in OUTPUTS]
        if bad or not outputs:
            raise ValueError(f"--outputs {args.outputs!r}: unknown {bad}; choose from "
                             f"{','.join(OUTPUTS)}")
        predictor = Predictor(model_from_args(args), args.backend or default_backend(),
                              args.device, args.threads, args.use_trt, args.trt_precision,
                              spin=args.spin)
        start = time.perf_counter()
        results = run(predictor, args.image_path, args.save_dir, outputs)
        seconds = time.perf_counter() - start
    except (ValueError, FileNotFoundError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{len(results)} image(s) -> {args.save_dir} ({', '.join(outputs)}); backend "
          f"{predictor.backend_name}; {seconds:.2f} s, {1000 * seconds / len(results):.1f} ms "
          "per image (read, inference, writing)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

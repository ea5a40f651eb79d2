"""The official Cityscapes label table and the labelIds -> trainIds conversion (no paddle needed).

The table (names, ids, trainIds, colours) is the published Cityscapes definition
(cityscapesScripts ``helpers/labels.py``); trainId 255 means "ignored in training and evaluation".
"""
from __future__ import annotations

import glob
import os
from multiprocessing import Pool
from typing import NamedTuple

import numpy as np
from PIL import Image
from tqdm import tqdm

from humanseg.errors import DataError

IGNORE_TRAIN_ID = 255
NUM_TRAIN_CLASSES = 19
IMAGE_SUFFIX = "_leftImg8bit.png"
LABEL_IDS_SUFFIX = "_gtFine_labelIds.png"
TRAIN_IDS_SUFFIX = "_gtFine_labelTrainIds.png"
SPLITS = ("train", "val", "test")


class Label(NamedTuple):
    name: str
    id: int
    train_id: int
    color: tuple[int, int, int]


LABELS = (
    Label("unlabeled", 0, 255, (0, 0, 0)),
    Label("ego vehicle", 1, 255, (0, 0, 0)),
    Label("rectification border", 2, 255, (0, 0, 0)),
    Label("out of roi", 3, 255, (0, 0, 0)),
    Label("static", 4, 255, (0, 0, 0)),
    Label("dynamic", 5, 255, (111, 74, 0)),
    Label("ground", 6, 255, (81, 0, 81)),
    Label("road", 7, 0, (128, 64, 128)),
    Label("sidewalk", 8, 1, (244, 35, 232)),
    Label("parking", 9, 255, (250, 170, 160)),
    Label("rail track", 10, 255, (230, 150, 140)),
    Label("building", 11, 2, (70, 70, 70)),
    Label("wall", 12, 3, (102, 102, 156)),
    Label("fence", 13, 4, (190, 153, 153)),
    Label("guard rail", 14, 255, (180, 165, 180)),
    Label("bridge", 15, 255, (150, 100, 100)),
    Label("tunnel", 16, 255, (150, 120, 90)),
    Label("pole", 17, 5, (153, 153, 153)),
    Label("polegroup", 18, 255, (153, 153, 153)),
    Label("traffic light", 19, 6, (250, 170, 30)),
    Label("traffic sign", 20, 7, (220, 220, 0)),
    Label("vegetation", 21, 8, (107, 142, 35)),
    Label("terrain", 22, 9, (152, 251, 152)),
    Label("sky", 23, 10, (70, 130, 180)),
    Label("person", 24, 11, (220, 20, 60)),
    Label("rider", 25, 12, (255, 0, 0)),
    Label("car", 26, 13, (0, 0, 142)),
    Label("truck", 27, 14, (0, 0, 70)),
    Label("bus", 28, 15, (0, 60, 100)),
    Label("caravan", 29, 255, (0, 0, 90)),
    Label("trailer", 30, 255, (0, 0, 110)),
    Label("train", 31, 16, (0, 80, 100)),
    Label("motorcycle", 32, 17, (0, 0, 230)),
    Label("bicycle", 33, 18, (119, 11, 32)),
)
# license plate (id -1) is not a value a labelIds PNG can hold, so it is left out.

ID = {label.name: label.id for label in LABELS}
TRAIN_CLASS_NAMES = tuple(label.name for label in sorted(
    (lb for lb in LABELS if lb.train_id != IGNORE_TRAIN_ID), key=lambda lb: lb.train_id))


def train_id_lut() -> np.ndarray:
    """A 256-entry uint8 table mapping every labelId to its trainId (unknown ids -> 255)."""
    lut = np.full(256, IGNORE_TRAIN_ID, np.uint8)
    for label in LABELS:
        lut[label.id] = label.train_id
    return lut


def train_id_palette() -> list[int]:
    """A PIL palette (768 ints) colouring trainIds with the official Cityscapes colours."""
    palette = [0] * 768
    for label in LABELS:
        if label.train_id != IGNORE_TRAIN_ID:
            palette[3 * label.train_id:3 * label.train_id + 3] = label.color
    return palette


_LUT = train_id_lut()


def label_ids_to_train_ids(label_ids: np.ndarray) -> np.ndarray:
    """Map an HxW labelIds array to trainIds (19 classes 0..18, everything else 255)."""
    return _LUT[label_ids]


def convert_one(label_ids_path: str, overwrite: bool = False) -> str:
    """Write ``*_gtFine_labelTrainIds.png`` next to ``label_ids_path``; returns its path.

    Raises:
        DataError: the file is unreadable or not a single-channel labelIds PNG.
    """
    out = label_ids_path[:-len(LABEL_IDS_SUFFIX)] + TRAIN_IDS_SUFFIX
    if not overwrite and os.path.isfile(out) and os.path.getmtime(out) >= \
            os.path.getmtime(label_ids_path):
        return out
    try:
        with Image.open(label_ids_path) as im:
            ids = np.asarray(im)
    except (OSError, ValueError) as e:
        raise DataError(f"cannot read {label_ids_path}: {e}") from None
    if ids.ndim != 2 or ids.dtype != np.uint8:
        raise DataError(f"{label_ids_path} is not a single-channel 8-bit labelIds PNG "
                        f"(shape {ids.shape}, dtype {ids.dtype}).")
    tmp = out + ".tmp.png"
    Image.fromarray(label_ids_to_train_ids(ids)).save(tmp)
    os.replace(tmp, out)
    return out


def _convert_job(args: tuple[str, bool]) -> tuple[str, str | None]:
    path, overwrite = args
    try:
        convert_one(path, overwrite)
        return path, None
    except DataError as e:
        return path, str(e)


def find_label_ids(dataset_root: str) -> list[str]:
    """Every ``gtFine/<split>/<city>/*_gtFine_labelIds.png`` under ``dataset_root``, sorted."""
    return sorted(glob.glob(os.path.join(dataset_root, "gtFine", "*", "*", "*" + LABEL_IDS_SUFFIX)))


def convert_dataset(dataset_root: str, num_workers: int = 0, overwrite: bool = False,
                    progress: bool = True) -> dict:
    """Convert every labelIds PNG under ``dataset_root`` and write ``{split}.txt`` file lists.

    Args:
        dataset_root: The Cityscapes folder holding ``leftImg8bit/`` and ``gtFine/``.
        num_workers: Worker processes (0 or 1: in this process; default of the tool: all cores).
        overwrite: Rewrite trainId PNGs that are already newer than their labelIds.
        progress: Show a tqdm bar.

    Returns:
        ``{'converted': n, 'lists': {split: (path, n_lines)}}``.

    Raises:
        DataError: no labelIds files, or a file could not be converted (all failures listed).
    """
    if not os.path.isdir(os.path.join(dataset_root, "gtFine")):
        raise DataError(f"{dataset_root} has no gtFine/ folder; point --dataset_root at the "
                        f"Cityscapes root (it holds leftImg8bit/ and gtFine/).")
    paths = find_label_ids(dataset_root)
    if not paths:
        raise DataError(f"no *{LABEL_IDS_SUFFIX} under {dataset_root}/gtFine/<split>/<city>/.")
    jobs = [(p, overwrite) for p in paths]
    bar = tqdm(total=len(jobs), desc="labelIds -> trainIds", unit="img", disable=not progress)
    failures = []
    if num_workers > 1:
        with Pool(num_workers) as pool:
            for path, err in pool.imap_unordered(_convert_job, jobs, chunksize=4):
                failures += [err] if err else []
                bar.update()
    else:
        for job in jobs:
            path, err = _convert_job(job)
            failures += [err] if err else []
            bar.update()
    bar.close()
    if failures:
        raise DataError(f"{len(failures)} labelIds file(s) could not be converted:\n  " +
                        "\n  ".join(failures[:10]))
    return {"converted": len(paths), "lists": write_file_lists(dataset_root)}


def cityscapes_pairs(dataset_root: str, split: str) -> tuple[list[tuple[str, str | None]], list[str]]:
    """Images of ``split`` paired with their trainIds labels by name (not by sort order).

    Returns:
        ``(pairs, missing)``: ``(image, label)`` absolute-or-root-joined paths for every image
        with a label, and the expected label path of every image without one.
    """
    images = sorted(glob.glob(os.path.join(dataset_root, "leftImg8bit", split, "*",
                                           "*" + IMAGE_SUFFIX)))
    pairs, missing = [], []
    for image in images:
        rel = os.path.relpath(image, os.path.join(dataset_root, "leftImg8bit"))
        label = os.path.join(dataset_root, "gtFine", rel[:-len(IMAGE_SUFFIX)] + TRAIN_IDS_SUFFIX)
        if os.path.isfile(label):
            pairs.append((image, label))
        else:
            missing.append(label)
    return pairs, missing


def write_file_lists(dataset_root: str) -> dict:
    """Write ``train.txt``/``val.txt``/``test.txt`` (paths relative to the root) for each split
    that has images; returns ``{split: (list_path, n_lines)}``."""
    written = {}
    for split in SPLITS:
        pairs, _ = cityscapes_pairs(dataset_root, split)
        if not pairs:
            continue
        path = os.path.join(dataset_root, f"{split}.txt")
        with open(path, "w", encoding="utf-8") as f:
            for image, label in pairs:
                f.write(f"{os.path.relpath(image, dataset_root)} "
                        f"{os.path.relpath(label, dataset_root)}\n")
        written[split] = (path, len(pairs))
    return written

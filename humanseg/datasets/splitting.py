"""Train/val/test file lists from image and label folders, keeping each video in one split."""
from __future__ import annotations

import os
import re
from collections import defaultdict

import numpy as np

from humanseg.errors import DataError

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
SPLIT_NAMES = ("train", "val", "test")
DEFAULT_PATTERN = r"^(.*?)[_-]?\d+$"


def pair_files(image_dir: str, label_dir: str, label_suffix: str = "",
               label_ext: str = ".png") -> list[tuple[str, str]]:
    """Every image under ``image_dir`` with its label (same relative path and stem, plus
    ``label_suffix``, ending in ``label_ext``) under ``label_dir``; sorted.

    Raises:
        DataError: a folder is missing, there are no images, or images have no label.
    """
    for d in (image_dir, label_dir):
        if not os.path.isdir(d):
            raise DataError(f"folder not found: {d}")
    pairs, missing = [], []
    for folder, _, files in sorted(os.walk(image_dir)):
        for name in sorted(files):
            if os.path.splitext(name)[1].lower() not in IMAGE_EXTS:
                continue
            image = os.path.join(folder, name)
            rel = os.path.splitext(os.path.relpath(image, image_dir))[0]
            label = os.path.join(label_dir, rel + label_suffix + label_ext)
            (pairs if os.path.isfile(label) else missing).append((image, label))
    if missing:
        shown = "\n  ".join(f"{i} -> {lab}" for i, lab in missing[:10])
        raise DataError(f"{len(missing)} image(s) have no label (expected path shown):\n  {shown}"
                        f"\nSet --label_suffix / --label_ext, or remove those images.")
    if not pairs:
        raise DataError(f"no images ({', '.join(IMAGE_EXTS)}) under {image_dir}")
    return sorted(pairs)


def group_key(image: str, image_dir: str, group_by: str, pattern: str = DEFAULT_PATTERN) -> str:
    """The video an image belongs to: its folder (``folder``), a regex on its relative path
    without extension (``pattern``: group 1, or the whole match), or itself (``none``)."""
    rel = os.path.splitext(os.path.relpath(image, image_dir))[0].replace(os.sep, "/")
    if group_by == "folder":
        return os.path.dirname(rel) or rel
    if group_by == "pattern":
        m = re.search(pattern, rel)
        if not m:
            return rel
        return m.group(1) if m.groups() else m.group(0)
    return rel


def split_groups(keys: list[str], ratios: tuple[float, ...], seed: int) -> dict[str, str]:
    """Assign each distinct key to a split so split sizes (in samples) follow ``ratios``.

    Groups are shuffled by ``seed`` and each goes to the split furthest below its target; every
    split with a positive ratio gets a group when there are enough groups.
    """
    sizes = defaultdict(int)
    for k in keys:
        sizes[k] += 1
    groups = sorted(sizes)
    order = np.random.default_rng(seed).permutation(len(groups))
    weights = np.asarray(ratios, float) / sum(ratios)
    target = weights * len(keys)
    count = np.zeros(len(ratios))
    wanted = [i for i, w in enumerate(weights) if w > 0]
    assignment = {}
    for n, gi in enumerate(order):
        g = groups[gi]
        empty = [i for i in wanted if count[i] == 0]
        if empty and len(groups) - n <= len(empty):
            s = empty[0]  # keep the last groups for splits that have none yet
        else:
            s = max(wanted, key=lambda i: (target[i] - count[i]) / max(target[i], 1e-9))
        assignment[g] = SPLIT_NAMES[s]
        count[s] += sizes[g]
    return assignment


def write_split_lists(image_dir: str, label_dir: str, out_dir: str, dataset_root: str | None = None,
                      ratios: tuple[float, ...] = (0.8, 0.1, 0.1), seed: int = 0,
                      group_by: str = "auto", pattern: str = DEFAULT_PATTERN,
                      label_suffix: str = "", label_ext: str = ".png",
                      separator: str = " ") -> dict:
    """Pair, group, split and write ``train.txt``/``val.txt``/``test.txt`` in ``out_dir``.

    Args:
        image_dir, label_dir: Folders of images and labels (matching relative paths).
        out_dir: Where the lists go.
        dataset_root: Paths in the lists are relative to it (default: ``out_dir``).
        ratios: Fractions for train, val (and test); 2 or 3 numbers.
        seed: Seed of the group shuffle.
        group_by: ``folder`` (one folder per video), ``pattern`` (regex ``pattern`` on the
            name, e.g. ``video12_0034`` -> ``video12``), ``none``, or ``auto`` (folder when
            images are in sub-folders, else pattern).
        pattern, label_suffix, label_ext, separator: See above and ``pair_files``.

    Returns:
        ``{split: {'samples': n, 'groups': g, 'path': list}}``.

    Raises:
        DataError: bad folders or arguments, unpaired images.
    """
    if len(ratios) not in (2, 3) or min(ratios) < 0 or sum(ratios) <= 0:
        raise DataError(f"--ratios needs 2 or 3 non-negative numbers with a positive sum, got {ratios}")
    if group_by not in ("auto", "folder", "pattern", "none"):
        raise DataError(f"--group_by must be auto, folder, pattern or none, got {group_by}")
    try:
        re.compile(pattern)
    except re.error as e:
        raise DataError(f"--pattern {pattern!r} is not a valid regular expression: {e}") from None
    pairs = pair_files(image_dir, label_dir, label_suffix, label_ext)
    if group_by == "auto":
        nested = any(os.path.dirname(os.path.relpath(i, image_dir)) for i, _ in pairs)
        group_by = "folder" if nested else "pattern"
    keys = [group_key(i, image_dir, group_by, pattern) for i, _ in pairs]
    assignment = split_groups(keys, tuple(ratios), seed)
    root = dataset_root or out_dir
    os.makedirs(out_dir, exist_ok=True)
    result = {}
    for s, name in enumerate(SPLIT_NAMES[:len(ratios)]):
        chosen = [(p, k) for p, k in zip(pairs, keys) if assignment[k] == name]
        path = os.path.join(out_dir, f"{name}.txt")
        with open(path, "w", encoding="utf-8") as f:
            for (image, label), _ in chosen:
                f.write(f"{os.path.relpath(image, root)}{separator}{os.path.relpath(label, root)}\n")
        result[name] = {"samples": len(chosen), "groups": len({k for _, k in chosen}), "path": path}
    result["group_by"] = group_by
    return result

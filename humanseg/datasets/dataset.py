"""The file-list ``Dataset`` (PaddleSeg's ``image label`` lines) with up-front file checks."""
from __future__ import annotations

import os

import numpy as np
import paddle

from humanseg.cvlibs.registry import DATASETS
from humanseg.datasets.io import check_label_values, image_size, read_image, read_label
from humanseg.errors import ConfigError, DataError
from humanseg.transforms import Compose

MODES = ("train", "val", "test")


@DATASETS.register(aliases=("SegDataset",))
class Dataset(paddle.io.Dataset):
    """A segmentation dataset described by file lists of ``image_path label_path`` lines.

    Paths inside the lists are relative to ``dataset_root``; list paths are taken as given
    (absolute, or relative to the current directory) and, failing that, relative to
    ``dataset_root``.

    Args:
        mode: 'train' (label transformed with the image), 'val' (label kept at original size)
            or 'test' (lines may hold only the image).
        dataset_root: Folder the file-list paths are relative to.
        transforms: Transform objects (built from the config).
        num_classes: Number of classes.
        img_channels: 3 (RGB) or 1 (grayscale).
        train_path, val_path, test_path: File list for each mode.
        separator: Field separator in the lists (default one space).
        ignore_index: Label value excluded from losses and metrics.
        edge: Accepted for PaddleSeg compatibility; edge maps are not produced yet.
    """

    NUM_CLASSES: int | None = None
    IGNORE_INDEX = 255
    DEFAULT_LISTS: dict[str, str] = {}

    def __init__(self, mode: str, dataset_root: str, transforms: list, num_classes: int | None = None,
                 img_channels: int = 3, train_path: str | None = None, val_path: str | None = None,
                 test_path: str | None = None, separator: str = " ", ignore_index: int = 255,
                 edge: bool = False):
        mode = mode.lower()
        if mode not in MODES:
            raise ConfigError(f"dataset mode must be one of {MODES}, got '{mode}'.")
        num_classes = num_classes if num_classes is not None else self.NUM_CLASSES
        if num_classes is None:
            raise ConfigError(f"{type(self).__name__}: num_classes is required.")
        if img_channels not in (1, 3):
            raise ConfigError(f"img_channels must be 1 or 3, got {img_channels}.")
        if not os.path.isdir(dataset_root):
            raise DataError(f"dataset_root not found: {dataset_root}. Set dataset_root to the "
                            f"dataset folder (see data/README.md).")
        self.mode = mode
        self.dataset_root = dataset_root
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.img_channels = img_channels
        self.edge = edge
        self.transforms = transforms if isinstance(transforms, Compose) else \
            Compose(list(transforms or []), img_channels=img_channels)
        list_path = {"train": train_path, "val": val_path, "test": test_path}[mode] or \
            self.DEFAULT_LISTS.get(mode)
        if list_path is None:
            raise ConfigError(f"{type(self).__name__}: {mode}_path is required in {mode} mode.")
        self.file_list = self._read_file_list(self._resolve_list(list_path), separator)
        self._probe_labels()

    def _resolve_list(self, list_path: str) -> str:
        for candidate in (list_path, os.path.join(self.dataset_root, list_path)):
            if os.path.isfile(candidate):
                return candidate
        raise DataError(f"{self.mode} file list not found: {list_path} (also looked in "
                        f"{self.dataset_root}). Set {self.mode}_path to an existing file.")

    def _read_file_list(self, list_path: str, separator: str) -> list[tuple[str, str | None]]:
        entries, missing = [], []
        with open(list_path, encoding="utf-8") as f:
            for line_no, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                parts = line.split(separator)
                if len(parts) != 2 and not (self.mode == "test" and len(parts) == 1):
                    raise DataError(f"{list_path}:{line_no}: expected 'image_path{separator}"
                                    f"label_path', got '{line}'. Paths with spaces need another "
                                    f"separator (the dataset's `separator` key).")
                paths = [os.path.join(self.dataset_root, p) for p in parts]
                missing += [f"{list_path}:{line_no}: {p}" for p in paths if not os.path.isfile(p)]
                entries.append((paths[0], paths[1] if len(paths) == 2 else None))
        if missing:
            shown = "\n  ".join(missing[:10])
            more = f"\n  ... and {len(missing) - 10} more" if len(missing) > 10 else ""
            raise DataError(f"{len(missing)} file(s) named in {list_path} do not exist:\n  "
                            f"{shown}{more}\nFix the list or dataset_root ({self.dataset_root}).")
        if not entries:
            raise DataError(f"{list_path} lists no samples.")
        for image_path, label_path in entries:
            self._check_pair(image_path, label_path)
        return entries

    @staticmethod
    def _check_pair(image_path: str, label_path: str | None) -> None:
        """Header-only check that both files are images of the same size (cheap, up front)."""
        size = image_size(image_path)
        if label_path is not None and image_size(label_path) != size:
            _mismatch(image_path, size, label_path, image_size(label_path))

    def _probe_labels(self, count: int = 8) -> None:
        """Read a few labels spread over the list: out-of-range values, and the 0/255 mask trap
        (every probed label holds only background and ignore), fail before training starts."""
        labelled = [lp for _, lp in self.file_list if lp is not None]
        if not labelled:
            return
        picks = [labelled[i] for i in np.linspace(0, len(labelled) - 1, min(count, len(labelled))
                                                  ).astype(int)]
        seen: set[int] = set()
        for path in picks:
            label = read_label(path)
            check_label_values(label, self.num_classes, self.ignore_index, path)
            seen.update(np.unique(label).tolist())
        if self.ignore_index in seen and not seen - {0, self.ignore_index}:
            raise DataError(
                f"the labels hold only 0 and {self.ignore_index} (the ignore_index), e.g. "
                f"{picks[0]}: 0/{self.ignore_index} binary masks would train on background "
                f"alone. Remap {self.ignore_index} -> 1 (masks must hold class indices 0..."
                f"{self.num_classes - 1}).")

    def __len__(self) -> int:
        return len(self.file_list)

    def load(self, idx: int) -> dict:
        """Read sample ``idx`` from disk and check it, without transforms."""
        image_path, label_path = self.file_list[idx]
        data = {"img": read_image(image_path, self.img_channels), "trans_info": [],
                "gt_fields": [], "img_path": image_path}
        if label_path is not None:
            label = read_label(label_path)
            if label.shape != data["img"].shape[:2]:
                _mismatch(image_path, data["img"].shape[1::-1], label_path, label.shape[::-1])
            check_label_values(label, self.num_classes, self.ignore_index, label_path)
            data["label"] = label
        return data

    def __getitem__(self, idx: int) -> dict:
        data = self.load(idx)
        if self.mode == "train" and "label" in data:
            data["gt_fields"].append("label")
        data = self.transforms(data)
        if "label" in data:
            data["label"] = data["label"].astype("int64")
        return data


def _mismatch(image_path: str, image_wh, label_path: str, label_wh) -> None:
    raise DataError(f"label {label_path} is {label_wh[0]}x{label_wh[1]} but its image "
                    f"{image_path} is {image_wh[0]}x{image_wh[1]} (WxH); they must be the same "
                    f"size.")

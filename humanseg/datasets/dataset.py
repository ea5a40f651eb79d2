"""The file-list ``Dataset`` (PaddleSeg's ``image label`` lines) with up-front file checks.

Subclasses (Cityscapes, PPHumanSeg14K, SUPERVISELY) only say where their samples are; the checks,
loading and the corrupt-sample policy (``on_corrupt``) live here.
"""
from __future__ import annotations

import os
import re

import numpy as np
import paddle

from humanseg.cvlibs.registry import DATASETS
from humanseg.datasets.filelist import (Entry, listing, missing_files, mismatch_message,
                                        pair_problem, parse_file_list)
from humanseg.datasets.io import check_label_values, read_image, read_label
from humanseg.errors import ConfigError, DataError
from humanseg.transforms import Compose
from humanseg.utils.logger import logger

MODES = ("train", "val", "test")
ON_CORRUPT = ("stop", "skip")
FRAME_STEM = re.compile(r"^(?P<clip>.+)_(?P<frame>\d+)$")


def parse_frame(image_path: str, root: str | None = None) -> tuple[str, int] | None:
    """``(clip, frame)`` of a video frame named ``<clip>_<frame number>.<ext>``, or None.

    The clip keeps the file's folder (relative to ``root`` when given), so clips of the same name
    in different folders stay apart: ``root/images/clip0001_0007.jpg`` -> ``('images/clip0001', 7)``.
    """
    match = FRAME_STEM.match(os.path.splitext(os.path.basename(image_path))[0])
    if match is None:
        return None
    folder = os.path.dirname(os.path.relpath(image_path, root) if root else image_path)
    return os.path.join(folder, match["clip"]).replace(os.sep, "/"), int(match["frame"])


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
        video: The samples are video frames named ``<clip>_<frame number>`` (e.g.
            ``images/clip0003_0012.jpg``): ``frame_index()`` gives each sample's clip and frame,
            and evaluation reports temporal flicker between consecutive frames of a clip.
        on_corrupt: 'stop' (default): an unreadable or inconsistent sample stops with a message
            naming the file. 'skip': such samples are dropped when found up front, or replaced
            by the next good sample when found while loading, and counted in the log.
    """

    NUM_CLASSES: int | None = None
    IGNORE_INDEX = 255
    DEFAULT_LISTS: dict[str, str] = {}

    def __init__(self, mode: str, dataset_root: str, transforms: list, num_classes: int | None = None,
                 img_channels: int = 3, train_path: str | None = None, val_path: str | None = None,
                 test_path: str | None = None, separator: str = " ", ignore_index: int = 255,
                 edge: bool = False, on_corrupt: str = "stop", video: bool = False):
        self._setup(mode, dataset_root, transforms, num_classes, img_channels, ignore_index, edge,
                    on_corrupt)
        list_path = {"train": train_path, "val": val_path, "test": test_path}[self.mode] or \
            self.DEFAULT_LISTS.get(self.mode)
        if list_path is None:
            raise ConfigError(f"{type(self).__name__}: {self.mode}_path is required in "
                              f"{self.mode} mode.")
        list_path = self._resolve_list(list_path)
        entries, where, bad = parse_file_list(list_path, dataset_root, separator,
                                       image_only_ok=self.mode == "test")
        if bad:
            raise DataError(f"{bad[0]}. Paths with spaces need another separator (the "
                            f"dataset's `separator` key).")
        self.file_list = self._checked(entries, list_path, where)
        self._probe_labels()
        self._set_video(video, list_path)

    # ------------------------------------------------------------------ set-up and checks
    def _setup(self, mode: str, dataset_root: str, transforms, num_classes: int | None,
               img_channels: int, ignore_index: int, edge: bool, on_corrupt: str) -> None:
        """Validate and store the arguments every dataset shares."""
        mode = str(mode).lower()
        if mode not in MODES:
            raise ConfigError(f"dataset mode must be one of {MODES}, got '{mode}'.")
        num_classes = num_classes if num_classes is not None else self.NUM_CLASSES
        if num_classes is None:
            raise ConfigError(f"{type(self).__name__}: num_classes is required.")
        if img_channels not in (1, 3):
            raise ConfigError(f"img_channels must be 1 or 3, got {img_channels}.")
        if on_corrupt not in ON_CORRUPT:
            raise ConfigError(f"on_corrupt must be one of {ON_CORRUPT}, got '{on_corrupt}'.")
        if not os.path.isdir(dataset_root):
            raise DataError(f"dataset_root not found: {dataset_root}. Set dataset_root to the "
                            f"dataset folder (see data/README.md).")
        self.mode = mode
        self.dataset_root = dataset_root
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.img_channels = img_channels
        self.edge = edge
        self.on_corrupt = on_corrupt
        self.transforms = transforms if isinstance(transforms, Compose) else \
            Compose(list(transforms or []), img_channels=img_channels)
        self._bad_indices: set[int] = set()

    def _resolve_list(self, list_path: str) -> str:
        for candidate in (list_path, os.path.join(self.dataset_root, list_path)):
            if os.path.isfile(candidate):
                return candidate
        raise DataError(f"{self.mode} file list not found: {list_path} (also looked in "
                        f"{self.dataset_root}). Set {self.mode}_path to an existing file.")

    def _checked(self, entries: list[Entry], source: str,
                 where: list[str] | None = None) -> list[Entry]:
        """Entries whose files exist and agree in size (headers only); the rest stop or skip."""
        if not entries:
            raise DataError(f"{source} lists no samples.")
        missing = missing_files(entries, where)
        if missing:
            raise DataError(f"{len(missing)} file(s) named in {source} do not exist:"
                            f"{listing(missing)}\nFix the list or dataset_root "
                            f"({self.dataset_root}).")
        kept, skipped = [], []
        for image_path, label_path in entries:
            problem = pair_problem(image_path, label_path)
            if problem is None:
                kept.append((image_path, label_path))
            elif self.on_corrupt == "stop":
                raise DataError(problem)
            else:
                skipped.append(problem)
        self._log_dropped(skipped, source)
        if not kept:
            raise DataError(f"every sample in {source} is unreadable or inconsistent.")
        return kept

    def _log_dropped(self, problems: list[str], source: str) -> None:
        if problems:
            logger.warning(f"on_corrupt=skip: dropped {len(problems)} of the samples in {source}:"
                           f"{listing(problems, 5)}")

    def _probe_labels(self, count: int = 8) -> None:
        """Read a few labels spread over the list: out-of-range values, and the 0/255 mask trap
        (every probed label holds only background and ignore), fail before training starts."""
        labelled = [lp for _, lp in self.file_list if lp is not None]
        if not labelled:
            return
        picks = [labelled[i] for i in np.linspace(0, len(labelled) - 1, min(count, len(labelled))
                                                  ).astype(int)]
        seen: set[int] = set()
        dropped = []
        for path in picks:
            try:
                label = read_label(path)
                check_label_values(label, self.num_classes, self.ignore_index, path)
            except DataError as e:
                if self.on_corrupt == "stop":
                    raise
                dropped.append(str(e))
                self.file_list = [pair for pair in self.file_list if pair[1] != path]
                continue
            seen.update(np.unique(label).tolist())
        self._log_dropped(dropped, "the label probe")
        if not self.file_list:
            raise DataError("every probed label is unreadable or out of range.")
        if self.ignore_index in seen and not seen - {0, self.ignore_index}:
            raise DataError(
                f"the labels hold only 0 and {self.ignore_index} (the ignore_index), e.g. "
                f"{picks[0]}: 0/{self.ignore_index} binary masks would train on background "
                f"alone. Remap {self.ignore_index} -> 1 (masks must hold class indices 0..."
                f"{self.num_classes - 1}), e.g. with tools/data/validate_dataset.py --fix-to DIR.")

    def _set_video(self, video: bool, source: str) -> None:
        """Check up front that every image of a ``video`` dataset is named ``<clip>_<frame>``."""
        if not isinstance(video, bool):
            raise ConfigError(f"{type(self).__name__}: video must be true or false, got {video!r}.")
        self.video = video
        self._frames: list[tuple[str, int]] | None = None
        if not video:
            return
        frames, bad = [], []
        for image_path, _ in self.file_list:
            frame = parse_frame(image_path, self.dataset_root)
            (bad if frame is None else frames).append(frame or image_path)
        if bad:
            raise DataError(f"video: true, but {len(bad)} image(s) in {source} are not named "
                            f"<clip>_<frame number> (e.g. clip0001_0007.jpg):{listing(bad)}\n"
                            f"Rename the frames, or set video: false in the dataset config "
                            f"(no flicker is measured then).")
        self._frames = frames

    def frame_index(self) -> list[tuple[str, int]] | None:
        """``(clip, frame number)`` of each sample for a ``video`` dataset, else None."""
        return getattr(self, "_frames", None)

    # ------------------------------------------------------------------ loading
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
                raise DataError(mismatch_message(image_path, data["img"].shape[1::-1],
                                                  label_path, label.shape[::-1]))
            check_label_values(label, self.num_classes, self.ignore_index, label_path)
            data["label"] = label
        return data

    def load_or_replace(self, idx: int) -> dict:
        """``load(idx)``; with ``on_corrupt='skip'`` a bad sample is replaced by the next good one
        (idx+1, idx+2, ... wrapping), the same one every time, and counted in the log."""
        if self.on_corrupt == "stop":
            return self.load(idx)
        n = len(self)
        for step in range(n):
            j = (idx + step) % n
            if j in self._bad_indices:
                continue
            try:
                return self.load(j)
            except DataError as e:
                self._bad_indices.add(j)
                logger.warning(f"on_corrupt=skip: skipping sample {j} ({e}); "
                               f"{len(self._bad_indices)} sample(s) skipped so far in this "
                               f"process.")
        raise DataError(f"every sample of the {self.mode} dataset is unreadable or inconsistent.")

    @property
    def skipped_count(self) -> int:
        """Samples found bad while loading in this process (on_corrupt='skip')."""
        return len(self._bad_indices)

    def __getitem__(self, idx: int) -> dict:
        data = self.load_or_replace(idx)
        if self.mode == "train" and "label" in data:
            data["gt_fields"].append("label")
        data = self.transforms(data)
        if "label" in data:
            data["label"] = data["label"].astype("int64")
        return data

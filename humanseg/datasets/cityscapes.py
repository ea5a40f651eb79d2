"""Cityscapes (``leftImg8bit`` images, ``gtFine`` trainIds labels), PaddleSeg's ``Cityscapes``."""
from __future__ import annotations

import glob
import os

from humanseg.cvlibs.registry import DATASETS
from humanseg.datasets.cityscapes_labels import (IMAGE_SUFFIX, LABEL_IDS_SUFFIX, TRAIN_IDS_SUFFIX,
                                                 cityscapes_pairs)
from humanseg.datasets.dataset import Dataset
from humanseg.datasets.filelist import listing
from humanseg.errors import DataError


@DATASETS.register
class Cityscapes(Dataset):
    """Cityscapes fine annotations: 19 classes, ignore 255.

    Reads ``leftImg8bit/{mode}/{city}/*_leftImg8bit.png`` and pairs each image, by name, with
    ``gtFine/{mode}/{city}/*_gtFine_labelTrainIds.png`` (made from the labelIds PNGs by
    ``tools/data/cityscapes_to_trainids.py``). An image without its label stops with the list of
    missing labels (in test mode, images without labels are read alone).

    Args:
        transforms: Transform objects.
        dataset_root: The folder holding ``leftImg8bit/`` and ``gtFine/``.
        mode: 'train', 'val' or 'test'.
        edge: Accepted for PaddleSeg compatibility.
        num_classes, ignore_index, img_channels, on_corrupt: As for ``Dataset``.
    """

    NUM_CLASSES = 19
    IGNORE_INDEX = 255

    def __init__(self, transforms: list, dataset_root: str = "data/cityscapes", mode: str = "train",
                 edge: bool = False, num_classes: int = 19, ignore_index: int = 255,
                 img_channels: int = 3, on_corrupt: str = "stop"):
        self._setup(mode, dataset_root, transforms, num_classes, img_channels, ignore_index, edge,
                    on_corrupt)
        for sub in ("leftImg8bit", "gtFine"):
            if not os.path.isdir(os.path.join(dataset_root, sub, self.mode)):
                raise DataError(f"{os.path.join(dataset_root, sub, self.mode)} not found: "
                                f"dataset_root must hold leftImg8bit/{self.mode}/<city>/ and "
                                f"gtFine/{self.mode}/<city>/ (see data/README.md).")
        pairs, missing = cityscapes_pairs(dataset_root, self.mode)
        source = os.path.join(dataset_root, "leftImg8bit", self.mode)
        if not pairs and not missing:
            raise DataError(f"no *{IMAGE_SUFFIX} images in {source}/<city>/.")
        if missing and self.mode == "test":
            pairs += [(_image_of(p, dataset_root), None) for p in missing]
            pairs.sort()
        elif missing:
            raise DataError(f"{len(missing)} image(s) in {source} have no trainIds label:"
                            f"{listing(missing)}\n{_fix_hint(missing)}")
        self.file_list = self._checked(pairs, source)
        self._probe_labels()


def _image_of(label_path: str, dataset_root: str) -> str:
    rel = os.path.relpath(label_path, os.path.join(dataset_root, "gtFine"))
    return os.path.join(dataset_root, "leftImg8bit", rel[:-len(TRAIN_IDS_SUFFIX)] + IMAGE_SUFFIX)


def _fix_hint(missing: list[str]) -> str:
    label_ids = missing[0][:-len(TRAIN_IDS_SUFFIX)] + LABEL_IDS_SUFFIX
    if os.path.isfile(label_ids) or glob.glob(os.path.join(os.path.dirname(missing[0]),
                                                           "*" + LABEL_IDS_SUFFIX)):
        return ("The labelIds PNGs are there: make the trainIds labels with "
                "python tools/data/cityscapes_to_trainids.py --dataset_root <root>.")
    return "Download gtFine_trainvaltest.zip into dataset_root (see data/README.md)."

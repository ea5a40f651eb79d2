"""PP-HumanSeg14K: the paper's teleconferencing video dataset (291 videos, 23 scenes, 14K frames)."""
from __future__ import annotations

import json
import os

from humanseg.cvlibs.registry import DATASETS
from humanseg.datasets.dataset import Dataset
from humanseg.datasets.synthetic.humanseg import GENERATOR_NAME


@DATASETS.register
class PPHumanSeg14K(Dataset):
    """PP-HumanSeg14K (Chu et al., WACV 2022 workshops): 8770/2431/2482 train/val/test frames.

    Layout: ``dataset_root/{train,val,test}.txt`` listing ``images/... annotations/...`` pairs,
    labels are palette PNGs with 0 = background, 1 = person, 255 = ignore. The synthetic set made
    by ``tools/data/make_synthetic_humanseg.py`` has the same layout.

    Args:
        transforms: Transform objects.
        dataset_root: Dataset folder (default ``data/PP-HumanSeg14K``).
        mode: 'train', 'val' or 'test'.
        edge: Accepted for PaddleSeg compatibility.
        video: Whether the images are video frames named ``<clip>_<frame number>`` (temporal
            flicker is then measured in evaluation). Default: true for the synthetic set (its
            ``meta.json`` says so), false otherwise: the real set's file names are not documented,
            so set ``video: true`` once yours follow that pattern.
    """

    NUM_CLASSES = 2
    IGNORE_INDEX = 255
    DEFAULT_LISTS = {"train": "train.txt", "val": "val.txt", "test": "test.txt"}

    def __init__(self, transforms: list, dataset_root: str = "data/PP-HumanSeg14K",
                 mode: str = "train", edge: bool = False, num_classes: int = 2,
                 ignore_index: int = 255, video: bool | None = None, **kwargs):
        if video is None:
            video = is_synthetic_clips(dataset_root)
        super().__init__(mode=mode, dataset_root=dataset_root, transforms=transforms,
                         num_classes=num_classes, ignore_index=ignore_index, edge=edge,
                         video=video, **kwargs)


def is_synthetic_clips(dataset_root: str) -> bool:
    """Whether ``dataset_root`` holds the synthetic clips of ``make_synthetic_humanseg`` (whose
    images are named ``<clip>_<frame>``), as its ``meta.json`` says."""
    try:
        with open(os.path.join(dataset_root, "meta.json"), encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and meta.get("generator") == GENERATOR_NAME

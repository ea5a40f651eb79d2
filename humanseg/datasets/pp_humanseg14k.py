"""PP-HumanSeg14K: the paper's teleconferencing video dataset (291 videos, 23 scenes, 14K frames)."""
from __future__ import annotations

from humanseg.cvlibs.registry import DATASETS
from humanseg.datasets.dataset import Dataset


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
    """

    NUM_CLASSES = 2
    IGNORE_INDEX = 255
    DEFAULT_LISTS = {"train": "train.txt", "val": "val.txt", "test": "test.txt"}

    def __init__(self, transforms: list, dataset_root: str = "data/PP-HumanSeg14K",
                 mode: str = "train", edge: bool = False, num_classes: int = 2,
                 ignore_index: int = 255, **kwargs):
        super().__init__(mode=mode, dataset_root=dataset_root, transforms=transforms,
                         num_classes=num_classes, ignore_index=ignore_index, edge=edge, **kwargs)

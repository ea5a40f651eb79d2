"""Supervisely Persons in PaddleSeg's mini_supervisely layout (``SUPERVISELY``)."""
from __future__ import annotations

from humanseg.cvlibs.registry import DATASETS
from humanseg.datasets.dataset import Dataset
from humanseg.errors import ConfigError


@DATASETS.register(aliases=("SuperviselyPersons",))
class SUPERVISELY(Dataset):
    """Supervise.ly Persons converted to masks: ``Images/`` and ``Annotations/`` (0 background,
    1 person, 255 ignore) listed by ``train.txt``/``val.txt``/``test.txt`` under the root.

    PaddleSeg's class of this name feeds PortraitNet's two-view input (``transforms1`` and
    ``transforms2``); that model is not part of humanseg, so only ``common_transforms`` (used as
    ``transforms``) is accepted from those arguments.

    Args:
        transforms: Transform objects (or give them as ``common_transforms``).
        dataset_root: Dataset folder (default ``data/mini_supervisely``).
        mode: 'train', 'val' or 'test'.
        edge: Accepted for PaddleSeg compatibility.
        common_transforms: PaddleSeg's name for ``transforms``.
        transforms1, transforms2: PortraitNet's second views; must be left unset.
        **kwargs: Other ``Dataset`` arguments (train_path, separator, on_corrupt, ...).
    """

    NUM_CLASSES = 2
    IGNORE_INDEX = 255
    DEFAULT_LISTS = {"train": "train.txt", "val": "val.txt", "test": "test.txt"}

    def __init__(self, transforms: list | None = None, dataset_root: str = "data/mini_supervisely",
                 mode: str = "train", edge: bool = False, common_transforms: list | None = None,
                 transforms1: list | None = None, transforms2: list | None = None,
                 num_classes: int = 2, ignore_index: int = 255, **kwargs):
        if transforms1 is not None or transforms2 is not None:
            raise ConfigError("SUPERVISELY: transforms1/transforms2 are PortraitNet's two-view "
                              "inputs, which humanseg does not support; give `transforms` only.")
        if transforms is not None and common_transforms is not None:
            raise ConfigError("SUPERVISELY: give either transforms or common_transforms, not both.")
        super().__init__(mode=mode, dataset_root=dataset_root,
                         transforms=transforms if transforms is not None else common_transforms,
                         num_classes=num_classes, ignore_index=ignore_index, edge=edge, **kwargs)

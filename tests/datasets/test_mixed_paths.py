"""SegBuilder resolves relative data paths inside MixedDataset's ``datasets[i]`` as at the top."""
import os

import pytest

from humanseg.cvlibs import config
from humanseg.cvlibs.builder import SegBuilder
from humanseg.errors import DataError

TF = [{"type": "Resize", "target_size": [64, 32]}, {"type": "Normalize"}]


def test_nested_dataset_paths_fall_back_to_the_project_root(cityscapes_root, tmp_path,
                                                             monkeypatch):
    parent, name = os.path.split(cityscapes_root)
    monkeypatch.setattr(config, "PROJECT_ROOT", parent)
    monkeypatch.chdir(tmp_path)  # "set" does not exist from here
    inner = {"type": "Cityscapes", "dataset_root": name, "mode": "train", "transforms": TF}
    listed = {"type": "Dataset", "dataset_root": name, "mode": "train", "num_classes": 19,
              "train_path": "train.txt", "transforms": TF}
    cfg = {"train_dataset": {"type": "MixedDataset", "datasets": [inner, listed],
                             "ratios": [1, 1], "length": 6}}
    mixed = SegBuilder(cfg).train_dataset
    assert len(mixed) == 6
    assert [ds.dataset_root for ds in mixed.datasets] == [cityscapes_root] * 2
    assert mixed[0]["img"].shape == (3, 32, 64)
    assert cfg["train_dataset"]["datasets"][0]["dataset_root"] == name, "config left untouched"


def test_a_nested_path_found_nowhere_is_named(cityscapes_root, tmp_path, monkeypatch):
    monkeypatch.setattr(config, "PROJECT_ROOT", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    cfg = {"train_dataset": {"type": "MixedDataset", "datasets": [
        {"type": "Cityscapes", "dataset_root": "no_such_set", "mode": "train", "transforms": TF}]}}
    with pytest.raises(DataError, match="no_such_set"):
        SegBuilder(cfg).train_dataset

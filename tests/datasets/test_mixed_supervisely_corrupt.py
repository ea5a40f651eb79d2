"""MixedDataset ratios, SUPERVISELY in the mini_supervisely layout, and on_corrupt stop|skip."""
import logging
import os
import shutil
from collections import Counter

import numpy as np
import pytest

from humanseg.cvlibs.registry import DATASETS, build
from humanseg.datasets import SUPERVISELY, Dataset, MixedDataset
from humanseg.errors import ConfigError, DataError
from humanseg.utils.logger import logger

TF = [{"type": "Resize", "target_size": [96, 64]}, {"type": "Normalize"}]


def file_list_ds(root, mode="train", **kw):
    return Dataset(mode=mode, dataset_root=root, transforms=build(TF), num_classes=2,
                   **{f"{mode}_path": os.path.join(root, f"{mode}.txt")}, **kw)


@pytest.fixture
def log_records():
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    old = logger.level
    logger.setLevel(logging.INFO)
    yield records
    logger.removeHandler(handler)
    logger.setLevel(old)


# ----------------------------------------------------------------------------- MixedDataset
def test_mixed_dataset_follows_ratios_and_is_deterministic(synthetic_root, cityscapes_root):
    a, b = file_list_ds(synthetic_root, "train"), file_list_ds(synthetic_root, "val")
    b.mode = "train"  # two different sets of the same kind
    mixed = MixedDataset([a, b], ratios=[3, 1], length=40, seed=5)
    counts = Counter(k for k, _ in (mixed.locate(i) for i in range(len(mixed))))
    assert len(mixed) == 40 and counts == {0: 30, 1: 10}
    small = [j for k, j in (mixed.locate(i) for i in range(40)) if k == 1]
    assert set(small) == set(range(len(b))) or len(small) < len(b), "whole passes over the small set"
    again = MixedDataset([a, b], ratios=[3, 1], length=40, seed=5)
    assert [again.locate(i) for i in range(40)] == [mixed.locate(i) for i in range(40)]
    k, j = mixed.locate(7)
    np.testing.assert_array_equal(mixed[7]["img"], (a, b)[k][j]["img"])
    default = MixedDataset([a, b])
    assert len(default) == len(a) + len(b)


def test_mixed_dataset_from_config_and_its_errors(synthetic_root, cityscapes_root):
    part = {"type": "PPHumanSeg14K", "dataset_root": synthetic_root, "mode": "train",
            "transforms": TF}
    mixed = build({"type": "MixedDataset", "datasets": [part, part], "ratios": [1, 1],
                   "length": 6}, DATASETS)
    assert len(mixed) == 6 and mixed.num_classes == 2 and mixed[0]["img"].shape == (3, 64, 96)
    city = {"type": "Cityscapes", "dataset_root": cityscapes_root, "mode": "train",
            "transforms": TF}
    with pytest.raises(ConfigError, match="num_classes"):
        build({"type": "MixedDataset", "datasets": [part, city]}, DATASETS)
    with pytest.raises(ConfigError, match="ratios"):
        build({"type": "MixedDataset", "datasets": [part], "ratios": [1, 2]}, DATASETS)


# ----------------------------------------------------------------------------- SUPERVISELY
@pytest.fixture
def mini_supervisely(tmp_path, synthetic_root):
    """The synthetic portraits rearranged as mini_supervisely: Images/, Annotations/, lists."""
    root = tmp_path / "mini_supervisely"
    shutil.copytree(os.path.join(synthetic_root, "images"), root / "Images")
    shutil.copytree(os.path.join(synthetic_root, "annotations"), root / "Annotations")
    for split in ("train", "val", "test"):
        text = open(os.path.join(synthetic_root, f"{split}.txt")).read()
        (root / f"{split}.txt").write_text(text.replace("images/", "Images/")
                                           .replace("annotations/", "Annotations/"))
    return str(root)


def test_supervisely_reads_mini_supervisely(mini_supervisely):
    ds = build({"type": "SUPERVISELY", "dataset_root": mini_supervisely, "mode": "val",
                "common_transforms": TF}, DATASETS)
    assert isinstance(ds, SUPERVISELY) and ds.num_classes == 2 and len(ds) > 0
    assert set(np.unique(ds[0]["label"]).tolist()) <= {0, 1}
    with pytest.raises(ConfigError, match="PortraitNet"):
        SUPERVISELY(transforms=build(TF), transforms1=[], dataset_root=mini_supervisely)
    os.remove(os.path.join(mini_supervisely, "train.txt"))
    with pytest.raises(DataError, match="train.txt"):
        SUPERVISELY(transforms=build(TF), dataset_root=mini_supervisely)


# ----------------------------------------------------------------------------- on_corrupt
@pytest.fixture
def damaged(tmp_path, synthetic_root):
    """A copy of the synthetic set whose 2nd train image is not an image."""
    root = tmp_path / "damaged"
    shutil.copytree(synthetic_root, root)
    lines = open(root / "train.txt").read().split("\n")
    bad = lines[1].split()[0]
    (root / bad).write_bytes(b"not a jpeg at all")
    return str(root), bad, len([x for x in lines if x])


def test_on_corrupt_stop_names_the_file(damaged):
    root, bad, _ = damaged
    with pytest.raises(DataError, match=os.path.basename(bad)):
        file_list_ds(root)
    with pytest.raises(ConfigError, match="on_corrupt"):
        file_list_ds(root, on_corrupt="ignore")


def test_on_corrupt_skip_drops_up_front_with_a_count(damaged, log_records):
    root, bad, n = damaged
    ds = file_list_ds(root, on_corrupt="skip")
    assert len(ds) == n - 1 and all(os.path.basename(bad) not in p for p, _ in ds.file_list)
    messages = [r.getMessage() for r in log_records]
    assert any("dropped 1 of the samples" in m and os.path.basename(bad) in m for m in messages)


def test_on_corrupt_skip_replaces_samples_found_bad_while_loading(tmp_path, synthetic_root,
                                                                  log_records):
    root = tmp_path / "late"
    shutil.copytree(synthetic_root, root)
    ds = file_list_ds(str(root), on_corrupt="skip")
    stop = file_list_ds(str(root))
    victim = ds.file_list[2][0]
    with open(victim, "r+b") as f:  # header intact, pixels gone: found only when decoding
        f.truncate(600)
    first = ds[2]
    assert ds.skipped_count == 1
    np.testing.assert_array_equal(first["img"], ds[3]["img"])  # the next sample, every time
    np.testing.assert_array_equal(ds[2]["img"], first["img"])
    assert ds.skipped_count == 1
    messages = [r.getMessage() for r in log_records if "skipping sample" in r.getMessage()]
    assert len(messages) == 1 and "1 sample(s) skipped" in messages[0]
    with pytest.raises(DataError, match=os.path.basename(victim)):
        stop[2]

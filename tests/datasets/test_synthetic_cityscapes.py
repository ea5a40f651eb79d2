"""The synthetic Cityscapes generator: exact layout and encoding, all 19 classes, thin and large
structures, determinism, and a refusal to write over foreign data."""
import glob
import os
import time

import numpy as np
import pytest
from PIL import Image

from humanseg.datasets.cityscapes_labels import ID, LABELS, TRAIN_CLASS_NAMES, train_id_lut
from humanseg.datasets.synthetic.cityscapes import make_synthetic_cityscapes
from humanseg.errors import DataError


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    root = tmp_path_factory.mktemp("scs") / "a"
    start = time.perf_counter()
    summary = make_synthetic_cityscapes(root, num_train=4, num_val=2, size=(512, 256), seed=7,
                                        progress=False)
    return root, summary, time.perf_counter() - start


def test_exact_cityscapes_layout(made):
    root, summary, _ = made
    images = sorted(glob.glob(str(root / "leftImg8bit" / "*" / "*" / "*")))
    labels = sorted(glob.glob(str(root / "gtFine" / "*" / "*" / "*")))
    assert len(images) == len(labels) == 6
    cities = {os.path.relpath(os.path.dirname(p), root) for p in images}
    assert cities == {"leftImg8bit/train/aachen", "leftImg8bit/train/bochum",
                      "leftImg8bit/val/frankfurt"}
    for image in images:
        name = os.path.basename(image)
        city = os.path.basename(os.path.dirname(image))
        assert name.startswith(city + "_") and name.endswith("_000019_leftImg8bit.png")
        label = image.replace("leftImg8bit", "gtFine", 1).replace("_leftImg8bit.png",
                                                                  "_gtFine_labelIds.png")
        assert label in labels
        with Image.open(image) as im:
            assert im.mode == "RGB" and im.size == (512, 256)
        with Image.open(label) as lb:
            assert lb.mode == "L" and lb.size == (512, 256)
    assert summary["splits"] == {"train": 4, "val": 2}


def test_label_ids_encoding_and_all_19_classes_in_every_image(made):
    root, _, _ = made
    valid_ids = {label.id for label in LABELS}
    lut = train_id_lut()
    for path in glob.glob(str(root / "gtFine" / "*" / "*" / "*_labelIds.png")):
        ids = np.asarray(Image.open(path))
        assert set(np.unique(ids).tolist()) <= valid_ids
        train_ids = set(np.unique(lut[ids]).tolist())
        assert set(range(19)) <= train_ids, (path, sorted(set(range(19)) - train_ids))
        assert ID["ego vehicle"] in np.unique(ids), "an ignored id is present, as in Cityscapes"


def test_thin_and_large_structures(made):
    root, _, _ = made
    ids = np.asarray(Image.open(sorted(glob.glob(str(root / "gtFine" / "train" / "*" / "*")))[0]))
    share = {name: np.mean(ids == ID[name]) for name in ("road", "building", "sky", "vegetation")}
    assert all(s > 0.02 for s in share.values()), share
    for name in ("pole", "bicycle", "person"):
        mask = (ids == ID[name]).astype(np.int8)
        runs = np.diff(np.pad(mask, ((0, 0), (1, 1))), axis=1)
        widths = np.flatnonzero(runs.ravel() == -1) - np.flatnonzero(runs.ravel() == 1)
        assert widths.size and np.median(widths) <= 8, (name, np.median(widths))


def test_same_seed_same_bytes_other_seed_differs(made, tmp_path):
    root, _, seconds = made
    assert seconds < 10
    make_synthetic_cityscapes(tmp_path / "b", 4, 2, (512, 256), seed=7, progress=False)
    make_synthetic_cityscapes(tmp_path / "c", 4, 2, (512, 256), seed=8, progress=False)
    for path in glob.glob(str(root / "*" / "*" / "*" / "*.png")):
        rel = os.path.relpath(path, root)
        assert (tmp_path / "b" / rel).read_bytes() == open(path, "rb").read(), rel
    rel = os.path.relpath(glob.glob(str(root / "leftImg8bit" / "val" / "*" / "*"))[0], root)
    assert (tmp_path / "c" / rel).read_bytes() != (root / rel).read_bytes()


def test_refuses_foreign_folder_and_replaces_its_own(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(DataError, match="refusing"):
        make_synthetic_cityscapes(tmp_path, 1, 0, (128, 64), progress=False)
    out = tmp_path / "set"
    make_synthetic_cityscapes(out, 2, 1, (128, 64), progress=False)
    make_synthetic_cityscapes(out, 1, 0, (128, 64), progress=False)
    assert len(glob.glob(str(out / "leftImg8bit" / "*" / "*" / "*"))) == 1
    with pytest.raises(ValueError, match="size"):
        make_synthetic_cityscapes(tmp_path / "x", 1, 0, (16, 16), progress=False)


def test_train_class_names_follow_the_official_order():
    assert TRAIN_CLASS_NAMES[:3] == ("road", "sidewalk", "building")
    assert TRAIN_CLASS_NAMES[-1] == "bicycle" and len(TRAIN_CLASS_NAMES) == 19

"""labelIds -> trainIds conversion and the Cityscapes dataset (against PaddleSeg's)."""
import glob
import os
import shutil

import numpy as np
import pytest
from PIL import Image

from humanseg.cvlibs.registry import DATASETS, build
from humanseg.datasets import Cityscapes
from humanseg.datasets.cityscapes_labels import (LABELS, convert_dataset, label_ids_to_train_ids,
                                                 train_id_lut)
from humanseg.errors import DataError

VAL_TF = [{"type": "Normalize"}]
TRAIN_TF = [{"type": "ResizeStepScaling", "min_scale_factor": 0.5, "max_scale_factor": 2.0,
             "scale_step_size": 0.25}, {"type": "RandomPaddingCrop", "crop_size": [128, 64]},
            {"type": "RandomHorizontalFlip"}, {"type": "Normalize"}]


def test_official_mapping():
    lut = train_id_lut()
    expected = {7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9, 23: 10,
                24: 11, 25: 12, 26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18}
    for label_id in range(256):
        assert lut[label_id] == expected.get(label_id, 255), label_id
    assert len(LABELS) == 34
    ids = np.array([[0, 7, 33], [34, 255, 24]], np.uint8)
    np.testing.assert_array_equal(label_ids_to_train_ids(ids), [[255, 0, 18], [255, 255, 11]])


def test_converter_output_and_lists(cityscapes_root):
    lut = train_id_lut()
    label_ids = sorted(glob.glob(os.path.join(cityscapes_root, "gtFine", "*", "*", "*_labelIds.png")))
    assert len(label_ids) == 6
    for path in label_ids:
        out = path.replace("_labelIds.png", "_labelTrainIds.png")
        np.testing.assert_array_equal(np.asarray(Image.open(out)), lut[np.asarray(Image.open(path))])
    lines = open(os.path.join(cityscapes_root, "train.txt")).read().split("\n")
    assert len([x for x in lines if x]) == 4
    image, label = lines[0].split(" ")
    assert image.startswith("leftImg8bit/train/") and label.startswith("gtFine/train/")
    assert os.path.basename(image).replace("leftImg8bit", "gtFine_labelTrainIds") == \
        os.path.basename(label)
    assert not os.path.exists(os.path.join(cityscapes_root, "test.txt"))


def test_parallel_conversion_equals_serial(cityscapes_root, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(cityscapes_root, copy)
    for p in glob.glob(str(copy / "gtFine" / "*" / "*" / "*_labelTrainIds.png")):
        os.remove(p)
    result = convert_dataset(str(copy), num_workers=2, progress=False)
    assert result["converted"] == 6 and result["lists"]["val"][1] == 2
    for p in glob.glob(str(copy / "gtFine" / "*" / "*" / "*_labelTrainIds.png")):
        rel = os.path.relpath(p, copy)
        assert open(p, "rb").read() == open(os.path.join(cityscapes_root, rel), "rb").read()


def test_dataset_reads_the_converted_set_like_paddleseg(cityscapes_root):
    import paddleseg.transforms as PT
    from paddleseg.datasets import Cityscapes as PSCityscapes
    ours = build({"type": "Cityscapes", "dataset_root": cityscapes_root, "mode": "val",
                  "transforms": VAL_TF}, DATASETS)
    ps = PSCityscapes(transforms=[PT.Normalize()], dataset_root=cityscapes_root, mode="val")
    assert len(ours) == len(ps) == 2 and ours.num_classes == 19 and ours.ignore_index == 255
    for i in range(2):
        a, b = ours[i], ps[i]
        np.testing.assert_array_equal(a["img"], b["img"])
        np.testing.assert_array_equal(a["label"], b["label"][0])
    assert set(np.unique(ours[0]["label"]).tolist()) == set(range(19)) | {255}


def test_train_mode_crops_image_and_label(cityscapes_root):
    ds = Cityscapes(transforms=build(TRAIN_TF), dataset_root=cityscapes_root, mode="train")
    sample = ds[0]
    assert sample["img"].shape == (3, 64, 128) and sample["label"].shape == (64, 128)
    assert set(np.unique(sample["label"]).tolist()) <= set(range(19)) | {255}


def test_missing_labels_are_named_with_the_fix(cityscapes_root, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(cityscapes_root, copy)
    victim = sorted(glob.glob(str(copy / "gtFine" / "train" / "*" / "*_labelTrainIds.png")))[1]
    os.remove(victim)
    with pytest.raises(DataError, match="cityscapes_to_trainids") as e:
        Cityscapes(transforms=[], dataset_root=str(copy), mode="train")
    assert os.path.basename(victim) in str(e.value)
    with pytest.raises(DataError, match="leftImg8bit/test"):
        Cityscapes(transforms=[], dataset_root=str(copy), mode="test")
    with pytest.raises(DataError, match="dataset_root not found"):
        Cityscapes(transforms=[], dataset_root=str(tmp_path / "nope"))


def test_test_mode_reads_images_without_labels(cityscapes_root, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(cityscapes_root, copy)
    shutil.copytree(copy / "leftImg8bit" / "val", copy / "leftImg8bit" / "test")
    (copy / "gtFine" / "test").mkdir()
    ds = Cityscapes(transforms=build(VAL_TF), dataset_root=str(copy), mode="test")
    assert len(ds) == 2 and "label" not in ds[0]

"""The file-list Dataset and PPHumanSeg14K on the synthetic set, against PaddleSeg's Dataset."""
import os

import numpy as np
import pytest

from humanseg.cvlibs.registry import build
from humanseg.datasets import Dataset, PPHumanSeg14K
from humanseg.errors import ConfigError, DataError

VAL_TF = [{"type": "Resize", "target_size": [96, 64]}, {"type": "Normalize"}]
TRAIN_TF = [{"type": "Resize", "target_size": [96, 64]}, {"type": "RandomHorizontalFlip"},
            {"type": "Normalize"}]


def make(root, mode="val", transforms=VAL_TF, **kw):
    return PPHumanSeg14K(transforms=build(transforms), dataset_root=root, mode=mode, **kw)


def test_val_mode_keeps_label_at_original_size(synthetic_root):
    ds = make(synthetic_root)
    sample = ds[0]
    assert sample["img"].shape == (3, 64, 96) and sample["img"].dtype == np.float32
    assert sample["label"].shape == (96, 160) and sample["label"].dtype == np.int64
    assert sample["trans_info"] == [("resize", (96, 160))]


def test_train_mode_transforms_label_with_image(synthetic_root):
    ds = make(synthetic_root, "train", TRAIN_TF)
    sample = ds[1]
    assert sample["img"].shape == (3, 64, 96) and sample["label"].shape == (64, 96)
    assert set(np.unique(sample["label"])) <= {0, 1}
    assert len(ds) == len(open(os.path.join(synthetic_root, "train.txt")).readlines())


def test_same_arrays_as_paddleseg_dataset(synthetic_root):
    import paddleseg.transforms as PT
    from paddleseg.datasets import Dataset as PSDataset
    ours = Dataset(mode="val", dataset_root=synthetic_root, transforms=build(VAL_TF),
                   num_classes=2, val_path=os.path.join(synthetic_root, "val.txt"))
    ps = PSDataset(mode="val", dataset_root=synthetic_root, num_classes=2,
                   val_path=os.path.join(synthetic_root, "val.txt"),
                   transforms=[PT.Resize(target_size=[96, 64]), PT.Normalize()])
    for i in (0, len(ours) - 1):
        a, b = ours[i], ps[i]
        np.testing.assert_array_equal(a["img"], b["img"])
        np.testing.assert_array_equal(a["label"], b["label"][0])


def test_test_mode_accepts_image_only_lines(tmp_path, synthetic_root):
    images = [line.split()[0] for line in open(os.path.join(synthetic_root, "test.txt"))]
    (tmp_path / "imgs.txt").write_text("\n".join(images) + "\n")
    ds = Dataset(mode="test", dataset_root=synthetic_root, transforms=build(VAL_TF),
                 num_classes=2, test_path=str(tmp_path / "imgs.txt"))
    assert "label" not in ds[0] and len(ds) == len(images)


def test_config_errors(tmp_path, synthetic_root):
    with pytest.raises(DataError, match="dataset_root not found"):
        make(str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="mode"):
        make(synthetic_root, mode="training")
    with pytest.raises(ConfigError, match="val_path is required"):
        Dataset(mode="val", dataset_root=synthetic_root, transforms=[], num_classes=2)
    (tmp_path / "bad.txt").write_text("only_one_field.jpg\n")
    with pytest.raises(DataError, match="bad.txt:1"):
        Dataset(mode="train", dataset_root=synthetic_root, transforms=[], num_classes=2,
                train_path=str(tmp_path / "bad.txt"))
    (tmp_path / "empty.txt").write_text("\n")
    with pytest.raises(DataError, match="lists no samples"):
        Dataset(mode="train", dataset_root=synthetic_root, transforms=[], num_classes=2,
                train_path=str(tmp_path / "empty.txt"))

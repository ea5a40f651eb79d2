"""Properties of the random transforms: reproducible, label-safe, aligned, exact sizes."""
from __future__ import annotations

import copy
import random

import numpy as np
import pytest

import humanseg.transforms as T

IGNORE = 255


def _seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)


def _square_sample(h: int = 60, w: int = 80) -> dict:
    """Grey image with a white rectangle; label 1 exactly on the rectangle, 0 elsewhere."""
    img = np.full((h, w, 3), 40.0, dtype=np.float32)
    label = np.zeros((h, w), dtype=np.uint8)
    img[15:45, 20:50] = 250.0
    label[15:45, 20:50] = 1
    return {"img": img, "label": label, "gt_fields": ["label"], "trans_info": []}


RANDOM_OPS = [
    T.ResizeStepScaling(0.5, 2.0, 0.25),
    T.ResizeStepScaling(0.75, 1.25, 0),
    T.RandomPaddingCrop((48, 40)),
    T.RandomPaddingCrop((120, 100)),
    T.RandomPaddingCrop((40, 30), category_max_ratio=0.75),
    T.RandomRotation(max_rotation=30),
    T.RandomScaleAspect(),
    T.RandomHorizontalFlip(),
    T.RandomVerticalFlip(0.5),
    T.RandomDistort(),
    T.RandomBlur(prob=1.0, blur_type="random"),
    T.RandomNoise(prob=1.0),
    T.RandomAffine(size=(64, 48), max_rotation=20),
    T.RandomCenterCrop(),
    T.ResizeRangeScaling(40, 120),
]
IDS = [type(op).__name__ + str(i) for i, op in enumerate(RANDOM_OPS)]

TRAIN_PIPELINE = [
    T.Resize((80, 60)),
    T.ResizeStepScaling(0.75, 1.25, 0),
    T.RandomRotation(),
    T.RandomPaddingCrop((80, 60)),
    T.RandomHorizontalFlip(),
    T.RandomDistort(),
    T.RandomBlur(prob=0.3),
    T.Normalize(),
]


@pytest.mark.parametrize("op", RANDOM_OPS, ids=IDS)
def test_seeding_reproduces_the_result(op, make_sample):
    data = make_sample(37, 53)
    outs = []
    for _ in range(2):
        _seed(123)
        outs.append(op(copy.deepcopy(data)))
    np.testing.assert_array_equal(outs[0]["img"], outs[1]["img"])
    np.testing.assert_array_equal(outs[0]["label"], outs[1]["label"])


def test_different_seeds_give_different_augmentations(make_sample):
    compose = T.Compose(TRAIN_PIPELINE)
    data = make_sample(37, 53)
    imgs = []
    for seed in range(3):
        _seed(seed)
        imgs.append(compose(copy.deepcopy(data))["img"])
    assert not np.array_equal(imgs[0], imgs[1]) or not np.array_equal(imgs[1], imgs[2])


@pytest.mark.parametrize("op", RANDOM_OPS, ids=IDS)
def test_label_values_stay_in_the_input_set(op, make_sample):
    allowed = {0, 3, 7, IGNORE}
    for seed in range(5):
        _seed(seed)
        out = op(make_sample(37, 53, seed=seed, label_values=(0, 3, 7)))
        assert set(np.unique(out["label"]).tolist()) <= allowed
        assert out["label"].dtype == np.uint8


@pytest.mark.parametrize("op", RANDOM_OPS, ids=IDS)
def test_image_and_label_stay_aligned(op):
    for seed in range(6):
        _seed(seed)
        out = op(_square_sample())
        img, label = out["img"].mean(axis=2), out["label"]
        assert img.shape == label.shape
        inside, outside = label == 1, label == 0
        if type(op).__name__ in ("RandomDistort", "RandomNoise", "RandomBlur"):
            np.testing.assert_array_equal(label, _square_sample()["label"])
        # Away from the rectangle edge, where interpolation mixes values, the image must
        # show the rectangle exactly where the label marks it.
        inner = inside & _eroded(inside)
        outer = outside & _eroded(outside)
        if inner.any():
            assert np.median(img[inner]) > 150, f"seed {seed}"
        if outer.any():
            assert np.median(img[outer]) < 150, f"seed {seed}"


def _eroded(mask: np.ndarray, r: int = 3) -> np.ndarray:
    out = mask.copy()
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            out &= np.roll(np.roll(mask, dy, axis=0), dx, axis=1)
    return out


@pytest.mark.parametrize("crop", [(48, 40), (80, 60), (200, 30), (17, 90)])
def test_random_padding_crop_size_is_exact(crop):
    op = T.RandomPaddingCrop(crop)
    for seed in range(5):
        _seed(seed)
        out = op(_square_sample())
        assert out["img"].shape == (crop[1], crop[0], 3)
        assert out["label"].shape == (crop[1], crop[0])


def test_random_padding_crop_pads_with_the_given_values():
    op = T.RandomPaddingCrop((100, 70), im_padding_value=11, label_padding_value=254)
    out = op(_square_sample(60, 80))
    assert np.all(out["img"][60:] == 11) and np.all(out["img"][:, 80:] == 11)
    assert np.all(out["label"][60:] == 254) and np.all(out["label"][:, 80:] == 254)
    assert out["trans_info"] == []


def test_category_max_ratio_crops_image_and_label_together():
    op = T.RandomPaddingCrop((30, 30), category_max_ratio=0.6, loop_times=20)
    for seed in range(10):
        _seed(seed)
        out = op(_square_sample())
        assert out["img"].shape == (30, 30, 3)
        np.testing.assert_array_equal(out["label"] == 1, out["img"][..., 0] == 250)


@pytest.mark.parametrize("lo,hi,step", [(0.5, 2.0, 0.25), (0.75, 1.25, 0.25), (0.75, 1.25, 0)])
def test_resize_step_scaling_ranges(lo, hi, step):
    op = T.ResizeStepScaling(lo, hi, step)
    h, w = 40, 80
    grid = np.arange(lo, hi + 1e-9, step) if step else None
    seen = set()
    for seed in range(60):
        _seed(seed)
        out = op({"img": np.zeros((h, w, 3), np.float32),
                  "label": np.zeros((h, w), np.uint8), "gt_fields": ["label"]})
        new_h, new_w = out["img"].shape[:2]
        assert out["label"].shape == (new_h, new_w)
        scale = new_w / w
        assert lo - 1 / w <= scale <= hi + 1 / w
        if grid is not None:
            assert np.min(np.abs(grid - scale)) < 1e-9
        seen.add(round(scale, 3))
    if grid is not None:
        assert len(seen) == len(grid)
    else:
        assert len(seen) > 10


def test_resize_step_scaling_fixed_factor():
    out = T.ResizeStepScaling(0.5, 0.5)({"img": np.zeros((40, 60, 3), np.float32)})
    assert out["img"].shape == (20, 30, 3)


def test_rotation_enlarges_canvas_and_pads():
    _seed(0)
    out = T.RandomRotation(max_rotation=45, im_padding_value=0)(_square_sample())
    h, w = out["img"].shape[:2]
    assert h >= 60 and w >= 80 and (h, w) != (60, 80)
    assert out["label"][0, 0] == IGNORE and out["img"][0, 0, 0] == 0


def test_flip_probability_one_and_zero():
    data = _square_sample()
    flipped = T.RandomHorizontalFlip(1.0)(copy.deepcopy(data))
    np.testing.assert_array_equal(flipped["label"], data["label"][:, ::-1])
    kept = T.RandomVerticalFlip(0.0)(copy.deepcopy(data))
    np.testing.assert_array_equal(kept["label"], data["label"])


def test_val_mode_leaves_label_untouched(make_sample):
    data = make_sample(37, 53, train=False)
    label = data["label"].copy()
    out = T.Compose([T.Resize((64, 48)), T.RandomHorizontalFlip(1.0), T.Normalize()])(data)
    assert out["img"].shape == (3, 48, 64)
    np.testing.assert_array_equal(out["label"], label)
    assert out["trans_info"] == [("resize", (37, 53))]


def test_train_pipeline_end_to_end(make_sample):
    compose = T.Compose(TRAIN_PIPELINE)
    for seed in range(4):
        _seed(seed)
        out = compose(make_sample(90, 120, seed=seed))
        assert out["img"].shape == (3, 60, 80) and out["img"].dtype == np.float32
        assert out["label"].shape == (60, 80) and out["label"].flags.c_contiguous
        assert -1.0 - 1e-6 <= out["img"].min() and out["img"].max() <= 1.0 + 1e-6
        assert set(np.unique(out["label"]).tolist()) <= {0, 1, 2, IGNORE}

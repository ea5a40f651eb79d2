"""Registry, Compose checks, argument validation and dtype handling of the transforms."""
from __future__ import annotations

import numpy as np
import pytest

import humanseg.transforms as T
from humanseg.cvlibs.registry import TRANSFORMS, build
from humanseg.transforms import functional as F

PADDLESEG_NAMES = [
    "Compose", "Resize", "ResizeByLong", "ResizeByShort", "LimitLong", "ResizeStepScaling",
    "RandomPaddingCrop", "Padding", "PaddingByAspectRatio", "RandomHorizontalFlip",
    "RandomVerticalFlip", "RandomRotation", "RandomDistort", "RandomBlur", "Normalize",
    "RandomScaleAspect", "RandomNoise", "ResizeRangeScaling", "RandomCenterCrop", "RandomAffine",
]


@pytest.mark.parametrize("name", PADDLESEG_NAMES)
def test_registered_under_paddleseg_names(name):
    assert TRANSFORMS.get(name) is getattr(T, name)


def test_paddleseg_style_config_builds():
    cfg = [
        {"type": "ResizeStepScaling", "min_scale_factor": 0.5, "max_scale_factor": 2.0,
         "scale_step_size": 0.25},
        {"type": "RandomPaddingCrop", "crop_size": [1024, 512]},
        {"type": "RandomHorizontalFlip"},
        {"type": "RandomDistort", "brightness_range": 0.4, "contrast_range": 0.4,
         "saturation_range": 0.4},
        {"type": "RandomBlur", "prob": 0.3},
        {"type": "RandomRotation", "max_rotation": 15, "im_padding_value": 127.5,
         "label_padding_value": 255},
        {"type": "Normalize", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]},
    ]
    ops = [TRANSFORMS.get(c["type"])(**{k: v for k, v in c.items() if k != "type"}) for c in cfg]
    assert [type(op).__name__ for op in ops] == [c["type"] for c in cfg]
    compose = build({"type": "Compose", "transforms": cfg}, TRANSFORMS)
    assert isinstance(compose, T.Compose) and len(compose.transforms) == len(cfg)


def test_compose_rejects_wrong_channels():
    compose = T.Compose([T.Normalize()], img_channels=3)
    with pytest.raises(ValueError, match="img_channels"):
        compose({"img": np.zeros((4, 4), np.float32)})
    with pytest.raises(ValueError, match="img_channels"):
        T.Compose([], img_channels=1)({"img": np.zeros((4, 4, 3), np.float32)})


def test_compose_rejects_bad_input():
    with pytest.raises(ValueError, match="transforms"):
        T.Compose(T.Normalize())
    with pytest.raises(ValueError, match=r"transforms\[1\]"):
        T.Compose([T.Normalize(), "Resize"])
    with pytest.raises(ValueError, match="img"):
        T.Compose([])({"img": "a.jpg"})


def test_compose_creates_trans_info_and_contiguous_output():
    out = T.Compose([T.RandomHorizontalFlip(1.0)])(
        {"img": np.zeros((5, 6, 3), np.float32), "label": np.zeros((5, 6), np.uint8),
         "gt_fields": ["label"]})
    assert out["trans_info"] == []
    assert out["img"].flags.c_contiguous and out["label"].flags.c_contiguous


@pytest.mark.parametrize("make,match", [
    (lambda: T.Resize(target_size=512), "target_size"),
    (lambda: T.Resize(target_size=(512, 512, 3)), "target_size"),
    (lambda: T.Resize(interp="BILINEAR"), "interp"),
    (lambda: T.Resize(size_divisor=0), "size_divisor"),
    (lambda: T.ResizeByLong(long_size=0), "long_size"),
    (lambda: T.ResizeByShort(short_size=[]), "short_size"),
    (lambda: T.LimitLong(max_long=10, min_long=20), "min_long"),
    (lambda: T.LimitLong(max_long=10.5), "max_long"),
    (lambda: T.ResizeStepScaling(2.0, 1.0), "min_scale_factor"),
    (lambda: T.ResizeStepScaling(scale_step_size=-1), "scale_step_size"),
    (lambda: T.RandomPaddingCrop(crop_size=(0, 10)), "crop_size"),
    (lambda: T.RandomPaddingCrop(category_max_ratio=0), "category_max_ratio"),
    (lambda: T.RandomPaddingCrop(loop_times=0), "loop_times"),
    (lambda: T.Padding(target_size=(1, 2, 3)), "target_size"),
    (lambda: T.PaddingByAspectRatio(aspect_ratio=0), "aspect_ratio"),
    (lambda: T.RandomHorizontalFlip(prob=1.5), "prob"),
    (lambda: T.RandomBlur(blur_type="motion"), "blur_type"),
    (lambda: T.RandomDistort(hue_prob=2), "hue_prob"),
    (lambda: T.RandomDistort(contrast_range=-0.1), "contrast_range"),
    (lambda: T.Normalize(mean=0.5), "mean"),
    (lambda: T.Normalize(std=[0.5, 0.0, 0.5]), "std"),
    (lambda: T.RandomRotation(max_rotation=-1), "max_rotation"),
    (lambda: T.RandomCenterCrop(retain_ratio=(1.5, 0.5)), "retain_ratio"),
    (lambda: T.Compose([], img_channels=0), "img_channels"),
])
def test_bad_arguments_raise_value_error_naming_the_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_padding_smaller_target_raises():
    with pytest.raises(ValueError, match="target_size"):
        T.Padding((10, 10))({"img": np.zeros((20, 5, 3), np.float32), "trans_info": []})


def test_normalize_channel_mismatch_raises():
    with pytest.raises(ValueError, match="channel"):
        T.Normalize([0.5] * 3, [0.5] * 3)({"img": np.zeros((4, 4, 4), np.float32)})


def test_normalize_semantics():
    img = np.array([[[0, 127.5, 255]]], dtype=np.float32)
    out = T.Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])({"img": img})["img"]
    np.testing.assert_allclose(out, [[[-1.0, 0.0, 1.0]]], atol=1e-6)
    assert out.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_label_dtype_is_preserved(dtype):
    label = (np.arange(30).reshape(5, 6) % 2).astype(dtype)
    data = {"img": np.zeros((5, 6, 3), np.float32), "label": label, "gt_fields": ["label"]}
    for op in [T.Resize((12, 10)), T.Padding((14, 12), label_padding_value=1),
               T.RandomRotation(max_rotation=10, label_padding_value=1),
               T.RandomPaddingCrop((4, 3))]:
        data = op(data)
        assert data["label"].dtype == dtype, type(op).__name__


def test_one_channel_axis_is_kept():
    img = np.random.rand(10, 12, 1).astype(np.float32) * 255
    assert F.resize(img, (6, 5)).shape == (5, 6, 1)
    assert F.pad_bottom_right(img, 2, 3, 0).shape == (12, 15, 1)
    data = T.RandomRotation(max_rotation=20)({"img": img})
    assert data["img"].ndim == 3 and data["img"].shape[2] == 1
    assert T.RandomDistort(brightness_prob=1)({"img": img})["img"].shape == (10, 12, 1)


def test_many_channel_images_warp_and_pad():
    img = np.random.rand(10, 12, 6).astype(np.float32)
    matrix, dsize = F.rotation_matrix(10, 12, 30)
    out = F.warp_affine(img, matrix, dsize, 1, 0.5)
    assert out.shape == (dsize[1], dsize[0], 6)
    np.testing.assert_allclose(out[..., 4:], F.warp_affine(img[..., 4:], matrix, dsize, 1, 0.5))
    assert F.pad_bottom_right(img, 1, 1, 0.5).shape == (11, 13, 6)


def test_hue_wraps_around():
    from PIL import Image
    rgb = np.array([[[255, 40, 0]]], np.uint8)  # orange-red, hue a few units above 0
    hue = int(np.array(Image.fromarray(rgb).convert("HSV"))[0, 0, 0])
    assert 0 < hue < 20
    shifted = np.array(F.adjust_hue(Image.fromarray(rgb), -(hue + 10)).convert("HSV"))
    assert abs(int(shifted[0, 0, 0]) - 246) <= 2


def test_resize_by_short_keeps_no_state_between_calls():
    # PaddleSeg 2.8 overwrites its short_size after one image hits max_size; we do not.
    op = T.ResizeByShort(short_size=40, max_size=60)
    wide = op({"img": np.zeros((20, 100, 3), np.float32)})
    assert wide["img"].shape[:2] == (12, 60)
    square = op({"img": np.zeros((30, 30, 3), np.float32)})
    assert square["img"].shape[:2] == (40, 40)

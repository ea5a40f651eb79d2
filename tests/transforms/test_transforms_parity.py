"""humanseg transforms give the same arrays and trans_info as PaddleSeg 2.8.0 on the same inputs."""
from __future__ import annotations

import copy
import random

import numpy as np
import pytest

import humanseg.transforms as T


def _seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)


def _run_both(ours, theirs, data: dict, seed: int = 0) -> tuple[dict, dict]:
    """Run our op and PaddleSeg's op on copies of ``data`` from the same RNG state."""
    _seed(seed)
    out_ours = ours(copy.deepcopy(data))
    _seed(seed)
    out_theirs = theirs(copy.deepcopy(data))
    return out_ours, out_theirs


def _assert_same(ours: dict, theirs: dict, exact: bool = True) -> None:
    ours_img, theirs_img = np.asarray(ours["img"]), np.asarray(theirs["img"])
    assert ours_img.shape == theirs_img.shape
    if exact:
        np.testing.assert_array_equal(ours_img, theirs_img.astype(ours_img.dtype))
    else:
        np.testing.assert_allclose(ours_img, theirs_img, rtol=1e-6, atol=1e-5)
    for key in theirs.get("gt_fields", []):
        np.testing.assert_array_equal(ours[key], theirs[key])
        assert ours[key].dtype == theirs[key].dtype
    assert ours["trans_info"] == theirs["trans_info"]


SHAPES = [(37, 53), (64, 31), (50, 50)]

DETERMINISTIC = [
    ("Resize", dict(target_size=(40, 24))),
    ("Resize", dict(target_size=[398, 224], interp="NEAREST")),
    ("Resize", dict(target_size=(64, 64), interp="CUBIC")),
    ("Resize", dict(target_size=(30, 20), interp="AREA")),
    ("Resize", dict(target_size=(70, 90), interp="LANCZOS4")),
    ("Resize", dict(target_size=(398, 224), keep_ratio=True)),
    ("Resize", dict(target_size=(100, 60), keep_ratio=True, size_divisor=32)),
    ("Resize", dict(target_size=(45, 45), size_divisor=16)),
    ("ResizeByLong", dict(long_size=80)),
    ("ResizeByLong", dict(long_size=17)),
    ("ResizeByShort", dict(short_size=40)),
    ("ResizeByShort", dict(short_size=40, max_size=60)),
    ("LimitLong", dict(max_long=40)),
    ("LimitLong", dict(min_long=90)),
    ("LimitLong", dict(max_long=100, min_long=10)),
    ("Padding", dict(target_size=(70, 80))),
    ("Padding", dict(target_size=[64, 64], im_padding_value=0, label_padding_value=0)),
    ("PaddingByAspectRatio", dict()),
    ("PaddingByAspectRatio", dict(aspect_ratio=16 / 9, im_padding_value=10)),
    ("PaddingByAspectRatio", dict(aspect_ratio=0.5)),
    ("Normalize", dict()),
    ("Normalize", dict(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])),
    ("RandomHorizontalFlip", dict(prob=1.0)),
    ("RandomVerticalFlip", dict(prob=1.0)),
]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("train", [True, False], ids=["train", "val"])
@pytest.mark.parametrize("name,kwargs", DETERMINISTIC,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(DETERMINISTIC)])
def test_deterministic_ops_match_paddleseg(pst, make_sample, name, kwargs, shape, train):
    data = make_sample(*shape, train=train)
    if name == "Padding" and (shape[0] > kwargs["target_size"][1]
                              or shape[1] > kwargs["target_size"][0]):
        pytest.skip("image larger than target")
    ours, theirs = _run_both(getattr(T, name)(**kwargs), getattr(pst, name)(**kwargs), data)
    _assert_same(ours, theirs)
    if not train:
        np.testing.assert_array_equal(ours["label"], data["label"])


@pytest.mark.parametrize("name,kwargs", [
    ("Resize", dict(target_size=(40, 24))),
    ("ResizeByLong", dict(long_size=80)),
    ("Padding", dict(target_size=(70, 80))),
    ("Normalize", dict()),
    ("RandomHorizontalFlip", dict(prob=1.0)),
])
def test_single_channel_images_match_paddleseg(pst, make_sample, name, kwargs):
    data = make_sample(37, 53, channels=1)
    ours, theirs = _run_both(getattr(T, name)(**kwargs), getattr(pst, name)(**kwargs), data)
    _assert_same(ours, theirs)


def test_int32_labels_match_paddleseg(pst, make_sample):
    data = make_sample(37, 53)
    data["label"] = data["label"].astype(np.int32) * 100
    ours, theirs = _run_both(T.Resize((61, 29)), pst.Resize((61, 29)), data)
    _assert_same(ours, theirs)


def test_trans_info_of_a_chain_matches_paddleseg(pst, make_sample):
    chain = [("LimitLong", dict(max_long=48)), ("ResizeByShort", dict(short_size=30)),
             ("PaddingByAspectRatio", dict(aspect_ratio=1.5)),
             ("Resize", dict(target_size=(64, 40))),
             ("Padding", dict(target_size=(80, 48)))]
    ours, theirs = make_sample(37, 53, train=False), make_sample(37, 53, train=False)
    for name, kwargs in chain:
        ours = getattr(T, name)(**kwargs)(ours)
        theirs = getattr(pst, name)(**kwargs)(theirs)
    assert ours["trans_info"] == theirs["trans_info"]
    assert [kind for kind, _ in ours["trans_info"]] == ["resize", "resize", "padding", "resize",
                                                        "padding"]
    _assert_same(ours, theirs)


def test_compose_layout_matches_paddleseg(pst, make_sample):
    def ops(mod):
        return [mod.Resize((48, 32)), mod.RandomHorizontalFlip(1.0), mod.Normalize()]

    data = make_sample(37, 53)
    ours = T.Compose(ops(T))(copy.deepcopy(data))
    theirs = pst.Compose(ops(pst), to_rgb=False)(copy.deepcopy(data))
    assert ours["img"].shape == (3, 32, 48) and ours["img"].dtype == np.float32
    assert ours["img"].flags.c_contiguous
    np.testing.assert_array_equal(ours["img"], theirs["img"])
    np.testing.assert_array_equal(ours["label"], theirs["label"])
    assert ours["trans_info"] == theirs["trans_info"]


def test_compose_single_channel_matches_paddleseg(pst, make_sample):
    data = make_sample(20, 30, channels=1)
    ours = T.Compose([T.Normalize()], img_channels=1)(copy.deepcopy(data))
    theirs = pst.Compose([pst.Normalize()], img_channels=1)(copy.deepcopy(data))
    assert ours["img"].shape == (1, 20, 30)
    np.testing.assert_array_equal(ours["img"], theirs["img"])


# Random ops draw from `random` / `np.random` in PaddleSeg's order, so one seed gives its output.
SEEDED = [
    ("ResizeStepScaling", dict()),
    ("ResizeStepScaling", dict(min_scale_factor=0.5, max_scale_factor=2.0, scale_step_size=0.25)),
    ("ResizeStepScaling", dict(scale_step_size=0)),
    ("RandomPaddingCrop", dict(crop_size=(32, 24))),
    ("RandomPaddingCrop", dict(crop_size=(64, 80), im_padding_value=0)),
    ("RandomRotation", dict()),
    ("RandomRotation", dict(max_rotation=40, im_padding_value=3, label_padding_value=7)),
    ("RandomScaleAspect", dict()),
    ("RandomHorizontalFlip", dict()),
    ("RandomVerticalFlip", dict(prob=0.5)),
    ("RandomNoise", dict()),
    ("RandomBlur", dict(prob=0.5)),
    ("RandomBlur", dict(prob=1.0, blur_type="median")),
    ("RandomBlur", dict(prob=1.0, blur_type="blur")),
    ("RandomBlur", dict(prob=1.0, blur_type="random")),
    ("RandomDistort", dict()),
    ("RandomDistort", dict(brightness_prob=1, contrast_prob=1, saturation_prob=1, hue_prob=1,
                           sharpness_prob=1, hue_range=60)),
    ("ResizeRangeScaling", dict(min_value=30, max_value=90)),
    ("RandomCenterCrop", dict()),
    ("Resize", dict(target_size=(40, 24), interp="RANDOM")),
]


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("name,kwargs", SEEDED, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SEEDED)])
def test_seeded_random_ops_match_paddleseg(pst, make_sample, name, kwargs, seed):
    data = make_sample(37, 53, seed=seed)
    ours, theirs = _run_both(getattr(T, name)(**kwargs), getattr(pst, name)(**kwargs), data, seed)
    _assert_same(ours, theirs)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_seeded_distort_grayscale_matches_paddleseg(pst, make_sample, seed):
    kwargs = dict(brightness_prob=1, contrast_prob=1, saturation_prob=1, sharpness_prob=1)
    data = make_sample(37, 53, channels=1, seed=seed)
    ours, theirs = _run_both(T.RandomDistort(**kwargs), pst.RandomDistort(**kwargs), data, seed)
    _assert_same(ours, theirs)


@pytest.mark.parametrize("seed", [0, 1])
def test_seeded_affine_matches_paddleseg(pst, make_sample, seed):
    kwargs = dict(size=(48, 40), translation_offset=5, max_rotation=30)
    data = make_sample(37, 53, seed=seed)
    ours, theirs = _run_both(T.RandomAffine(**kwargs), pst.RandomAffine(**kwargs), data, seed)
    _assert_same(ours, theirs)

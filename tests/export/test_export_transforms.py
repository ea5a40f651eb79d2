"""deploy.yaml transforms: every argument written out, and the filled-in transforms behave
exactly like the ones the config describes."""
import copy

import numpy as np
import pytest

from humanseg.cvlibs.registry import TRANSFORMS, build
from humanseg.errors import ConfigError
from humanseg.export.deploy_config import class_names, deploy_transforms, fixed_output_hw
from humanseg.transforms import Compose

CASES = [
    ({"type": "Resize"}, {"type": "Resize", "target_size": [512, 512], "keep_ratio": False,
                          "size_divisor": None, "interp": "LINEAR"}),
    ({"type": "Resize", "target_size": [200, 120], "keep_ratio": True, "size_divisor": 32,
      "interp": "NEAREST"},
     {"type": "Resize", "target_size": [200, 120], "keep_ratio": True, "size_divisor": 32,
      "interp": "NEAREST"}),
    ({"type": "ResizeByShort", "short_size": [96]},
     {"type": "ResizeByShort", "short_size": 96, "max_size": 1e10}),
    ({"type": "ResizeByLong", "long_size": 150}, {"type": "ResizeByLong", "long_size": 150}),
    ({"type": "LimitLong", "max_long": 140},
     {"type": "LimitLong", "max_long": 140, "min_long": None}),
    ({"type": "Padding", "target_size": 512},
     {"type": "Padding", "target_size": [512, 512], "im_padding_value": 127.5,
      "label_padding_value": 255}),
    ({"type": "PaddingByAspectRatio"},
     {"type": "PaddingByAspectRatio", "aspect_ratio": 1, "im_padding_value": 127.5,
      "label_padding_value": 255}),
    ({"type": "Normalize"}, {"type": "Normalize", "mean": [0.5] * 3, "std": [0.5] * 3}),
    ({"type": "Normalize", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
     {"type": "Normalize", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}),
]


@pytest.mark.parametrize("given, written", CASES, ids=[c[0]["type"] for c in CASES])
def test_defaults_written_out_and_same_behaviour(given, written):
    out, key = deploy_transforms({"export": {"transforms": [given]}})
    assert key == "export.transforms" and out == [written]
    rng = np.random.default_rng(0)
    for h, w in ((96, 160), (170, 90)):
        img = rng.uniform(0, 255, (h, w, 3)).astype(np.float32)
        a = Compose(build([copy.deepcopy(given)], TRANSFORMS, "t"))(
            {"img": img.copy(), "trans_info": [], "gt_fields": []})
        b = Compose(build(copy.deepcopy(out), TRANSFORMS, "t"))(
            {"img": img.copy(), "trans_info": [], "gt_fields": []})
        np.testing.assert_array_equal(a["img"], b["img"])
        assert a["trans_info"] == b["trans_info"]


def test_val_transforms_when_no_export_section():
    cfg = {"val_dataset": {"transforms": [{"type": "Normalize"}]}}
    assert deploy_transforms(cfg)[1] == "val_dataset.transforms"
    with pytest.raises(ConfigError, match="add export.transforms"):
        deploy_transforms({"model": {}})


@pytest.mark.parametrize("item, needle", [
    ({"type": "RandomHorizontalFlip"}, "RandomHorizontalFlip is a random"),
    ({"type": "ResizeStepScaling"}, "ResizeStepScaling is a random"),
    ({"type": "ResizeByShort", "short_size": [96, 128]}, "deterministic"),
    ({"type": "Resize", "target_size": [0, 3]}, "target_size"),
    ({"type": "Resize", "size": [10, 10]}, "cannot build Resize"),
    ({"type": "ResizeByLong"}, "ResizeByLong"),
])
def test_refused_transforms_name_the_key(item, needle):
    with pytest.raises(ConfigError, match=r"export\.transforms\[1\]") as e:
        deploy_transforms({"export": {"transforms": [{"type": "Normalize"}, item]}})
    assert needle in str(e.value)


def test_fixed_output_size():
    fixed = [{"type": "Resize", "target_size": [398, 224]}, {"type": "Normalize"}]
    assert fixed_output_hw(deploy_transforms({"export": {"transforms": fixed}})[0]) == (224, 398)
    pad = [{"type": "ResizeByLong", "long_size": 128}, {"type": "Padding", "target_size": 128}]
    assert fixed_output_hw(deploy_transforms({"export": {"transforms": pad}})[0]) == (128, 128)
    assert fixed_output_hw([{"type": "ResizeByShort", "short_size": 96}]) is None
    assert fixed_output_hw([{"type": "Padding", "target_size": [64, 64]}]) is None


def test_class_names():
    assert class_names({"val_dataset": {"type": "PPHumanSeg14K"}}, 2) == ["background", "person"]
    assert class_names({"val_dataset": {"type": "Cityscapes"}}, 19)[:2] == ["road", "sidewalk"]
    assert class_names({"export": {"class_names": ["bg", "fg"]}}, 2) == ["bg", "fg"]
    with pytest.raises(ConfigError, match="export.class_names"):
        class_names({"export": {"class_names": ["bg"]}}, 2)

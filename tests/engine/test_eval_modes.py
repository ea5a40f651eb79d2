"""Evaluation modes (PaddleSeg's test_config) against PaddleSeg 2.8.0's infer.py, their checks,
and evaluate()/tools/val.py wiring."""
import json

import numpy as np
import paddle
import pytest

from humanseg.cvlibs.registry import MODELS, build
from humanseg.cvlibs.checks import check_test_config
from humanseg.engine.infer import (eval_logits, flip_combinations,
                                   window_boxes)
from humanseg.errors import ConfigError
from support import import_oracle, run_tool

ps_infer = import_oracle("paddleseg.core.infer")


@pytest.fixture(scope="module")
def model():
    paddle.seed(7)
    net = build({"type": "PPHumanSegLite", "num_classes": 3, "align_corners": False}, MODELS)
    for name, p in net.state_dict().items():  # random everywhere (the head starts at zero)
        if name.endswith("_variance"):
            p.set_value(paddle.uniform(p.shape, min=0.5, max=1.5))
        else:
            p.set_value(paddle.randn(p.shape) * 0.3)
    net.eval()
    return net


@pytest.fixture(scope="module")
def img():
    paddle.seed(1)
    return paddle.randn([1, 3, 70, 100])


TRANS = [("resize", (90, 130)), ("padding", (70, 100))]  # undone last first: crop, then resize

CASES = [
    {},
    {"is_slide": True, "crop_size": [48, 40], "stride": [32, 24]},
    {"is_slide": True, "crop_size": [128, 96], "stride": [64, 64]},  # window larger than image
    {"aug_eval": True, "scales": 0.75, "flip_horizontal": True},
    {"aug_eval": True, "scales": [0.5, 1.0, 1.25], "flip_horizontal": True, "flip_vertical": True},
    {"aug_eval": True, "scales": [1.0], "flip_vertical": True,
     "is_slide": True, "crop_size": [64, 48], "stride": [40, 30]},
]


@pytest.mark.parametrize("raw", CASES, ids=lambda c: ",".join(sorted(c)) or "whole")
def test_logits_equal_paddleseg(model, img, raw):
    tc = check_test_config(raw)
    with paddle.no_grad():
        ours = eval_logits(model, img, TRANS, tc).numpy()
        slide = {k: tc.get(k) for k in ("is_slide", "crop_size", "stride")}
        if tc["aug_eval"]:
            _, theirs = ps_infer.aug_inference(model, img, [(k, list(v)) for k, v in TRANS],
                                               scales=tc["scales"],
                                               flip_horizontal=tc["flip_horizontal"],
                                               flip_vertical=tc["flip_vertical"], **slide)
        else:
            _, theirs = ps_infer.inference(model, img, [(k, list(v)) for k, v in TRANS], **slide)
    theirs = theirs.numpy()
    assert ours.shape == theirs.shape == (1, 3, 90, 130)
    np.testing.assert_allclose(ours, theirs, atol=1e-5, rtol=0)


def test_slide_differs_from_whole_image(model, img):
    with paddle.no_grad():
        whole = eval_logits(model, img).numpy()
        slide = eval_logits(model, img, None, check_test_config(CASES[1])).numpy()
    assert np.abs(whole - slide).max() > 1e-3, "the windows must really be used"


def test_windows_cover_the_image_and_end_at_its_edges():
    boxes = window_boxes(70, 100, [48, 40], [32, 24])
    cover = np.zeros((70, 100), int)
    for y1, y2, x1, x2 in boxes:
        assert (y2 - y1, x2 - x1) == (40, 48)
        cover[y1:y2, x1:x2] += 1
    assert cover.min() >= 1 and len(boxes) == 3 * 3
    assert max(b[1] for b in boxes) == 70 and max(b[3] for b in boxes) == 100
    assert flip_combinations(True, True) == [(False, False), (True, False), (False, True),
                                             (True, True)]


@pytest.mark.parametrize("raw, match", [
    ({"is_slide": True, "crop_size": [64, 64]}, "stride"),
    ({"is_slide": True, "crop_size": [64], "stride": [32, 32]}, "crop_size"),
    ({"aug_eval": True, "scales": [1.0, -0.5]}, "scales"),
    ({"aug_eval": "yes"}, "aug_eval"),
    ({"is_slid": True}, "is_slid"),
])
def test_bad_test_config_is_named(raw, match):
    with pytest.raises(ConfigError, match=match):
        check_test_config(raw)


def test_stride_larger_than_window_is_refused():
    with pytest.raises(ConfigError, match="stride"):
        window_boxes(70, 100, [32, 32], [40, 40])


def test_val_tool_flags_override_test_config_and_save_json(tmp_path, tiny_config_file):
    import yaml
    config = tiny_config_file(test_config={"is_slide": True, "crop_size": [64, 48],
                                           "stride": [48, 32]})
    model = build(yaml.safe_load(open(config))["model"], MODELS)
    weights = tmp_path / "model.pdparams"
    paddle.save(model.state_dict(), str(weights))
    out = tmp_path / "m" / "metrics.json"
    r = run_tool("val.py", "--config", config, "--model_path", str(weights), "--save_json",
                 str(out), "--aug_eval", "--scales", "0.75", "1.0", "--flip_horizontal")
    assert r.returncode == 0, r.stderr
    metrics = json.loads(out.read_text())
    assert metrics["test_config"] == {"is_slide": True, "crop_size": [64, 48],
                                      "stride": [48, 32], "aug_eval": True,
                                      "flip_horizontal": True, "flip_vertical": False,
                                      "scales": [0.75, 1.0]}
    for key in ("miou", "boundary_f", "class_boundary_f", "connectivity"):
        assert key in metrics
    assert "BF" in r.stdout and "sliding window 64x48" in r.stdout + r.stderr
    assert "Resize(target_size=" in r.stdout + r.stderr, "eval transforms printed at start"
    bad = run_tool("val.py", "--config", config, "--model_path", str(weights), "--scales", "2")
    assert bad.returncode == 2 and "need --aug_eval" in bad.stderr


def test_training_evaluation_uses_the_configs_test_config(tmp_path, tiny_config_file):
    config = tiny_config_file(test_config={"is_slide": True, "crop_size": [64, 48],
                                           "stride": [48, 32]})
    r = run_tool("train.py", "--config", config, "--save_dir", str(tmp_path / "run"), "--iters",
                 "2", "--save_interval", "2", "--do_eval", cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr[-3000:]
    assert "sliding window 64x48 stride 48x32" in r.stdout + r.stderr
    bad = tiny_config_file(test_config={"is_slide": True, "crop_size": [64, 48],
                                        "strides": [48, 32]})
    r = run_tool("train.py", "--config", bad, "--save_dir", str(tmp_path / "bad"), "--iters",
                 "2", "--do_eval", cwd=str(tmp_path))
    assert r.returncode == 2 and "strides" in r.stderr
    assert not (tmp_path / "bad" / "iter_2").exists(), "refused before the first step"

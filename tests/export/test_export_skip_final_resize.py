"""tools/export.py --skip_final_resize: the logits before the model's final upsample, found and
verified on the model itself, exported to Paddle and ONNX without that upsample; deploy/python
maps the smaller output back to the image; models without such an upsample are refused."""
import collections
import os

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F
import pytest
import yaml

from export_helpers import deploy_predictor_class, onnx_run, paddle_inference_run
from humanseg.cvlibs.registry import MODELS, build
from humanseg.errors import ConfigError
from humanseg.export import export_model
from humanseg.export.exporter import final_resize_source
from model_specs import randomize
from support import export_untrained_lite, run_tool

LITE = {"type": "PPHumanSegLite", "num_classes": 2}
CFG = {"model": LITE, "export": {"transforms": [{"type": "Resize", "target_size": [160, 96]},
                                                {"type": "Normalize"}]}}


def lite(seed: int = 3):
    model = build(dict(LITE), MODELS, "model")
    randomize(model, seed)
    model.eval()
    return model


def resize_ops(onnx_path: str) -> int:
    import onnx
    return collections.Counter(n.op_type for n in onnx.load(onnx_path).graph.node)["Resize"]


def test_finds_and_verifies_lites_last_layer():
    assert final_resize_source(lite(), 2) == ("depthwise_separable2", 2)


@pytest.fixture(scope="module")
def lowres_and_full(tmp_path_factory):
    model = lite()
    out = {}
    for name, skip in (("lowres", True), ("full", False)):
        d = str(tmp_path_factory.mktemp(name))
        out[name] = export_model(model, CFG, d, [-1, 3, -1, -1], "none", "both",
                                 log=lambda _: None, skip_final_resize=skip)
    return model, out


def test_exported_logits_are_the_upsampled_models_before_its_upsample(lowres_and_full):
    model, out = lowres_and_full
    res = out["lowres"]
    assert res.onnx_check["passed"]
    x = np.random.default_rng(2).standard_normal([1, 3, 96, 160]).astype(np.float32)
    with paddle.no_grad():
        full = model(paddle.to_tensor(x))[0].numpy()
    for run in (paddle_inference_run, onnx_run):
        got = run(res.save_dir, x)
        assert got.shape == (1, 2, 48, 80), run.__name__
        up = F.interpolate(paddle.to_tensor(got), size=[96, 160], mode="bilinear",
                           align_corners=False).numpy()
        assert np.abs(up - full).max() <= 1e-4 * np.abs(full).max(), run.__name__
    # the hooks that captured the logits are gone: the model behaves as before the export
    assert not model.depthwise_separable2._forward_post_hooks


def test_the_final_resize_is_gone_from_the_graph_and_recorded(lowres_and_full):
    _, out = lowres_and_full
    assert resize_ops(os.path.join(out["full"].save_dir, "model.onnx")) == 2
    assert resize_ops(os.path.join(out["lowres"].save_dir, "model.onnx")) == 1
    with open(out["lowres"].deploy_yaml) as f:
        assert yaml.safe_load(f)["Deploy"]["output_stride"] == 2
    with open(out["full"].deploy_yaml) as f:
        assert "output_stride" not in yaml.safe_load(f)["Deploy"]


def test_deploy_predictor_maps_the_small_output_to_the_image(lowres_and_full):
    """Same probabilities at the image size as the default export, within the difference of one
    bilinear resize against two (network upsample, then to the image)."""
    _, out = lowres_and_full
    predictor = deploy_predictor_class()
    image = (np.random.default_rng(4).random((130, 210, 3)) * 255).astype(np.uint8)
    low = predictor(out["lowres"].save_dir, backend="onnx")
    full = predictor(out["full"].save_dir, backend="onnx")
    p_low, p_full = low.predict_probs(image), full.predict_probs(image)
    assert p_low.shape == p_full.shape == (2, 130, 210)
    assert np.abs(p_low - p_full).max() < 0.02
    assert low.predict_label(image).shape == (130, 210)
    assert low.config.output_stride == 2 and full.config.output_stride == 1


def test_softmax_through_the_tool(tmp_path):
    out = export_untrained_lite(tmp_path, [96, 54], "--output_op", "softmax",
                                "--skip_final_resize")
    x = np.random.default_rng(1).standard_normal([1, 3, 54, 96]).astype(np.float32)
    got = onnx_run(out, x)
    assert got.shape == (1, 2, 27, 48)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)


class _NoUpsample(nn.Layer):
    def __init__(self):
        super().__init__()
        self.cls = nn.Conv2D(3, 2, 3, padding=1)

    def forward(self, x):
        return [self.cls(x)]


class _NotAnUpsample(_NoUpsample):
    def __init__(self):
        super().__init__()
        self.cls = nn.Conv2D(3, 2, 3, stride=2, padding=1)

    def forward(self, x):
        y = self.cls(x)
        return [F.interpolate(y * 2.0, size=x.shape[2:], mode="bilinear")]


@pytest.mark.parametrize("model, needle", [(_NoUpsample, "already outputs the input size"),
                                           (_NotAnUpsample, "not a bilinear upsample")])
def test_refused_for_models_without_a_final_upsample(model, needle, tmp_path):
    cfg = {"model": {"num_classes": 2}, "export": {"transforms": [{"type": "Normalize"}]}}
    with pytest.raises(ConfigError, match=needle) as e:
        export_model(model(), cfg, str(tmp_path), [-1, 3, -1, -1], "softmax", "paddle",
                     log=lambda _: None, skip_final_resize=True)
    assert "--skip_final_resize" in str(e.value)
    assert not os.path.exists(tmp_path / "model.json")


def test_tool_help_names_the_flag():
    r = run_tool("export.py", "--help")
    assert r.returncode == 0 and "--skip_final_resize" in r.stdout

"""PaddleSeg's own configs (tests/data/paddleseg_configs) build with humanseg's builder unchanged
except ``pretrained: null`` (offline); their loss lists fit the models' outputs.

Datasets are not built (no Cityscapes or portrait data here). The `_SCL` twins add the SC loss to
the main output.
"""
from __future__ import annotations

import os

import paddle
import pytest

from humanseg.cli import load_checked_config
from humanseg.cvlibs.builder import SegBuilder
from humanseg.cvlibs.config import load_config
from humanseg.errors import ConfigError

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data",
                    "paddleseg_configs")
# file -> (model type, backbone type, outputs in training)
CONFIGS = {
    "ocrnet_hrnetw48_cityscapes_1024x512_40k.yml": ("OCRNet", "HRNet_W48", 2),
    "fcn_hrnetw18_cityscapes_1024x512_80k_bs4.yml": ("FCN", "HRNet_W18", 1),
    "fastscnn_cityscapes_1024x1024_40k.yml": ("FastSCNN", None, 2),
    "ocrnet_hrnetw48_cityscapes_1024x512_40k_SCL.yml": ("OCRNet", "HRNet_W48", 2),
    "fcn_hrnetw18_cityscapes_1024x512_80k_bs4_SCL.yml": ("FCN", "HRNet_W18", 1),
    "fastscnn_cityscapes_1024x1024_40k_SCL.yml": ("FastSCNN", None, 2),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_paddleseg_cityscapes_config_builds(name):
    path = os.path.join(DATA, name)
    model_type, backbone_type, n_train = CONFIGS[name]
    raw = load_config(path)
    opts = ["model.pretrained=null"]
    if "backbone" in raw["model"]:
        opts.append("model.backbone.pretrained=null")
    cfg = load_checked_config(path, opts)
    builder = SegBuilder(cfg)
    model = builder.model
    assert type(model).__name__ == model_type
    if backbone_type:
        assert model.backbone.feat_channels == {"HRNet_W48": [720], "HRNet_W18": [270]}[
            backbone_type]
    assert cfg["model"]["num_classes"] == 19
    builder.optimizer, builder.lr_scheduler
    model.train()
    paddle.seed(0)
    logits = model(paddle.randn([1, 3, 64, 64]))
    assert len(logits) == n_train
    total, terms = builder.loss(logits, paddle.randint(0, 19, [1, 64, 64]))
    assert float(total) > 0 and terms
    if name.endswith("_SCL.yml"):
        assert any(k.startswith("out0.") and "SemanticConnectivityLoss" in k for k in terms)
        assert not any(k.startswith("out1.") and "SemanticConnectivity" in k for k in terms)


# PP-HumanSeg V2: file -> (model, backbone, feat_channels, classes, train outputs). PP-LiteSeg's
# Cityscapes configs come with the OhemCrossEntropyLoss they use (and their 2.8 revision).
LITE_CONFIGS = {
    "portrait_pp_humansegv2_lite.yml": ("MobileSeg", "MobileNetV3", [24, 40, 112, 160], 2, 3),
    "human_pp_humansegv2_lite.yml": ("MobileSeg", "MobileNetV3", [24, 40, 112, 160], 2, 4),
    "pp_liteseg_stdc1_cityscapes_1024x512_scale0.5_160k.yml": (
        "PPLiteSeg", "STDCNet", [32, 64, 256, 512, 1024], 19, 3),
    "pp_liteseg_stdc2_cityscapes_1024x512_scale0.5_160k.yml": (
        "PPLiteSeg", "STDCNet", [32, 64, 256, 512, 1024], 19, 3),
}


def _offline_builder(name: str) -> tuple[dict, SegBuilder]:
    path = os.path.join(DATA, name)
    cfg = load_checked_config(path, ["model.pretrained=null", "model.backbone.pretrained=null"])
    return cfg, SegBuilder(cfg)


@pytest.mark.parametrize("name", sorted(LITE_CONFIGS))
def test_paddleseg_lite_config_builds(name):
    model_type, backbone_type, feat_channels, num_classes, n_train = LITE_CONFIGS[name]
    cfg, builder = _offline_builder(name)
    model = builder.model
    assert type(model).__name__ == model_type
    assert type(model.backbone).__name__ == backbone_type
    assert model.backbone.feat_channels == feat_channels
    assert model.pretrained is None and model.backbone.pretrained is None
    assert cfg["model"]["num_classes"] == num_classes
    builder.optimizer, builder.lr_scheduler
    model.train()
    paddle.seed(0)
    logits = model(paddle.randn([1, 3, 64, 64]))
    assert len(logits) == n_train == len(cfg["loss"]["types"]) == len(cfg["loss"]["coef"])
    total, terms = builder.loss(logits, paddle.randint(0, num_classes, [1, 64, 64]))
    assert float(total) > 0 and {k.split(".")[0] for k in terms} == {
        f"out{i}" for i in range(n_train)}
    model.eval()
    with paddle.no_grad():
        assert len(model(paddle.randn([1, 3, 64, 64]))) == 1


def test_paddleseg_humansegv2_mobile_config_has_too_few_losses():
    # PaddleSeg's own human_pp_humansegv2_mobile.yml gives PPLiteSeg four backbone_indices (four
    # outputs in training) but three loss coefficients: PaddleSeg's train() raises on it too
    # (check_logits_losses). humanseg builds the model and says what to fix.
    cfg, builder = _offline_builder("human_pp_humansegv2_mobile.yml")
    model = builder.model
    assert type(model).__name__ == "PPLiteSeg" and cfg["model"]["num_classes"] == 2
    assert model.backbone.feat_channels == [32, 64, 256, 512, 1024]
    model.train()
    logits = model(paddle.randn([1, 3, 64, 64]))
    assert len(logits) == 4
    with pytest.raises(ConfigError, match="4 output.*3 loss type"):
        builder.loss(logits, paddle.randint(0, 2, [1, 64, 64]))
    model.eval()
    with paddle.no_grad():
        assert len(model(paddle.randn([1, 3, 64, 64]))) == 1


@pytest.mark.parametrize("variant, layers, arm_out_chs", [
    ("stdc1", [2, 2, 2], [32, 64, 128]),
    ("stdc2", [4, 5, 3], None),  # `_inherited_: False`: PPLiteSeg's defaults, as in PaddleSeg
])
def test_pp_liteseg_cityscapes_configs(variant, layers, arm_out_chs):
    cfg, builder = _offline_builder(f"pp_liteseg_{variant}_cityscapes_1024x512_scale0.5_160k.yml")
    assert builder.model.backbone.layers == layers
    assert cfg["model"].get("arm_out_chs") == arm_out_chs
    assert cfg["test_config"] == {"aug_eval": True, "scales": 0.5}
    assert [(t["type"], t["min_kept"], t["ignore_index"]) for t in cfg["loss"]["types"]] == [
        ("OhemCrossEntropyLoss", 130000, 255)] * 3
    assert cfg["lr_scheduler"]["warmup_iters"] == 1000 and cfg["batch_size"] == 4

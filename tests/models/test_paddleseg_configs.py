"""PaddleSeg's own Cityscapes configs (tests/data/paddleseg_configs) build with humanseg's builder
unchanged except ``pretrained: null`` (offline); their loss lists fit the models' outputs.

Datasets are not built (no Cityscapes data here). The `_SCL` twins add the SC loss to the main output.
"""
from __future__ import annotations

import os

import paddle
import pytest

from humanseg.cli import load_checked_config
from humanseg.cvlibs.builder import SegBuilder
from humanseg.cvlibs.config import load_config

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

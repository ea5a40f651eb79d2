"""configs/pp_liteseg: equal to PaddleSeg 2.8's files; the _SCL twins add SCL to out0 only."""
import os

import paddle
import pytest

from humanseg.cli import load_checked_config
from humanseg.cvlibs.builder import SegBuilder

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OFFLINE = ["model.pretrained=null", "model.backbone.pretrained=null"]
NAMES = [f"pp_liteseg_{v}_cityscapes_1024x512_scale0.5_160k" for v in ("stdc1", "stdc2")]


def _load(*parts: str) -> dict:
    cfg = load_checked_config(os.path.join(ROOT, *parts), OFFLINE)
    cfg["optimizer"]["type"] = cfg["optimizer"]["type"].lower()  # PaddleSeg writes SGD or sgd
    return cfg


@pytest.mark.parametrize("name", NAMES)
def test_recipe_equals_paddleseg_28(name):
    ours = _load("configs", "pp_liteseg", f"{name}.yml")
    theirs = _load("tests", "data", "paddleseg_configs", f"{name}.yml")
    for key in ("batch_size", "iters", "train_dataset", "val_dataset", "optimizer",
                "lr_scheduler", "loss", "test_config", "model"):
        assert ours[key] == theirs[key], key


@pytest.mark.parametrize("name", NAMES)
def test_scl_twin_adds_sc_loss_to_main_output_only(name):
    cfg = load_checked_config(os.path.join(ROOT, "configs", "pp_liteseg", f"{name}_SCL.yml"),
                              OFFLINE)
    base = load_checked_config(os.path.join(ROOT, "configs", "pp_liteseg", f"{name}.yml"),
                               OFFLINE)
    assert {k: v for k, v in cfg.items() if k != "loss"} == {
        k: v for k, v in base.items() if k != "loss"}
    builder = SegBuilder(cfg)
    builder.model.train()
    paddle.seed(0)
    logits = builder.model(paddle.randn([1, 3, 64, 64]))
    _, terms = builder.loss(logits, paddle.randint(0, 19, [1, 64, 64]))
    assert sorted(terms) == ["out0.OhemCrossEntropyLoss", "out0.SemanticConnectivityLoss",
                             "out1.OhemCrossEntropyLoss", "out2.OhemCrossEntropyLoss"]
    assert cfg["loss"]["types"][0]["coef"] == [1, 0.01]

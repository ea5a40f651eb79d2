"""bench/bench_video_models.py's configs (configs/bench_video/): one training budget for every
model, each at its family's architecture and input size; the script refuses unknown names."""
import os
import sys

import pytest

from support import ROOT

BENCH = os.path.join(ROOT, "bench")
if BENCH not in sys.path:
    sys.path.insert(0, BENCH)

import bench_video_models  # noqa: E402
from humanseg.cvlibs.builder import build_model  # noqa: E402
from humanseg.cvlibs.config import load_config  # noqa: E402

BUDGET_KEYS = ("batch_size", "iters", "optimizer", "lr_scheduler")
FAMILY = {"v1_lite": ("PPHumanSegLite", None), "v2_lite_small": ("MobileSeg",
                                                                   "MobileNetV3_small_x1_0"),
          "v2_lite": ("MobileSeg", "MobileNetV3_large_x1_0"), "v2_mobile": ("PPLiteSeg", "STDC1")}


def _config(name):
    return load_config(os.path.join(bench_video_models.CONFIG_DIR, f"{name}.yml"))


def test_every_model_trains_on_the_same_budget():
    budgets = {name: {k: _config(name)[k] for k in BUDGET_KEYS}
               for name in bench_video_models.MODELS}
    first = budgets[bench_video_models.MODELS[0]]
    assert first["optimizer"] == {"type": "adam"} and first["iters"] == 600
    assert all(b == first for b in budgets.values()), budgets


@pytest.mark.parametrize("name", bench_video_models.MODELS)
def test_config_keeps_its_family_and_size(name):
    cfg = _config(name)
    family = max((f for f in FAMILY if name.startswith(f)), key=len)
    model_type, backbone = FAMILY[family]
    assert cfg["model"]["type"] == model_type
    assert (cfg["model"].get("backbone") or {}).get("type") == backbone
    assert (cfg["model"].get("backbone") or {}).get("pretrained") is None  # offline, from scratch
    w, h = bench_video_models.export_size(
        os.path.join(bench_video_models.CONFIG_DIR, f"{name}.yml"))
    assert name.endswith(f"{w}x{h}")
    resize = cfg["train_dataset"]["transforms"][0]
    assert resize == {"type": "Resize", "target_size": [w, h]}
    assert cfg["val_dataset"]["transforms"][0]["target_size"] == [w, h]
    assert len(cfg["loss"]["coef"]) >= 1
    build_model(cfg, pretrained=False)


def test_unknown_model_name_exits_2(capsys):
    with pytest.raises(SystemExit) as e:
        bench_video_models.main(["--models", "v3_lite", "--phase", "bench"])
    assert e.value.code == 2
    assert "unknown ['v3_lite']" in capsys.readouterr().err

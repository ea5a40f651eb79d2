"""With --model_path, val, predict and export build the model from those weights alone: the
config's ``pretrained`` keys (model and backbone) are neither read nor downloaded."""
import numpy as np
import paddle
import pytest
import yaml

from support import run_tool, tiny_config
from humanseg.cvlibs.builder import build_model

UNREACHABLE = "http://127.0.0.1:9/never/model.pdparams"  # port 9: nothing listens


@pytest.fixture(scope="module")
def lite_weights(tmp_path_factory):
    from humanseg.models import PPHumanSegLite
    paddle.seed(11)
    path = tmp_path_factory.mktemp("weights") / "model.pdparams"
    paddle.save(PPHumanSegLite(num_classes=2).state_dict(), str(path))
    return str(path)


def config_file(tmp_path, root) -> str:
    cfg = tiny_config(root)
    cfg["model"]["pretrained"] = UNREACHABLE
    path = tmp_path / "cfg.yml"
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


def test_val_never_reads_pretrained(tmp_path, synthetic_root, lite_weights, monkeypatch):
    monkeypatch.setenv("HUMANSEG_CACHE", str(tmp_path / "cache"))
    r = run_tool("val.py", "--config", config_file(tmp_path, synthetic_root), "--model_path",
                 lite_weights, "--save_dir", str(tmp_path / "val"))
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path / "val" / "metrics.json").is_file()
    assert not (tmp_path / "cache").exists(), "something was downloaded"


def test_predict_never_reads_pretrained(tmp_path, synthetic_root, lite_weights, monkeypatch):
    monkeypatch.setenv("HUMANSEG_CACHE", str(tmp_path / "cache"))
    r = run_tool("predict.py", "--config", config_file(tmp_path, synthetic_root), "--model_path",
                 lite_weights, "--image_path", f"{synthetic_root}/images",
                 "--save_dir", str(tmp_path / "pred"))
    assert r.returncode == 0, r.stderr[-3000:]
    assert list((tmp_path / "pred" / "mask").rglob("*.png"))
    assert not (tmp_path / "cache").exists(), "something was downloaded"


def test_build_model_with_weights_skips_backbone_and_model_pretrained(tmp_path, monkeypatch):
    monkeypatch.setenv("HUMANSEG_CACHE", str(tmp_path / "cache"))
    section = {"type": "FCN", "num_classes": 2, "pretrained": UNREACHABLE,
               "backbone": {"type": "HRNet_W18_Small_V1", "pretrained": UNREACHABLE}}
    source = build_model({"model": section}, pretrained=False)
    path = tmp_path / "trained.pdparams"
    paddle.save(source.state_dict(), str(path))
    model = build_model({"model": section}, weights=str(path))
    for key, value in source.state_dict().items():
        assert np.array_equal(model.state_dict()[key].numpy(), value.numpy()), key
    assert not (tmp_path / "cache").exists()


def test_without_weights_the_pretrained_keys_are_loaded(tmp_path, lite_weights, monkeypatch):
    """The other side: no weights given, the builder does read (and here fails on) the URL."""
    from humanseg.errors import ConfigError
    monkeypatch.setenv("HUMANSEG_CACHE", str(tmp_path / "cache"))
    with pytest.raises(ConfigError, match="model.pretrained: the pretrained weights could not"):
        build_model({"model": {"type": "PPHumanSegLite", "num_classes": 2,
                               "pretrained": UNREACHABLE}})
    model = build_model({"model": {"type": "PPHumanSegLite", "num_classes": 2,
                                   "pretrained": lite_weights}})
    assert np.array_equal(model.state_dict()["conv_bn0._conv.weight"].numpy(),
                          paddle.load(lite_weights)["conv_bn0._conv.weight"].numpy())

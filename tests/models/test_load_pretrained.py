"""load_pretrained and read_state_dict: files, directories, checkpoints, strict and partial loads."""
from __future__ import annotations

import logging

import numpy as np
import paddle
import pytest

from humanseg.errors import ConfigError
from humanseg.models import PPHumanSegLite
from humanseg.utils.weights import load_pretrained, read_state_dict


@pytest.fixture(scope="module")
def source() -> PPHumanSegLite:
    """A model with recognisable weights (different from a fresh model's)."""
    paddle.seed(1)
    model = PPHumanSegLite(2)
    with paddle.no_grad():
        for tensor in model.state_dict().values():
            tensor.set_value(paddle.rand(tensor.shape))
    return model


def _assert_same(a: paddle.nn.Layer, b: paddle.nn.Layer, skip: tuple[str, ...] = ()) -> None:
    sb = b.state_dict()
    for key, value in a.state_dict().items():
        if key not in skip:
            np.testing.assert_array_equal(value.numpy(), sb[key].numpy(), err_msg=key)


def test_round_trip_file(source, tmp_path):
    path = tmp_path / "weights.pdparams"
    paddle.save(source.state_dict(), str(path))
    model = PPHumanSegLite(2)
    report = load_pretrained(model, str(path))
    assert report.ok and len(report.loaded) == 340
    _assert_same(source, model)


def test_directory_with_model_pdparams(source, tmp_path):
    paddle.save(source.state_dict(), str(tmp_path / "model.pdparams"))
    model = PPHumanSegLite(2)
    load_pretrained(model, tmp_path)
    _assert_same(source, model)


def test_training_checkpoint_with_model_entry(source, tmp_path):
    path = tmp_path / "checkpoint.pdparams"
    paddle.save({"model": source.state_dict(), "optimizer": {"lr": 0.1}, "iter": 7}, str(path))
    model = PPHumanSegLite(2)
    load_pretrained(model, str(path))
    _assert_same(source, model)
    assert set(read_state_dict(str(path))) == set(source.state_dict())


def test_missing_key_raises_naming_the_key(source, tmp_path):
    state = dict(source.state_dict())
    del state["conv_bn1._conv.weight"]
    path = tmp_path / "missing.pdparams"
    paddle.save(state, str(path))
    with pytest.raises(ConfigError) as info:
        load_pretrained(PPHumanSegLite(2), str(path))
    message = str(info.value)
    assert "conv_bn1._conv.weight" in message and str(path) in message
    assert "allow_partial" in message


def test_unexpected_key_raises(source, tmp_path):
    state = dict(source.state_dict())
    state["head.extra.weight"] = paddle.zeros([4])
    path = tmp_path / "extra.pdparams"
    paddle.save(state, str(path))
    with pytest.raises(ConfigError, match=r"unexpected.*head\.extra\.weight"):
        load_pretrained(PPHumanSegLite(2), str(path))


def test_shape_mismatch_raises_with_both_shapes(source, tmp_path):
    path = tmp_path / "two_classes.pdparams"
    paddle.save(source.state_dict(), str(path))
    with pytest.raises(ConfigError) as info:
        load_pretrained(PPHumanSegLite(3), str(path))
    message = str(info.value)
    assert "depthwise_separable2.piontwise_conv._conv.weight" in message
    assert "[3, 64, 1, 1]" in message and "[2, 64, 1, 1]" in message


def test_allow_partial_loads_the_rest_and_logs(source, tmp_path, caplog):
    state = dict(source.state_dict())
    del state["conv_bn1._conv.weight"]
    state["head.extra.weight"] = paddle.zeros([4])
    path = tmp_path / "partial.pdparams"
    paddle.save(state, str(path))
    model = PPHumanSegLite(2)
    fresh = model.conv_bn1._conv.weight.numpy().copy()
    with caplog.at_level(logging.WARNING, logger="humanseg"):
        report = load_pretrained(model, str(path), allow_partial=True)
    assert report.missing == ["conv_bn1._conv.weight"]
    assert report.unexpected == ["head.extra.weight"]
    assert len(report.loaded) == 339
    _assert_same(source, model, skip=("conv_bn1._conv.weight",))
    np.testing.assert_array_equal(model.conv_bn1._conv.weight.numpy(), fresh)
    assert "conv_bn1._conv.weight" in caplog.text and "head.extra.weight" in caplog.text


def test_allow_partial_skips_shape_mismatch(source, tmp_path):
    path = tmp_path / "two_classes.pdparams"
    paddle.save(source.state_dict(), str(path))
    model = PPHumanSegLite(3)
    report = load_pretrained(model, str(path), allow_partial=True)
    assert [k for k, _, _ in report.mismatched] == [
        f"depthwise_separable2.piontwise_conv.{k}" for k in
        ("_conv.weight", "_batch_norm.weight", "_batch_norm.bias", "_batch_norm._mean",
         "_batch_norm._variance")]
    np.testing.assert_array_equal(model.conv_bn0._conv.weight.numpy(),
                                  source.conv_bn0._conv.weight.numpy())


def test_long_key_lists_are_truncated(tmp_path):
    path = tmp_path / "empty_ish.pdparams"
    paddle.save({"unrelated": paddle.zeros([1])}, str(path))
    with pytest.raises(ConfigError) as info:
        load_pretrained(PPHumanSegLite(2), str(path))
    assert "missing in file (340)" in str(info.value) and "and 320 more" in str(info.value)


def test_missing_file_raises_naming_the_path(tmp_path):
    path = tmp_path / "nope.pdparams"
    with pytest.raises(ConfigError, match="nope.pdparams"):
        load_pretrained(PPHumanSegLite(2), str(path))
    with pytest.raises(ConfigError, match="model.pdparams"):
        load_pretrained(PPHumanSegLite(2), str(tmp_path))


def test_unreadable_or_foreign_file_raises(tmp_path):
    garbage = tmp_path / "garbage.pdparams"
    garbage.write_bytes(b"not a paddle file")
    with pytest.raises(ConfigError, match="garbage.pdparams"):
        load_pretrained(PPHumanSegLite(2), str(garbage))
    foreign = tmp_path / "list.pdparams"
    paddle.save([1, 2, 3], str(foreign))
    with pytest.raises(ConfigError, match="list.pdparams"):
        load_pretrained(PPHumanSegLite(2), str(foreign))


def test_pphumanseg_lite_allow_partial_pretrained_for_other_classes(tmp_path):
    """Released 2-class weights fine-tuned for 3 classes: strict load refuses, partial loads."""
    import paddle
    import pytest

    from humanseg.cvlibs.builder import build_model
    from humanseg.errors import ConfigError
    from humanseg.models.pphumanseg_lite import PPHumanSegLite
    source = PPHumanSegLite(num_classes=2)
    path = str(tmp_path / "model.pdparams")
    paddle.save(source.state_dict(), path)
    with pytest.raises(ConfigError, match="allow_partial_pretrained"):
        build_model({"model": {"type": "PPHumanSegLite", "num_classes": 3, "pretrained": path}})
    model = build_model({"model": {"type": "PPHumanSegLite", "num_classes": 3, "pretrained": path,
                                   "allow_partial_pretrained": True}})
    key = "conv_bn0._conv.weight"
    assert (model.state_dict()[key].numpy() == source.state_dict()[key].numpy()).all()

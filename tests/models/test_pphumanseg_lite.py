"""PPHumanSegLite against PaddleSeg 2.8.0 (test-time oracle): names, shapes, outputs, gradients."""
from __future__ import annotations

import numpy as np
import paddle
import pytest

from humanseg.cvlibs.registry import MODELS, build
from humanseg.models import PPHumanSegLite
from humanseg.models.layers import channel_shuffle
from humanseg.utils.weights import load_pretrained
from support import import_oracle

paddleseg_models = import_oracle("paddleseg.models")


def _is_unused(name: str) -> bool:
    """The shortcut branch of stride-1 units (all but the first unit of a stage) is never called."""
    return "._depthwise_separable_0." in name and name.split(".")[1] != "0"


def _shapes(layer: paddle.nn.Layer) -> dict[str, list[int]]:
    return {k: list(v.shape) for k, v in layer.state_dict().items()}


@pytest.fixture(scope="module", params=[2, 3], ids=["2cls", "3cls"])
def pair(request, tmp_path_factory):
    """(ours, PaddleSeg's): PaddleSeg's model re-randomised, saved, and loaded strictly into ours."""
    paddle.seed(request.param)
    theirs = paddleseg_models.PPHumanSegLite(num_classes=request.param, in_channels=3)
    rng = np.random.default_rng(request.param)
    # Random BN statistics and O(1) conv weights, so the outputs are far from zero.
    draws = {"_conv.weight": lambda s: rng.normal(0.0, 0.2, s),
             "_batch_norm.weight": lambda s: rng.uniform(0.5, 1.5, s),
             "_batch_norm.bias": lambda s: rng.normal(0.0, 0.1, s),
             "_mean": lambda s: rng.normal(0.0, 0.1, s),
             "_variance": lambda s: rng.uniform(0.5, 2.0, s)}
    with paddle.no_grad():
        for name, tensor in theirs.state_dict().items():
            draw = next(f for suffix, f in draws.items() if name.endswith(suffix))
            tensor.set_value(draw(tensor.shape).astype("float32"))
    path = tmp_path_factory.mktemp("oracle") / "model.pdparams"
    paddle.save(theirs.state_dict(), str(path))
    ours = PPHumanSegLite(num_classes=request.param, in_channels=3)
    load_pretrained(ours, str(path))
    return ours, theirs


@pytest.mark.parametrize("num_classes", [2, 3])
def test_state_dict_names_and_shapes_equal_paddleseg(num_classes):
    ours = _shapes(PPHumanSegLite(num_classes))
    theirs = _shapes(paddleseg_models.PPHumanSegLite(num_classes))
    assert list(ours) == list(theirs)
    assert ours == theirs
    assert len(ours) == 340


@pytest.mark.parametrize("shape", [(2, 3, 224, 398), (1, 3, 97, 131)], ids=str)
def test_eval_output_equals_paddleseg(pair, shape):
    ours, theirs = pair
    ours.eval()
    theirs.eval()
    x = paddle.to_tensor(np.random.default_rng(0).normal(size=shape).astype("float32"))
    with paddle.no_grad():
        out_ours, out_theirs = ours(x), theirs(x)
    assert isinstance(out_ours, list) and len(out_ours) == 1
    assert list(out_ours[0].shape) == [shape[0], ours.num_classes, *shape[2:]]
    diff = float(paddle.abs(out_ours[0] - out_theirs[0]).max())
    scale = float(paddle.abs(out_theirs[0]).max())
    assert scale > 1e-3, "outputs are all near zero; the comparison would be vacuous"
    assert diff <= 1e-5, f"max abs diff {diff} (output scale {scale})"


def test_train_mode_output_equals_paddleseg(tmp_path):
    paddle.seed(5)
    theirs = paddleseg_models.PPHumanSegLite(num_classes=2)
    paddle.save(theirs.state_dict(), str(tmp_path / "model.pdparams"))
    ours = PPHumanSegLite(num_classes=2)
    load_pretrained(ours, str(tmp_path))
    ours.train()
    theirs.train()
    x = paddle.rand([2, 3, 97, 131])
    out_ours, out_theirs = ours(x)[0], theirs(x)[0]
    assert float(paddle.abs(out_theirs).max()) > 1e-3
    assert float(paddle.abs(out_ours - out_theirs).max()) <= 1e-5


@pytest.mark.parametrize("num_classes", [2, 3])
def test_train_mode_returns_one_full_size_logit(num_classes):
    model = PPHumanSegLite(num_classes)
    model.train()
    out = model(paddle.rand([2, 3, 97, 131]))
    assert isinstance(out, list) and len(out) == 1
    assert list(out[0].shape) == [2, num_classes, 97, 131]


def test_gradients_reach_every_used_parameter():
    paddle.seed(0)
    model = PPHumanSegLite(2)
    # Normal(0, 0.001) init makes ReLU logits ~0 and gradients vanish; use larger weights.
    with paddle.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("_conv.weight"):
                p.set_value(paddle.normal(0.0, 0.3, p.shape))
    model.train()
    out = model(paddle.rand([2, 3, 64, 96]))[0]
    (out * paddle.rand(out.shape)).sum().backward()
    trainable = [(n, p) for n, p in model.named_parameters() if not p.stop_gradient]
    # BN running statistics are stop-gradient parameters in Paddle.
    assert sum(int(np.prod(p.shape)) for _, p in trainable) == 226806
    for name, p in trainable:
        if _is_unused(name):
            assert p.grad is None, name
        else:
            assert p.grad is not None, name
            assert float(paddle.abs(p.grad).max()) > 0, name


def test_unused_branch_exists_only_as_in_paddleseg():
    model = PPHumanSegLite(2)
    unused = [n for n, p in model.named_parameters() if _is_unused(n) and not p.stop_gradient]
    assert len(unused) == 60
    assert sum(int(np.prod(model.state_dict()[n].shape)) for n in unused) == 95040


def test_init_matches_paddleseg():
    model = PPHumanSegLite(2)
    for name, p in model.state_dict().items():
        value = p.numpy()
        if name.endswith("_conv.weight"):
            assert abs(value.std() - 0.001) < 5e-4, name
        elif name.endswith("_batch_norm.weight") or name.endswith("_variance"):
            assert np.all(value == 1.0), name
        elif name.endswith("_batch_norm.bias") or name.endswith("_mean"):
            assert np.all(value == 0.0), name


def test_registered_and_buildable():
    assert MODELS.get("PPHumanSegLite") is PPHumanSegLite
    model = build({"type": "PPHumanSegLite", "num_classes": 2, "in_channels": 1}, MODELS)
    assert list(model(paddle.rand([1, 1, 32, 48]))[0].shape) == [1, 2, 32, 48]


def test_pretrained_key_is_loaded_by_the_builder_not_the_constructor(tmp_path):
    from humanseg.cvlibs.builder import build_model
    source = PPHumanSegLite(2)
    with paddle.no_grad():
        source.conv_bn0._conv.weight.set_value(paddle.full([36, 3, 3, 3], 0.5))
    paddle.save(source.state_dict(), str(tmp_path / "model.pdparams"))
    assert not np.all(PPHumanSegLite(2, pretrained=str(tmp_path)).conv_bn0._conv.weight.numpy()
                      == 0.5)
    model = build_model({"model": {"type": "PPHumanSegLite", "num_classes": 2,
                                   "pretrained": str(tmp_path)}})
    assert np.all(model.conv_bn0._conv.weight.numpy() == 0.5)


def test_channel_shuffle_interleaves_groups():
    x = paddle.arange(6, dtype="float32").reshape([1, 6, 1, 1])
    assert channel_shuffle(x, 2).flatten().tolist() == [0, 3, 1, 4, 2, 5]
    assert channel_shuffle(x, 3).flatten().tolist() == [0, 2, 4, 1, 3, 5]


def test_static_export_keeps_dynamic_input_size(tmp_path):
    model = PPHumanSegLite(2)
    model.eval()
    spec = [paddle.static.InputSpec([None, 3, None, None], "float32", "x")]
    paddle.jit.save(paddle.jit.to_static(model, input_spec=spec, full_graph=True),
                    str(tmp_path / "model"))
    loaded = paddle.jit.load(str(tmp_path / "model"))
    for shape in ([1, 3, 97, 131], [2, 3, 64, 48]):
        x = paddle.rand(shape)
        out = loaded(x)
        out = out[0] if isinstance(out, (list, tuple)) else out
        assert list(out.shape) == [shape[0], 2, *shape[2:]]
        assert float(paddle.abs(out - model(x)[0]).max()) <= 1e-6

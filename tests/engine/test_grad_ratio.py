"""The gradient diagnostic (config key ``grad_ratio``): exact ratios, linear in the weight, off
by default, and training with it on equals training with it off."""
import json
import math

import numpy as np
import paddle
import pytest

from support import tiny_config
from humanseg.cli import set_seed
from humanseg.cvlibs.checks import check_config, check_grad_ratio
from humanseg.engine.grad_ratio import gradient_ratio, term_gradients
from humanseg.engine.hooks import GradientRatioHook
from humanseg.engine.runner import TrainOptions, build_trainer
from humanseg.errors import ConfigError
from humanseg.models.losses.cross_entropy_loss import CrossEntropyLoss
from humanseg.models.losses.lovasz_loss import LovaszSoftmaxLoss
from humanseg.models.losses.mixed_loss import MixedLoss
from humanseg.models.losses.semantic_connectivity import SemanticConnectivityLoss
from humanseg.models.seg_loss import SegLoss
from humanseg.utils.dist import DistEnv


def tiny_batch(seed=0, n=2, h=24, w=20):
    """Logits of a 1x1 conv on random images (a tiny model) and a blob label."""
    paddle.seed(seed)
    rng = np.random.default_rng(seed)
    conv = paddle.nn.Conv2D(3, 2, 1)
    img = paddle.to_tensor(rng.normal(size=(n, 3, h, w)).astype("float32"))
    label = np.zeros((n, h, w), np.int64)
    label[:, 5:15, 4:12] = 1
    label[:, 18:21, 15:18] = 1
    return conv(img), paddle.to_tensor(label)


def loss_with(lam, lovasz=True):
    losses = [CrossEntropyLoss()] + ([LovaszSoftmaxLoss()] if lovasz else []) \
        + [SemanticConnectivityLoss()]
    coef = [0.8, 0.2, lam] if lovasz else [1.0, lam]
    return SegLoss([MixedLoss(losses, coef)], [1.0])


def norm_of_grad(value, z):
    (g,) = paddle.grad(value, z)
    return float(np.sqrt((g.numpy().astype(np.float64) ** 2).sum()))


def fresh(logits):
    z = logits.detach()
    z.stop_gradient = False
    return z


def test_ratio_equals_the_hand_computation(synthetic_root):
    logits, label = tiny_batch()
    lam = 0.5
    result = gradient_ratio(loss_with(lam), [logits], label)
    # by hand: each term built on its own, differentiated on its own
    scl = norm_of_grad(lam * SemanticConnectivityLoss()(z := fresh(logits), label), z)
    ce = norm_of_grad(0.8 * CrossEntropyLoss()(z := fresh(logits), label), z)
    z = fresh(logits)
    rest = norm_of_grad(0.8 * CrossEntropyLoss()(z, label) + 0.2 * LovaszSoftmaxLoss()(z, label), z)
    assert result["grad_norm_term"] == pytest.approx(scl, rel=1e-5)
    assert result["grad_norm_against"] == pytest.approx(ce, rel=1e-5)
    assert result["grad_ratio"] == pytest.approx(scl / ce, rel=1e-5)
    assert result["grad_ratio_rest"] == pytest.approx(scl / rest, rel=1e-5)
    assert 0 < result["grad_ratio_rest"] and result["grad_ratio"] != result["grad_ratio_rest"]


def test_doubling_lambda_doubles_the_ratio():
    logits, label = tiny_batch(seed=1)
    for lovasz in (True, False):
        one = gradient_ratio(loss_with(0.3, lovasz), [logits], label)
        two = gradient_ratio(loss_with(0.6, lovasz), [logits], label)
        assert two["grad_ratio"] == pytest.approx(2 * one["grad_ratio"], rel=1e-5)
        assert two["grad_ratio_rest"] == pytest.approx(2 * one["grad_ratio_rest"], rel=1e-5)
        assert two["grad_norm_against"] == pytest.approx(one["grad_norm_against"], rel=1e-6)
    alone = gradient_ratio(loss_with(0.3, lovasz=False), [logits], label)
    assert alone["grad_ratio"] == pytest.approx(alone["grad_ratio_rest"], rel=1e-6)  # CE is the rest


def test_term_gradients_leave_the_training_graph_usable():
    logits, label = tiny_batch(seed=2)
    loss = loss_with(1.0)
    total, _ = loss([logits], label)
    term_gradients(loss, [logits], label)
    z = fresh(logits)  # the graph built before the diagnostic still gives the full gradient
    expected = paddle.grad(loss([z], label)[0], z)[0].numpy()
    (after,) = paddle.grad(total, logits)
    np.testing.assert_allclose(after.numpy(), expected, rtol=1e-5, atol=1e-8)


def test_unknown_term_names_the_key_and_the_terms():
    logits, label = tiny_batch()
    with pytest.raises(ConfigError, match=r"grad_ratio.term.*out0.CrossEntropyLoss"):
        gradient_ratio(loss_with(0.1), [logits], label, term="SCL")


@pytest.mark.parametrize("section, match", [
    ({"interval": 0}, "grad_ratio.interval"), ({"every": 5}, "unknown key"),
    ("yes", "expected a mapping"), ({"term": ""}, "grad_ratio.term")])
def test_bad_sections_name_the_key(section, match):
    with pytest.raises(ConfigError, match=match):
        check_grad_ratio(section)


def test_off_by_default_and_accepted_as_a_top_level_key(synthetic_root):
    assert check_grad_ratio(None) is None
    cfg = check_config(tiny_config(synthetic_root, grad_ratio={"interval": 3}))
    assert check_grad_ratio(cfg["grad_ratio"])["term"] == "SemanticConnectivityLoss"


def _train(save_dir, root, grad_ratio):
    set_seed(0)
    changes = {"iters": 4}
    loss = {"types": [{"type": "MixedLoss", "losses": [{"type": "CrossEntropyLoss"},
                                                       {"type": "SemanticConnectivityLoss"}],
                       "coef": [1.0, 0.5]}], "coef": [1]}
    if grad_ratio:
        changes["grad_ratio"] = grad_ratio
    cfg = check_config(tiny_config(root, loss=loss, **changes))
    opts = TrainOptions(save_dir=str(save_dir), save_interval=4, log_iters=2)
    trainer = build_trainer(cfg, "config: text", opts, DistEnv())
    trainer.train()
    return trainer, {k: v.numpy() for k, v in trainer.model.state_dict().items()}


def test_training_with_the_diagnostic_equals_training_without(tmp_path, synthetic_root, caplog):
    off, weights_off = _train(tmp_path / "off", synthetic_root, None)
    assert not any(isinstance(h, GradientRatioHook) for h in off.hooks)
    assert "diagnostics" not in off.state
    with caplog.at_level("INFO"):
        on, weights_on = _train(tmp_path / "on", synthetic_root, {"interval": 3})
    for key in weights_off:
        np.testing.assert_array_equal(weights_on[key], weights_off[key], err_msg=key)
    history = json.loads((tmp_path / "on" / "grad_ratio.json").read_text())
    assert [h["iter"] for h in history] == [1, 3, 4]  # first, every 3rd, last
    assert all(math.isfinite(h["grad_ratio"]) and h["grad_ratio"] > 0 for h in history)
    assert on.state["train_log"]["diagnostics"]["grad_ratio"] == history[-1]["grad_ratio"]
    assert f"grad_ratio={history[-1]['grad_ratio']:.4g}" in caplog.text


def test_visualdl_gets_the_ratio(tmp_path, synthetic_root):
    import glob
    from visualdl import LogReader
    set_seed(0)
    loss = {"types": [{"type": "MixedLoss", "losses": [{"type": "CrossEntropyLoss"},
                                                       {"type": "SemanticConnectivityLoss"}],
                       "coef": [1.0, 0.2]}], "coef": [1]}
    cfg = check_config(tiny_config(synthetic_root, iters=4, loss=loss,
                                   grad_ratio={"interval": 2}))
    opts = TrainOptions(save_dir=str(tmp_path), save_interval=4, log_iters=2, use_vdl=True)
    build_trainer(cfg, "config: text", opts, DistEnv()).train()
    history = json.loads((tmp_path / "grad_ratio.json").read_text())
    reader = LogReader(file_path=glob.glob(str(tmp_path / "vdl_log" / "vdlrecords.*"))[0])
    records = reader.get_data("scalar", "Train/grad_ratio")
    assert [r.id for r in records] == [2, 4]
    assert [r.value for r in records] == pytest.approx(
        [h["grad_ratio"] for h in history if h["iter"] in (2, 4)], rel=1e-6)
    assert "Train/grad_ratio_rest" in reader.get_tags()["scalar"]

"""Optimizers and lr schedulers as PaddleSeg configs spell them."""
import paddle
import pytest

from humanseg.cvlibs.registry import OPTIMIZERS, build
from humanseg.errors import ConfigError
from humanseg.optimizers import build_lr_scheduler


class Net(paddle.nn.Layer):
    def __init__(self):
        super().__init__()
        self.backbone = paddle.nn.Linear(2, 2)
        self.head = paddle.nn.Linear(2, 1)

    def forward(self, x):
        return self.head(self.backbone(x))


def make(cfg, lr=0.1):
    return build(cfg, OPTIMIZERS, "optimizer")(Net(), lr)


def test_paddleseg_spellings():
    assert type(make({"type": "sgd", "momentum": 0.9})) is paddle.optimizer.Momentum
    assert type(make({"type": "sgd"})) is paddle.optimizer.SGD
    assert type(make({"type": "adam"})) is paddle.optimizer.Adam
    assert type(make({"type": "AdamW", "weight_decay": 0.01})) is paddle.optimizer.AdamW
    assert type(make({"type": "Momentum"})) is paddle.optimizer.Momentum


def test_custom_cfg_groups_scale_the_learning_rate():
    net = Net()
    opt = build({"type": "sgd", "backbone_lr_mult": 0.1}, OPTIMIZERS)(net, 1.0)
    before = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    x = paddle.ones([4, 2])
    net(x).sum().backward()
    grads = {n: p.grad.numpy().copy() for n, p in net.named_parameters()}
    opt.step()
    after = {k: v.numpy() for k, v in net.state_dict().items()}
    for name in ("backbone.weight", "head.weight"):
        mult = 0.1 if name.startswith("backbone") else 1.0
        assert (before[name] - after[name]) == pytest.approx(mult * grads[name], rel=1e-5)


def test_bad_group_and_clip():
    with pytest.raises(ConfigError, match="custom_cfg"):
        make({"type": "sgd", "custom_cfg": [{"lr_mult": 0.1}]})
    with pytest.raises(ConfigError, match="grad_clip_cfg"):
        make({"type": "sgd", "grad_clip_cfg": {"name": "Nope"}})
    assert make({"type": "sgd", "grad_clip_cfg": {"name": "ClipGradByNorm", "clip_norm": 1.0}})


def lrs(scheduler, n):
    out = []
    for _ in range(n):
        out.append(scheduler.get_lr())
        scheduler.step()
    return out


def test_poly_decay_defaults_to_iters_and_warmup_wraps():
    s = build_lr_scheduler({"type": "PolynomialDecay", "learning_rate": 0.1, "power": 0.9}, 10)
    values = lrs(s, 11)
    assert values[0] == pytest.approx(0.1) and values[10] == pytest.approx(0.0)
    assert values[5] == pytest.approx(0.1 * 0.5 ** 0.9)
    w = build_lr_scheduler({"type": "PolynomialDecay", "learning_rate": 0.1, "end_lr": 0,
                            "power": 1.0, "warmup_iters": 4, "warmup_start_lr": 0.0}, 14)
    values = lrs(w, 15)
    assert values[:5] == pytest.approx([0.0, 0.025, 0.05, 0.075, 0.1])
    assert values[9] == pytest.approx(0.05) and values[14] == pytest.approx(0.0)


def test_scheduler_errors_name_the_key():
    with pytest.raises(ConfigError, match="decay_step"):
        build_lr_scheduler({"type": "PolynomialDecay", "learning_rate": 0.1, "decay_step": 3}, 10)
    with pytest.raises(ConfigError, match="Poly"):
        build_lr_scheduler({"type": "Poly", "learning_rate": 0.1}, 10)

"""Every registered model builds from a config, trains one step (forward + backward) and returns
the documented number of logits at the input size, in training and in evaluation."""
from __future__ import annotations

import paddle
import paddle.nn.functional as F
import pytest

from humanseg.cvlibs.registry import BACKBONES, MODELS, build
from model_specs import REGISTERED


def test_every_registered_model_is_documented():
    assert set(MODELS.names()) == set(REGISTERED)


def test_backbones_are_registered_and_declare_feat_channels():
    expected = {"HRNet_W18_Small_V1": [240], "HRNet_W18_Small_V2": [270], "HRNet_W18": [270],
                "HRNet_W32": [480], "HRNet_W48": [720]}
    assert set(expected) <= set(BACKBONES.names())
    # Only the cheap ones are built here; the widths of all follow from the same table.
    for name in ("HRNet_W18_Small_V1", "HRNet_W18_Small_V2"):
        assert BACKBONES.get(name)().feat_channels == expected[name]


@pytest.mark.parametrize("name", sorted(REGISTERED))
def test_forward_backward_and_output_counts(name):
    cfg, n_train, n_eval = REGISTERED[name]
    paddle.seed(0)
    model = build(dict(cfg), MODELS, "model")
    n, h, w = 2, 64, 96
    x = paddle.randn([n, 3, h, w])
    label = paddle.randint(0, cfg["num_classes"], [n, h, w])
    model.train()
    logits = model(x)
    assert len(logits) == n_train
    assert all(t.shape == [n, cfg["num_classes"], h, w] for t in logits)
    loss = sum(F.cross_entropy(t, label.unsqueeze(1), axis=1).mean() for t in logits)
    loss.backward()
    grads = [p.grad for p in model.parameters() if not p.stop_gradient]
    assert sum(g is not None and float(g.abs().sum()) > 0 for g in grads) > len(grads) // 2
    model.eval()
    with paddle.no_grad():
        assert len(model(x[:1])) == n_eval


def test_fcn_rejects_nhwc():
    from humanseg.errors import ConfigError
    with pytest.raises(ConfigError, match="NCHW"):
        build({"type": "FCN", "num_classes": 2, "data_format": "NHWC",
               "backbone": {"type": "HRNet_W18_Small_V1"}}, MODELS, "model")


def test_hrnet_variant_rejects_architecture_overrides():
    from humanseg.errors import ConfigError
    with pytest.raises(ConfigError, match="stage2_num_channels"):
        build({"type": "HRNet_W18", "stage2_num_channels": [8, 16]}, BACKBONES, "backbone")


@pytest.mark.parametrize("model_type", ["FCN", "OCRNet"])
def test_backbone_indices_out_of_range_is_a_config_error(model_type):
    from humanseg.errors import ConfigError
    with pytest.raises(ConfigError, match=r"backbone_indices \[1\].*\[-1, 0\]"):
        build({"type": model_type, "num_classes": 2, "backbone_indices": [1],
               "backbone": {"type": "HRNet_W18_Small_V1"}}, MODELS, "model")

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


# The MobileNetV3 and STDC widths are PaddleSeg's (checked against it in test_paddleseg_parity).
FEAT_CHANNELS = {
    "HRNet_W18_Small_V1": [240], "HRNet_W18_Small_V2": [270], "HRNet_W18": [270],
    "HRNet_W32": [480], "HRNet_W48": [720],
    "MobileNetV3_small_x0_35": [8, 8, 16, 32], "MobileNetV3_small_x0_5": [8, 16, 24, 48],
    "MobileNetV3_small_x0_75": [16, 24, 40, 72], "MobileNetV3_small_x1_0": [16, 24, 48, 96],
    "MobileNetV3_small_x1_25": [24, 32, 64, 120],
    "MobileNetV3_small_x1_0_os8": [16, 24, 48, 96],
    "MobileNetV3_large_x0_35": [8, 16, 40, 56], "MobileNetV3_large_x0_5": [16, 24, 56, 80],
    "MobileNetV3_large_x0_75": [24, 32, 88, 120], "MobileNetV3_large_x1_0": [24, 40, 112, 160],
    "MobileNetV3_large_x1_25": [32, 48, 144, 200],
    "MobileNetV3_large_x1_0_os8": [24, 40, 112, 160],
    "STDC1": [32, 64, 256, 512, 1024], "STDC2": [32, 64, 256, 512, 1024],
}
# HRNet_W18/W32/W48 take seconds to build; their widths follow from the same table as the small ones.
CHEAP = [n for n in FEAT_CHANNELS if not n.startswith(("HRNet_W18", "HRNet_W32", "HRNet_W48"))
         or "Small" in n]


def test_backbones_are_registered():
    assert set(FEAT_CHANNELS) <= set(BACKBONES.names())


@pytest.mark.parametrize("name", CHEAP)
def test_backbone_declares_feat_channels(name):
    backbone = BACKBONES.get(name)()
    assert backbone.feat_channels == FEAT_CHANNELS[name]
    assert backbone.pretrained is None


@pytest.mark.parametrize("name,stride", [("MobileNetV3_small_x1_0", 32),
                                         ("MobileNetV3_large_x1_0_os8", 8),
                                         ("MobileNetV3_small_x1_0_os8", 8), ("STDC1", 32)])
def test_backbone_outputs_match_feat_channels(name, stride):
    backbone = BACKBONES.get(name)()
    backbone.eval()
    with paddle.no_grad():
        feats = backbone(paddle.randn([1, 3, 64, 64]))
    assert [f.shape[1] for f in feats] == backbone.feat_channels
    assert feats[-1].shape[2:] == [64 // stride, 64 // stride]


def test_constructors_store_pretrained_and_load_nothing():
    # A path that does not exist: a constructor that tried to load it would fail.
    missing = "/nonexistent/model.pdparams"
    backbone = BACKBONES.get("MobileNetV3_small_x0_35")(pretrained=missing)
    assert backbone.pretrained == missing
    model = build({"type": "MobileSeg", "num_classes": 2, "pretrained": missing,
                   "backbone": {"type": "MobileNetV3_small_x0_35", "pretrained": missing}},
                  MODELS, "model")
    assert model.pretrained == missing and model.backbone.pretrained == missing
    assert build({"type": "STDC1", "pretrained": missing}, BACKBONES).pretrained == missing


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


@pytest.mark.parametrize("cfg,match", [
    ({"type": "PPLiteSeg", "arm_type": "UAFM_Nope"}, "arm_type 'UAFM_Nope'.*UAFM_SpAtten"),
    ({"type": "PPLiteSeg", "backbone_indices": [4]}, "at least two"),
    ({"type": "PPLiteSeg", "backbone_indices": [3, 5]}, r"backbone_indices \[3, 5\].*\[-5, 4\]"),
    ({"type": "MobileSeg", "arm_out_chs": [8, 16]}, "arm_out_chs .* 1 or 3 values"),
    ({"type": "PPLiteSeg", "seg_head_inter_chs": [8, 16]}, "seg_head_inter_chs .* 1 or 3 values"),
], ids=["arm_type", "one_index", "index_range", "arm_out_chs", "seg_head_inter_chs"])
def test_pp_liteseg_family_argument_errors(cfg, match):
    from humanseg.errors import ConfigError
    backbone = "STDC1" if cfg["type"] == "PPLiteSeg" else "MobileNetV3_small_x0_35"
    with pytest.raises(ConfigError, match=match):
        build({**cfg, "num_classes": 2, "backbone": {"type": backbone}}, MODELS, "model")


@pytest.mark.parametrize("cfg,match", [
    ({"type": "MobileNetV3_large_x1_0", "scale": 0.5}, "fixes scale"),
    ({"type": "MobileNetV3", "config": "tiny"}, "unknown config 'tiny'"),
    ({"type": "STDC2", "layers": [1, 1, 1]}, "fixes layers"),
    ({"type": "STDCNet", "block_type": "sum"}, "'cat' or 'add'"),
], ids=["mv3_scale", "mv3_config", "stdc_layers", "stdc_block_type"])
def test_backbone_argument_errors(cfg, match):
    from humanseg.errors import ConfigError
    with pytest.raises(ConfigError, match=match):
        build(cfg, BACKBONES, "backbone")


def test_stdcnet_add_blocks_build_and_run():
    # PaddleSeg cannot build type="add" (its AddBottleneck passes relative_lr to LayerList.append);
    # ours follows the STDC paper's AddBottleneck.
    backbone = BACKBONES.get("STDCNet")(base=16, layers=[1, 1, 1], block_type="add")
    feats = backbone(paddle.randn([1, 3, 64, 64]))
    assert [f.shape[1] for f in feats] == backbone.feat_channels == [8, 16, 64, 128, 256]

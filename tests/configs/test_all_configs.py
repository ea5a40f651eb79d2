"""Every config in configs/ loads, passes the checks and builds (datasets on the synthetic set)."""
import glob
import os

import paddle
import pytest

from humanseg.cli import load_checked_config
from humanseg.cvlibs.builder import SegBuilder
from humanseg.cvlibs.checks import EVAL_KEYS, TRAIN_KEYS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIGS = sorted(p for p in glob.glob(os.path.join(ROOT, "configs", "**", "*.yml"), recursive=True)
                 if os.sep + "_base_" + os.sep not in p)


def test_there_are_configs():
    assert len(CONFIGS) >= 3


@pytest.fixture(scope="session")
def street_root(tmp_path_factory):
    """A tiny converted synthetic Cityscapes set for the configs on Cityscapes."""
    from humanseg.datasets.cityscapes_labels import convert_dataset
    from humanseg.datasets.synthetic.cityscapes import make_synthetic_cityscapes
    root = tmp_path_factory.mktemp("cityscapes") / "set"
    make_synthetic_cityscapes(root, num_train=2, num_val=1, size=(128, 64), progress=False)
    convert_dataset(str(root), progress=False)
    return str(root)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: os.path.relpath(p, ROOT))
def test_config_builds(path, synthetic_root, street_root):
    raw = load_checked_config(path, required=("model",))
    trainable = all(k in raw for k in TRAIN_KEYS)
    opts = [f"{k}.dataset_root="
            f"{street_root if raw[k].get('type') == 'Cityscapes' else synthetic_root}"
            for k in ("train_dataset", "val_dataset") if k in raw]
    opts += [f"model.pretrained=null"] if "model" in raw else []
    if isinstance(raw.get("model", {}).get("backbone"), dict):
        opts.append("model.backbone.pretrained=null")  # configs/cityscapes name ssld URLs
    cfg = load_checked_config(path, opts, required=TRAIN_KEYS if trainable else EVAL_KEYS)
    b = SegBuilder(cfg)
    model = b.model
    model.eval()
    h, w = 64, 96
    with paddle.no_grad():
        out = model(paddle.zeros([1, 3, h, w]))
    assert out[0].shape == [1, cfg["model"]["num_classes"], h, w]
    if "val_dataset" in cfg:
        assert len(b.val_dataset) > 0
    if trainable:
        assert len(b.train_dataset) > 0
        b.optimizer, b.lr_scheduler
        model.train()
        logits = model(paddle.zeros([2, 3, h, w]))
        total, terms = b.loss(logits, paddle.zeros([2, h, w], dtype="int64"))
        assert terms and float(total) >= 0

"""Training equals PaddleSeg 2.8.0's own loop, bit for bit.

One YAML (PaddleSeg keys, a file-list ``Dataset``, Resize + Normalize, SGD with momentum,
PolynomialDecay, cross-entropy) is trained for 6 iterations twice, from the same initial
weights and the same seed: by humanseg's ``tools/train.py`` (its ``main(argv)``, in process) and by
``paddleseg.core.train`` on what PaddleSeg's ``Config``/``SegBuilder`` build from the same file,
in the order PaddleSeg's ``tools/train.py`` does it (seed, build, train). The ``iter_6``
checkpoints must hold the same parameters, BN statistics and momentum buffers to the last bit.

Both loaders yield the same batch at every step: the file list holds one image twice and the
batch size is 2, so neither shuffle order nor drop_last can matter. The models with dropout
(OCRNet, Fast-SCNN) also need Paddle's RNG in the same state at the first step on both sides:
both seed, then build the model (random init consumes the RNG), then train.

PaddleSeg's loop needs three fixes to run on Paddle 3 (``/work/shared/reference/ecosystem.md``
section 5); they are applied here to copies of its code, never to site-packages.
"""
from __future__ import annotations

import importlib.util
import inspect
import os
import random
import re
import sys
import textwrap
import time
import types

import cv2
import numpy as np
import paddle
import pytest
import yaml

from support import TOOLS, import_oracle

import_oracle("paddleseg")

ITERS = 6
SEED = 42
SIZE = [64, 64]  # HRNet needs a multiple of 32

# paddle.flops (end of PaddleSeg's train) does int() on shape-[1] tensors: numpy 2.3 warns
pytestmark = pytest.mark.filterwarnings(
    "ignore:Conversion of an array with ndim > 0 to a scalar:DeprecationWarning")

# id -> (model section, loss section, state-dict keys no training step can change)
CASES = {
    "fcn_hrnet_w18": (
        {"type": "FCN", "backbone": {"type": "HRNet_W18", "align_corners": False},
         "num_classes": 2, "backbone_indices": [-1]},
        {"types": [{"type": "CrossEntropyLoss"}], "coef": [1]}, None),
    "ocrnet_hrnet_w18": (
        {"type": "OCRNet", "backbone": {"type": "HRNet_W18"}, "num_classes": 2,
         "backbone_indices": [0]},
        {"types": [{"type": "CrossEntropyLoss"}, {"type": "CrossEntropyLoss"}], "coef": [1, 0.4]},
        None),
    "fastscnn_aux": (
        {"type": "FastSCNN", "num_classes": 2, "enable_auxiliary_loss": True},
        {"types": [{"type": "CrossEntropyLoss"}], "coef": [1.0, 0.4]}, None),
    # PaddleSeg's stride-1 InvertedResidual builds _depthwise_separable_0 and never calls it
    "pphumanseg_lite": (
        {"type": "PPHumanSegLite", "num_classes": 2, "align_corners": False},
        {"types": [{"type": "CrossEntropyLoss"}], "coef": [1]},
        r"^block[12]\.[1-9]\._depthwise_separable_0\."),
}


# ---------------------------------------------------------------- PaddleSeg on Paddle 3
def _patched_function(func, old: str, new: str, count: int = 1):
    """``func`` recompiled from its source with ``old`` -> ``new``, in its module's globals."""
    source = textwrap.dedent(inspect.getsource(func))
    assert source.count(old) == count, f"PaddleSeg changed: {old!r} in {func.__qualname__}"
    namespace: dict = {}
    exec(compile(source.replace(old, new), inspect.getsourcefile(func), "exec"),
         func.__globals__, namespace)
    return namespace[func.__name__]


@pytest.fixture
def paddleseg_train(monkeypatch):
    """``paddleseg.core.train`` runnable on Paddle 3.3 (the three fixes of ecosystem.md s5).

    1. cross_entropy ``_post_process_loss``: ``ones_like(label)`` is int64 and Paddle 3 does not
       promote it against float32: made float32 (monkeypatched on the class, undone after).
    2. core/train.py's logging: ``l[0] / log_iters`` indexes a 0-D array: ``l / log_iters``, in a
       private copy of the module (whose ``time.sleep(1)`` at the end is skipped, too).
    3. utils/metrics.py ``calculate_area`` concatenates 0-D sums: stacked (only evaluation
       reaches it; it is patched so that the fixture runs PaddleSeg as ecosystem.md describes).
    ``paddle.flops`` at the end of ``train`` works with numpy 2.3 (it warns, filtered above)
    and stays; it runs after the checkpoint the test reads is written.
    """
    from paddleseg.models.losses.cross_entropy_loss import CrossEntropyLoss
    from paddleseg.utils import metrics

    monkeypatch.setattr(CrossEntropyLoss, "_post_process_loss", _patched_function(
        CrossEntropyLoss._post_process_loss, "coef = paddle.ones_like(label)",
        "coef = paddle.ones_like(label, dtype='float32')"))
    monkeypatch.setattr(metrics, "calculate_area", _patched_function(
        metrics.calculate_area, "paddle.concat(", "paddle.stack(", count=3))

    module = sys.modules["paddleseg.core.train"]  # paddleseg.core.train is the function
    source = inspect.getsource(module)
    assert source.count("l[0] / log_iters") == 1, "PaddleSeg changed: core/train.py logging"
    source = source.replace("l[0] / log_iters", "l / log_iters")
    copy = types.ModuleType("paddleseg.core.train")
    copy.__file__ = module.__file__
    exec(compile(source, module.__file__, "exec"), copy.__dict__)
    copy.time = types.SimpleNamespace(time=time.time, sleep=lambda seconds: None)
    return copy.train


def run_paddleseg(train, config_path: str, save_dir: str, seed: int):
    """What PaddleSeg's tools/train.py does, without eval and VisualDL: seed, build, train."""
    from paddleseg.cvlibs import Config, SegBuilder
    random.seed(seed)
    np.random.seed(seed)
    paddle.seed(seed)
    cfg = Config(config_path)
    builder = SegBuilder(cfg)
    model = builder.model
    train(model, builder.train_dataset, val_dataset=None, optimizer=builder.optimizer,
          save_dir=save_dir, iters=cfg.iters, batch_size=cfg.batch_size, save_interval=1000,
          log_iters=3, num_workers=0, use_vdl=False, losses=builder.loss)
    return model


# ---------------------------------------------------------------- humanseg
def run_humanseg(config_path: str, save_dir: str, seed: int) -> None:
    """``tools/train.py`` as a user runs it, in this process."""
    spec = importlib.util.spec_from_file_location("_humanseg_tools_train",
                                                  os.path.join(TOOLS, "train.py"))
    tool = importlib.util.module_from_spec(spec)
    sys.path.insert(0, TOOLS)  # for its `import _bootstrap`
    try:
        spec.loader.exec_module(tool)
    finally:
        sys.path.remove(TOOLS)
    try:
        tool.main(["--config", config_path, "--save_dir", save_dir, "--iters", str(ITERS),
                   "--seed", str(seed), "--log_iters", "3"])
    finally:  # the tool logs to <save_dir>/train.log: close that file
        from humanseg.utils.logger import logger
        for handler in [h for h in logger.handlers
                        if getattr(h, "baseFilename", "").startswith(save_dir)]:
            logger.removeHandler(handler)
            handler.close()


# ---------------------------------------------------------------- set-up and comparison
def write_case(tmp, model_cfg: dict, loss_cfg: dict, init_path: str) -> str:
    """One 96x80 image and its label (classes 0/1 and ignored rows), listed twice; the config."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (80, 96, 3), dtype=np.uint8)
    image[20:60, 30:70] //= 3  # the object is darker than the noise around it
    label = np.zeros((80, 96), np.uint8)
    label[20:60, 30:70] = 1
    label[:4] = 255
    assert cv2.imwrite(str(tmp / "img.png"), image) and cv2.imwrite(str(tmp / "lab.png"), label)
    (tmp / "train.txt").write_text("img.png lab.png\nimg.png lab.png\n")
    cfg = {
        "batch_size": 2, "iters": ITERS,
        "train_dataset": {"type": "Dataset", "mode": "train", "dataset_root": str(tmp),
                          "train_path": str(tmp / "train.txt"), "num_classes": 2,
                          "transforms": [{"type": "Resize", "target_size": SIZE},
                                         {"type": "Normalize"}]},
        "optimizer": {"type": "sgd", "momentum": 0.9, "weight_decay": 4.0e-5},
        "lr_scheduler": {"type": "PolynomialDecay", "learning_rate": 0.01, "end_lr": 0,
                         "power": 0.9},
        "loss": loss_cfg,
        "model": {**model_cfg, "pretrained": init_path},
    }
    path = tmp / "config.yml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return str(path)


def paddleseg_model(model_cfg: dict):
    import paddleseg.models as ps
    kwargs = {k: v for k, v in model_cfg.items() if k != "type"}
    if "backbone" in kwargs:
        backbone = dict(kwargs["backbone"])
        kwargs["backbone"] = getattr(ps.backbones, backbone.pop("type"))(**backbone)
    return getattr(ps, model_cfg["type"])(**kwargs)


def arrays(path: str) -> dict[str, np.ndarray]:
    return {k: v.numpy() if isinstance(v, paddle.Tensor) else v
            for k, v in paddle.load(path).items()}


def velocities(opt_path: str, names: dict[str, str] | None = None) -> dict[str, np.ndarray]:
    """Momentum buffers keyed by structured parameter name; ``names`` maps PaddleSeg's global
    parameter names (``conv2d_3.w_0``) to structured ones, humanseg's keys are ``@<name>_...``."""
    out = {}
    for key, value in arrays(opt_path).items():
        if not key.endswith("_velocity_0"):
            continue
        param = key[:-len("_velocity_0")]
        out[param[1:] if names is None else names[param]] = value
    return out


@pytest.mark.parametrize("case", list(CASES))
def test_training_equals_paddleseg_train_bit_for_bit(case, tmp_path, paddleseg_train):
    model_cfg, loss_cfg, frozen = CASES[case]
    init_path = str(tmp_path / "init.pdparams")
    paddle.seed(123)
    init_model = paddleseg_model(model_cfg)
    paddle.save(init_model.state_dict(), init_path)
    init = arrays(init_path)
    del init_model
    config = write_case(tmp_path, model_cfg, loss_cfg, init_path)

    run_humanseg(config, str(tmp_path / "humanseg"), SEED)
    ps_model = run_paddleseg(paddleseg_train, config, str(tmp_path / "paddleseg"), SEED)

    ours = arrays(str(tmp_path / "humanseg" / f"iter_{ITERS}" / "model.pdparams"))
    theirs = arrays(str(tmp_path / "paddleseg" / f"iter_{ITERS}" / "model.pdparams"))
    assert list(ours) == list(theirs) == list(init)
    differ = [k for k in theirs if ours[k].dtype != theirs[k].dtype
              or not np.array_equal(ours[k], theirs[k])]
    assert not differ, (f"{len(differ)} of {len(theirs)} entries differ from PaddleSeg's, e.g. "
                        + ", ".join(f"{k} (max abs {np.abs(ours[k] - theirs[k]).max():.3g})"
                                    for k in differ[:5]))
    unchanged = [k for k in theirs if np.array_equal(theirs[k], init[k])]
    assert all(frozen and re.match(frozen, k) for k in unchanged), unchanged[:10]
    assert len(unchanged) < len(theirs) / 3

    names = {p.name: n for n, p in ps_model.named_parameters()}
    v_ours = velocities(str(tmp_path / "humanseg" / f"iter_{ITERS}" / "model.pdopt"))
    v_theirs = velocities(str(tmp_path / "paddleseg" / f"iter_{ITERS}" / "model.pdopt"), names)
    assert sorted(v_ours) == sorted(v_theirs) and len(v_ours) > 0
    assert not [k for k in v_theirs if not np.array_equal(v_ours[k], v_theirs[k])]

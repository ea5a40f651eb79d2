"""The run as tools/train.py wires it (in-process): VisualDL logs read back, precision and SyncBN
choices, scaler state in checkpoints, NaN policies, and config mistakes caught before step one."""
import glob
import math

import cv2
import numpy as np
import paddle
import pytest

from support import tiny_config
from humanseg.cvlibs.checks import check_config
from humanseg.engine.amp import Precision
from humanseg.engine.hooks import CheckpointHook
from humanseg.engine.preflight import dry_check
from humanseg.engine.runner import TrainOptions, build_trainer
from humanseg.engine.trainer import TrainingDiverged
from humanseg.errors import ConfigError
from humanseg.utils.checkpoint import load_checkpoint, save_checkpoint
from humanseg.utils.dist import DistEnv, resolve_sync_bn
from humanseg.utils.visualize import pseudo_color


def build(tmp_path, root, options=None, dist=None, **changes):
    from humanseg.cli import set_seed
    set_seed(0)
    cfg = check_config(tiny_config(root, **changes))
    opts = TrainOptions(save_dir=str(tmp_path / "run"), save_interval=2, log_iters=2,
                        **(options or {}))
    return build_trainer(cfg, "config: text", opts, dist or DistEnv())


def weights(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def test_visualdl_scalars_and_panels_read_back(tmp_path, synthetic_root):
    from visualdl import LogReader
    trainer = build(tmp_path, synthetic_root, {"use_vdl": True, "do_eval": True}, iters=4)
    trainer.train()
    files = glob.glob(str(tmp_path / "run" / "vdl_log" / "vdlrecords.*"))
    assert len(files) == 1
    reader = LogReader(file_path=files[0])
    tags = reader.get_tags()
    scalars = set(tags["scalar"])
    assert {"Train/loss", "Train/out0.CrossEntropyLoss", "Train/out0.LovaszSoftmaxLoss",
            "Train/lr", "Train/batch_cost", "Train/reader_cost", "Evaluate/mIoU", "Evaluate/Acc",
            "Evaluate/Kappa", "Evaluate/Dice", "Evaluate/class_IoU/0"} <= scalars
    eval_metrics = trainer.state["eval"]
    if "connectivity" in eval_metrics:
        assert "Evaluate/connectivity" in scalars
    loss = reader.get_data("scalar", "Train/loss")
    assert [r.id for r in loss] == [2, 4]
    miou = reader.get_data("scalar", "Evaluate/mIoU")
    assert [r.id for r in miou] == [2, 4]
    assert miou[-1].value == pytest.approx(eval_metrics["miou"], abs=1e-6)
    lr = reader.get_data("scalar", "Train/lr")
    assert lr[-1].value == pytest.approx(trainer.state["lr"], rel=1e-6)

    assert set(tags["image"]) == {"Evaluate/panel_0", "Evaluate/panel_1"}
    records = reader.get_data("image", "Evaluate/panel_0")
    assert [r.id for r in records] == [2, 4]
    png = np.frombuffer(records[-1].image.encoded_image_string, np.uint8)
    panel = cv2.cvtColor(cv2.imdecode(png, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    from humanseg.engine.hooks import VisualDLHook
    val = next(h for h in trainer.hooks if isinstance(h, VisualDLHook)).val_dataset
    label = val[0]["label"].reshape(panel.shape[0], -1)
    h, w = label.shape
    assert panel.shape == (h, 3 * w, 3), "input | prediction | label"
    np.testing.assert_array_equal(panel[:, 2 * w:], pseudo_color(label))


def test_precision_on_cpu_runs_fp32_and_says_so():
    p = Precision("fp16", "cpu")
    assert p.precision == "fp32" and not p.enabled and p.scaler is None
    assert "running fp32 on cpu" in p.message
    assert Precision("bf16", "cpu").precision == "fp32"
    with pytest.raises(ConfigError, match="--precision"):
        Precision("fp8", "cpu")


class FakeScaler:
    """Stands in for a GPU GradScaler (disabled on CPU, where its state is empty)."""

    def __init__(self):
        self.state = {"scale": np.array([1024.0], np.float32), "incr_count": 3}

    def scale(self, loss):
        return loss

    def step(self, optimizer):
        optimizer.step()

    def update(self):
        self.state["incr_count"] += 1

    def state_dict(self):
        return dict(self.state)

    def load_state_dict(self, state):
        self.state = dict(state)


def test_checkpoint_holds_the_scaler_state(tmp_path, synthetic_root):
    trainer = build(tmp_path, synthetic_root, iters=2)
    trainer.precision.scaler = FakeScaler()
    trainer.train()
    other = build(tmp_path, synthetic_root, iters=2)
    other.precision.scaler = FakeScaler()
    other.precision.scaler.state = {}
    state = load_checkpoint(str(tmp_path / "run" / "iter_2"), other.model, other.optimizer)
    other.load_train_state(state)
    assert other.precision.scaler.state["incr_count"] == 5  # 3 + one update per step
    assert float(other.precision.scaler.state["scale"][0]) == 1024.0


@pytest.mark.parametrize("setting,device,world,expected", [
    ("auto", "cpu", 1, (False, "plain")), ("auto", "cpu", 2, (False, "no CPU kernel")),
    (True, "cpu", 2, (False, "no CPU kernel")), ("auto", "gpu", 2, (True, "SyncBatchNorm")),
    (True, "gpu", 2, (True, "SyncBatchNorm")), (False, "gpu", 2, (False, "sync_bn: false")),
    ("auto", "gpu", 1, (False, "single process"))])
def test_sync_bn_only_where_it_has_a_kernel(setting, device, world, expected):
    use, message = resolve_sync_bn(setting, device, DistEnv(0, world))
    assert use == expected[0] and expected[1] in message


def nan_at(loss_fn, bad_iters, trainer):
    """A loss that is NaN at the given (1-based) iterations."""
    def loss(logits, label):
        total, terms = loss_fn(logits, label)
        if trainer.iter + 1 in bad_iters:
            name = next(iter(terms))
            terms = {**terms, name: terms[name] * float("nan")}
            total = sum(terms.values())
        return total, terms
    return loss


def test_nan_stops_naming_iteration_terms_and_last_checkpoint(tmp_path, synthetic_root):
    trainer = build(tmp_path, synthetic_root, iters=6)
    trainer.loss_fn = nan_at(trainer.loss_fn, {3}, trainer)
    with pytest.raises(TrainingDiverged) as e:
        trainer.train()
    message = str(e.value)
    assert "iteration 3" in message and "out0.CrossEntropyLoss=nan" in message
    assert "out0.LovaszSoftmaxLoss=" in message
    assert f"Last good checkpoint: {tmp_path / 'run' / 'iter_2'}" in message
    assert "nan_policy: skip" in message


def test_nan_skip_drops_the_update_and_counts(tmp_path, synthetic_root):
    trainer = build(tmp_path, synthetic_root, iters=6, nan_policy="skip")
    trainer.hooks = [h for h in trainer.hooks if not isinstance(h, CheckpointHook)]
    trainer.loss_fn = nan_at(trainer.loss_fn, {3, 5}, trainer)
    seen = []
    for _ in range(6):
        before = weights(trainer.model)
        trainer.run_step()
        trainer.iter += 1
        seen.append((trainer.state["skipped"], before, weights(trainer.model)))
    assert trainer.nan_skips == 2 and trainer.train_state()["nan_skips"] == 2
    for i, (skipped, before, after) in enumerate(seen, start=1):
        assert skipped == (i in (3, 5))
        changed = [k for k in before if not np.array_equal(before[k], after[k])]
        if skipped:  # neither the weights nor the BN statistics the bad forward pass updated
            assert not changed, f"iteration {i}: {changed[:3]}"
        else:
            assert changed, f"iteration {i}"
    assert math.isfinite(trainer.state["loss"])


@pytest.mark.parametrize("change,needles", [
    ({"loss": {"types": [{"type": "CrossEntropyLoss"}], "coef": [1, 0.4]}},
     ["returned 1 output", "loss.types"]),
    ({"optimizer": {"type": "sgdd"}}, ["sgdd", "Did you mean: sgd"]),
    ({"lr_scheduler": {"type": "PolynomialDecai", "learning_rate": 0.1}},
     ["PolynomialDecai", "PolynomialDecay"]),
    ({"batch_size": 64}, ["fewer than batch_size 64", "lower batch_size"]),
    ({"nan_policy": "ignore"}, ["nan_policy", "stop or skip"]),
    ({"sync_bn": "yes"}, ["sync_bn", "auto, true or false"]),
])
def test_config_mistakes_caught_before_the_first_step(tmp_path, synthetic_root, change, needles):
    with pytest.raises(ConfigError) as e:
        build(tmp_path, synthetic_root, **change)
    for needle in needles:
        assert needle in str(e.value)


def test_num_classes_disagreement_names_the_keys(synthetic_root):
    cfg = tiny_config(synthetic_root)
    cfg["model"]["num_classes"] = 3
    with pytest.raises(ConfigError, match="model.num_classes=3"):
        check_config(cfg)


def test_unreachable_pretrained_url_says_how_to_fix(tmp_path, synthetic_root, monkeypatch):
    monkeypatch.setenv("HUMANSEG_CACHE", str(tmp_path / "cache"))
    cfg = tiny_config(synthetic_root)
    cfg["model"]["pretrained"] = "http://127.0.0.1:9/pp_humanseg_lite/model.pdparams"
    with pytest.raises(ConfigError) as e:
        build(tmp_path, synthetic_root, model=cfg["model"])
    message = str(e.value)
    assert "cannot download" in message and "model.pretrained" in message
    assert "--opts model.pretrained=/path/to/model.pdparams" in message
    assert "model.pretrained=null" in message


class ThreeChannels(paddle.nn.Layer):
    def __init__(self):
        super().__init__()
        self.conv = paddle.nn.Conv2D(3, 3, 1)
        self.bn = paddle.nn.BatchNorm2D(3)

    def forward(self, x):
        return [self.bn(self.conv(x))]


def test_dry_check_catches_output_channels_and_leaves_no_trace(synthetic_root):
    from humanseg.cvlibs.builder import SegBuilder
    b = SegBuilder(check_config(tiny_config(synthetic_root)))
    with pytest.raises(ConfigError, match="3 channels but the datasets have num_classes=2"):
        dry_check(ThreeChannels(), b.loss, b.train_dataset, 2)
    model = b.model
    before = weights(model)
    rng = (np.random.get_state()[1].copy(), paddle.get_rng_state()[0].current_seed())
    terms = dry_check(model, b.loss, b.train_dataset, 2)
    assert terms == ["out0.CrossEntropyLoss", "out0.LovaszSoftmaxLoss"]
    after = weights(model)
    assert all(np.array_equal(before[k], after[k]) for k in before), "BN statistics changed"
    assert np.array_equal(rng[0], np.random.get_state()[1])


def test_checkpoint_save_survives_a_kill_between_the_renames(tmp_path, synthetic_root):
    """A save killed after moving the old folder aside: the next run puts the new one in place."""
    import os
    import shutil
    from humanseg.utils.checkpoint import list_checkpoints, remove_stale_temporaries
    trainer = build(tmp_path, synthetic_root, iters=2)
    save_dir = str(tmp_path / "run")
    path = save_checkpoint(save_dir, 2, trainer.model, trainer.optimizer, trainer.train_state())
    dead = 2 ** 22 + 12345  # no such pid
    shutil.copytree(path, os.path.join(save_dir, f".iter_2.tmp-{dead}"))
    os.rename(path, os.path.join(save_dir, f".iter_2.tmp-{dead}.old"))
    os.makedirs(os.path.join(save_dir, f".iter_4.tmp-{dead}"))  # killed mid-write
    assert list_checkpoints(save_dir) == []
    remove_stale_temporaries(save_dir)
    assert [i for i, _ in list_checkpoints(save_dir)] == [2]
    assert sorted(os.listdir(save_dir)) == ["iter_2"]

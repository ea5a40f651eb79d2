"""The trainer in-process: it learns, it is reproducible, and resume continues exactly."""
import numpy as np
import paddle
import pytest

from support import tiny_config
from humanseg.cvlibs.builder import SegBuilder
from humanseg.cvlibs.checks import check_config
from humanseg.datasets.loader import build_train_loader
from humanseg.engine.hooks import CheckpointHook
from humanseg.engine.trainer import Trainer, TrainingDiverged
from humanseg.utils.checkpoint import list_checkpoints, load_checkpoint, resolve_resume


def make_trainer(root, iters, seed=0, save_dir=None, save_interval=2, **changes):
    from humanseg.cli import set_seed
    set_seed(seed)
    cfg = check_config(tiny_config(root, iters=iters, **changes))
    b = SegBuilder(cfg)
    sampler, loader = build_train_loader(b.train_dataset, cfg["batch_size"], seed=seed)
    hooks = [CheckpointHook(str(save_dir), save_interval, keep_max=2)] if save_dir else []
    return Trainer(b.model, b.loss, b.optimizer, b.lr_scheduler, sampler, loader, iters, hooks)


def weights(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def test_same_seed_same_weights_and_loss_decreases(synthetic_root):
    a = make_trainer(synthetic_root, 6)
    a.train()
    b = make_trainer(synthetic_root, 6)
    losses = []
    for _ in range(6):
        b.run_step()
        b.iter += 1
        losses.append(b.state["loss"])
    wa, wb = weights(a.model), weights(b.model)
    assert all(np.array_equal(wa[k], wb[k]) for k in wa)
    assert b.state["terms"].keys() == {"out0.CrossEntropyLoss", "out0.LovaszSoftmaxLoss"}
    assert losses[-1] < losses[0]
    c = make_trainer(synthetic_root, 2, seed=1)
    c.train()
    assert not all(np.array_equal(wa[k], v) for k, v in weights(c.model).items())


def test_epochs_roll_over_and_lr_follows_the_schedule(synthetic_root):
    t = make_trainer(synthetic_root, 100)  # the schedule decays over 100 iterations
    per_epoch = t.sampler.batches_per_epoch()
    t.max_iters = per_epoch + 1
    t.train()
    assert t.epoch == 1 and t.batch_in_epoch == 1
    expected = 0.05 * (1 - per_epoch / 100) ** 0.9
    assert t.state["lr"] == pytest.approx(expected, rel=1e-5)


def test_resume_equals_uninterrupted_run(tmp_path, synthetic_root):
    full = make_trainer(synthetic_root, 12, save_dir=tmp_path / "full")
    full.train()
    stopped = make_trainer(synthetic_root, 12, save_dir=tmp_path / "part")
    stopped.max_iters = 10  # "killed" after the checkpoint at iteration 10, mid-epoch 2
    stopped.train()
    assert [i for i, _ in list_checkpoints(str(tmp_path / "part"))] == [8, 10]
    resumed = make_trainer(synthetic_root, 12, seed=123)  # fresh process state, other seed
    path = resolve_resume("auto", str(tmp_path / "part"))
    resumed.load_train_state(load_checkpoint(path, resumed.model, resumed.optimizer))
    assert resumed.iter == 10
    resumed.train()
    wf, wr = weights(full.model), weights(resumed.model)
    assert all(np.array_equal(wf[k], wr[k]) for k in wf), "resumed run differs"
    assert resumed.optimizer.get_lr() == full.optimizer.get_lr()


def test_nan_loss_stops_with_a_clear_error(synthetic_root):
    t = make_trainer(synthetic_root, 3)
    t.loss_fn = lambda logits, label: (paddle.to_tensor(float("nan")), {})
    with pytest.raises(TrainingDiverged, match="diverged"):
        t.train()

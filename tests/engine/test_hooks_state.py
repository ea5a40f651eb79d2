"""Hooks keep their state through a resume: the best model, the log averages, every hook's
``state_dict`` in the checkpoint."""
import json
import os

import pytest

from support import tiny_config
from humanseg.cli import set_seed
from humanseg.cvlibs.checks import check_config
from humanseg.engine.hooks import BestModelSaver, EvalHook, Hook, LoggerHook
from humanseg.engine.runner import TrainOptions, build_trainer
from humanseg.utils.checkpoint import STATE_FILE
from humanseg.utils.dist import DistEnv

# the evaluations of the measured case: iterations 2, 4 and 6, the best one first
SCRIPTED_MIOU = {2: 0.320, 4: 0.303, 6: 0.242}


def scripted_trainer(save_dir, root, resume=None):
    """The real run (tools/train.py's wiring, evaluation every 2 iterations) with the mIoU of
    each evaluation replaced by SCRIPTED_MIOU, so which model is best is known."""
    set_seed(0)
    cfg = check_config(tiny_config(root, iters=6))
    opts = TrainOptions(save_dir=str(save_dir), save_interval=2, log_iters=2, do_eval=True,
                        resume_model=resume)
    trainer = build_trainer(cfg, "config: text", opts, DistEnv())
    evaluation = next(h for h in trainer.hooks if isinstance(h, EvalHook))
    real = evaluation.eval_fn

    def scripted(model):
        metrics = real(model)
        return dict(metrics, miou=SCRIPTED_MIOU[trainer.iter])

    evaluation.eval_fn = scripted
    return trainer


def best_model_record(save_dir):
    folder = os.path.join(save_dir, "best_model")
    with open(os.path.join(folder, "metrics.json")) as f:
        metrics = json.load(f)
    with open(os.path.join(folder, "model.pdparams"), "rb") as f:
        weights = f.read()
    return metrics["iter"], metrics["miou"], weights


def test_resume_keeps_the_better_best_model(tmp_path, synthetic_root):
    run = tmp_path / "run"
    scripted_trainer(run, synthetic_root).train()
    iteration, miou, weights = best_model_record(run)
    assert (iteration, miou) == (2, pytest.approx(0.320))
    resumed = scripted_trainer(run, synthetic_root, resume=str(run / "iter_4"))
    saver = next(h for h in resumed.hooks if isinstance(h, BestModelSaver))
    assert (saver.best_miou, saver.best_iter) == (pytest.approx(0.320), 2)
    resumed.train()
    assert resumed.state["eval"]["miou"] == pytest.approx(0.242)  # iteration 6 did run
    assert best_model_record(run) == (2, pytest.approx(0.320), weights), \
        "a resumed run replaced best_model/ with a worse model"


def test_logger_averages_continue_across_a_resume(tmp_path, synthetic_root):
    """A checkpoint between two log lines holds the sums so far: the resumed run logs the same
    average as the uninterrupted one."""
    def trainer(save_dir, resume=None):
        set_seed(0)
        cfg = check_config(tiny_config(synthetic_root, iters=4))
        opts = TrainOptions(save_dir=str(save_dir), save_interval=3, log_iters=4,
                            resume_model=resume)
        return build_trainer(cfg, "config: text", opts, DistEnv())

    full = trainer(tmp_path / "full")
    full.train()
    resumed = trainer(tmp_path / "resumed", resume=str(tmp_path / "full" / "iter_3"))
    logger_hook = next(h for h in resumed.hooks if isinstance(h, LoggerHook))
    assert logger_hook._count == 3
    resumed.train()
    assert resumed.state["train_log"]["loss"] == full.state["train_log"]["loss"]


class Counter(Hook):
    def __init__(self):
        self.steps = 0

    def after_step(self, trainer):
        self.steps += 1

    def state_dict(self):
        return {"steps": self.steps}

    def set_state_dict(self, state):
        self.steps = state["steps"]


def test_every_hook_state_is_in_the_checkpoint(tmp_path, synthetic_root):
    import pickle
    set_seed(0)
    cfg = check_config(tiny_config(synthetic_root, iters=2))
    opts = TrainOptions(save_dir=str(tmp_path / "run"), save_interval=2, log_iters=1)
    trainer = build_trainer(cfg, "config: text", opts, DistEnv())
    trainer.hooks[:0] = [Counter(), Counter()]
    trainer.train()
    with open(tmp_path / "run" / "iter_2" / STATE_FILE, "rb") as f:
        state = pickle.load(f)
    assert state["hooks"]["Counter#0"] == {"steps": 2}
    assert state["hooks"]["Counter#1"] == {"steps": 2}
    fresh = build_trainer(cfg, "config: text", opts, DistEnv())
    fresh.hooks[:0] = [Counter(), Counter()]
    fresh.load_train_state(state)
    assert [h.steps for h in fresh.hooks[:2]] == [2, 2]

"""Checkpoints are atomic: a save that dies midway leaves the previous one intact."""
import os

import paddle
import pytest

from humanseg.utils import checkpoint as ckpt


def make():
    model = paddle.nn.Linear(3, 2)
    opt = paddle.optimizer.Momentum(learning_rate=0.1, parameters=model.parameters())
    return model, opt


def test_interrupted_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    model, opt = make()
    ckpt.save_checkpoint(str(tmp_path), 5, model, opt, {"iter": 5})
    ckpt.save_checkpoint(str(tmp_path), 10, model, opt, {"iter": 10})
    real_save = paddle.save

    def dying_save(obj, path, *a, **k):
        if os.path.basename(path) == ckpt.OPTIMIZER_FILE:  # the model file is already written
            raise KeyboardInterrupt("killed mid-save")
        return real_save(obj, path, *a, **k)

    monkeypatch.setattr(ckpt.paddle, "save", dying_save)
    with pytest.raises(KeyboardInterrupt):
        ckpt.save_checkpoint(str(tmp_path), 10, model, opt, {"iter": 99})
    with pytest.raises(KeyboardInterrupt):
        ckpt.save_checkpoint(str(tmp_path), 15, model, opt, {"iter": 15})
    monkeypatch.setattr(ckpt.paddle, "save", real_save)
    assert [i for i, _ in ckpt.list_checkpoints(str(tmp_path))] == [5, 10]
    path = ckpt.resolve_resume("auto", str(tmp_path))
    assert path.endswith("iter_10")
    state = ckpt.load_checkpoint(path, *make())
    assert state == {"iter": 10}


def test_prune_and_resume_errors(tmp_path):
    model, opt = make()
    for i in (1, 2, 3):
        ckpt.save_checkpoint(str(tmp_path), i, model, opt, {"iter": i})
    ckpt.prune_checkpoints(str(tmp_path), 2)
    assert [i for i, _ in ckpt.list_checkpoints(str(tmp_path))] == [2, 3]
    assert ckpt.resolve_resume("auto", str(tmp_path / "empty")) is None
    with pytest.raises(ckpt.ConfigError, match="not a complete checkpoint"):
        ckpt.resolve_resume(str(tmp_path / "iter_1"), str(tmp_path))
    os.remove(tmp_path / "iter_3" / "train_state.pdstates")
    assert [i for i, _ in ckpt.list_checkpoints(str(tmp_path))] == [2]

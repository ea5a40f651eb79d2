"""SegBuilder wiring and data-path resolution."""
import os

import paddle

from humanseg.cvlibs.builder import SegBuilder
from humanseg.cvlibs.config import PROJECT_ROOT, resolve_data_path
from humanseg.cvlibs.checks import check_config
from support import tiny_config


def test_relative_data_paths_fall_back_to_the_project_root(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_data_path("configs/_base_") == os.path.join(PROJECT_ROOT, "configs/_base_")
    (tmp_path / "mine").mkdir()
    assert resolve_data_path("mine") == "mine", "a path that exists from the cwd wins"
    assert resolve_data_path("nowhere/x") == "nowhere/x"


def test_builder_components(synthetic_root):
    cfg = check_config(tiny_config(synthetic_root, iters=7))
    b = SegBuilder(cfg)
    assert type(b.model).__name__ == "PPHumanSegLite"
    assert b.model is b.model, "components are built once"
    assert isinstance(b.optimizer, paddle.optimizer.Momentum)
    assert b.optimizer._learning_rate is b.lr_scheduler
    assert b.lr_scheduler.decay_steps == 7
    assert len(b.train_dataset) > 0 and b.val_dataset.mode == "val"
    logits = [paddle.randn([1, 2, 8, 8])]
    total, terms = b.loss(logits, paddle.zeros([1, 8, 8], dtype="int64"))
    assert set(terms) == {"out0.CrossEntropyLoss", "out0.LovaszSoftmaxLoss"}
    assert abs(float(total) - sum(float(v) for v in terms.values())) < 1e-6

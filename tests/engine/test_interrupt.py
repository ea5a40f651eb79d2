"""Runs that die: SIGKILL right after a checkpoint, then --resume_model auto, must end with the
weights of a run that never stopped (bit for bit, loader workers 0 and 2); Ctrl-C saves first."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import paddle
import pytest

from support import TOOLS

ITERS, INTERVAL = 12, 4  # 9 batches per epoch: the run crosses an epoch boundary after resuming


def start(config, save_dir, *extra):
    cmd = [sys.executable, os.path.join(TOOLS, "train.py"), "--config", config, "--save_dir",
           str(save_dir), "--iters", str(ITERS), "--save_interval", str(INTERVAL),
           "--log_iters", "4", "--resume_model", "auto", *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def finish(proc, timeout=240):
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out[-2000:] + err[-3000:]
    return out


def wait_for(predicate, proc, timeout=120):
    deadline = time.time() + timeout
    while not predicate():
        assert proc.poll() is None, "the run ended before it could be stopped"
        assert time.time() < deadline, "timed out"
        time.sleep(0.005)


def kill_group(proc):
    """SIGKILL whatever is left of the run's process group (loader workers)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def arrays(path):
    return {k: np.asarray(v) for k, v in paddle.load(str(path)).items()
            if hasattr(v, "shape")}


def assert_same_checkpoint(a, b):
    for name in ("model.pdparams", "model.pdopt"):
        wa, wb = arrays(a / name), arrays(b / name)
        assert wa.keys() == wb.keys(), name
        diff = [k for k in wa if not np.array_equal(wa[k], wb[k])]
        assert not diff, f"{name}: {len(diff)} tensors differ, e.g. {diff[:3]}"


@pytest.fixture(scope="module")
def reference(tmp_path_factory, synthetic_root):
    """A run that never stopped (workers 0) and its config."""
    import yaml
    from support import tiny_config
    tmp = tmp_path_factory.mktemp("reference")
    config = tmp / "tiny.yml"
    config.write_text(yaml.safe_dump(tiny_config(synthetic_root)))
    finish(start(str(config), tmp / "run"))
    return str(config), tmp / "run" / f"iter_{ITERS}"


@pytest.mark.parametrize("workers", [0, 2])
def test_sigkill_after_checkpoint_then_resume_is_bit_identical(tmp_path, reference, workers):
    config, expected = reference
    save_dir = tmp_path / "run"
    proc = start(config, save_dir, "--num_workers", str(workers))
    try:
        wait_for(lambda: (save_dir / f"iter_{INTERVAL}").is_dir(), proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        kill_group(proc)
    assert proc.returncode == -signal.SIGKILL
    assert not (save_dir / f"iter_{ITERS}").exists(), "killed too late to test anything"
    out = finish(start(config, save_dir, "--num_workers", str(workers)))
    assert "resumed from" in out
    assert_same_checkpoint(save_dir / f"iter_{ITERS}", expected)


def test_ctrl_c_saves_a_checkpoint_then_resume_finishes(tmp_path, reference):
    config, expected = reference
    save_dir = tmp_path / "run"
    proc = start(config, save_dir, "--log_iters", "1", "--save_interval", "1000")
    try:
        wait_for(lambda: "iter=2/" in _read(save_dir / "train.log"), proc)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        kill_group(proc)
    assert proc.returncode == 130, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    saved = [d for d in os.listdir(save_dir) if d.startswith("iter_")]
    assert len(saved) == 1, saved
    stopped_at = int(saved[0][5:])
    assert 2 <= stopped_at < ITERS
    assert f"interrupted at iteration {stopped_at}; saved {save_dir / saved[0]}" in err
    out = finish(start(config, save_dir))
    assert f"resumed from {save_dir / saved[0]} at iteration {stopped_at}" in out
    assert_same_checkpoint(save_dir / f"iter_{ITERS}", expected)


def _read(path):
    return path.read_text() if path.is_file() else ""

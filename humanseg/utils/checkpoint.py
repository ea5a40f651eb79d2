"""Training checkpoints: written atomically (temp dir, fsync, rename), found and restored for resume."""
from __future__ import annotations

import json
import os
import pickle
import re
import shutil
from typing import Any

import paddle

from humanseg.errors import ConfigError

MODEL_FILE = "model.pdparams"
OPTIMIZER_FILE = "model.pdopt"
STATE_FILE = "train_state.pdstates"
_ITER_DIR = re.compile(r"^iter_(\d+)$")
_TEMP_DIR = re.compile(r"^\..+\.tmp-(\d+)(\.old)?$")


def _fsync_path(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_dir_atomically(final_dir: str, files: dict[str, Any],
                         text_files: dict[str, str | bytes] | None = None) -> str:
    """Write ``files`` (name -> object for paddle.save) and ``text_files`` (name -> str or bytes)
    into ``final_dir``, all or nothing.

    The files go to a temporary sibling folder, are fsynced, and the folder is renamed into place,
    so an interrupted save leaves the previous ``final_dir`` (if any) intact.
    """
    parent = os.path.dirname(os.path.abspath(final_dir))
    os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, f".{os.path.basename(final_dir)}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    for name, obj in files.items():
        paddle.save(obj, os.path.join(tmp, name))
    for name, text in (text_files or {}).items():
        with open(os.path.join(tmp, name), "wb") as f:
            f.write(text.encode("utf-8") if isinstance(text, str) else text)
    for name in os.listdir(tmp):
        _fsync_path(os.path.join(tmp, name))
    old = None
    if os.path.exists(final_dir):
        old = f"{tmp}.old"
        os.rename(final_dir, old)
    os.rename(tmp, final_dir)
    _fsync_path(parent)
    if old:
        shutil.rmtree(old, ignore_errors=True)
    return final_dir


def _rename_state(state: dict, mapping: dict[str, str]) -> dict:
    """Rename optimizer-state keys ``<param name>_<accumulator>`` (and master-weight keys)."""
    olds = sorted(mapping, key=len, reverse=True)
    out = {}
    for key, value in state.items():
        if isinstance(value, dict):
            out[key] = _rename_state(value, mapping)
            continue
        old = next((o for o in olds if key == o or key.startswith(o + "_")), None)
        out[mapping[old] + key[len(old):] if old else key] = value
    return out


def optimizer_state_by_structure(model: paddle.nn.Layer, optimizer) -> dict:
    """The optimizer state keyed by structured parameter names (``backbone.conv.weight``)
    instead of Paddle's global ``conv2d_136.w_0`` names, which change with build order."""
    return _rename_state(optimizer.state_dict(),
                         {p.name: "@" + n for n, p in model.named_parameters()})


def load_optimizer_state(model: paddle.nn.Layer, optimizer, state: dict) -> None:
    """Inverse of ``optimizer_state_by_structure``, into ``optimizer``."""
    optimizer.set_state_dict(_rename_state(
        state, {"@" + n: p.name for n, p in model.named_parameters()}))


def save_checkpoint(save_dir: str, iteration: int, model: paddle.nn.Layer,
                    optimizer: paddle.optimizer.Optimizer, train_state: dict) -> str:
    """Save ``iter_<iteration>/`` holding the model, the optimizer (with its lr scheduler) and
    ``train_state`` (iteration, data position, scheduler, RNG states)."""
    return write_dir_atomically(
        os.path.join(save_dir, f"iter_{iteration}"),
        {MODEL_FILE: model.state_dict(),
         OPTIMIZER_FILE: optimizer_state_by_structure(model, optimizer)},
        {STATE_FILE: pickle.dumps(train_state)})


def list_checkpoints(save_dir: str) -> list[tuple[int, str]]:
    """Complete ``iter_N`` checkpoints in ``save_dir``, oldest first."""
    if not os.path.isdir(save_dir):
        return []
    found = []
    for name in os.listdir(save_dir):
        m = _ITER_DIR.match(name)
        path = os.path.join(save_dir, name)
        if m and all(os.path.isfile(os.path.join(path, f)) for f in
                     (MODEL_FILE, OPTIMIZER_FILE, STATE_FILE)):
            found.append((int(m.group(1)), path))
    return sorted(found)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(save_dir: str) -> list[str]:
    """Clean up after a save that was killed; return the temporary paths handled.

    A temporary folder whose writer is gone is deleted, except when the kill fell between the two
    renames of ``write_dir_atomically`` (the final folder is missing and ``.old`` exists): then the
    new folder, complete by then, is moved into place.
    """
    if not os.path.isdir(save_dir):
        return []
    handled = []
    for name in sorted(os.listdir(save_dir), key=lambda n: (not n.endswith(".old"), n)):
        m = _TEMP_DIR.match(name)
        path = os.path.join(save_dir, name)
        if not m or int(m.group(1)) == os.getpid() or _pid_alive(int(m.group(1))):
            continue
        if not os.path.exists(path):  # moved into place below
            continue
        if m.group(2):
            final = os.path.join(save_dir, name[1:name.rindex(".tmp-")])
            new = path[:-len(".old")]
            if not os.path.exists(final):
                os.rename(new if os.path.isdir(new) else path, final)
        shutil.rmtree(path, ignore_errors=True)
        handled.append(path)
    return handled


def prune_checkpoints(save_dir: str, keep_max: int) -> None:
    """Delete the oldest ``iter_N`` folders beyond the newest ``keep_max``."""
    if keep_max <= 0:
        return
    for _, path in list_checkpoints(save_dir)[:-keep_max]:
        shutil.rmtree(path, ignore_errors=True)


def resolve_resume(resume: str, save_dir: str) -> str | None:
    """``auto`` -> newest complete checkpoint in ``save_dir`` (None if there is none)."""
    if resume == "auto":
        found = list_checkpoints(save_dir)
        return found[-1][1] if found else None
    missing = [f for f in (MODEL_FILE, OPTIMIZER_FILE, STATE_FILE)
               if not os.path.isfile(os.path.join(resume, f))]
    if missing:
        raise ConfigError(f"--resume_model {resume}: not a complete checkpoint folder (missing "
                          f"{', '.join(missing)}). Give an iter_N folder written by "
                          f"tools/train.py, or 'auto'.")
    return resume


def load_checkpoint(path: str, model: paddle.nn.Layer,
                    optimizer: paddle.optimizer.Optimizer) -> dict:
    """Restore model and optimizer from ``path`` in place; return the saved train_state."""
    model.set_state_dict(paddle.load(os.path.join(path, MODEL_FILE)))
    load_optimizer_state(model, optimizer, paddle.load(os.path.join(path, OPTIMIZER_FILE)))
    with open(os.path.join(path, STATE_FILE), "rb") as f:
        return pickle.load(f)


def save_best_model(save_dir: str, model: paddle.nn.Layer, config_text: str, metrics: dict) -> str:
    """Write ``best_model/`` (weights, the resolved config and the metrics) atomically."""
    return write_dir_atomically(
        os.path.join(save_dir, "best_model"), {MODEL_FILE: model.state_dict()},
        {"config.yml": config_text, "metrics.json": json.dumps(metrics, indent=2)})

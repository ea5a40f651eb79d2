"""One row of a table: its resolved config written into the run folder, training (in this
process, or through ``paddle.distributed.launch`` for several GPUs/processes) and evaluation of
the checkpoint."""
from __future__ import annotations

import glob
import os
import re
import subprocess
import sys
import time

from humanseg.cvlibs.checks import EVAL_KEYS, check_config
from humanseg.cvlibs.config import apply_opts, dump_config, load_config
from humanseg.errors import ConfigError, DataError
from humanseg.reproduce import smoke
from humanseg.reproduce.tables import Row, get_table

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRAIN_TOOL = os.path.join(ROOT, "tools", "train.py")
ROW_CONFIG = "row_config.yml"


def row_config_path(row: Row, synthetic: bool) -> str:
    rel = row.synthetic_config if synthetic else row.config
    if rel is None:
        raise ConfigError(f"row {row.id} has no synthetic config; --synthetic applies to the "
                          f"teleconf table only (point --data_root at a synthetic Cityscapes set "
                          f"made by tools/data/make_synthetic_cityscapes.py --trainids instead).")
    path = os.path.join(ROOT, rel)
    if not os.path.isfile(path):
        raise ConfigError(f"{path} not found: the reproduce tables need the repository's "
                          f"configs/ folder.")
    return path


def _with_data_root(cfg: dict, data_root: str | None, hint: str = "") -> dict:
    """Point both datasets at ``data_root`` (or resolve the config's relative roots against the
    repository, as the configs' ``data/...`` are meant) and check the folder exists."""
    for key in ("train_dataset", "val_dataset"):
        ds = cfg.get(key)
        if not isinstance(ds, dict):
            continue
        root = data_root or ds.get("dataset_root")
        if root and not os.path.isabs(root):
            root = os.path.abspath(root) if data_root else os.path.join(ROOT, root)
        if not root or not os.path.isdir(root):
            raise DataError(f"dataset folder {root} not found ({key}.dataset_root"
                            f"{'' if data_root else ' of the config'}). Pass --data_root with the "
                            f"dataset{f' ({hint})' if hint else ''}, or --smoke to run on tiny "
                            f"synthetic data.")
        ds["dataset_root"] = root
    return cfg


def prepare_row(row: Row, run_dir: str, *, data_root: str | None, smoke_mode: bool,
                synthetic: bool, smoke_data_dir: str, table: str, opts: list[str] | None = None
                ) -> str:
    """Write ``run_dir/row_config.yml``: the row's config with the data root (and, in smoke mode,
    shrunk); returns its path."""
    cfg = load_config(row_config_path(row, synthetic))
    if smoke_mode:
        cfg = smoke.shrink(cfg)
        data_root = data_root or smoke.smoke_data(table, smoke_data_dir)
    cfg = apply_opts(_with_data_root(cfg, data_root, get_table(table).real_data_hint), opts)
    os.makedirs(run_dir, exist_ok=True)
    path = os.path.join(run_dir, ROW_CONFIG)
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"# {row.id}: {row_config_path(row, synthetic)}"
                f"{' (smoke: shrunk)' if smoke_mode else ''}, resolved by tools/reproduce.py\n")
        f.write(dump_config(cfg))
    return path


def launcher_command(config: str, save_dir: str, gpus: int, seed: int, device: str) -> list[str]:
    """The command line that trains ``config`` on ``gpus`` processes (one per GPU; on CPU, gloo
    processes) through paddle.distributed.launch, or in one plain process for ``gpus`` 1."""
    train = [TRAIN_TOOL, "--config", config, "--save_dir", save_dir, "--seed", str(seed),
             "--device", device]
    if gpus <= 1:
        return [sys.executable, *train]
    return [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", str(gpus),
            "--host", "127.0.0.1", "--log_dir", os.path.join(save_dir, "launch_log"), *train]


def train_row(config: str, save_dir: str, gpus: int, seed: int, device: str) -> None:
    """Train: in this process for one GPU/process, else through the launcher."""
    if gpus > 1:
        _train_launched(config, save_dir, gpus, seed, device)
    else:
        _train_here(config, save_dir, seed, device)


def _train_launched(config, save_dir, gpus, seed, device) -> None:
    cmd = launcher_command(config, save_dir, gpus, seed, device)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        logs = ""
        for path in sorted(glob.glob(os.path.join(save_dir, "launch_log", "workerlog.*"))):
            with open(path, encoding="utf-8", errors="replace") as f:
                logs += f"\n--- {path} (end)\n" + f.read()[-1500:]
        err = proc.stderr.strip().splitlines()
        message = next((line[len("error: "):] for line in err if line.startswith("error: ")), None)
        if proc.returncode == 2 and message:
            raise ConfigError(message)
        raise RuntimeError(f"training through the launcher failed (exit {proc.returncode}): "
                           f"{' '.join(cmd)}\n{proc.stdout[-1500:]}{proc.stderr[-1500:]}{logs}")


def _train_here(config, save_dir, seed, device) -> None:
    from humanseg.cli import load_checked_config, set_device, set_seed
    from humanseg.cvlibs.builder import SegBuilder
    from humanseg.engine.runner import TrainOptions, build_trainer, record_run, setup_rank_logging
    from humanseg.utils.dist import init_distributed
    from humanseg.utils.logger import logger

    cfg = load_checked_config(config)
    device = set_device(device)
    dist = init_distributed()
    handlers = list(logger.handlers)
    setup_rank_logging(save_dir, dist)
    try:
        set_seed(seed)
        config_text = dump_config(cfg)
        record_run(save_dir, config, config_text, dist)
        options = TrainOptions(save_dir=save_dir, seed=seed,
                               save_interval=SegBuilder(cfg).save_interval, device=device)
        build_trainer(cfg, config_text, options, dist).train()
    finally:  # the next row logs to its own train.log
        for h in [h for h in logger.handlers if h not in handlers]:
            logger.removeHandler(h)
            h.close()


def find_weights(run_dir: str) -> str:
    """``best_model/model.pdparams``, else the newest ``iter_N/model.pdparams``, else
    ``model.pdparams`` in ``run_dir``."""
    best = os.path.join(run_dir, "best_model", "model.pdparams")
    if os.path.isfile(best):
        return best
    found = glob.glob(os.path.join(run_dir, "iter_*", "model.pdparams"))
    iters = [(int(m.group(1)), p) for p in found
             if (m := re.fullmatch(r"iter_(\d+)", os.path.basename(os.path.dirname(p))))]
    if iters:
        return max(iters)[1]
    plain = os.path.join(run_dir, "model.pdparams")
    if os.path.isfile(plain):
        return plain
    raise DataError(f"no weights in {run_dir}: expected best_model/model.pdparams, "
                    f"iter_N/model.pdparams or model.pdparams (a tools/train.py save dir).")


def eval_config_of(run_dir: str, row: Row, data_root: str | None, synthetic: bool,
                   opts: list[str] | None = None) -> dict:
    """The config a checkpoint folder was trained with (``row_config.yml`` written here, or
    tools/train.py's ``config.yml``), else the row's config; ``data_root`` replaces the roots and
    ``opts`` (--opts) apply on top."""
    for name in (ROW_CONFIG, "config.yml"):
        path = os.path.join(run_dir, name)
        if os.path.isfile(path):
            cfg = load_config(path)
            break
    else:
        cfg = load_config(row_config_path(row, synthetic))
    return check_config(apply_opts(_with_data_root(cfg, data_root), opts), EVAL_KEYS)


def evaluate_row(cfg: dict, weights: str, device: str) -> dict:
    """mIoU, connectivity and the other metrics of ``weights`` on ``cfg``'s val_dataset."""
    from humanseg.cli import set_device
    from humanseg.cvlibs.builder import SegBuilder
    from humanseg.engine.evaluate import evaluate

    set_device(device)
    builder = SegBuilder(cfg, weights=weights)
    return evaluate(builder.model, builder.val_dataset, progress=False,
                    test_config=builder.test_config)


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - start


__all__ = ["evaluate_row", "eval_config_of", "find_weights", "launcher_command", "prepare_row",
           "train_row", "ROW_CONFIG"]

"""Run the selected rows of a table (train + evaluate, or evaluate checkpoints) and write the
results after each row, so an interrupted run keeps what it measured."""
from __future__ import annotations

import os
import shlex
import sys
import time
from dataclasses import dataclass

from humanseg.cvlibs.config import load_config
from humanseg.errors import ConfigError, DataError
from humanseg.reproduce import results, rows as rowlib, smoke
from humanseg.reproduce.tables import get_table, select_rows
from humanseg.utils.logger import setup_logging

ROOT = rowlib.ROOT


@dataclass
class Request:
    """What tools/reproduce.py was asked (paths absolute)."""

    table: str
    data_root: str | None = None
    gpus: int = 1
    only: list[str] | None = None
    eval_only: str | None = None
    smoke: bool = False
    synthetic: bool = False
    opts: list[str] | None = None
    seed: int = 0
    device: str = "auto"
    output_dir: str = os.path.join(ROOT, "output", "reproduce")
    results_dir: str = os.path.join(ROOT, "results")
    command: str = ""


def check_request(req: Request) -> None:
    if req.gpus < 1:
        raise ConfigError(f"--gpus must be >= 1, got {req.gpus}.")
    if req.synthetic and req.table != "teleconf":
        raise ConfigError("--synthetic applies to --table teleconf only; for Cityscapes give "
                          "--data_root a set made by tools/data/make_synthetic_cityscapes.py "
                          "--trainids.")
    if req.data_root is not None and not os.path.isdir(req.data_root):
        raise DataError(f"--data_root {req.data_root} not found: give the folder that holds the "
                        f"dataset ({get_table(req.table).real_data_hint}).")
    if req.eval_only is not None and not os.path.isdir(req.eval_only):
        raise DataError(f"--eval_only {req.eval_only} not found: give the folder holding one "
                        f"training folder per row (<dir>/<row>/iter_N/model.pdparams), e.g. "
                        f"{os.path.join(req.output_dir, req.table)}.")


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import paddle
    return "gpu" if paddle.device.is_compiled_with_cuda() and \
        paddle.device.cuda.device_count() > 0 else "cpu"


def _header(req: Request, device: str) -> dict:
    mode = "smoke" if req.smoke else ("eval_only" if req.eval_only else "full")
    mode_text = {"smoke": smoke.describe(),
                 "eval_only": f"evaluation of the checkpoints in {req.eval_only}",
                 "full": "full training with each row's config, then evaluation of the final "
                         "checkpoint"}[mode]
    if req.smoke and req.eval_only:
        mode_text = f"smoke, evaluation of the checkpoints in {req.eval_only}"
    data = req.data_root or ("tiny synthetic sets made in " +
                             os.path.join(req.output_dir, "_smoke_data") if req.smoke
                             else "each config's dataset_root" +
                             (" (synthetic configs)" if req.synthetic else ""))
    return {"table": req.table, "mode": "smoke" if req.smoke else "full", "mode_text": mode_text,
            "data": data, "opts": req.opts, "seed": req.seed, "device": device, "gpus": req.gpus,
            "command": req.command, "written": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "hardware": results.hardware()}


def run(req: Request, log=print) -> tuple[str, str]:
    """Run (or evaluate) the requested rows; returns the paths of the .md and .json written."""
    check_request(req)
    table = get_table(req.table)
    selected = select_rows(table, req.only)
    device = resolve_device(req.device)
    setup_logging()
    header = _header(req, device)
    json_path = os.path.join(req.results_dir, f"{table.name}.json")
    done = results.load_previous(json_path, header)
    new: list[dict] = []
    table_dir = os.path.join(req.output_dir, table.name)
    paths = ("", "")
    for row in selected:
        log(f"[{row.id}] {row.model} / {row.strategy}")
        if req.eval_only:
            record = _evaluate_existing(req, row, device)
        else:
            record = _train_and_evaluate(req, row, device, table_dir)
        log(f"[{row.id}] mIoU {record['ours']['miou']} connectivity "
            f"{record['ours']['connectivity']} (paper: {record['paper']['miou']}); "
            f"{(record['train_seconds'] or 0) + record['eval_seconds']:.1f} s")
        new.append(record)
        paths = results.write(req.results_dir, table, header,
                              results.merge_rows(table, done, new))
    return paths


def _train_and_evaluate(req: Request, row, device: str, table_dir: str) -> dict:
    run_dir = os.path.join(table_dir, row.id)
    config = rowlib.prepare_row(row, run_dir, data_root=req.data_root, smoke_mode=req.smoke,
                                synthetic=req.synthetic, table=req.table, opts=req.opts,
                                smoke_data_dir=os.path.join(req.output_dir, "_smoke_data"))
    _, train_s = rowlib.timed(rowlib.train_row, config, run_dir, req.gpus, req.seed, device)
    # this run's final checkpoint (not a best_model/ or iter_N/ left by an earlier run)
    iters = load_config(config)["iters"]
    weights = os.path.join(run_dir, f"iter_{iters}", "model.pdparams")
    return _measure(req, row, run_dir, device, train_s, req.data_root, weights)


def _evaluate_existing(req: Request, row, device: str) -> dict:
    run_dir = os.path.join(req.eval_only, row.id)
    if not os.path.isdir(run_dir):
        raise DataError(f"--eval_only: {run_dir} not found; each row's checkpoints go in "
                        f"<dir>/<row id>/ (rows: use --only to evaluate some of them).")
    return _measure(req, row, run_dir, device, None, req.data_root, rowlib.find_weights(run_dir))


def _measure(req: Request, row, run_dir: str, device: str, train_s, data_root,
             weights: str) -> dict:
    cfg = rowlib.eval_config_of(run_dir, row, data_root, req.synthetic, req.opts)
    metrics, eval_s = rowlib.timed(rowlib.evaluate_row, cfg, weights, device)
    config_rel = os.path.relpath(rowlib.row_config_path(row, req.synthetic), ROOT)
    iters = _trained_iters(weights, cfg)
    return results.row_record(row, metrics=metrics, weights=weights, config=config_rel,
                              gpus=req.gpus if train_s is not None else _trained_procs(run_dir),
                              batch_per_card=cfg.get("batch_size"), iters=iters,
                              train_seconds=train_s, eval_seconds=eval_s)


def _trained_iters(weights: str, cfg: dict):
    name = os.path.basename(os.path.dirname(weights))
    if name.startswith("iter_") and name[5:].isdigit():
        return int(name[5:])
    return cfg.get("iters")


def _trained_procs(run_dir: str) -> int | None:
    import json
    try:
        with open(os.path.join(run_dir, "env.json"), encoding="utf-8") as f:
            return json.load(f).get("world_size")
    except (OSError, ValueError):
        return None


def command_line(argv: list[str] | None) -> str:
    args = sys.argv[1:] if argv is None else argv
    return "tools/reproduce.py " + " ".join(shlex.quote(a) for a in args)


__all__ = ["Request", "check_request", "command_line", "run"]

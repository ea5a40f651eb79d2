"""Everything tools/train.py does between parsing its arguments and ``trainer.train()``:
ranks and logging, the run's record in the save dir, checks before the first step, the hooks,
mixed precision, data parallelism and resume."""
from __future__ import annotations

import functools
import json
import logging
import os
from dataclasses import dataclass

from humanseg.cvlibs.builder import SegBuilder
from humanseg.engine.amp import Precision
from humanseg.engine.evaluate import evaluate
from humanseg.engine.hooks import (BestModelSaver, CheckpointHook, EvalHook, GradientRatioHook,
                                   Hook, LoggerHook, ParamSyncCheck, TimerHook, VisualDLHook)
from humanseg.engine.preflight import dry_check
from humanseg.engine.trainer import Trainer
from humanseg.utils.checkpoint import load_checkpoint, resolve_resume
from humanseg.utils.dist import DistEnv, broadcast_statistics, resolve_sync_bn, wrap_model
from humanseg.utils.env import env_info
from humanseg.utils.logger import logger, setup_logging


@dataclass
class TrainOptions:
    """The command-line choices of tools/train.py that are not config keys."""

    save_dir: str
    seed: int = 0
    log_iters: int = 10
    save_interval: int | None = None
    keep_checkpoint_max: int = 5
    resume_model: str | None = None
    num_workers: int = 0
    do_eval: bool = False
    use_vdl: bool = False
    precision: str = "fp32"
    amp_level: str = "O1"
    device: str = "cpu"


def setup_rank_logging(save_dir: str, dist: DistEnv) -> None:
    """Rank 0 logs to stdout and ``<save_dir>/train.log``; other ranks only warnings."""
    if dist.is_main:
        setup_logging(os.path.join(save_dir, "train.log"))
    else:
        setup_logging(None, logging.WARNING)


def record_run(save_dir: str, config_path: str, config_text: str, dist: DistEnv) -> None:
    """Rank 0: save the resolved config and the environment, and log both."""
    if not dist.is_main:
        return
    info = {**env_info(), "world_size": dist.world_size}
    with open(os.path.join(save_dir, "config.yml"), "w", encoding="utf-8") as f:
        f.write(config_text)
    with open(os.path.join(save_dir, "env.json"), "w", encoding="utf-8") as f:
        json.dump(info, f, indent=2)
    logger.info("environment: " + json.dumps(info))
    logger.info(f"config ({os.path.abspath(config_path)}):\n{config_text}")


def evaluate_on_ranks(model, dataset, num_workers: int, dist: DistEnv,
                      test_config: dict | None = None) -> dict:
    """``evaluate`` with rank 0's BN statistics on every rank (those its checkpoints hold), each
    rank on its share of the images, the metrics summed over the ranks; ``test_config`` is the
    config's (whole image, sliding window, flips and scales), as PaddleSeg's training uses it."""
    broadcast_statistics(model, dist)
    return evaluate(model, dataset, num_workers, progress=dist.is_main, dist=dist,
                    test_config=test_config)


def build_hooks(opts: TrainOptions, dist: DistEnv, config_text: str, val_dataset,
                test_config: dict | None = None, grad_ratio: dict | None = None) -> list[Hook]:
    """(Gradient ratio,) logger, VisualDL, evaluation, best model, checkpoints, timer; writers on
    rank 0 only.

    The best-model saver and VisualDL come after the evaluation hook, which calls their
    ``on_eval``, and before the checkpoint hook, so a checkpoint holds the best mIoU so far."""
    interval = opts.save_interval
    hooks: list[Hook] = []
    if grad_ratio is not None:  # before the logger, which prints its values
        path = os.path.join(opts.save_dir, "grad_ratio.json") if dist.is_main else None
        hooks.append(GradientRatioHook(**grad_ratio, history_path=path))
    hooks.append(LoggerHook(opts.log_iters))
    if val_dataset is not None:
        eval_fn = functools.partial(evaluate_on_ranks, dataset=val_dataset,
                                    num_workers=opts.num_workers, dist=dist,
                                    test_config=test_config)
        history = os.path.join(opts.save_dir, "eval_history.json") if dist.is_main else None
        hooks.append(EvalHook(eval_fn, interval, history_path=history))
        if dist.is_main:
            hooks.append(BestModelSaver(opts.save_dir, config_text))
    if opts.use_vdl and dist.is_main:
        hooks.append(VisualDLHook(os.path.join(opts.save_dir, "vdl_log"), val_dataset))
    hooks.append(CheckpointHook(opts.save_dir, interval, opts.keep_checkpoint_max,
                                enabled=dist.is_main))
    if dist.is_main:
        hooks.append(TimerHook(opts.save_dir))
    if dist.distributed:
        hooks.append(ParamSyncCheck(dist))
    return hooks


def _resume(trainer: Trainer, opts: TrainOptions) -> None:
    path = resolve_resume(opts.resume_model, opts.save_dir)
    if path is None:
        logger.info(f"--resume_model auto: no checkpoint in {opts.save_dir}; starting fresh")
        return
    trainer.load_train_state(load_checkpoint(path, trainer.model, trainer.optimizer))
    trainer.last_checkpoint = path
    logger.info(f"resumed from {path} at iteration {trainer.iter}")


def _log_scale(per_rank: int, lr_scheduler: dict, dist: DistEnv) -> None:
    lr = lr_scheduler.get("learning_rate")
    logger.info(f"data parallel: {dist.world_size} rank(s); batch_size {per_rank} per rank, "
                f"effective batch size {per_rank * dist.world_size} "
                f"({per_rank} x {dist.world_size})")
    logger.info(f"lr scaling: none; learning_rate {lr} applies to the effective batch of "
                f"{per_rank * dist.world_size} (linear scaling rule: if you change the effective "
                f"batch by a factor k, multiply lr_scheduler.learning_rate by k)")


def build_trainer(cfg: dict, config_text: str, opts: TrainOptions, dist: DistEnv) -> Trainer:
    """Wire a Trainer from a checked config (every object comes from ``SegBuilder``); resume if
    asked.

    Raises:
        ConfigError: a config mistake, found before the first step.
    """
    builder = SegBuilder(cfg)
    model, loss_fn, train_dataset = builder.model, builder.loss, builder.train_dataset
    optimizer, lr_scheduler = builder.optimizer, builder.lr_scheduler
    val_dataset = builder.val_dataset if opts.do_eval else None
    test_config = builder.test_config if opts.do_eval else None
    sync_bn, bn_message = resolve_sync_bn(builder.sync_bn, opts.device, dist)
    sampler, loader = builder.train_loader(opts.seed, opts.num_workers, dist.rank, dist.world_size)
    dry_check(model, loss_fn, train_dataset, getattr(train_dataset, "num_classes", None))
    precision = Precision(opts.precision, opts.device, opts.amp_level)
    model, optimizer = precision.decorate(model, optimizer)
    train_model = wrap_model(model, dist, sync_bn)
    trainer = Trainer(model, loss_fn, optimizer, lr_scheduler, sampler, loader, builder.iters,
                      build_hooks(opts, dist, config_text, val_dataset, test_config,
                                  builder.grad_ratio),
                      precision=precision, train_model=train_model, dist=dist,
                      nan_policy=builder.nan_policy)
    if opts.resume_model:
        _resume(trainer, opts)
    _log_scale(builder.batch_size, cfg.get("lr_scheduler") or {}, dist)
    logger.info(bn_message)
    logger.info(precision.message)
    logger.info(f"training {type(model).__name__} for {builder.iters} iterations, "
                f"{len(train_dataset)} training images, nan_policy: {builder.nan_policy}")
    return trainer

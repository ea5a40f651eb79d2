"""Train a segmentation model from a YAML config."""
import argparse
import json
import os

import _bootstrap  # noqa: F401

from humanseg.cli import add_common_args, ensure_dir, load_checked_config, run_tool, set_device, set_seed
from humanseg.cvlibs.builder import SegBuilder
from humanseg.cvlibs.config import dump_config
from humanseg.datasets.loader import build_train_loader
from humanseg.engine.evaluate import evaluate
from humanseg.engine.hooks import BestModelSaver, CheckpointHook, EvalHook, LoggerHook, TimerHook
from humanseg.engine.trainer import Trainer
from humanseg.utils.checkpoint import load_checkpoint, resolve_resume
from humanseg.utils.env import env_info
from humanseg.utils.logger import logger, setup_logging


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    add_common_args(p)
    p.add_argument("--save_dir", default="output", help="where checkpoints and logs go")
    p.add_argument("--iters", type=int, default=None, help="override the config's iters")
    p.add_argument("--batch_size", type=int, default=None, help="override the config's batch_size")
    p.add_argument("--learning_rate", type=float, default=None, help="override lr_scheduler.learning_rate")
    p.add_argument("--do_eval", action="store_true", help="evaluate at every save_interval")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--log_iters", type=int, default=10)
    p.add_argument("--save_interval", type=int, default=None,
                   help="iterations between checkpoints (default: the config's save_interval or 1000)")
    p.add_argument("--keep_checkpoint_max", type=int, default=5)
    p.add_argument("--resume_model", default=None, help="an iter_N checkpoint folder, or 'auto'")
    p.add_argument("--num_workers", type=int, default=0)
    return p.parse_args(argv)


@run_tool
def main(argv=None):
    args = parse_args(argv)
    opts = list(args.opts or [])
    if args.learning_rate is not None:
        opts.append(f"lr_scheduler.learning_rate={args.learning_rate}")
    cfg = load_checked_config(args.config, opts, iters=args.iters, batch_size=args.batch_size)
    save_dir = ensure_dir(os.path.abspath(args.save_dir))
    setup_logging(os.path.join(save_dir, "train.log"))
    set_device(args.device)
    set_seed(args.seed)
    config_text = dump_config(cfg)
    with open(os.path.join(save_dir, "config.yml"), "w", encoding="utf-8") as f:
        f.write(config_text)
    logger.info("environment: " + json.dumps(env_info()))
    logger.info(f"config ({os.path.abspath(args.config)}):\n{config_text}")

    builder = SegBuilder(cfg)
    model, loss_fn = builder.model, builder.loss
    train_dataset = builder.train_dataset
    val_dataset = builder.val_dataset if args.do_eval else None
    optimizer, lr_scheduler = builder.optimizer, builder.lr_scheduler
    sampler, loader = build_train_loader(train_dataset, cfg["batch_size"], seed=args.seed,
                                         num_workers=args.num_workers)
    save_interval = args.save_interval or cfg.get("save_interval") or 1000
    hooks = [LoggerHook(args.log_iters)]
    if val_dataset is not None:
        hooks.append(EvalHook(lambda m: evaluate(m, val_dataset, args.num_workers), save_interval,
                              on_result=BestModelSaver(save_dir, config_text)))
    hooks += [CheckpointHook(save_dir, save_interval, args.keep_checkpoint_max),
              TimerHook(save_dir)]
    trainer = Trainer(model, loss_fn, optimizer, lr_scheduler, sampler, loader, cfg["iters"], hooks)

    if args.resume_model:
        path = resolve_resume(args.resume_model, save_dir)
        if path:
            trainer.load_train_state(load_checkpoint(path, model, optimizer))
            logger.info(f"resumed from {path} at iteration {trainer.iter}")
        else:
            logger.info(f"--resume_model auto: no checkpoint in {save_dir}; starting fresh")
    logger.info(f"training {type(model).__name__} for {cfg['iters']} iterations, batch_size "
                f"{cfg['batch_size']}, {len(train_dataset)} training images")
    trainer.train()
    logger.info(f"outputs in {save_dir}")


if __name__ == "__main__":
    main()

"""Train a segmentation model from a YAML config.

Data parallel on several GPUs or CPU processes:
    python -m paddle.distributed.launch --nproc_per_node N tools/train.py --config ...
"""
import argparse
import os

import _bootstrap  # noqa: F401

from humanseg.cli import add_common_args, ensure_dir, load_checked_config, run_tool, set_device, set_seed
from humanseg.cvlibs.builder import DEFAULT_SAVE_INTERVAL, SegBuilder
from humanseg.cvlibs.config import dump_config
from humanseg.engine.amp import AMP_LEVELS, PRECISIONS
from humanseg.engine.runner import TrainOptions, build_trainer, record_run, setup_rank_logging
from humanseg.utils.dist import init_distributed
from humanseg.utils.logger import logger


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(p)
    p.add_argument("--save_dir", default="output", help="where checkpoints and logs go")
    p.add_argument("--iters", type=int, default=None, help="override the config's iters")
    p.add_argument("--batch_size", type=int, default=None,
                   help="override the config's batch_size (per process)")
    p.add_argument("--learning_rate", type=float, default=None, help="override lr_scheduler.learning_rate")
    p.add_argument("--do_eval", action="store_true", help="evaluate at every save_interval")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--log_iters", type=int, default=10)
    p.add_argument("--save_interval", type=int, default=None,
                   help="iterations between checkpoints (default: the config's save_interval or "
                        f"{DEFAULT_SAVE_INTERVAL})")
    p.add_argument("--keep_checkpoint_max", type=int, default=5)
    p.add_argument("--resume_model", default=None, help="an iter_N checkpoint folder, or 'auto'")
    p.add_argument("--num_workers", type=int, default=0)
    p.add_argument("--use_vdl", action="store_true", help="write a VisualDL log to <save_dir>/vdl_log")
    p.add_argument("--precision", default="fp32", choices=PRECISIONS,
                   help="fp16/bf16: paddle.amp mixed precision (GPU only; CPU runs fp32)")
    p.add_argument("--amp_level", default="O1", choices=AMP_LEVELS)
    return p.parse_args(argv)


@run_tool
def main(argv=None):
    args = parse_args(argv)
    opts = list(args.opts or [])
    if args.learning_rate is not None:
        opts.append(f"lr_scheduler.learning_rate={args.learning_rate}")
    cfg = load_checked_config(args.config, opts, iters=args.iters, batch_size=args.batch_size)
    save_dir = ensure_dir(os.path.abspath(args.save_dir))
    device = set_device(args.device)
    dist = init_distributed()
    setup_rank_logging(save_dir, dist)
    set_seed(args.seed)
    config_text = dump_config(cfg)
    record_run(save_dir, args.config, config_text, dist)
    options = TrainOptions(
        save_dir=save_dir, seed=args.seed, log_iters=args.log_iters,
        save_interval=args.save_interval or SegBuilder(cfg).save_interval,
        keep_checkpoint_max=args.keep_checkpoint_max, resume_model=args.resume_model,
        num_workers=args.num_workers, do_eval=args.do_eval, use_vdl=args.use_vdl,
        precision=args.precision, amp_level=args.amp_level, device=device)
    trainer = build_trainer(cfg, config_text, options, dist)
    trainer.train()
    logger.info(f"outputs in {save_dir}")


if __name__ == "__main__":
    main()

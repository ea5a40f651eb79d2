"""Engine overhead: our Trainer (all hooks on, logging every 10 iterations) against a bare
hand-written Paddle loop, on the same model, loss, optimizer and data, in one process.

Both sides train PP-HumanSeg-Lite with the tiny test set's recipe (CE + Lovasz, SGD momentum,
polynomial decay) on the synthetic portrait set, num_workers 0, from the same initial weights.
The Trainer runs LoggerHook(10) (formatted and written to <tmp>/bench.log, not stdout),
VisualDLHook (scalars every 10), EvalHook + BestModelSaver, CheckpointHook, TimerHook.

The two alternate iteration by iteration, so that load from other processes on the machine hits
both alike: a hook first in the Trainer's list runs one bare iteration (timed) and then lets the
Trainer go on; the Trainer's iteration is the time from there to the next call of that hook (its
other hooks of the iteration, the loop, run_step). Evaluation and checkpoint are due only after
the last timed iteration: they are work the bare loop does not do, not overhead. The ratio is
total Trainer time / total bare time over the timed iterations (the log lines every 10
iterations included); the median over 10-iteration blocks is printed too.

Usage: python bench/bench_engine.py [--iters 200] [--warmup 10] [--size 160 96] [--batch_size 4]
Goal: ratio <= 1.05.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

import paddle  # noqa: E402

from humanseg.cli import set_seed  # noqa: E402
from humanseg.cvlibs.checks import check_config  # noqa: E402
from humanseg.engine.hooks import Hook  # noqa: E402
from humanseg.engine.runner import TrainOptions, build_trainer  # noqa: E402
from humanseg.utils.dist import DistEnv  # noqa: E402
from support import tiny_config  # noqa: E402


def make_config(root: str, size: list[int], batch_size: int) -> dict:
    """The tests' tiny recipe (tests/support.py) at ``size``, lr 0.01, without an iteration end."""
    cfg = tiny_config(root, size=size, batch_size=batch_size, iters=10 ** 6)
    cfg["lr_scheduler"]["learning_rate"] = 0.01
    return check_config(cfg)


class PairedTimer(Hook):
    """First hook of the Trainer: after each Trainer iteration, one timed bare iteration."""

    def __init__(self, bare: "BareLoop", warmup: int):
        self.bare, self.warmup = bare, warmup
        self.ours: list[float] = []
        self.theirs: list[float] = []
        self._resume = 0.0

    def before_train(self, trainer) -> None:
        self._resume = time.perf_counter()

    def after_step(self, trainer) -> None:
        ours = time.perf_counter() - self._resume
        theirs = self.bare.run(1)
        if trainer.iter > self.warmup:
            self.ours.append(ours)
            self.theirs.append(theirs)
        self._resume = time.perf_counter()


class BareLoop:
    """The hand-written loop: next batch, forward, loss, backward, step, clear, lr step."""

    def __init__(self, trainer):
        self.model, self.loss_fn = trainer.model, trainer.loss_fn
        self.optimizer, self.lr_scheduler = trainer.optimizer, trainer.lr_scheduler
        self.sampler, self.loader = trainer.sampler, trainer.loader
        self.epoch, self.batches = 0, None
        self.model.train()

    def next_batch(self) -> dict:
        while True:
            if self.batches is None:
                self.sampler.set_epoch(self.epoch)
                self.batches = iter(self.loader)
            try:
                return next(self.batches)
            except StopIteration:
                self.batches, self.epoch = None, self.epoch + 1

    def run(self, iters: int) -> float:
        start = time.perf_counter()
        for _ in range(iters):
            batch = self.next_batch()
            loss, _ = self.loss_fn(self.model(batch["img"]), batch["label"])
            loss.backward()
            self.optimizer.step()
            self.optimizer.clear_grad()
            self.lr_scheduler.step()
        return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--iters", type=int, default=200, help="timed iterations")
    p.add_argument("--warmup", type=int, default=10, help="untimed iterations first")
    p.add_argument("--size", type=int, nargs=2, default=[160, 96], metavar=("W", "H"))
    p.add_argument("--batch_size", type=int, default=4)
    args = p.parse_args()

    import logging
    from humanseg.datasets.synthetic.humanseg import make_synthetic_humanseg
    from humanseg.utils.logger import logger
    tmp = tempfile.mkdtemp(prefix="bench_engine_")
    root = os.path.join(tmp, "set")
    make_synthetic_humanseg(root, num_clips=8, frames_per_clip=4, size=(256, 160), seed=0,
                            progress=False)
    cfg = make_config(root, list(args.size), args.batch_size)
    handler = logging.FileHandler(os.path.join(tmp, "bench.log"))
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    paddle.set_device("cpu")

    def trainer_with(save: str, hooks: bool):
        set_seed(0)
        opts = TrainOptions(save_dir=os.path.join(tmp, save), log_iters=10, do_eval=hooks,
                            keep_checkpoint_max=2,
                            use_vdl=hooks, save_interval=10 ** 6)
        return build_trainer(cfg, "bench", opts, DistEnv())

    ours = trainer_with("ours", True)
    bare = BareLoop(trainer_with("bare", False))
    timer = PairedTimer(bare, args.warmup)
    ours.hooks.insert(0, timer)
    ours.max_iters = args.warmup + args.iters
    with contextlib.redirect_stderr(io.StringIO()):  # the final evaluation's progress bar
        ours.train()

    t_ours, t_bare = sum(timer.ours), sum(timer.theirs)
    blocks = [sum(timer.ours[i:i + 10]) / sum(timer.theirs[i:i + 10])
              for i in range(0, len(timer.ours) - 9, 10)]
    n = len(timer.ours)
    print(f"PP-HumanSeg-Lite {args.size[0]}x{args.size[1]} batch {args.batch_size}, {n} timed "
          f"iterations each, interleaved (after {args.warmup} warm-up)")
    print(f"bare loop  {t_bare / n * 1000:.1f} ms/iter (median "
          f"{statistics.median(timer.theirs) * 1000:.1f})")
    print(f"Trainer    {t_ours / n * 1000:.1f} ms/iter (median "
          f"{statistics.median(timer.ours) * 1000:.1f}; LoggerHook every 10, VisualDL, "
          f"eval/best/checkpoint/timer hooks)")
    print(f"median over 10-iteration blocks of Trainer/bare: {statistics.median(blocks):.3f}")
    print(f"overhead ratio (total Trainer / total bare): {t_ours / t_bare:.3f} (goal <= 1.05)")
    print(f"outputs in {tmp}")


if __name__ == "__main__":
    main()

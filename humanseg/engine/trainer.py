"""The training loop: ``Trainer.train()`` runs ``run_step()`` and calls hooks around it."""
from __future__ import annotations

import os
import random
import signal
import threading
import time

import numpy as np
import paddle

from humanseg.datasets.loader import close_iterator, raise_if_error
from humanseg.engine.amp import Precision
from humanseg.cvlibs.checks import check_nan_policy
from humanseg.errors import HumanSegError
from humanseg.utils.dist import DistEnv, all_reduce_sum, non_trainable_state
from humanseg.utils.logger import logger



class TrainingDiverged(HumanSegError):
    """The loss became NaN or infinite (``nan_policy: stop``)."""


class TrainingInterrupted(KeyboardInterrupt):
    """SIGINT/SIGTERM arrived; the trainer stopped after a complete step.

    Attributes:
        signum: The signal that stopped the run.
    """

    def __init__(self, message: str, signum: int = signal.SIGINT):
        super().__init__(message)
        self.signum = signum


class StopSignals:
    """Within ``with``: SIGINT and SIGTERM set ``signum`` instead of raising, so the trainer can
    finish the current step and save; a second signal raises KeyboardInterrupt at once."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.signum: int | None = None
        self._previous: dict = {}
        self._pid = os.getpid()

    def _handle(self, signum, frame) -> None:
        if os.getpid() != self._pid:  # a forked loader worker: the trainer decides
            return
        if self.signum is not None:
            raise KeyboardInterrupt
        self.signum = signum
        logger.warning(f"received {signal.Signals(signum).name}: stopping after this step "
                       f"(send it again to stop at once)")

    def __enter__(self) -> "StopSignals":
        if threading.current_thread() is threading.main_thread():
            for s in self.SIGNALS:
                self._previous[s] = signal.signal(s, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)
        self._previous.clear()


class Trainer:
    """Iteration-based trainer (PaddleSeg's ``iters``), extended through hooks.

    Args:
        model: Returns a list of logits in training mode. Saved and evaluated as is.
        loss_fn: ``SegLoss``: (logits, label) -> (total, {term name: value}).
        optimizer: Paddle optimizer whose learning rate is ``lr_scheduler``.
        lr_scheduler: Stepped once per iteration.
        sampler: ``SeededBatchSampler`` of ``loader`` (epochs and data position).
        loader: Yields dicts with 'img' and 'label'.
        max_iters: Iteration to stop at.
        hooks: :class:`~humanseg.engine.hooks.Hook` instances, called in order; their
            ``state_dict`` is part of ``train_state``.
        precision: Mixed-precision policy (default fp32).
        train_model: The layer called in training (``paddle.DataParallel(model)`` when
            distributed); defaults to ``model``.
        dist: This process's rank and the world size.
        nan_policy: 'stop' raises TrainingDiverged on a NaN/Inf loss; 'skip' drops that step's
            update (weights and BN statistics stay as they were) and counts it in ``nan_skips``.
    """

    def __init__(self, model, loss_fn, optimizer, lr_scheduler, sampler, loader, max_iters: int,
                 hooks: list | None = None, precision: Precision | None = None,
                 train_model: paddle.nn.Layer | None = None, dist: DistEnv | None = None,
                 nan_policy: str = "stop"):
        self.model, self.loss_fn = model, loss_fn
        self.train_model = train_model if train_model is not None else model
        self.optimizer, self.lr_scheduler = optimizer, lr_scheduler
        self.sampler, self.loader = sampler, loader
        self.max_iters = max_iters
        self.hooks = list(hooks or [])
        self.precision = precision or Precision("fp32")
        self.dist = dist or DistEnv()
        self.nan_policy = check_nan_policy(nan_policy)
        self.iter = 0
        self.epoch = 0
        self.batch_in_epoch = 0
        self.batch_size = sampler.batch_size
        self.nan_skips = 0
        self.last_checkpoint: str | None = None
        self.state: dict = {}
        self._batches = None
        self._signals: StopSignals | None = None
        self._stop_requested = False

    def call_hooks(self, stage: str, *args) -> None:
        """Call ``stage`` (a :class:`~humanseg.engine.hooks.Hook` method) of every hook in order."""
        for hook in self.hooks:
            getattr(hook, stage)(self, *args)

    def _hook_keys(self) -> list[str]:
        """A checkpoint name per hook: its class name, numbered when a class occurs twice."""
        names = [type(h).__name__ for h in self.hooks]
        return [n if names.count(n) == 1 else f"{n}#{names[:i].count(n)}"
                for i, n in enumerate(names)]

    def hooks_state(self) -> dict:
        return {key: state for key, hook in zip(self._hook_keys(), self.hooks)
                if (state := hook.state_dict())}

    def _next_batch(self) -> dict:
        while True:
            if self._batches is None:
                self.sampler.set_epoch(self.epoch, self.batch_in_epoch)
                self._batches = iter(self.loader)
            if getattr(self.sampler, "endless", False):  # one iterator spans epochs: count them
                if self.batch_in_epoch >= self.sampler.batches_per_epoch():
                    self.epoch += 1
                    self.batch_in_epoch = 0
            try:
                batch = raise_if_error(next(self._batches))
                self.batch_in_epoch += 1
                return batch
            except StopIteration:
                self._batches = None
                self.epoch += 1
                self.batch_in_epoch = 0

    def train_state(self) -> dict:
        """What a checkpoint needs besides model and optimizer to continue exactly."""
        return {"iter": self.iter, "epoch": self.epoch, "batch_in_epoch": self.batch_in_epoch,
                "data_seed": self.sampler.seed,
                "lr_scheduler": self.lr_scheduler.state_dict(),
                "scaler": self.precision.state_dict(),
                "nan_skips": self.nan_skips,
                "hooks": self.hooks_state(),
                "rng": {"python": random.getstate(), "numpy": np.random.get_state(),
                        "paddle": paddle.get_rng_state()}}

    def load_train_state(self, state: dict) -> None:
        """Restore what ``train_state`` saved (model and optimizer are restored separately)."""
        self.iter, self.epoch = state["iter"], state["epoch"]
        self.batch_in_epoch = state["batch_in_epoch"]
        self.sampler.seed = state.get("data_seed", self.sampler.seed)
        self.lr_scheduler.set_state_dict(state["lr_scheduler"])
        self.precision.set_state_dict(state.get("scaler"))
        self.nan_skips = state.get("nan_skips", 0)
        hooks_state = state.get("hooks", {})
        for key, hook in zip(self._hook_keys(), self.hooks):
            if key in hooks_state:
                hook.set_state_dict(hooks_state[key])
        rng = state.get("rng")
        if rng:
            random.setstate(rng["python"])
            np.random.set_state(rng["numpy"])
            paddle.set_rng_state(rng["paddle"])
        self._close_batches()

    def _close_batches(self) -> None:
        """Stop the loader iterator (its workers); the next batch starts a new one from
        (epoch, batch_in_epoch), which continues exactly."""
        if self._batches is not None:
            close_iterator(self._batches)
            self._batches = None

    def train(self) -> None:
        """Run until ``max_iters``; on SIGINT/SIGTERM stop after the current step, let hooks save
        (``on_interrupt``) and raise TrainingInterrupted."""
        self.train_model.train()
        self.call_hooks("before_train")
        try:
            with StopSignals() as self._signals:
                while self.iter < self.max_iters:
                    self.run_step()
                    self.iter += 1
                    self.call_hooks("after_step")
                    if self._stop_requested:
                        self._interrupt()
        finally:
            self._close_batches()
        self._signals = None
        self.call_hooks("after_train")

    def _interrupt(self) -> None:
        self.call_hooks("on_interrupt")
        signum = (self._signals.signum if self._signals else None) or signal.SIGINT
        where = self.last_checkpoint or "no checkpoint (this process does not write them)"
        raise TrainingInterrupted(f"interrupted at iteration {self.iter}; saved {where}; "
                                  f"continue with --resume_model auto", signum)

    def _loss_values(self, total: paddle.Tensor, terms: dict) -> np.ndarray:
        """[total, *terms, stop flag], averaged over the ranks when distributed (one sync)."""
        parts = [total.detach().astype("float32").reshape([])]
        parts += [v.detach().astype("float32").reshape([]) for v in terms.values()]
        values = paddle.stack(parts).numpy().astype(np.float64)
        flag = float(self._signals is not None and self._signals.signum is not None)
        values = np.append(values, flag)
        if self.dist.distributed:
            values = all_reduce_sum(values, self.dist)
            values[:-1] /= self.dist.world_size
        self._stop_requested = self._stop_requested or values[-1] > 0
        return values[:-1]

    def _nonfinite(self, names: list[str], values: np.ndarray) -> None:
        detail = ", ".join(f"{n}={v:.6g}" for n, v in zip(["loss"] + names, values))
        if self.nan_policy == "skip":
            self.nan_skips += 1
            logger.warning(f"[TRAIN] non-finite loss at iteration {self.iter + 1} ({detail}); "
                           f"step skipped (nan_policy: skip, {self.nan_skips} skipped so far)")
            return
        last = self.last_checkpoint or "none written yet"
        raise TrainingDiverged(
            f"training diverged: the loss is not finite at iteration {self.iter + 1}: {detail}. "
            f"Last good checkpoint: "
            f"{last}. Lower lr_scheduler.learning_rate, add warmup_iters, check the labels, or "
            f"set 'nan_policy: skip' in the config to skip such steps.")

    def _save_statistics(self) -> dict | None:
        """With nan_policy 'skip': on-device copies of the BN statistics a forward pass updates."""
        if self.nan_policy != "skip":
            return None
        return {n: t.clone() for n, t in non_trainable_state(self.model).items()}

    def _restore_statistics(self, saved: dict | None) -> None:
        for name, tensor in non_trainable_state(self.model).items():
            tensor.set_value(saved[name])

    def run_step(self) -> None:
        """One iteration: batch, forward, loss, backward, optimizer and scheduler steps."""
        start = time.perf_counter()
        batch = self._next_batch()
        reader_cost = time.perf_counter() - start
        saved = self._save_statistics()
        with self.precision.autocast():
            logits = self.train_model(batch["img"])
            total, terms = self.loss_fn(logits, batch["label"])
        values = self._loss_values(total, terms)
        finite = bool(np.isfinite(values).all())
        if finite:
            self.precision.backward_and_step(total, self.optimizer)
        else:
            self._nonfinite(list(terms), values)
            self._restore_statistics(saved)
        self.optimizer.clear_grad()
        lr = self.optimizer.get_lr()
        self.lr_scheduler.step()
        self.state = {"loss": float(values[0]),
                      "outputs": {"logits": [t.detach() for t in logits], "label": batch["label"]},
                      "terms": {k: float(v) for k, v in zip(terms, values[1:])},
                      "lr": lr, "reader_cost": reader_cost, "skipped": not finite,
                      "batch_cost": time.perf_counter() - start}

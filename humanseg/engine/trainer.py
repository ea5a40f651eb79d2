"""The training loop: ``Trainer.train()`` runs ``run_step()`` and calls hooks around it."""
from __future__ import annotations

import math
import random
import time

import numpy as np
import paddle

from humanseg.errors import HumanSegError


class TrainingDiverged(HumanSegError):
    """The loss became NaN or infinite."""


class Trainer:
    """Iteration-based trainer (PaddleSeg's ``iters``), extended through hooks.

    Args:
        model: Returns a list of logits in training mode.
        loss_fn: ``SegLoss``: (logits, label) -> (total, {term name: value}).
        optimizer: Paddle optimizer whose learning rate is ``lr_scheduler``.
        lr_scheduler: Stepped once per iteration.
        sampler: ``SeededBatchSampler`` of ``loader`` (epochs and data position).
        loader: Yields dicts with 'img' and 'label'.
        max_iters: Iteration to stop at.
        hooks: Objects with any of before_train(trainer), after_step(trainer), after_train(trainer).
    """

    def __init__(self, model, loss_fn, optimizer, lr_scheduler, sampler, loader, max_iters: int,
                 hooks: list | None = None):
        self.model, self.loss_fn = model, loss_fn
        self.optimizer, self.lr_scheduler = optimizer, lr_scheduler
        self.sampler, self.loader = sampler, loader
        self.max_iters = max_iters
        self.hooks = list(hooks or [])
        self.iter = 0
        self.epoch = 0
        self.batch_in_epoch = 0
        self.batch_size = sampler.batch_size
        self.state: dict = {}
        self._batches = None

    def _call_hooks(self, stage: str) -> None:
        for hook in self.hooks:
            fn = getattr(hook, stage, None)
            if fn is not None:
                fn(self)

    def _next_batch(self) -> dict:
        while True:
            if self._batches is None:
                self.sampler.set_epoch(self.epoch, self.batch_in_epoch)
                self._batches = iter(self.loader)
            try:
                batch = next(self._batches)
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
                "rng": {"python": random.getstate(), "numpy": np.random.get_state(),
                        "paddle": paddle.get_rng_state()}}

    def load_train_state(self, state: dict) -> None:
        self.iter, self.epoch = state["iter"], state["epoch"]
        self.batch_in_epoch = state["batch_in_epoch"]
        self.sampler.seed = state.get("data_seed", self.sampler.seed)
        self.lr_scheduler.set_state_dict(state["lr_scheduler"])
        rng = state.get("rng")
        if rng:
            random.setstate(rng["python"])
            np.random.set_state(rng["numpy"])
            paddle.set_rng_state(rng["paddle"])
        self._batches = None

    def train(self) -> None:
        self.model.train()
        self._call_hooks("before_train")
        while self.iter < self.max_iters:
            self.run_step()
            self.iter += 1
            self._call_hooks("after_step")
        self._call_hooks("after_train")

    def run_step(self) -> None:
        start = time.perf_counter()
        batch = self._next_batch()
        reader_cost = time.perf_counter() - start
        logits = self.model(batch["img"])
        total, terms = self.loss_fn(logits, batch["label"])
        loss_value = float(total.item())
        if not math.isfinite(loss_value):
            raise TrainingDiverged(
                f"loss is {loss_value} at iteration {self.iter + 1}; training diverged. Lower "
                f"lr_scheduler.learning_rate, add warmup_iters, or check the labels.")
        total.backward()
        self.optimizer.step()
        self.optimizer.clear_grad()
        lr = self.optimizer.get_lr()
        self.lr_scheduler.step()
        self.state = {"loss": loss_value,
                      "terms": {k: float(v.item()) for k, v in terms.items()},
                      "lr": lr, "reader_cost": reader_cost,
                      "batch_cost": time.perf_counter() - start}

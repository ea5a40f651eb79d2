"""Every trainer hook: logging, evaluation, the best model, checkpoints, timing, VisualDL and
the distributed parameter check.

A hook subclasses :class:`Hook` and overrides the stages it needs. What a hook must remember
across a resume it returns from ``state_dict``; the trainer saves that in each checkpoint's
training state and gives it back through ``set_state_dict``, so a resumed run writes the same
files as an uninterrupted one.
"""
from __future__ import annotations

import json
import math
import os
import resource
import sys
import time
from collections import defaultdict

import paddle

from humanseg.engine.evaluate import summary_line
from humanseg.engine.vdl import EVAL_SCALARS, log_writer_class, predict_panels
from humanseg.utils.checkpoint import (prune_checkpoints, remove_stale_temporaries,
                                       save_best_model, save_checkpoint)
from humanseg.utils.atomic import write_json_atomically
from humanseg.utils.logger import logger


class Hook:
    """The stages a trainer calls, each with the trainer; all do nothing by default.

    Order: ``before_train``, then per iteration ``after_step`` (and ``on_eval`` with the metrics
    whenever an evaluation ran), ``on_interrupt`` when a signal stops the run, ``after_train``.
    """

    def before_train(self, trainer) -> None:
        pass

    def after_step(self, trainer) -> None:
        pass

    def on_eval(self, trainer, metrics: dict) -> None:
        pass

    def on_interrupt(self, trainer) -> None:
        pass

    def after_train(self, trainer) -> None:
        pass

    def state_dict(self) -> dict:
        """What this hook needs to continue exactly after a resume (empty: nothing)."""
        return {}

    def set_state_dict(self, state: dict) -> None:
        """Restore what ``state_dict`` returned."""


def _hms(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def memory_text() -> str:
    """``max_mem=`` (GPU, allocated by Paddle) or ``peak_rss=`` (CPU, the process), in MB."""
    if paddle.device.is_compiled_with_cuda() and paddle.device.get_device().startswith("gpu"):
        return f"max_mem={paddle.device.cuda.max_memory_allocated() / 2 ** 20:.0f}MB"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux, bytes on macOS
    return f"peak_rss={peak / (2 ** 20 if sys.platform == 'darwin' else 2 ** 10):.0f}MB"


class LoggerHook(Hook):
    """Every ``log_iters`` iterations: losses (averaged), lr, batch/reader cost, ips, ETA and memory.

    The averages are also left in ``trainer.state['train_log']`` for other writers (VisualDL).
    Steps skipped for a non-finite loss are left out of the averages and counted.
    """

    def __init__(self, log_iters: int = 10):
        self.log_iters = max(int(log_iters), 1)
        self._sums: dict = defaultdict(float)
        self._count = 0

    def _accumulate(self, s: dict) -> None:
        for key in ("batch_cost", "reader_cost"):
            self._sums[key] += s[key]
        if s.get("skipped"):
            return
        self._sums["loss"] += s["loss"]
        for name, value in s["terms"].items():
            self._sums["term:" + name] += value
        self._count += 1

    def after_step(self, trainer) -> None:
        s = trainer.state
        self._accumulate(s)
        self._sums["steps"] += 1
        if trainer.iter % self.log_iters and trainer.iter != trainer.max_iters:
            return
        steps = self._sums.pop("steps")
        avg = {k: v / (steps if k.endswith("_cost") else max(self._count, 1))
               for k, v in self._sums.items()}
        avg.setdefault("loss", float("nan"))
        terms = {k[5:]: v for k, v in avg.items() if k.startswith("term:")}
        diagnostics = dict(s.get("diagnostics") or {})
        trainer.state["train_log"] = {"iter": trainer.iter, "loss": avg["loss"], "terms": terms,
                                      "lr": s["lr"], "batch_cost": avg["batch_cost"],
                                      "reader_cost": avg["reader_cost"],
                                      "diagnostics": diagnostics}
        terms_text = " ".join(f"{k}={v:.4f}" for k, v in terms.items())
        terms_text += "".join(f" {k}={v:.4g}" for k, v in diagnostics.items())
        skipped = f" nan_skips={trainer.nan_skips}" if trainer.nan_skips else ""
        eta = avg["batch_cost"] * (trainer.max_iters - trainer.iter)
        global_batch = trainer.batch_size * trainer.dist.world_size
        logger.info(
            f"[TRAIN] epoch={trainer.epoch + 1} iter={trainer.iter}/{trainer.max_iters} "
            f"loss={avg['loss']:.4f} [{terms_text}] lr={s['lr']:.6f} "
            f"batch_cost={avg['batch_cost']:.4f}s reader_cost={avg['reader_cost']:.5f}s "
            f"ips={global_batch / max(avg['batch_cost'], 1e-9):.2f} samples/s "
            f"{memory_text()}{skipped} ETA {_hms(eta)}")
        self._sums.clear()
        self._count = 0

    def state_dict(self) -> dict:
        return {"sums": dict(self._sums), "count": self._count}

    def set_state_dict(self, state: dict) -> None:
        self._sums = defaultdict(float, state["sums"])
        self._count = state["count"]


class GradientRatioHook(Hook):
    """The ``grad_ratio`` config key: every ``interval`` iterations (and at iterations 1 and
    ``max_iters``) the gradient norm of one loss term over another's, w.r.t. the logits of
    ``output`` (``humanseg.engine.grad_ratio``), at the logits of the step just taken.

    The latest values stay in ``trainer.state['diagnostics']`` on every step, so the LoggerHook
    prints them (``grad_ratio=``, ``grad_ratio_rest=``) and VisualDL writes them
    (``Train/grad_ratio``...). Every measurement is appended to ``history`` and, if
    ``history_path`` is given, rewritten there atomically (``<save_dir>/grad_ratio.json``).
    Comes before the LoggerHook. Off (no hook) when the key is absent.
    """

    def __init__(self, interval: int, term: str = "SemanticConnectivityLoss",
                 against: str = "CrossEntropyLoss", output: int = 0,
                 history_path: str | None = None):
        self.interval, self.term, self.against = max(int(interval), 1), term, against
        self.output, self.history_path = int(output), history_path
        self.latest: dict = {}
        self.history: list[dict] = []

    def _due(self, trainer) -> bool:
        return (trainer.iter == 1 or trainer.iter % self.interval == 0
                or trainer.iter == trainer.max_iters)

    def after_step(self, trainer) -> None:
        outputs = trainer.state.get("outputs")
        if outputs is not None and not trainer.state.get("skipped") and self._due(trainer):
            from humanseg.engine.grad_ratio import gradient_ratio
            self.latest = gradient_ratio(trainer.loss_fn, outputs["logits"], outputs["label"],
                                         self.term, self.against, self.output)
            self.history.append({"iter": trainer.iter, **self.latest})
            if self.history_path:
                write_json_atomically(self.history_path, self.history)
        if self.latest:
            trainer.state["diagnostics"] = {k: self.latest[k]
                                            for k in ("grad_ratio", "grad_ratio_rest")}

    def state_dict(self) -> dict:
        return {"latest": dict(self.latest), "history": list(self.history)}

    def set_state_dict(self, state: dict) -> None:
        self.latest, self.history = dict(state["latest"]), list(state["history"])


class EvalHook(Hook):
    """Evaluate every ``interval`` iterations and at the end; results in ``trainer.state['eval']``
    and, through the trainer, in every hook's ``on_eval``.

    Args:
        eval_fn: Called with the model, returns the metrics dict.
        interval: Iterations between evaluations.
        history_path: If given (rank 0: ``<save_dir>/eval_history.json``), the list of every
            evaluation so far (``{"iter": ..., **metrics}``) is rewritten there atomically after
            each one. A resumed run starts from the entries of earlier iterations in that file.
    """

    def __init__(self, eval_fn, interval: int, history_path: str | None = None):
        self.eval_fn, self.interval = eval_fn, max(int(interval), 1)
        self.history_path = history_path
        self.history: list[dict] = []

    def before_train(self, trainer) -> None:
        if self.history_path and os.path.isfile(self.history_path) and trainer.iter > 0:
            with open(self.history_path, encoding="utf-8") as f:
                earlier = json.load(f)
            self.history = [h for h in earlier if h.get("iter", 0) <= trainer.iter]

    def after_step(self, trainer) -> None:
        if trainer.iter % self.interval and trainer.iter != trainer.max_iters:
            return
        metrics = self.eval_fn(trainer.model)
        trainer.model.train()
        trainer.state["eval"] = metrics
        self.history.append({"iter": trainer.iter, **metrics})
        if self.history_path:
            write_json_atomically(self.history_path, self.history)
        logger.info(f"[EVAL] iter={trainer.iter} {summary_line(metrics)} class_IoU="
                    f"{[round(v, 4) for v in metrics['class_iou']]}")
        trainer.call_hooks("on_eval", metrics)


class CheckpointHook(Hook):
    """Save ``iter_N/`` every ``interval`` iterations, at the end and on interruption; keep the
    newest ``keep_max``. Sets ``trainer.last_checkpoint``.

    Args:
        save_dir: Output folder.
        interval: Iterations between checkpoints.
        keep_max: Newest checkpoints kept (0 or less: all).
        enabled: Write files (False on ranks other than 0, which only track the path).
    """

    def __init__(self, save_dir: str, interval: int, keep_max: int = 5, enabled: bool = True):
        self.save_dir, self.interval, self.keep_max = save_dir, max(int(interval), 1), keep_max
        self.enabled = enabled
        self.saved_iter = -1

    def before_train(self, trainer) -> None:
        if self.enabled:
            remove_stale_temporaries(self.save_dir)
        self.saved_iter = trainer.iter

    def save(self, trainer) -> None:
        path = os.path.join(self.save_dir, f"iter_{trainer.iter}")
        if self.enabled:
            path = save_checkpoint(self.save_dir, trainer.iter, trainer.model, trainer.optimizer,
                                   trainer.train_state())
            prune_checkpoints(self.save_dir, self.keep_max)
            logger.info(f"[CKPT] saved {path}")
        self.saved_iter = trainer.iter
        trainer.last_checkpoint = path

    def after_step(self, trainer) -> None:
        if trainer.iter % self.interval and trainer.iter != trainer.max_iters:
            return
        self.save(trainer)

    def on_interrupt(self, trainer) -> None:
        if self.saved_iter != trainer.iter:
            self.save(trainer)


class BestModelSaver(Hook):
    """Keeps ``best_model/`` at the highest mIoU evaluated so far; the best mIoU and its
    iteration are part of the checkpoint, so a resumed run replaces it only by a better model."""

    def __init__(self, save_dir: str, config_text: str):
        self.save_dir, self.config_text = save_dir, config_text
        self.best_miou, self.best_iter = -1.0, -1

    def on_eval(self, trainer, metrics: dict) -> None:
        if metrics["miou"] > self.best_miou:
            self.best_miou, self.best_iter = metrics["miou"], trainer.iter
            save_best_model(self.save_dir, trainer.model, self.config_text,
                            {"iter": trainer.iter, **metrics})
        logger.info(f"[EVAL] best mIoU={self.best_miou:.4f} at iter {self.best_iter}")

    def state_dict(self) -> dict:
        return {"best_miou": self.best_miou, "best_iter": self.best_iter}

    def set_state_dict(self, state: dict) -> None:
        self.best_miou, self.best_iter = float(state["best_miou"]), int(state["best_iter"])


class TimerHook(Hook):
    """Records wall time and writes ``train_summary.json`` (iterations, seconds, last eval)."""

    def __init__(self, save_dir: str):
        self.save_dir = save_dir
        self.start = 0.0

    def before_train(self, trainer) -> None:
        self.start = time.time()
        self.start_iter = trainer.iter

    def after_train(self, trainer) -> None:
        seconds = time.time() - self.start
        summary = {"iters": trainer.iter, "trained_iters": trainer.iter - self.start_iter,
                   "seconds": round(seconds, 2), "last_loss": trainer.state.get("loss"),
                   "eval": trainer.state.get("eval")}
        write_json_atomically(os.path.join(self.save_dir, "train_summary.json"), summary)
        logger.info(f"[TRAIN] done: {trainer.iter - self.start_iter} iterations in "
                    f"{_hms(seconds)}")


class VisualDLHook(Hook):
    """``--use_vdl``: writes the LoggerHook's averages every ``log_iters`` and, in ``on_eval``,
    the metrics and image panels of each evaluation (tags: ``humanseg.engine.vdl``).

    Args:
        logdir: The VisualDL log folder.
        val_dataset: Dataset the panels come from (None: no panels).
        num_panels: Panels per evaluation (the first validation images, the same each time).
    """

    def __init__(self, logdir: str, val_dataset=None, num_panels: int = 2):
        self._writer_class = log_writer_class()
        self.writer = None
        self.logdir = logdir
        self.val_dataset = val_dataset
        self.num_panels = min(num_panels, len(val_dataset)) if val_dataset is not None else 0

    def before_train(self, trainer) -> None:
        os.makedirs(self.logdir, exist_ok=True)
        self.writer = self._writer_class(logdir=self.logdir)

    def _scalar(self, tag: str, value, step: int) -> None:
        value = float(value)
        if math.isfinite(value):
            self.writer.add_scalar(tag=tag, value=value, step=step)

    def after_step(self, trainer) -> None:
        log = trainer.state.get("train_log")
        if not log or log["iter"] != trainer.iter:
            return
        step = trainer.iter
        self._scalar("Train/loss", log["loss"], step)
        for name, value in log["terms"].items():
            self._scalar(f"Train/{name}", value, step)
        for key in ("lr", "batch_cost", "reader_cost"):
            self._scalar(f"Train/{key}", log[key], step)
        for name, value in log.get("diagnostics", {}).items():
            self._scalar(f"Train/{name}", value, step)
        if trainer.nan_skips:
            self._scalar("Train/nan_skips", trainer.nan_skips, step)

    def on_eval(self, trainer, metrics: dict) -> None:
        step = trainer.iter
        for key, name in EVAL_SCALARS.items():
            if metrics.get(key) is not None:  # flicker: video datasets only
                self._scalar(f"Evaluate/{name}", metrics[key], step)
        for k, value in enumerate(metrics.get("class_iou", [])):
            self._scalar(f"Evaluate/class_IoU/{k}", value, step)
        if self.num_panels:
            panels = predict_panels(trainer.model, self.val_dataset, list(range(self.num_panels)))
            for i, panel in enumerate(panels):
                self.writer.add_image(tag=f"Evaluate/panel_{i}", img=panel, step=step)
        self.writer.flush()

    def on_interrupt(self, trainer) -> None:
        self.writer.flush()

    def after_train(self, trainer) -> None:
        self.writer.close()
        self.writer = None


class ParamSyncCheck(Hook):
    """After training with several ranks: compare the trainable parameters' digests."""

    def __init__(self, dist):
        self.dist = dist

    def after_train(self, trainer) -> None:
        from humanseg.utils.dist import gather_objects, params_digest
        digests = gather_objects(params_digest(trainer.model), self.dist)
        if len(set(digests)) == 1:
            logger.info(f"[DIST] trainable parameters identical on all {len(digests)} ranks "
                        f"(sha256 {digests[0][:16]})")
        else:
            logger.warning(f"[DIST] trainable parameters differ between ranks: {digests}")

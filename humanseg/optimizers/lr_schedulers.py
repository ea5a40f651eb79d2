"""Learning-rate schedulers: Paddle's classes by name, with PaddleSeg's warmup and poly defaults."""
from __future__ import annotations

import inspect

import paddle

from humanseg.cvlibs.registry import LR_SCHEDULERS
from humanseg.errors import ConfigError

for _name in ("PolynomialDecay", "PiecewiseDecay", "CosineAnnealingDecay", "StepDecay",
              "MultiStepDecay", "ExponentialDecay", "NaturalExpDecay", "InverseTimeDecay",
              "LinearLR", "OneCycleLR", "CyclicLR", "LambdaDecay"):
    if hasattr(paddle.optimizer.lr, _name):
        LR_SCHEDULERS.register(getattr(paddle.optimizer.lr, _name))


def build_lr_scheduler(cfg: dict, iters: int) -> paddle.optimizer.lr.LRScheduler:
    """Build ``lr_scheduler`` from its config section.

    PaddleSeg's special cases, in one place: ``warmup_iters``/``warmup_start_lr`` wrap the scheduler
    in a LinearWarmup ending at ``learning_rate``; PolynomialDecay's ``decay_steps`` defaults to
    ``iters - warmup_iters``; CosineAnnealingDecay's ``T_max`` likewise.
    """
    cfg = dict(cfg)
    type_name = cfg.pop("type")
    warmup_iters = int(cfg.pop("warmup_iters", 0))
    warmup_start_lr = float(cfg.pop("warmup_start_lr", 0.0))
    scheduler_class = LR_SCHEDULERS.get(type_name)
    remaining = max(iters - warmup_iters, 1)
    if type_name == "PolynomialDecay":
        cfg.setdefault("decay_steps", remaining)
        cfg.setdefault("end_lr", 0.0)
    elif type_name == "CosineAnnealingDecay":
        cfg.setdefault("T_max", remaining)
    params = inspect.signature(scheduler_class).parameters
    unknown = sorted(k for k in cfg if k not in params)
    if unknown:
        raise ConfigError(f"lr_scheduler ({type_name}): unknown key(s) {unknown}; accepted: "
                          f"{sorted(p for p in params if p not in ('self', 'verbose', 'last_epoch'))}"
                          f", warmup_iters, warmup_start_lr.")
    try:
        scheduler = scheduler_class(**cfg)
    except (TypeError, ValueError, AssertionError) as e:
        raise ConfigError(f"lr_scheduler ({type_name}): {e}") from None
    if warmup_iters > 0:
        end_lr = cfg.get("learning_rate", scheduler.base_lr)
        scheduler = paddle.optimizer.lr.LinearWarmup(scheduler, warmup_iters, warmup_start_lr,
                                                     end_lr)
    return scheduler

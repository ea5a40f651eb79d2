"""Optimizers and learning-rate schedulers as PaddleSeg configs spell them."""
from humanseg.optimizers import lr_schedulers, optimizers  # noqa: F401  (registers components)
from humanseg.optimizers.lr_schedulers import build_lr_scheduler
from humanseg.optimizers.optimizers import OptimizerFactory

__all__ = ["build_lr_scheduler", "OptimizerFactory"]

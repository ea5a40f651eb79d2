"""Mixed precision: ``--precision fp32|fp16|bf16`` with ``paddle.amp`` (GPU only).

Paddle's auto_cast and GradScaler take effect only on CUDA/XPU/custom places; on CPU they do
nothing (see docs/training.md), so on CPU this module says so once and runs fp32. The GPU paths
(auto_cast O1/O2, GradScaler for fp16) are written against Paddle's documented API and are not
exercised by the CPU test suite.
"""
from __future__ import annotations

import contextlib

import paddle

from humanseg.errors import ConfigError

PRECISIONS = ("fp32", "fp16", "bf16")
AMP_LEVELS = ("O1", "O2")
_DTYPES = {"fp16": "float16", "bf16": "bfloat16"}


def _supported(precision: str) -> bool:
    if precision == "fp16":
        return paddle.amp.is_float16_supported()
    return paddle.amp.is_bfloat16_supported()


class Precision:
    """The numeric precision of the training step.

    Args:
        precision: 'fp32', 'fp16' or 'bf16' (requested).
        device: 'cpu' or 'gpu' (the device the run uses).
        level: AMP level, 'O1' (lists of ops in low precision) or 'O2' (almost all ops).
        init_loss_scaling: Initial GradScaler scale for fp16.

    Attributes:
        precision: What actually runs ('fp32' when the device cannot do the requested one).
        message: One log line saying what runs and why.
        scaler: ``paddle.amp.GradScaler`` for fp16, else None.
    """

    def __init__(self, precision: str = "fp32", device: str = "cpu", level: str = "O1",
                 init_loss_scaling: float = 2.0 ** 15):
        if precision not in PRECISIONS:
            raise ConfigError(f"--precision: expected one of {', '.join(PRECISIONS)}, "
                              f"got {precision!r}.")
        if level not in AMP_LEVELS:
            raise ConfigError(f"--amp_level: expected O1 or O2, got {level!r}.")
        self.requested, self.level, self.scaler = precision, level, None
        self.precision, self.message = self._resolve(precision, device)
        if self.precision == "fp16":
            self.scaler = paddle.amp.GradScaler(init_loss_scaling=init_loss_scaling)

    def _resolve(self, precision: str, device: str) -> tuple[str, str]:
        if precision == "fp32":
            return "fp32", "precision: fp32"
        if device != "gpu":
            return "fp32", (f"precision: {precision} requested, but Paddle's AMP only takes effect "
                            f"on GPU; running fp32 on {device}")
        if not _supported(precision):
            return "fp32", (f"precision: {precision} is not supported by this GPU/Paddle build; "
                            f"running fp32")
        scaler = ", dynamic loss scaling" if precision == "fp16" else ""
        return precision, f"precision: {precision} (paddle.amp auto_cast {self.level}{scaler})"

    @property
    def enabled(self) -> bool:
        return self.precision != "fp32"

    def decorate(self, model: paddle.nn.Layer, optimizer):
        """For level O2, cast the model to low precision with fp32 master weights."""
        if self.enabled and self.level == "O2":
            return paddle.amp.decorate(models=model, optimizers=optimizer, level="O2",
                                       dtype=_DTYPES[self.precision], save_dtype="float32")
        return model, optimizer

    def autocast(self):
        """Context manager for the forward pass and the loss."""
        if not self.enabled:
            return contextlib.nullcontext()
        return paddle.amp.auto_cast(enable=True, level=self.level,
                                    dtype=_DTYPES[self.precision])

    def backward_and_step(self, loss: paddle.Tensor, optimizer) -> None:
        """Backward and optimizer step, through the GradScaler when there is one."""
        if self.scaler is None:
            loss.backward()
            optimizer.step()
            return
        self.scaler.scale(loss).backward()
        self.scaler.step(optimizer)
        self.scaler.update()

    def state_dict(self) -> dict:
        """The GradScaler state (scale, good/bad step counters) or {}."""
        return dict(self.scaler.state_dict()) if self.scaler is not None else {}

    def set_state_dict(self, state: dict | None) -> None:
        if self.scaler is not None and state:
            self.scaler.load_state_dict(state)

"""Optimizer factories: built from the config, then called with (model, learning rate)."""
from __future__ import annotations

from typing import Any

import paddle

from humanseg.cvlibs.registry import OPTIMIZERS
from humanseg.errors import ConfigError

_CLIPS = {"ClipGradByNorm": paddle.nn.ClipGradByNorm,
          "ClipGradByGlobalNorm": paddle.nn.ClipGradByGlobalNorm,
          "ClipGradByValue": paddle.nn.ClipGradByValue}


class OptimizerFactory:
    """Holds optimizer settings; ``factory(model, lr)`` returns a ``paddle.optimizer.Optimizer``.

    Args:
        weight_decay: L2 coefficient (decoupled for AdamW), or None.
        custom_cfg: PaddleSeg's parameter groups: a list of ``{name, lr_mult, weight_decay_mult}``;
            a parameter joins the first group whose ``name`` occurs in its structured name.
        backbone_lr_mult: Shorthand for ``custom_cfg: [{name: backbone, lr_mult: X}]``.
        grad_clip_cfg: ``{name: ClipGradByNorm|ClipGradByGlobalNorm|ClipGradByValue, ...args}``.
        **kwargs: Passed to the Paddle optimizer (momentum, beta1, epsilon, ...).
    """

    paddle_class: type = paddle.optimizer.SGD

    def __init__(self, weight_decay: float | None = None, custom_cfg: list[dict] | None = None,
                 backbone_lr_mult: float | None = None, grad_clip_cfg: dict | None = None,
                 **kwargs: Any):
        self.weight_decay = weight_decay
        self.custom_cfg = list(custom_cfg or [])
        if backbone_lr_mult is not None:
            self.custom_cfg.append({"name": "backbone", "lr_mult": backbone_lr_mult})
        for i, group in enumerate(self.custom_cfg):
            if not isinstance(group, dict) or "name" not in group:
                raise ConfigError(f"optimizer.custom_cfg[{i}]: each group needs a 'name' (a part "
                                  f"of parameter names, e.g. backbone) and lr_mult / "
                                  f"weight_decay_mult; got {group!r}.")
        self.grad_clip = self._grad_clip(grad_clip_cfg)
        self.kwargs = kwargs

    @staticmethod
    def _grad_clip(cfg: dict | None):
        if not cfg:
            return None
        cfg = dict(cfg)
        name = cfg.pop("name", None)
        if name not in _CLIPS:
            raise ConfigError(f"optimizer.grad_clip_cfg.name must be one of {sorted(_CLIPS)}, "
                              f"got {name!r}.")
        return _CLIPS[name](**cfg)

    def parameter_groups(self, model: paddle.nn.Layer) -> list:
        params = [(n, p) for n, p in model.named_parameters() if not p.stop_gradient]
        if not self.custom_cfg:
            return [p for _, p in params]
        groups = [{"params": [], **g} for g in self.custom_cfg] + [{"params": []}]
        for name, p in params:
            target = next((g for g in groups[:-1] if g["name"] in name), groups[-1])
            target["params"].append(p)
        out = []
        for g in groups:
            if not g["params"]:
                continue
            group = {"params": g["params"], "learning_rate": g.get("lr_mult", 1.0)}
            if self.weight_decay is not None and "weight_decay_mult" in g:
                group["weight_decay"] = self.weight_decay * g["weight_decay_mult"]
            out.append(group)
        return out

    def __call__(self, model: paddle.nn.Layer, learning_rate) -> paddle.optimizer.Optimizer:
        return self.paddle_class(learning_rate=learning_rate,
                                 parameters=self.parameter_groups(model),
                                 weight_decay=self.weight_decay, grad_clip=self.grad_clip,
                                 **self.kwargs)


@OPTIMIZERS.register(aliases=("sgd",))
class SGD(OptimizerFactory):
    """SGD; with a ``momentum`` key it is Momentum, as PaddleSeg reads ``type: sgd, momentum: 0.9``."""

    @property
    def paddle_class(self) -> type:
        if self.kwargs.get("momentum"):
            return paddle.optimizer.Momentum
        self.kwargs.pop("momentum", None)
        return paddle.optimizer.SGD


@OPTIMIZERS.register(aliases=("momentum",))
class Momentum(OptimizerFactory):
    """SGD with (optionally Nesterov) momentum: ``momentum`` (default 0.9), ``use_nesterov``."""

    paddle_class = paddle.optimizer.Momentum

    def __init__(self, weight_decay=None, custom_cfg=None, backbone_lr_mult=None,
                 grad_clip_cfg=None, momentum: float = 0.9, **kwargs):
        super().__init__(weight_decay, custom_cfg, backbone_lr_mult, grad_clip_cfg,
                         momentum=momentum, **kwargs)


@OPTIMIZERS.register(aliases=("adam",))
class Adam(OptimizerFactory):
    """Adam (L2 weight decay as Paddle applies it)."""

    paddle_class = paddle.optimizer.Adam


@OPTIMIZERS.register(aliases=("adamw",))
class AdamW(OptimizerFactory):
    """AdamW (decoupled weight decay; Paddle's default coefficient 0.01 when not given)."""

    paddle_class = paddle.optimizer.AdamW

    def __call__(self, model, learning_rate):
        if self.weight_decay is None:
            self.weight_decay = 0.01
        return super().__call__(model, learning_rate)

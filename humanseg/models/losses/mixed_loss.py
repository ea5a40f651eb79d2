"""A weighted sum of several losses applied to the same logits, with named terms for logging."""
from __future__ import annotations

from typing import Sequence

import paddle
from paddle import nn

from humanseg.cvlibs.registry import LOSSES


def unique_names(names: Sequence[str]) -> list[str]:
    """Make ``names`` unique and stable: repeats get ``_2``, ``_3``... in order of appearance."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


def sum_terms(values: Sequence[paddle.Tensor]) -> paddle.Tensor:
    """Sum tensors left to right (the order PaddleSeg's ``sum(loss_list)`` uses)."""
    total = values[0]
    for value in values[1:]:
        total = total + value
    return total


@LOSSES.register
class MixedLoss(nn.Layer):
    """``sum_j coef[j] * losses[j](logit, label)``, e.g. CE x 0.8 + Lovász-Softmax x 0.2.

    Any loss with the ``forward(logit, label) -> 0-D tensor`` contract can be a member; a member
    that itself has ``terms()`` (a nested MixedLoss) is expanded as ``Outer.inner`` names.

    Args:
        losses: Built loss layers.
        coef: One weight per loss.

    Raises:
        ValueError: ``losses`` and ``coef`` differ in length, or ``losses`` is empty.
        TypeError: a member is not a ``paddle.nn.Layer`` or a coefficient is not a number.
    """

    def __init__(self, losses: Sequence[nn.Layer], coef: Sequence[float]):
        super().__init__()
        losses, coef = list(losses), list(coef)
        if len(losses) != len(coef):
            raise ValueError(f"MixedLoss needs one coef per loss, but got {len(losses)} losses "
                             f"and {len(coef)} coefs")
        if not losses:
            raise ValueError("MixedLoss needs at least one loss")
        for i, loss in enumerate(losses):
            if not isinstance(loss, nn.Layer):
                raise TypeError(f"MixedLoss losses[{i}] must be a built loss layer (a dict with "
                                f"'type'), got {type(loss).__name__}: {loss!r}")
        for i, c in enumerate(coef):
            if isinstance(c, bool) or not isinstance(c, (int, float)):
                raise TypeError(f"MixedLoss coef[{i}] must be a number, got {c!r}")
        self.losses = nn.LayerList(losses)
        self.coef = [float(c) for c in coef]
        self.names = unique_names([type(loss).__name__ for loss in losses])

    def terms(self, logit: paddle.Tensor, label: paddle.Tensor) -> dict[str, paddle.Tensor]:
        """Each coef-weighted term by a unique name (class name, ``_2`` on repeats)."""
        out: dict[str, paddle.Tensor] = {}
        for name, loss, c in zip(self.names, self.losses, self.coef):
            if hasattr(loss, "terms"):
                for sub, value in loss.terms(logit, label).items():
                    out[f"{name}.{sub}"] = value * c
            else:
                out[name] = loss(logit, label) * c
        return out

    def forward(self, logit: paddle.Tensor, label: paddle.Tensor) -> paddle.Tensor:
        """Return the sum of the weighted terms as a 0-D tensor."""
        return sum_terms(list(self.terms(logit, label).values()))

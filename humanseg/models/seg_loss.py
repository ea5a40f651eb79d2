"""The ``loss: {types, coef}`` section of a config: one weighted loss per model output."""
from __future__ import annotations

import inspect
from typing import Sequence

import paddle
from paddle import nn

from humanseg.errors import ConfigError
from humanseg.models.losses.mixed_loss import sum_terms

_FIX = "give `loss.types` and `loss.coef` one entry per model output"


def _accepts_edges(loss: nn.Layer) -> bool:
    try:
        return "edges" in inspect.signature(loss.forward).parameters
    except (TypeError, ValueError):
        return False


class SegLoss(nn.Layer):
    """Applies ``coef[i] * types[i](logits[i], label)`` to each model output ``i`` and sums.

    A loss with a ``terms()`` method (MixedLoss) contributes each of its weighted terms, each
    multiplied by ``coef[i]``, as PaddleSeg does. Terms are named ``out{i}.{name}``, e.g.
    ``out0.CrossEntropyLoss``, ``out0.LovaszSoftmaxLoss``, ``out1.CrossEntropyLoss``.

    Args:
        types: Built loss layers, one per model output (``[main, aux...]``).
        coef: One weight per model output.

    Raises:
        ConfigError: ``types`` and ``coef`` differ in length or are empty.
    """

    def __init__(self, types: Sequence[nn.Layer], coef: Sequence[float]):
        super().__init__()
        types, coef = list(types), list(coef)
        if len(types) != len(coef) or not types:
            raise ConfigError(f"loss: `loss.types` has {len(types)} entries and `loss.coef` has "
                              f"{len(coef)}; {_FIX}")
        for i, loss in enumerate(types):
            if not isinstance(loss, nn.Layer):
                raise ConfigError(f"loss.types[{i}]: expected a loss (a dict with 'type'), got "
                                  f"{type(loss).__name__}: {loss!r}")
        for i, c in enumerate(coef):
            if isinstance(c, bool) or not isinstance(c, (int, float)):
                raise ConfigError(f"loss.coef[{i}]: expected a number, got {c!r}")
        self.types = nn.LayerList(types)
        self.coef = [float(c) for c in coef]
        self._takes_edges = [_accepts_edges(loss) for loss in types]

    def terms(self, logits: Sequence[paddle.Tensor] | paddle.Tensor, label: paddle.Tensor,
              edges: paddle.Tensor | None = None) -> dict[str, paddle.Tensor]:
        """Each coef-weighted term by its ``out{i}.{name}`` name, in output then term order."""
        if isinstance(logits, paddle.Tensor):
            logits = [logits]
        if len(logits) != len(self.types):
            raise ConfigError(
                f"loss: the model returned {len(logits)} output(s) but the config has "
                f"{len(self.types)} loss type(s) in `loss.types` and {len(self.coef)} in "
                f"`loss.coef`; {_FIX}")
        if label.ndim == 4 and label.shape[1] == 1:
            label = paddle.squeeze(label, axis=1)
        out: dict[str, paddle.Tensor] = {}
        for i, (logit, loss, c) in enumerate(zip(logits, self.types, self.coef)):
            kwargs = {"edges": edges} if edges is not None and self._takes_edges[i] else {}
            if hasattr(loss, "terms"):
                named = loss.terms(logit, label, **kwargs)
            else:
                named = {type(loss).__name__: loss(logit, label, **kwargs)}
            for name, value in named.items():
                out[f"out{i}.{name}"] = c * value
        return out

    def forward(self, logits: Sequence[paddle.Tensor] | paddle.Tensor, label: paddle.Tensor,
                edges: paddle.Tensor | None = None
                ) -> tuple[paddle.Tensor, dict[str, paddle.Tensor]]:
        """Return ``(total, terms)``; ``total`` is the 0-D sum of the named terms.

        Args:
            logits: The model's outputs, each [N, C, H, W].
            label: Class ids [N, H, W] or [N, 1, H, W].
            edges: Optional edge map, passed to losses whose ``forward`` takes ``edges``.

        Raises:
            ConfigError: the number of outputs differs from the number of loss types.
        """
        terms = self.terms(logits, label, edges=edges)
        return sum_terms(list(terms.values())), terms

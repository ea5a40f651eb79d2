"""The gradient diagnostic: how strongly each loss term pushes the logits.

``term_gradients`` returns the gradient of every loss term of one model output with respect to
that output's logits; ``gradient_ratio`` turns them into ``||grad(term)|| / ||grad(against)||``
and ``||grad(term)|| / ||grad(rest)||`` (rest: the sum of the output's other terms). Terms are
taken as they enter the total loss, i.e. with their coefficients (``out0.SemanticConnectivityLoss``
is ``lambda * SCL``, ``out0.CrossEntropyLoss`` is ``0.8 * CE`` in the CE 0.8 + Lovasz 0.2 recipe).

The loss is evaluated a second time on a detached copy of the logits, and each term is
differentiated on its own with ``paddle.grad`` (the graph retained between terms). This gives the
same gradients as differentiating the training graph, without touching it: the SC loss' host
gradient is handed to Paddle once per forward (``backends._HostGradient``), so a second backward
through the training graph would find it consumed. Training with the diagnostic on is therefore
bit-identical to training with it off (tested).
"""
from __future__ import annotations

import math

import paddle

from humanseg.errors import ConfigError


def _name_matches(name: str, output: int, term: str) -> bool:
    short = name[len(f"out{output}."):]
    return short == term or short.endswith("." + term)


def term_gradients(loss_fn, logits, label: paddle.Tensor, output: int = 0
                   ) -> dict[str, paddle.Tensor]:
    """The gradient of every ``out{output}.*`` term of ``loss_fn.terms`` w.r.t. that output.

    Args:
        loss_fn: ``SegLoss`` (anything with ``terms(logits, label)`` naming terms ``out{i}.*``).
        logits: The model's outputs (a list of [N, C, H, W], or one tensor).
        label: The batch's labels.
        output: Which output's logits.

    Returns:
        ``{term name: gradient}``, each shaped like the logits (zeros for a term with no path).
    """
    logits = [logits] if isinstance(logits, paddle.Tensor) else list(logits)
    z = logits[output].detach().astype("float32")
    z.stop_gradient = False
    inputs = [t.detach() for t in logits]
    inputs[output] = z
    terms = loss_fn.terms(inputs, label)
    prefix = f"out{output}."
    grads = {}
    for name, value in terms.items():
        if not name.startswith(prefix):
            continue
        if value.stop_gradient:  # e.g. mode 'paddleseg': no gradient reaches the logits
            grads[name] = paddle.zeros_like(z)
            continue
        (grad,) = paddle.grad(value, z, retain_graph=True, allow_unused=True)
        grads[name] = paddle.zeros_like(z) if grad is None else grad
    return grads


def _norm(t: paddle.Tensor) -> float:
    return float(paddle.sqrt((t.astype("float64") ** 2).sum()))


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else math.nan


def gradient_ratio(loss_fn, logits, label: paddle.Tensor, term: str = "SemanticConnectivityLoss",
                   against: str = "CrossEntropyLoss", output: int = 0) -> dict[str, float]:
    """``grad_ratio`` = ||grad(term)|| / ||grad(against)|| and ``grad_ratio_rest`` =
    ||grad(term)|| / ||grad(sum of the output's other terms)||, with the two norms.

    Raises:
        ConfigError: ``term`` or ``against`` names no term of that output (the message lists them).
    """
    grads = term_gradients(loss_fn, logits, label, output)

    def find(key: str, value: str) -> str:
        hits = [n for n in grads if _name_matches(n, output, value)]
        if len(hits) != 1:
            raise ConfigError(f"grad_ratio.{key}: {value!r} matches {len(hits)} loss terms of "
                              f"output {output}; the terms are {sorted(grads)}. Set "
                              f"grad_ratio.{key} to one of them (the part after 'out{output}.').")
        return hits[0]

    num, den = find("term", term), find("against", against)
    rest = [g for n, g in grads.items() if n != num]
    rest_grad = paddle.add_n(rest) if rest else paddle.zeros_like(grads[num])
    n_term, n_against, n_rest = _norm(grads[num]), _norm(grads[den]), _norm(rest_grad)
    return {"grad_ratio": _ratio(n_term, n_against), "grad_ratio_rest": _ratio(n_term, n_rest),
            "grad_norm_term": n_term, "grad_norm_against": n_against}

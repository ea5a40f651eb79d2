"""Fixtures for the loss tests: PaddleSeg 2.8's CE and OHEM CE losses as oracles."""
from __future__ import annotations

import paddle.nn.functional as F
import pytest


class _PaddleTwoCasts:
    """Stand-in for ``paddle.nn.functional`` in PaddleSeg's CE module: ``one_hot`` casts to int64."""

    def __getattr__(self, name):
        return getattr(F, name)

    @staticmethod
    def one_hot(x, num_classes):
        return F.one_hot(x.astype("int64"), num_classes)


@pytest.fixture
def paddleseg_ce(monkeypatch):
    """PaddleSeg 2.8's CrossEntropyLoss class, patched to run on Paddle 3.

    TEST-ONLY PATCH. On Paddle 3, PaddleSeg's ``_post_process_loss`` multiplies an int64 label
    (or ``ones_like(label)``) by a float32 mask and fails with "Type promotion only support
    calculations between floating-point numbers". Paddle 2 cast such operands implicitly. The
    subclass hands ``_post_process_loss`` a float32 label (exact for class ids), so those products
    are float; ``one_hot`` of the float label is cast back to int64, as Paddle 2 did.
    """
    import paddleseg.models.losses.cross_entropy_loss as ps_ce

    monkeypatch.setattr(ps_ce, "F", _PaddleTwoCasts())

    class PatchedCE(ps_ce.CrossEntropyLoss):
        def _post_process_loss(self, logit, label, semantic_weights, loss):
            return super()._post_process_loss(logit, label.astype("float32"), semantic_weights,
                                              loss)

    return PatchedCE


# The one line of PaddleSeg 2.8's OhemCrossEntropyLoss.forward that fails on Paddle 3 (float32
# probabilities plus an int64 mask), and the same line with the cast Paddle 2 made implicitly.
_OHEM_PADDLE2_LINE = "prob = prob + (1 - valid_mask)"
_OHEM_PADDLE3_LINE = "prob = prob + (1 - valid_mask).astype(prob.dtype)"


@pytest.fixture(scope="session")
def paddleseg_ohem():
    """PaddleSeg 2.8's OhemCrossEntropyLoss class, patched to run on Paddle 3.

    TEST-ONLY PATCH. ``forward`` adds the int64 ``1 - valid_mask`` to the float32 softmax, which
    Paddle 3 refuses ("Type promotion only support calculations between floating-point
    numbers"). The subclass's ``forward`` is PaddleSeg's source with that single line cast to
    float, compiled in PaddleSeg's module namespace; everything else is PaddleSeg's code.
    """
    import inspect
    import textwrap

    import paddleseg.models.losses.ohem_cross_entropy_loss as ps_ohem

    source = textwrap.dedent(inspect.getsource(ps_ohem.OhemCrossEntropyLoss.forward))
    assert source.count(_OHEM_PADDLE2_LINE) == 1, "PaddleSeg's OHEM source changed; redo the patch"
    namespace: dict = {}
    exec(compile(source.replace(_OHEM_PADDLE2_LINE, _OHEM_PADDLE3_LINE), ps_ohem.__file__, "exec"),
         vars(ps_ohem).copy(), namespace)

    class PatchedOhem(ps_ohem.OhemCrossEntropyLoss):
        forward = namespace["forward"]

    return PatchedOhem

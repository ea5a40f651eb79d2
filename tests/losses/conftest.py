"""Fixtures for the loss tests: PaddleSeg 2.8's CrossEntropyLoss as an oracle."""
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

"""Shared fixtures for the transform tests: synthetic images/labels and the PaddleSeg oracle."""
from __future__ import annotations

import numpy as np
import pytest

from support import import_oracle


def _make_sample(h: int = 37, w: int = 53, channels: int = 3, seed: int = 0,
                 label_values: tuple[int, ...] = (0, 1, 2), train: bool = True) -> dict:
    """An integer-valued float32 image in [0, 255] and a label drawn from ``label_values``."""
    rng = np.random.default_rng(seed)
    shape = (h, w) if channels == 1 else (h, w, channels)
    img = rng.integers(0, 256, size=shape).astype(np.float32)
    label = rng.choice(np.array(label_values, dtype=np.uint8), size=(h, w))
    return {"img": img, "label": label, "gt_fields": ["label"] if train else [],
            "trans_info": []}


@pytest.fixture(scope="session")
def pst():
    """paddleseg.transforms.transforms 2.8.0, the test-time oracle (``import_oracle``: skipped
    if absent, a failure under CI)."""
    return import_oracle("paddleseg.transforms.transforms")


@pytest.fixture
def make_sample():
    """Factory ``make_sample(h, w, channels, seed, label_values, train)`` of sample dicts."""
    return _make_sample

"""Datasets: the file-list Dataset, Cityscapes, PP-HumanSeg14K, SUPERVISELY, MixedDataset, the
synthetic set generators and loaders.

Exports are imported on first use, so the paddle-free generator loads without paddle.
"""
import importlib

_EXPORTS = {"Dataset": "humanseg.datasets.dataset",
            "PPHumanSeg14K": "humanseg.datasets.pp_humanseg14k",
            "Cityscapes": "humanseg.datasets.cityscapes",
            "SUPERVISELY": "humanseg.datasets.supervisely",
            "MixedDataset": "humanseg.datasets.mixed",
            "make_synthetic_humanseg": "humanseg.datasets.synthetic.humanseg",
            "make_synthetic_cityscapes": "humanseg.datasets.synthetic.cityscapes"}

__all__ = list(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'humanseg.datasets' has no attribute '{name}'")

"""``--smoke``: every row's model and loss exactly as its config defines them, shrunk to a few
iterations at a tiny size on synthetic data made on the spot (for tests and quick checks; the
numbers it produces mean nothing)."""
from __future__ import annotations

import copy
import os

SMOKE_ITERS = 2
SMOKE_BATCH = 2
SMOKE_SIZE = (64, 32)  # (w, h) the networks see; the labels stay at the synthetic set's size
_CITYSCAPES_SIZE = (128, 64)  # the smallest the synthetic street scenes allow
_HUMANSEG_SIZE = (64, 48)


def smoke_data(table: str, data_dir: str) -> str:
    """Make (once) the tiny synthetic set ``table`` trains on in smoke mode; returns its root."""
    root = os.path.join(data_dir, table)
    if os.path.isfile(os.path.join(root, "meta.json")) and os.path.isfile(
            os.path.join(root, "val.txt")):
        return root
    if table == "cityscapes":
        from humanseg.datasets.cityscapes_labels import convert_dataset
        from humanseg.datasets.synthetic.cityscapes import make_synthetic_cityscapes
        make_synthetic_cityscapes(root, num_train=2, num_val=1, size=_CITYSCAPES_SIZE, seed=0,
                                  progress=False)
        convert_dataset(root, num_workers=0, progress=False)
    else:
        from humanseg.datasets.synthetic.humanseg import make_synthetic_humanseg
        # 4 clips split 2/1/1 by clip: 4 training and 2 validation frames
        make_synthetic_humanseg(root, num_clips=4, frames_per_clip=2, size=_HUMANSEG_SIZE, seed=0,
                                progress=False)
    return root


def shrink(cfg: dict) -> dict:
    """``cfg`` with its model and loss kept, and everything that costs time made tiny: no
    pretrained downloads, Resize to SMOKE_SIZE (+ flip in training), batch 2, SMOKE_ITERS
    iterations, whole-image evaluation."""
    cfg = copy.deepcopy(cfg)
    size = list(SMOKE_SIZE)
    cfg.update(batch_size=SMOKE_BATCH, iters=SMOKE_ITERS, save_interval=SMOKE_ITERS)
    cfg["train_dataset"]["transforms"] = [{"type": "Resize", "target_size": size},
                                          {"type": "RandomHorizontalFlip"}, {"type": "Normalize"}]
    cfg["val_dataset"]["transforms"] = [{"type": "Resize", "target_size": size},
                                        {"type": "Normalize"}]
    cfg.pop("test_config", None)
    model = cfg["model"]
    model["pretrained"] = None
    if isinstance(model.get("backbone"), dict):
        model["backbone"]["pretrained"] = None
    return cfg


def describe() -> str:
    return (f"smoke: {SMOKE_ITERS} iterations, batch {SMOKE_BATCH}, input {SMOKE_SIZE[0]}x"
            f"{SMOKE_SIZE[1]}, tiny synthetic sets, no pretrained weights; the metrics mean "
            f"nothing, the run checks that every row trains, evaluates and is reported")


__all__ = ["SMOKE_ITERS", "SMOKE_SIZE", "describe", "shrink", "smoke_data"]

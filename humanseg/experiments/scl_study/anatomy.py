"""Where a run's person connectivity comes from: the terms of the hard connectivity
(``humanseg.metrics.connectivity.connectivity_terms``) summed over the test frames, for one
seed's models of each arm. It tells whether an arm gains by dropping spurious pieces (fewer
*lone* predicted components) and whether it pays by losing true ones (more *missed* label
components) or by fitting the ones it keeps less well (IoU per label component)."""
from __future__ import annotations

import numpy as np
from tqdm import tqdm

from humanseg.engine.infer import predict_sample
from humanseg.experiments.scl_study.figures import load_run_model
from humanseg.experiments.scl_study.jobs import run_dir
from humanseg.experiments.scl_study.plan import SETTINGS, Run
from humanseg.metrics.connectivity import connectivity_terms, match_components

TERMS = ("label", "pred", "lone", "missed", "matched_iou")


def frame_terms(pred: np.ndarray, label: np.ndarray, num_classes: int,
                ignore_index: int = 255) -> np.ndarray:
    """``TERMS`` of one frame, summed over the classes >= 1."""
    terms = connectivity_terms(match_components(pred, label, num_classes, ignore_index))
    return np.array([terms[t][1:].sum() for t in TERMS])


def run_anatomy(exp_dir: str, run: Run) -> dict:
    """The summed terms of ``run``'s final weights on its setting's evaluation split, per frame."""
    model, dataset, order, test_config = load_run_model(run_dir(exp_dir, run),
                                                        SETTINGS[run.setting].eval_mode)
    total = np.zeros(len(TERMS))
    for index in tqdm(order, desc=f"anatomy {run.key}", unit="img", leave=False):
        pred, label = predict_sample(model, dataset, index, test_config)
        total += frame_terms(pred, label, dataset.num_classes, dataset.ignore_index)
    t = dict(zip(TERMS, total.tolist()))
    frames = len(order)
    return {"setting": run.setting, "arm": run.arm, "lambda": run.lam, "seed": run.seed,
            "frames": frames, **{k: t[k] / frames for k in ("label", "pred", "lone", "missed")},
            "iou_per_label": t["matched_iou"] / max(t["label"], 1.0),
            "pooled_connectivity": t["matched_iou"] / max(t["label"] + t["lone"], 1.0)}


__all__ = ["TERMS", "frame_terms", "run_anatomy"]

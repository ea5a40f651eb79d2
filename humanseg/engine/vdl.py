"""``--use_vdl``: training scalars, evaluation metrics and image panels in a VisualDL log.

View with ``visualdl --logdir <save_dir>/vdl_log --language en --disable-telemetry``.
Tags: ``Train/loss``, ``Train/<loss term>``, ``Train/lr``, ``Train/batch_cost``,
``Train/reader_cost``; ``Evaluate/mIoU``, ``Evaluate/Acc``, ``Evaluate/Kappa``, ``Evaluate/Dice``,
``Evaluate/connectivity`` (when evaluation reports it), ``Evaluate/class_IoU/<k>``; and images
``Evaluate/panel_<i>`` (input | prediction | label, side by side).
"""
from __future__ import annotations

import math
import os

import cv2
import numpy as np
import paddle

from humanseg.errors import ConfigError
from humanseg.utils.visualize import pseudo_color

EVAL_SCALARS = {"miou": "mIoU", "acc": "Acc", "kappa": "Kappa", "mdice": "Dice",
                "connectivity": "connectivity", "flicker": "flicker",
                "soft_flicker": "soft_flicker"}
MAX_PANEL_WIDTH = 1536


def _log_writer_class():
    try:
        from visualdl import LogWriter
    except ImportError as e:
        raise ConfigError(f"--use_vdl needs VisualDL: pip install visualdl ({e}).") from e
    return LogWriter


def make_panel(image_rgb: np.ndarray, pred: np.ndarray, label: np.ndarray) -> np.ndarray:
    """[input | prediction | label] as one uint8 RGB image, at most MAX_PANEL_WIDTH wide."""
    h, w = pred.shape
    image = cv2.resize(np.clip(image_rgb, 0, 255).astype(np.uint8), (w, h))
    panel = np.concatenate([image, pseudo_color(pred), pseudo_color(label)], axis=1)
    if panel.shape[1] > MAX_PANEL_WIDTH:
        scale = MAX_PANEL_WIDTH / panel.shape[1]
        size = (MAX_PANEL_WIDTH, max(int(round(panel.shape[0] * scale)), 1))
        panel = cv2.resize(panel, size, interpolation=cv2.INTER_NEAREST)
    return np.ascontiguousarray(panel)


def predict_panels(model: paddle.nn.Layer, dataset, indices: list[int]) -> list[np.ndarray]:
    """Panels for ``dataset[i]`` (an eval-mode dataset), predicted by ``model`` in eval mode."""
    from humanseg.engine.infer import inference
    was_training = model.training
    model.eval()
    panels = []
    with paddle.no_grad():
        for i in indices:
            sample = dataset[i]
            img = paddle.to_tensor(sample["img"][None])
            logits = inference(model, img, sample.get("trans_info"))
            pred = paddle.argmax(logits, axis=1).numpy()[0].astype(np.uint8)
            label = np.asarray(sample["label"]).reshape(pred.shape).astype(np.uint8)
            panels.append(make_panel(dataset.load(i)["img"], pred, label))
    if was_training:
        model.train()
    return panels


class VisualDLHook:
    """Writes the LoggerHook's averages every ``log_iters`` and, through ``on_eval`` (an
    EvalHook ``on_result`` callback), the metrics and image panels of each evaluation.

    Args:
        logdir: The VisualDL log folder.
        val_dataset: Dataset the panels come from (None: no panels).
        num_panels: Panels per evaluation (the first validation images, the same each time).
    """

    def __init__(self, logdir: str, val_dataset=None, num_panels: int = 2):
        self._writer_class = _log_writer_class()
        self.writer = None
        self.logdir = logdir
        self.val_dataset = val_dataset
        self.num_panels = min(num_panels, len(val_dataset)) if val_dataset is not None else 0

    def before_train(self, trainer) -> None:
        os.makedirs(self.logdir, exist_ok=True)
        self.writer = self._writer_class(logdir=self.logdir)

    def _scalar(self, tag: str, value, step: int) -> None:
        value = float(value)
        if math.isfinite(value):
            self.writer.add_scalar(tag=tag, value=value, step=step)

    def after_step(self, trainer) -> None:
        log = trainer.state.get("train_log")
        if not log or log["iter"] != trainer.iter:
            return
        step = trainer.iter
        self._scalar("Train/loss", log["loss"], step)
        for name, value in log["terms"].items():
            self._scalar(f"Train/{name}", value, step)
        for key in ("lr", "batch_cost", "reader_cost"):
            self._scalar(f"Train/{key}", log[key], step)
        if trainer.nan_skips:
            self._scalar("Train/nan_skips", trainer.nan_skips, step)

    def on_eval(self, trainer, metrics: dict) -> None:
        step = trainer.iter
        for key, name in EVAL_SCALARS.items():
            if metrics.get(key) is not None:  # flicker: video datasets only
                self._scalar(f"Evaluate/{name}", metrics[key], step)
        for k, value in enumerate(metrics.get("class_iou", [])):
            self._scalar(f"Evaluate/class_IoU/{k}", value, step)
        if self.num_panels:
            panels = predict_panels(trainer.model, self.val_dataset, list(range(self.num_panels)))
            for i, panel in enumerate(panels):
                self.writer.add_image(tag=f"Evaluate/panel_{i}", img=panel, step=step)
        self.writer.flush()

    def on_interrupt(self, trainer) -> None:
        self.writer.flush()

    def after_train(self, trainer) -> None:
        self.writer.close()
        self.writer = None

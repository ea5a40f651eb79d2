"""What ``hooks.VisualDLHook`` (``--use_vdl``) writes: training scalars, evaluation metrics and
image panels in a VisualDL log.

View with ``visualdl --logdir <save_dir>/vdl_log --language en --disable-telemetry``.
Tags: ``Train/loss``, ``Train/<loss term>``, ``Train/lr``, ``Train/batch_cost``,
``Train/reader_cost``; ``Evaluate/mIoU``, ``Evaluate/Acc``, ``Evaluate/Kappa``, ``Evaluate/Dice``,
``Evaluate/connectivity`` (when evaluation reports it), ``Evaluate/class_IoU/<k>``; and images
``Evaluate/panel_<i>`` (input | prediction | label, side by side).
"""
from __future__ import annotations


import cv2
import numpy as np
import paddle

from humanseg.errors import ConfigError
from humanseg.utils.visualize import pseudo_color

EVAL_SCALARS = {"miou": "mIoU", "acc": "Acc", "kappa": "Kappa", "mdice": "Dice",
                "connectivity": "connectivity", "flicker": "flicker",
                "soft_flicker": "soft_flicker"}
MAX_PANEL_WIDTH = 1536


def log_writer_class():
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

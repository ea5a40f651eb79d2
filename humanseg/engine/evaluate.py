"""Evaluation over a dataset: argmax predictions at the labels' original size, IoU-family metrics."""
from __future__ import annotations

import time

import paddle
from tqdm import tqdm

from humanseg.datasets.loader import build_eval_loader
from humanseg.engine.infer import inference
from humanseg.metrics import IoUMetric
from humanseg.utils.logger import logger


def evaluate(model: paddle.nn.Layer, dataset, num_workers: int = 0, progress: bool = True) -> dict:
    """Evaluate ``model`` on ``dataset`` (mode 'val': labels at original size).

    Returns:
        dict with miou, class_iou, class_precision, class_recall, mdice, class_dice, acc, kappa,
        plus num_images and seconds.
    """
    was_training = model.training
    model.eval()
    metric = IoUMetric(dataset.num_classes, dataset.ignore_index)
    loader = build_eval_loader(dataset, num_workers)
    start = time.time()
    with paddle.no_grad():
        for batch in tqdm(loader, desc="eval", unit="img", disable=not progress, leave=False):
            logits = inference(model, batch["img"], batch["trans_info"][0])
            pred = paddle.argmax(logits, axis=1).numpy()
            metric.update(pred, batch["label"].numpy())
    if was_training:
        model.train()
    result = metric.compute()
    result.update(num_images=len(dataset), seconds=round(time.time() - start, 3))
    return result


def format_metrics(result: dict, class_names: list[str] | None = None) -> str:
    """A short summary line and a per-class table."""
    head = (f"mIoU={result['miou']:.4f} Acc={result['acc']:.4f} Kappa={result['kappa']:.4f} "
            f"Dice={result['mdice']:.4f} ({result.get('num_images', '?')} images)")
    names = class_names or [str(i) for i in range(len(result["class_iou"]))]
    rows = ["class        IoU     Precision  Recall   Dice"]
    for i, name in enumerate(names):
        rows.append(f"{name:<12} {result['class_iou'][i]:.4f}  {result['class_precision'][i]:.4f}"
                    f"     {result['class_recall'][i]:.4f}   {result['class_dice'][i]:.4f}")
    return head + "\n" + "\n".join(rows)


def log_metrics(result: dict, prefix: str = "[EVAL]") -> None:
    for line in format_metrics(result).splitlines():
        logger.info(f"{prefix} {line}")


__all__ = ["evaluate", "format_metrics", "log_metrics"]

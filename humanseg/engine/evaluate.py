"""Evaluation over a dataset: argmax predictions at the labels' original size, IoU-family metrics
and semantic connectivity."""
from __future__ import annotations

import time

import paddle
from tqdm import tqdm

from humanseg.datasets.loader import build_eval_loader, raise_if_error
from humanseg.engine.infer import inference
from humanseg.metrics import ConnectivityMetric, IoUMetric
from humanseg.utils.dist import DistEnv, all_reduce_attrs


def evaluate(model: paddle.nn.Layer, dataset, num_workers: int = 0, progress: bool = True,
             dist: DistEnv | None = None) -> dict:
    """Evaluate ``model`` on ``dataset`` (mode 'val': labels at original size).

    With ``dist`` of more than one rank, each rank evaluates every ``world_size``-th image and the
    metric accumulators (confusion matrix, connectivity sums) are summed over the ranks, so every
    rank returns the metrics of the whole dataset.

    Returns:
        dict with miou, class_iou, class_precision, class_recall, mdice, class_dice, acc, kappa,
        connectivity and class_connectivity (``humanseg.metrics.connectivity``), plus
        num_images and seconds.
    """
    was_training = model.training
    model.eval()
    metric = IoUMetric(dataset.num_classes, dataset.ignore_index)
    conn = ConnectivityMetric(dataset.num_classes, dataset.ignore_index)
    dist = dist or DistEnv()
    shard = dataset if not dist.distributed else paddle.io.Subset(
        dataset, list(range(dist.rank, len(dataset), dist.world_size)))
    loader = build_eval_loader(shard, num_workers)
    start = time.time()
    with paddle.no_grad():
        for batch in tqdm(loader, desc="eval", unit="img", disable=not progress, leave=False):
            raise_if_error(batch)
            logits = inference(model, batch["img"], batch["trans_info"][0])
            pred = paddle.argmax(logits, axis=1).numpy()
            label = batch["label"].numpy()
            metric.update(pred, label)  # checks that the sizes agree
            conn.update(pred, label.reshape(pred.shape))
    if was_training:
        model.train()
    all_reduce_attrs([metric, conn], dist)
    result = metric.compute()
    result.update(conn.compute())
    result.update(num_images=len(dataset), seconds=round(time.time() - start, 3))
    return result


def format_metrics(result: dict, class_names: list[str] | None = None) -> str:
    """A short summary line and a per-class table."""
    head = f"{summary_line(result)} ({result.get('num_images', '?')} images)"
    names = class_names or [str(i) for i in range(len(result["class_iou"]))]
    has_conn = "class_connectivity" in result
    rows = ["class        IoU     Precision  Recall   Dice" + ("    Conn" if has_conn else "")]
    for i, name in enumerate(names):
        row = (f"{name:<12} {result['class_iou'][i]:.4f}  {result['class_precision'][i]:.4f}"
               f"     {result['class_recall'][i]:.4f}   {result['class_dice'][i]:.4f}")
        rows.append(row + (f"  {result['class_connectivity'][i]:.4f}" if has_conn else ""))
    return head + "\n" + "\n".join(rows)


def summary_line(result: dict) -> str:
    """``mIoU=... Acc=... Kappa=... Dice=... [Conn=...]`` for logs and reports."""
    conn = f" Conn={result['connectivity']:.4f}" if "connectivity" in result else ""
    return (f"mIoU={result['miou']:.4f} Acc={result['acc']:.4f} Kappa={result['kappa']:.4f} "
            f"Dice={result['mdice']:.4f}{conn}")


__all__ = ["evaluate", "format_metrics", "summary_line"]

"""Evaluation over a dataset: argmax predictions at the labels' original size (whole image,
sliding window, flips and scales as PaddleSeg's ``test_config``), IoU-family metrics, boundary
F-score and semantic connectivity."""
from __future__ import annotations

import time

import paddle
from tqdm import tqdm

from humanseg.datasets.loader import build_eval_loader, raise_if_error
from humanseg.engine.infer import check_test_config, describe_test_config, eval_logits
from humanseg.metrics import BoundaryFMetric, ConnectivityMetric, IoUMetric
from humanseg.metrics.boundary import DEFAULT_TOLERANCE
from humanseg.utils.dist import DistEnv, all_reduce_attrs
from humanseg.utils.logger import logger


def describe_transforms(transforms) -> str:
    """``Resize(target_size=(96, 64), ...), Normalize(...)``: each op with its settings."""
    ops = getattr(transforms, "transforms", transforms) or []
    parts = []
    for op in ops:
        args = ", ".join(f"{k}={_short(v)}" for k, v in vars(op).items() if not k.startswith("_"))
        parts.append(f"{type(op).__name__}({args})")
    return ", ".join(parts) or "none"


def _short(value) -> str:
    if hasattr(value, "tolist"):
        value = value.tolist()
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def evaluate(model: paddle.nn.Layer, dataset, num_workers: int = 0, progress: bool = True,
             dist: DistEnv | None = None, test_config: dict | None = None,
             boundary_tolerance: float = DEFAULT_TOLERANCE) -> dict:
    """Evaluate ``model`` on ``dataset`` (mode 'val': labels at original size).

    With ``dist`` of more than one rank, each rank evaluates every ``world_size``-th image and the
    metric accumulators (confusion matrix, connectivity sums, boundary counts) are summed over the
    ranks, so every rank returns the metrics of the whole dataset.

    Args:
        test_config: PaddleSeg's ``test_config`` (``humanseg.engine.infer.check_test_config``);
            default whole image.
        boundary_tolerance: Of the boundary F-score: pixels, or a fraction of the diagonal.

    Returns:
        dict with miou, class_iou, class_precision, class_recall, mdice, class_dice, acc, kappa,
        boundary_f, class_boundary_f (and precision/recall), connectivity and
        class_connectivity (``humanseg.metrics``), plus test_config, num_images and seconds.
    """
    test_config = check_test_config(test_config)
    if progress:
        logger.info(f"[EVAL] {len(dataset)} images, {describe_test_config(test_config)}; "
                    f"transforms: {describe_transforms(getattr(dataset, 'transforms', None))}")
    was_training = model.training
    model.eval()
    metric = IoUMetric(dataset.num_classes, dataset.ignore_index)
    conn = ConnectivityMetric(dataset.num_classes, dataset.ignore_index)
    bf = BoundaryFMetric(dataset.num_classes, dataset.ignore_index, boundary_tolerance)
    dist = dist or DistEnv()
    shard = dataset if not dist.distributed else paddle.io.Subset(
        dataset, list(range(dist.rank, len(dataset), dist.world_size)))
    loader = build_eval_loader(shard, num_workers)
    start = time.time()
    with paddle.no_grad():
        for batch in tqdm(loader, desc="eval", unit="img", disable=not progress, leave=False):
            raise_if_error(batch)
            logits = eval_logits(model, batch["img"], batch["trans_info"][0], test_config)
            pred = paddle.argmax(logits, axis=1).numpy()
            label = batch["label"].numpy()
            metric.update(pred, label)  # checks that the sizes agree
            label = label.reshape(pred.shape)
            conn.update(pred, label)
            bf.update(pred, label)
    if was_training:
        model.train()
    all_reduce_attrs([metric, conn, bf], dist)
    result = metric.compute()
    result.update(bf.compute())
    result.update(conn.compute())
    result.update(test_config=test_config, num_images=len(dataset),
                  seconds=round(time.time() - start, 3))
    return result


def _cell(value) -> str:
    return "   -  " if value is None else f"{value:.4f}"


def format_metrics(result: dict, class_names: list[str] | None = None) -> str:
    """A short summary line and a per-class table."""
    head = f"{summary_line(result)} ({result.get('num_images', '?')} images)"
    names = class_names or [str(i) for i in range(len(result["class_iou"]))]
    has_conn = "class_connectivity" in result
    has_bf = "class_boundary_f" in result
    rows = ["class        IoU     Precision  Recall   Dice" + ("    BF    " if has_bf else "")
            + ("  Conn" if has_conn else "")]
    for i, name in enumerate(names):
        row = (f"{name:<12} {result['class_iou'][i]:.4f}  {result['class_precision'][i]:.4f}"
               f"     {result['class_recall'][i]:.4f}   {result['class_dice'][i]:.4f}")
        if has_bf:
            row += f"  {_cell(result['class_boundary_f'][i])}"
        rows.append(row + (f"  {result['class_connectivity'][i]:.4f}" if has_conn else ""))
    return head + "\n" + "\n".join(rows)


def summary_line(result: dict) -> str:
    """``mIoU=... Acc=... Kappa=... Dice=... [BF=...] [Conn=...]`` for logs and reports."""
    bf = f" BF={_cell(result['boundary_f']).strip()}" if "boundary_f" in result else ""
    conn = f" Conn={result['connectivity']:.4f}" if "connectivity" in result else ""
    return (f"mIoU={result['miou']:.4f} Acc={result['acc']:.4f} Kappa={result['kappa']:.4f} "
            f"Dice={result['mdice']:.4f}{bf}{conn}")


__all__ = ["describe_transforms", "evaluate", "format_metrics", "summary_line"]

"""Evaluation over a dataset: argmax predictions at the labels' original size (whole image,
sliding window, flips and scales as PaddleSeg's ``test_config``), IoU-family metrics, boundary
F-score, semantic connectivity and, for video datasets, temporal flicker."""
from __future__ import annotations

import time

import paddle
import paddle.nn.functional as F
from tqdm import tqdm

from humanseg.datasets.loader import build_eval_loader, raise_if_error
from humanseg.cvlibs.checks import check_test_config
from humanseg.engine.infer import describe_test_config, eval_logits
from humanseg.metrics import BoundaryFMetric, ConnectivityMetric, FlickerMetric, IoUMetric
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


def frame_index_of(dataset) -> list[tuple[str, int]] | None:
    """The dataset's ``(clip, frame)`` per sample when it is a video dataset, else None."""
    frame_index = getattr(dataset, "frame_index", None)
    frames = frame_index() if callable(frame_index) else None
    if frames is not None and len(frames) != len(dataset):
        raise ValueError(f"frame_index() of {type(dataset).__name__} gives {len(frames)} entries "
                         f"for {len(dataset)} samples")
    return frames


def clip_order(frames: list[tuple[str, int]], rank: int = 0, world_size: int = 1) -> list[int]:
    """Sample indices rank ``rank`` evaluates, clip by clip and in frame order within a clip.

    Whole clips go to one rank (each clip, largest first, to the rank with the fewest frames so
    far), so every pair of consecutive frames is seen by one rank and the ranks' flicker counts
    add up to the whole dataset's.
    """
    clips: dict[str, list[int]] = {}
    for i, (clip, _) in enumerate(frames):
        clips.setdefault(clip, []).append(i)
    load = [0] * world_size
    mine = []
    for clip in sorted(clips, key=lambda c: (-len(clips[c]), c)):
        target = min(range(world_size), key=lambda r: (load[r], r))
        load[target] += len(clips[clip])
        if target == rank:
            mine.append(clip)
    return [i for clip in sorted(mine)
            for i in sorted(clips[clip], key=lambda i: (frames[i][1], i))]


def evaluate(model: paddle.nn.Layer, dataset, num_workers: int = 0, progress: bool = True,
             dist: DistEnv | None = None, test_config: dict | None = None,
             boundary_tolerance: float = DEFAULT_TOLERANCE) -> dict:
    """Evaluate ``model`` on ``dataset`` (mode 'val': labels at original size).

    With ``dist`` of more than one rank, each rank evaluates every ``world_size``-th image (whole
    clips for a video dataset) and the metric accumulators (confusion matrix, connectivity sums,
    boundary and flicker counts) are summed over the ranks, so every rank returns the metrics of
    the whole dataset.

    A video dataset (``frame_index()`` not None, e.g. ``video: true``) is evaluated clip by clip
    in frame order, keeping only the previous frame, and adds temporal flicker over each pair of
    consecutive frames of a clip (``humanseg.metrics.flicker``): the fraction of label-stable
    pixels whose predicted label changed, and for 2-class models the mean change of the softmax
    foreground probability on them.

    Args:
        test_config: PaddleSeg's ``test_config`` (``humanseg.cvlibs.checks.check_test_config``);
            default whole image.
        boundary_tolerance: Of the boundary F-score: pixels, or a fraction of the diagonal.

    Returns:
        dict with miou, class_iou, class_precision, class_recall, mdice, class_dice, acc, kappa,
        boundary_f, class_boundary_f (and precision/recall), connectivity and
        class_connectivity (``humanseg.metrics``), plus test_config, num_images and seconds.
        Video datasets only: flicker, soft_flicker (None unless 2 classes) and flicker_pairs.
    """
    test_config = check_test_config(test_config)
    frames = frame_index_of(dataset)
    if progress:
        clips = "" if frames is None else f" in {len({c for c, _ in frames})} clips (flicker)"
        logger.info(f"[EVAL] {len(dataset)} images{clips}, {describe_test_config(test_config)}; "
                    f"transforms: {describe_transforms(getattr(dataset, 'transforms', None))}")
    was_training = model.training
    model.eval()
    metric = IoUMetric(dataset.num_classes, dataset.ignore_index)
    conn = ConnectivityMetric(dataset.num_classes, dataset.ignore_index)
    bf = BoundaryFMetric(dataset.num_classes, dataset.ignore_index, boundary_tolerance)
    dist = dist or DistEnv()
    flicker = FlickerMetric(dataset.ignore_index) if frames is not None else None
    if frames is not None:
        order = clip_order(frames, dist.rank, dist.world_size)
    else:
        order = list(range(dist.rank, len(dataset), dist.world_size))
    shard = dataset if order == list(range(len(dataset))) else paddle.io.Subset(dataset, order)
    loader = build_eval_loader(shard, num_workers)
    start = time.time()
    clip = None
    with paddle.no_grad():
        for position, batch in enumerate(tqdm(loader, desc="eval", unit="img",
                                              disable=not progress, leave=False)):
            raise_if_error(batch)
            logits = eval_logits(model, batch["img"], batch["trans_info"][0], test_config)
            pred = paddle.argmax(logits, axis=1).numpy()
            label = batch["label"].numpy()
            metric.update(pred, label)  # checks that the sizes agree
            label = label.reshape(pred.shape)
            conn.update(pred, label)
            bf.update(pred, label)
            if flicker is not None:
                if frames[order[position]][0] != clip:
                    clip = frames[order[position]][0]
                    flicker.new_clip()
                alpha = F.softmax(logits, axis=1)[0, 1].numpy() if logits.shape[1] == 2 else None
                flicker.update(pred[0], label[0], alpha)
    if was_training:
        model.train()
    accumulators = [metric, conn, bf] + ([flicker] if flicker is not None else [])
    all_reduce_attrs(accumulators, dist)
    result = metric.compute()
    result.update(bf.compute())
    result.update(conn.compute())
    if flicker is not None:
        fl = flicker.compute()
        result.update(flicker=fl["flicker"], soft_flicker=fl["soft_flicker"],
                      flicker_pairs=fl["pairs"])
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
    if result.get("flicker") is not None:
        soft = result.get("soft_flicker")
        rows.append(f"temporal flicker over {result.get('flicker_pairs', '?')} consecutive frame "
                    f"pairs: {result['flicker']:.4f} (changed label-stable pixels)"
                    + ("" if soft is None else f", soft {soft:.4f} (foreground probability)"))
    return head + "\n" + "\n".join(rows)


def summary_line(result: dict) -> str:
    """``mIoU=... Acc=... Kappa=... Dice=... [BF=...] [Conn=...] [Flicker=...]`` for logs and
    reports (Flicker for video datasets only)."""
    bf = f" BF={_cell(result['boundary_f']).strip()}" if "boundary_f" in result else ""
    conn = f" Conn={result['connectivity']:.4f}" if "connectivity" in result else ""
    flicker = (f" Flicker={result['flicker']:.4f}" if result.get("flicker") is not None else "")
    return (f"mIoU={result['miou']:.4f} Acc={result['acc']:.4f} Kappa={result['kappa']:.4f} "
            f"Dice={result['mdice']:.4f}{bf}{conn}{flicker}")


__all__ = ["clip_order", "describe_transforms", "evaluate", "format_metrics", "frame_index_of",
           "summary_line"]

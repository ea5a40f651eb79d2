"""Figures of training experiments: validation curves over seeds and panels of predictions.

matplotlib is optional (the ``experiments`` extra) and imported only when a figure is drawn.
Figures are drawn on a ``matplotlib.figure.Figure`` (no pyplot state) at fixed pixel sizes.
"""
from __future__ import annotations

import json
import os
import re

import cv2
import numpy as np

from humanseg.errors import DataError, HumanSegError
from humanseg.utils.visualize import overlay

DPI = 100
CURVES_SIZE = (1000, 400)        # pixels (width, height) of the curves figure
PANEL_CELL_WIDTH = 240           # pixels per panel column
PANEL_HEADER = 30                # pixels of the column titles
PANEL_COLUMNS = 4                # image, label, baseline prediction, compared prediction
CURVE_METRICS = (("miou", "val mIoU"), ("connectivity", "val connectivity"))
# the names of ``humanseg.engine.evaluate.summary_line`` in ``[EVAL] iter=N ...`` log lines
LOG_NAMES = {"mIoU": "miou", "Acc": "acc", "Kappa": "kappa", "Dice": "mdice", "BF": "boundary_f",
             "Conn": "connectivity", "Flicker": "flicker"}
_EVAL_LINE = re.compile(r"\[EVAL\] iter=(\d+) (.*)")
_LOG_VALUE = re.compile(r"(\w+)=(-?\d+(?:\.\d+)?)(?=\s|$)")


def new_figure(width_px: int, height_px: int):
    try:
        from matplotlib.figure import Figure
    except ImportError as e:
        raise HumanSegError("the figures need matplotlib: pip install 'humanseg[experiments]' "
                            "(or pip install matplotlib).") from e
    return Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI)


def save_figure(fig, path: str) -> str:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=DPI)
    return path


def load_history(run_dir: str) -> list[dict]:
    """The evaluations of one training run, by iteration: ``<run_dir>/eval_history.json``, or
    for runs trained before that file was written, the ``[EVAL] iter=N`` lines of ``train.log``
    (values rounded to 4 decimals there)."""
    path = os.path.join(run_dir, "eval_history.json")
    if not os.path.isfile(path) and os.path.isfile(os.path.join(run_dir, "train.log")):
        return history_from_log(os.path.join(run_dir, "train.log"))
    try:
        with open(path, encoding="utf-8") as f:
            history = json.load(f)
    except FileNotFoundError:
        raise DataError(f"no eval_history.json (nor train.log) in {run_dir}: train with "
                        f"--do_eval (evaluation writes <save_dir>/eval_history.json).") from None
    except ValueError as e:
        raise DataError(f"{path} is not valid JSON ({e}); re-run the evaluation.") from None
    if not isinstance(history, list) or not all(isinstance(h, dict) and "iter" in h
                                                for h in history):
        raise DataError(f"{path} is not a list of evaluations with an 'iter' each.")
    return sorted(history, key=lambda h: h["iter"])


def history_from_log(log_path: str) -> list[dict]:
    """Evaluations from the ``[EVAL] iter=N mIoU=... Conn=...`` lines of a training log; a
    resumed run's later line for an iteration replaces the earlier one."""
    found: dict[int, dict] = {}
    with open(log_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            match = _EVAL_LINE.search(line)
            if match:
                values = {LOG_NAMES[k]: float(v) for k, v in _LOG_VALUE.findall(match[2])
                          if k in LOG_NAMES}
                found[int(match[1])] = {"iter": int(match[1]), **values}
    if not found:
        raise DataError(f"no [EVAL] iter=N lines in {log_path}: train with --do_eval.")
    return [found[i] for i in sorted(found)]


def curve_band(histories: list[list[dict]], key: str) -> tuple[np.ndarray, ...]:
    """``(iters, mean, min, max)`` of metric ``key`` over the runs (seeds), at the iterations every
    run evaluated.

    Raises:
        DataError: the runs share no evaluated iteration with the metric.
    """
    per_run = [{h["iter"]: h[key] for h in history if h.get(key) is not None}
               for history in histories]
    iters = sorted(set.intersection(*(set(r) for r in per_run))) if per_run else []
    if not iters:
        raise DataError(f"the runs share no evaluated iteration with '{key}'.")
    values = np.array([[r[i] for i in iters] for r in per_run], np.float64)
    return np.array(iters), values.mean(0), values.min(0), values.max(0)


def plot_curves(arms: dict[str, list[list[dict]]], path: str,
                metrics=CURVE_METRICS) -> str:
    """One subplot per metric: for each arm the mean over its runs and the min-max band.

    Args:
        arms: Arm name -> the eval histories of its runs (one per seed).
        path: Output PNG (``CURVES_SIZE`` pixels).
    """
    fig = new_figure(*CURVES_SIZE)
    from matplotlib.ticker import MaxNLocator
    colours = [f"C{i}" for i in range(len(arms))]
    axes = fig.subplots(1, len(metrics))
    for ax, (key, title) in zip(np.atleast_1d(axes), metrics):
        for colour, (arm, histories) in zip(colours, arms.items()):
            iters, mean, lo, hi = curve_band(histories, key)
            ax.plot(iters, mean, color=colour, marker="o", markersize=3,
                    label=f"{arm} (mean of {len(histories)} seed{'s' * (len(histories) > 1)})")
            ax.fill_between(iters, lo, hi, color=colour, alpha=0.2, linewidth=0)
        ax.set_title(title)
        ax.set_xlabel("iteration")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return save_figure(fig, path)


def count_components(mask: np.ndarray, ignore_index: int = 255) -> int:
    """8-connected components of the foreground (every class but 0 and ``ignore_index``)."""
    fg = ((mask != 0) & (mask != ignore_index)).astype(np.uint8)
    return int(cv2.connectedComponents(fg, connectivity=8)[0]) - 1


def _components_text(mask: np.ndarray, ignore_index: int) -> str:
    count = count_components(mask, ignore_index)
    return f"{count} component{'s' * (count != 1)}"


def pick_frames(conn_a: np.ndarray, conn_b: np.ndarray, count: int) -> list[int]:
    """Indices of the ``count`` frames whose connectivity differs most between two models
    (largest ``|a - b|`` first; ties by index)."""
    diff = np.abs(np.asarray(conn_b, np.float64) - np.asarray(conn_a, np.float64))
    return sorted(range(len(diff)), key=lambda i: (-diff[i], i))[:count]


def panel_size(rows: int, frame_width: int, frame_height: int) -> tuple[int, int]:
    """Pixel size (width, height) of ``plot_panel``'s figure for frames of the given size."""
    cell_height = round(PANEL_CELL_WIDTH * frame_height / frame_width)
    return PANEL_COLUMNS * PANEL_CELL_WIDTH, PANEL_HEADER + rows * cell_height


def plot_panel(rows: list[dict], titles: tuple[str, str], path: str,
               ignore_index: int = 255) -> str:
    """A grid of frames: image, label, and two predictions, each mask over the image and
    annotated with its number of foreground components (and the prediction's connectivity).

    Args:
        rows: One dict per frame: ``image`` (HxWx3 uint8 RGB), ``label``, ``preds`` (two class
            maps), ``conn`` (the two predictions' connectivity) and ``name``.
        titles: Column titles of the two predictions (e.g. the arms' names).
        path: Output PNG (``panel_size`` pixels).
    """
    if not rows:
        raise DataError("no frames to draw in the panel.")
    height, width = rows[0]["image"].shape[:2]
    fig_w, fig_h = panel_size(len(rows), width, height)
    fig = new_figure(fig_w, fig_h)
    cell_h = (fig_h - PANEL_HEADER) / len(rows)
    headers = ("image", "label", *titles)
    for r, row in enumerate(rows):
        label = np.where(row["label"] == ignore_index, 0, row["label"])
        cells = [(row["image"], row["name"]),
                 (overlay(row["image"], label), _components_text(row["label"], ignore_index))]
        for pred, conn in zip(row["preds"], row["conn"]):
            cells.append((overlay(row["image"], pred),
                          f"{_components_text(pred, ignore_index)}, conn {conn:.2f}"))
        for c, (picture, caption) in enumerate(cells):
            ax = fig.add_axes([c * PANEL_CELL_WIDTH / fig_w, 1 - (PANEL_HEADER + (r + 1) * cell_h)
                               / fig_h, PANEL_CELL_WIDTH / fig_w, cell_h / fig_h])
            ax.imshow(picture, interpolation="nearest", aspect="auto")
            ax.set_axis_off()
            ax.text(0.02, 0.97, caption, transform=ax.transAxes, fontsize=7, va="top",
                    color="white", bbox={"facecolor": "black", "alpha": 0.6, "pad": 1.5,
                                         "linewidth": 0})
    for c, header in enumerate(headers):
        fig.text((c + 0.5) * PANEL_CELL_WIDTH / fig_w, 1 - PANEL_HEADER / 2 / fig_h, header,
                 ha="center", va="center", fontsize=10)
    return save_figure(fig, path)


__all__ = ["CURVES_SIZE", "count_components", "curve_band", "history_from_log", "load_history",
           "new_figure", "save_figure",
           "panel_size",
           "pick_frames", "plot_curves", "plot_panel"]

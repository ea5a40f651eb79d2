"""The study's figures, under ``docs/experiments/figures/``:

* ``scl_study_differences.png``: every arm's paired difference with its 95% interval, one panel
  per metric, one colour per setting (from ``scl_study.json`` alone);
* ``scl_study_base_curves.png``: the bases' val mIoU and connectivity against iteration (the
  plateau the arms continue from; from the JSON);
* ``scl_study_components.png``: how many person components the control and each arm predict per
  test frame, against the label's, one panel per setting (from the JSON);
* ``scl_study_panel_<setting>.png``: the test frames whose connectivity differs most between the
  control and one arm of the same seed, with both predictions (needs that setting's runs here:
  their ``frames.json`` picks the frames, their final weights predict them).
"""
from __future__ import annotations

import json
import os

import numpy as np

from humanseg.errors import DataError
from humanseg.experiments.scl_study.jobs import finished, run_dir
from humanseg.experiments.scl_study.plan import SETTINGS, Run
from humanseg.experiments.scl_study.report import HIST_BINS
from humanseg.utils.plots import new_figure, pick_frames, plot_curves, plot_panel, save_figure

DIFF_METRICS = (("connectivity", "connectivity (points)", 100),
                ("components", "components / frame", 1),
                ("miou", "mIoU (points)", 100), ("boundary_f", "boundary F (points)", 100))
CURVE_METRICS = (("miou", "val mIoU"), ("connectivity", "val connectivity"))


def plot_differences(report: dict, path: str) -> str:
    """Mean paired difference and 95% interval of every arm, one subplot per metric."""
    rows = report.get("paired_differences", [])
    if not rows:
        raise DataError("no paired differences in the report yet: run --phase train and report.")
    arms = list(dict.fromkeys((r["setting"], r["arm"]) for r in rows))
    settings = list(dict.fromkeys(s for s, _ in arms))
    fig = new_figure(1400, 120 + 26 * len(arms))
    axes = fig.subplots(1, len(DIFF_METRICS), sharey=True)
    for ax, (metric, title, scale) in zip(axes, DIFF_METRICS):
        for y, (setting, arm) in enumerate(arms):
            r = next((r for r in rows if (r["setting"], r["arm"], r["metric"]) ==
                      (setting, arm, metric)), None)
            if r is None:
                continue
            colour = f"C{settings.index(setting)}"
            low, high = (scale * v for v in r["ci95"])
            ax.plot([low, high], [y, y], color=colour, linewidth=2)
            ax.plot(scale * r["mean"], y, "o", color=colour, markersize=5)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_title(title, fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(range(len(arms)))
    axes[0].set_yticklabels([f"{s} · {a.replace('_lambda', ' λ')}" for s, a in arms], fontsize=7)
    axes[0].invert_yaxis()
    fig.suptitle("arm − control, same seed and same test frames: mean and 95% interval",
                 fontsize=11)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_base_curves(report: dict, path: str) -> str:
    """The bases' validation curves, one line per setting."""
    histories = {b["setting"]: [b["val_curve"]] for b in report.get("bases", [])
                 if b.get("val_curve")}
    if not histories:
        raise DataError("no base run with a validation curve in the report yet.")
    return plot_curves(histories, path, CURVE_METRICS)


def plot_components(report: dict, path: str) -> str:
    """Per setting: the share of test frames with 0, 1, ... predicted person components, for
    the control, each arm and the label."""
    # person components: the portrait (binary) settings; a street frame's classes >= 1 are
    # every class but road, dozens of components per frame
    hists = [h for h in report.get("component_histograms", []) if h["arm"] != "base"
             and h["setting"] in SETTINGS and SETTINGS[h["setting"]].video]
    if not hists:
        raise DataError("no component histograms in the report yet (they are built from the "
                        "runs' frames.json by --phase report).")
    settings = list(dict.fromkeys(h["setting"] for h in hists))
    fig = new_figure(420 * len(settings), 360)
    axes = np.atleast_1d(fig.subplots(1, len(settings), sharey=True))
    x = np.arange(HIST_BINS)
    for ax, setting in zip(axes, settings):
        mine = [h for h in hists if h["setting"] == setting]
        series = [("label", mine[0]["label"])] + [(h["arm"].replace("_lambda", " λ"), h["pred"])
                                                 for h in mine]
        width = 0.8 / len(series)
        for i, (name, counts) in enumerate(series):
            share = np.asarray(counts, np.float64) / max(sum(counts), 1)
            ax.bar(x + (i - (len(series) - 1) / 2) * width, share, width,
                   color="black" if name == "label" else f"C{i - 1}", label=name)
        ax.set_xticks(x)
        ax.set_xticklabels([str(v) for v in range(HIST_BINS - 1)] + [f"{HIST_BINS - 1}+"])
        ax.set_xlabel("person components in the frame")
        ax.set_title(setting, fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("share of test frames (all seeds)")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)


def _frame_connectivity(path: str) -> np.ndarray:
    from humanseg.metrics.paired import FrameStats
    with open(path) as f:
        data = json.load(f)
    layout = FrameStats(data["num_classes"])
    return layout.metrics(np.asarray(data["rows"], np.float64))["connectivity"]


def load_run_model(path: str, split: str):
    """The run's model (final weights, eval mode), its evaluation dataset (``split``), the order
    its frames.json rows follow, and its checked test_config."""
    from humanseg.cvlibs.checks import check_test_config
    from humanseg.experiments.scl_study.frames import build_for_eval, frame_order
    cfg, builder = build_for_eval(os.path.join(path, "run_config.yml"),
                                  os.path.join(path, "final", "model.pdparams"), split)
    model = builder.model
    model.eval()
    dataset = builder.val_dataset
    return model, dataset, frame_order(dataset), check_test_config(cfg.get("test_config"))


def plot_arm_panel(exp_dir: str, control: Run, arm: Run, split: str, path: str,
                   num_frames: int = 4) -> dict:
    """The ``num_frames`` test frames whose connectivity differs most between ``control`` and
    ``arm`` (same setting and seed), image | label | control | arm; returns what was drawn."""
    from humanseg.engine.infer import predict_sample
    for run in (control, arm):
        if not finished(exp_dir, run):
            raise DataError(f"{run.key} has not finished in {exp_dir}: the panel needs its "
                            f"frames.json and final weights")
    conn = [_frame_connectivity(os.path.join(run_dir(exp_dir, run), "frames.json"))
            for run in (control, arm)]
    chosen = pick_frames(conn[0], conn[1], num_frames)
    loaded = [load_run_model(run_dir(exp_dir, run), split) for run in (control, arm)]
    _, dataset, order, test_config = loaded[0]
    rows = []
    for i in chosen:
        index = order[i]
        preds = [predict_sample(model, dataset, index, tc)[0] for model, _, _, tc in loaded]
        sample = dataset.load(index)
        rows.append({"image": sample["img"].clip(0, 255).astype(np.uint8),
                     "label": sample["label"], "preds": preds,
                     "conn": [float(c[i]) for c in conn],
                     "name": os.path.basename(dataset.file_list[index][0])})
    titles = (f"control (seed {control.seed})", f"{arm.arm.replace('_lambda', ' λ')}")
    plot_panel(rows, titles, path, dataset.ignore_index)
    return {"control": control.key, "arm": arm.key, "path": path,
            "frames": [{"name": r["name"], "connectivity": r["conn"]} for r in rows]}


__all__ = ["plot_arm_panel", "plot_base_curves", "plot_components", "plot_differences"]

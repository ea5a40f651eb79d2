"""The study's results: runs, paired differences with bootstrap intervals, gradient ratios, as
``scl_study.json`` and as the tables between the markers of ``scl_study.md``."""
from __future__ import annotations

import json
import os

import numpy as np

from humanseg.errors import HumanSegError
from humanseg.experiments.scl_study.jobs import finished, load_result, run_dir
from humanseg.experiments.scl_study.plan import SETTINGS, Run
from humanseg.metrics.paired import DIRECTIONS, FrameStats, paired_difference, unit_sums, verdict
from humanseg.utils.atomic import write_json_atomically, write_text_atomically

BEGIN, END = "<!-- scl_study:tables -->", "<!-- /scl_study:tables -->"
RUN_METRICS = ("miou", "connectivity", "components", "pred_components", "label_components",
               "boundary_f", "flicker")


# predicted components per frame are counted in bins 0 .. HIST_BINS - 1, the last one "or more"
HIST_BINS = 9
# the parts whose compute is counted: each setting, and the gradient-ratio runs
GRAD_PART = "gradient_ratio"
KIND_ORDER = ("base", "cont", "scratch")


def _frames(exp_dir: str, run: Run) -> tuple[FrameStats, np.ndarray, list[str]]:
    with open(os.path.join(run_dir(exp_dir, run), "frames.json")) as f:
        data = json.load(f)
    return FrameStats(data["num_classes"]), np.asarray(data["rows"], np.float64), data["units"]


def histogram(counts: np.ndarray) -> list[int]:
    """How many frames have 0, 1, ... components (the last bin: HIST_BINS - 1 or more)."""
    bins = np.minimum(np.asarray(counts, np.int64), HIST_BINS - 1)
    return np.bincount(bins, minlength=HIST_BINS).tolist()


def collect(runs: list[Run], exp_dir: str, n_boot: int, boot_seed: int,
            earlier: dict | None = None) -> dict:
    """Everything the finished runs of ``runs`` say (unfinished runs are left out), merged into
    ``earlier`` (a previous report): a setting (or gradient recipe) with a finished run here is
    rebuilt from the runs; every other one keeps the earlier report's rows, so a report made on
    a machine that holds only some of the runs loses none of the others."""
    done = [r for r in runs if finished(exp_dir, r)]
    rows, units, grad, bases, pooled, labels = [], {}, [], [], {}, {}
    seconds: dict[str, float] = {}
    for run in done:
        result = load_result(exp_dir, run)
        part = GRAD_PART if run.kind == "grad" else run.setting
        seconds[part] = (seconds.get(part, 0.0) + result["train_seconds"]
                         + result.get("eval_seconds", 0.0))
        if run.kind == "grad":
            grad += [{"setting": SETTINGS[run.setting].recipe, "lambda": run.lam,
                      "iter": h["iter"], "ratio": h["grad_ratio"], "ratio_rest": h["grad_ratio_rest"]}
                     for h in result["grad_ratio"]]
            continue
        layout, frame_rows, frame_units = _frames(exp_dir, run)
        names, sums = unit_sums(frame_rows, frame_units)
        units[run] = (layout, names, sums)
        metrics = layout.metrics(sums.sum(0))
        video = SETTINGS[run.setting].video
        rows.append({"setting": run.setting, "arm": run.arm, "lambda": run.lam, "seed": run.seed,
                     **{k: (float(metrics[k]) if video or k != "flicker" else None)
                        for k in RUN_METRICS},
                     "train_seconds": result["train_seconds"],
                     "eval_seconds": result.get("eval_seconds")})
        pred, label = layout.components(frame_rows)
        pooled.setdefault((run.setting, run.arm, run.lam), []).append(pred)
        labels[run.setting] = label
        if run.kind == "base":
            bases.append({"setting": run.setting, "iters": run.iters,
                          "val_curve": result.get("val_curve")})
    histograms = [{"setting": setting, "arm": arm, "lambda": lam, "frames": int(sum(map(len, p))),
                   "pred": histogram(np.concatenate(p)), "label": histogram(labels[setting])}
                  for (setting, arm, lam), p in pooled.items()]
    new = {"runs": rows, "paired_differences": paired(units, n_boot, boot_seed),
           "gradient_ratio": grad, "bases": bases, "component_histograms": histograms,
           "compute_hours_by_part": {k: round(v / 3600, 3) for k, v in seconds.items()}}
    return merge(new, earlier or {})


def _order(row: dict) -> tuple:
    names = list(SETTINGS)
    kind = row.get("arm", "base").split("_")[0]
    return (names.index(row["setting"]) if row["setting"] in names else len(names),
            KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER),
            row.get("lambda", 0.0), row.get("seed", 0))


def merge(new: dict, earlier: dict) -> dict:
    """``new`` (rebuilt from runs; a missing key counts as empty) with the rows of ``earlier``
    that ``new`` has no setting (or, for gradient ratios, recipe) of; rows ordered by setting,
    kind, lambda and seed."""
    local = {r["setting"] for r in new.get("runs", [])}
    out = {}
    for key in ("runs", "paired_differences", "bases", "component_histograms"):
        kept = [r for r in earlier.get(key, []) if r["setting"] not in local]
        out[key] = sorted(kept + new.get(key, []), key=_order)  # stable: metric order kept
    # computed by --phase anatomy, not from the runs' results: replaced per setting it covers
    anatomy = new.get("connectivity_anatomy", [])
    covered = {r["setting"] for r in anatomy}
    out["connectivity_anatomy"] = sorted(
        [r for r in earlier.get("connectivity_anatomy", []) if r["setting"] not in covered]
        + anatomy, key=_order)
    grad = new.get("gradient_ratio", [])
    recipes = {r["setting"] for r in grad}
    out["gradient_ratio"] = [r for r in earlier.get("gradient_ratio", [])
                             if r["setting"] not in recipes] + grad
    parts = dict(new.get("compute_hours_by_part", {}))
    for part, hours in earlier.get("compute_hours_by_part", {}).items():
        parts.setdefault(part, hours)
    kept_settings = sorted({r["setting"] for r in out["runs"]} - local)
    out["status"] = (f"{len(out['runs'])} evaluated runs" + (
        f"; rebuilt from runs here: {', '.join(sorted(local))}" if local else "") + (
        f"; kept from the earlier report: {', '.join(kept_settings)}" if kept_settings else "")
        if out["runs"] else "study not yet run (only the gradient-ratio runs, if any, have run)")
    out["compute_hours_by_part"] = dict(sorted(parts.items()))
    out["compute_hours"] = round(sum(parts.values()), 3)
    return out


def paired(units: dict, n_boot: int, boot_seed: int) -> list[dict]:
    """Arm - control per seed (the same kind: cont or scratch), for every arm with seeds."""
    out = []
    for arm_run in sorted(units, key=lambda r: (r.setting, r.kind, r.lam)):
        if arm_run.lam == 0 or arm_run.kind not in ("cont", "scratch") or arm_run.seed != min(
                r.seed for r in units if (r.setting, r.kind, r.lam) ==
                (arm_run.setting, arm_run.kind, arm_run.lam)):
            continue  # one entry per arm, built from its seeds below
        key = (arm_run.setting, arm_run.kind)
        arms = {r.seed: r for r in units if (r.setting, r.kind, r.lam) == key + (arm_run.lam,)}
        controls = {r.seed: r for r in units if (r.setting, r.kind) == key and r.lam == 0}
        seeds = sorted(set(arms) & set(controls))
        if not seeds:
            continue
        layout = units[arms[seeds[0]]][0]
        common = sorted(set.intersection(*(set(units[r][1]) for s in seeds
                                           for r in (arms[s], controls[s]))))

        def stack(runs):
            return np.stack([units[runs[s]][2][[units[runs[s]][1].index(u) for u in common]]
                             for s in seeds])

        a, c = stack(arms), stack(controls)
        video = SETTINGS[arm_run.setting].video
        for metric, direction in DIRECTIONS.items():
            if metric == "flicker" and not video:
                continue
            d = paired_difference(a, c, lambda s, m=metric: layout.metrics(s)[m], n_boot, boot_seed)
            out.append({"setting": arm_run.setting, "arm": arm_run.arm, "lambda": arm_run.lam,
                        "metric": metric, "mean": d["mean"], "ci95": d["ci95"], "sd": d["sd"],
                        "per_seed": d["per_seed"], "seeds": seeds, "units": d["units"],
                        "verdict": verdict(d["ci95"], direction)})
    return out


def load(json_path: str) -> dict:
    """An earlier report (empty when there is none)."""
    if not os.path.isfile(json_path):
        return {}
    with open(json_path, encoding="utf-8") as f:
        return json.load(f)


def best_portrait_lambda(report: dict) -> float | None:
    """The portrait continuation lambda with the highest mean connectivity difference whose
    mIoU interval lies above -0.5 points (None before the portrait study has run)."""
    best, score = None, -np.inf
    for row in report.get("paired_differences", []):
        if not (row["setting"].startswith("portrait") and row["arm"].startswith("cont")
                and row["metric"] == "connectivity"):
            continue
        miou = [r for r in report["paired_differences"] if r["setting"] == row["setting"]
                and r["arm"] == row["arm"] and r["metric"] == "miou"]
        if miou and miou[0]["ci95"][0] < -0.005:
            continue
        if row["mean"] > score:
            best, score = row["lambda"], row["mean"]
    return best


def _pct(v) -> str:
    return "n/a" if v is None else f"{100 * v:.2f}"


def markdown(report: dict) -> str:
    """The tables: paired differences, runs, gradient ratios, base curves."""
    lines = [BEGIN, "", f"_Generated by `tools/experiments/scl_study.py --phase report`; "
             f"{len(report['runs'])} evaluated runs, {report['compute_hours']:.2f} CPU-hours._", ""]
    lines += summary_table(report["paired_differences"])
    lines += ["### Gradient ratio", ""]
    if report["gradient_ratio"]:
        lines += ["‖∇ λ·SCL‖ / ‖∇ CE term‖ (and / ‖∇ rest of the loss‖ in brackets) w.r.t. the "
                  "logits, at iterations start / middle / end:", "",
                  "| recipe | λ | start | middle | end |", "|---|---|---|---|---|"]
        by = {}
        for r in report["gradient_ratio"]:
            by.setdefault((r["setting"], r["lambda"]), []).append(r)
        for (setting, lam), rs in sorted(by.items()):
            rs = sorted(rs, key=lambda r: r["iter"])
            cells = [f"{r['ratio']:.3g} ({r['ratio_rest']:.3g}) @{r['iter']}" for r in rs]
            lines.append(f"| {setting} | {lam:g} | " + " | ".join(cells) + " |")
    else:
        lines.append("Not yet run.")
    lines += ["", "### Paired differences (arm − control, same seed)", ""]
    if report["paired_differences"]:
        lines += ["Points (×100) for mIoU, connectivity, boundary F and flicker; components per "
                  "frame for components. 95% bootstrap intervals over seeds and clips.", "",
                  "| setting | arm | metric | mean | 95% CI | verdict | seeds |",
                  "|---|---|---|---|---|---|---|"]
        for r in report["paired_differences"]:
            k = 1 if r["metric"] == "components" else 100
            lines.append(f"| {r['setting']} | {r['arm']} | {r['metric']} | {k * r['mean']:+.2f} "
                         f"| [{k * r['ci95'][0]:+.2f}, {k * r['ci95'][1]:+.2f}] | "
                         f"{r['verdict'] if k == 1 else _scaled_verdict(r['verdict'])} "
                         f"| {len(r['seeds'])} |")
    else:
        lines.append("Not yet run.")
    lines += anatomy_table(report.get("connectivity_anatomy", []))
    lines += ["", "### Runs", ""]
    if report["runs"]:
        lines += ["| setting | arm | seed | mIoU | connectivity | components pred / label | "
                  "boundary F | flicker | train s |", "|---|---|---|---|---|---|---|---|---|"]
        for r in report["runs"]:
            lines.append(f"| {r['setting']} | {r['arm']} | {r['seed']} | {_pct(r['miou'])} | "
                         f"{_pct(r['connectivity'])} | {r['pred_components']:.2f} / "
                         f"{r['label_components']:.2f} | {_pct(r['boundary_f'])} | "
                         f"{_pct(r['flicker'])} | {r['train_seconds']:.0f} |")
    else:
        lines.append("Not yet run.")
    return "\n".join(lines + ["", END])


SUMMARY_METRICS = (("connectivity", "connectivity"), ("components", "components / frame"),
                   ("miou", "mIoU"), ("boundary_f", "boundary F"), ("flicker", "flicker"))


def _short_verdict(text: str) -> str:
    return "n.d." if text.startswith("no detectable") else f"**{text}**"


def summary_table(differences: list[dict]) -> list[str]:
    """One row per setting and arm: each metric's paired difference, interval and verdict."""
    by_arm: dict[tuple, dict] = {}
    for r in differences:
        by_arm.setdefault((r["setting"], r["arm"]), {})[r["metric"]] = r
    if not by_arm:
        return []
    lines = ["### Summary: arm − control", "",
             "Mean paired difference [95% interval] and verdict (n.d.: no detectable effect); "
             "points for the rates, components per frame for components (lower is fewer "
             "spurious pieces).", "",
             "| setting | arm | seeds | " + " | ".join(t for _, t in SUMMARY_METRICS) + " |",
             "|---|---|---|" + "---|" * len(SUMMARY_METRICS)]
    for (setting, arm), metrics in by_arm.items():
        cells = []
        for key, _ in SUMMARY_METRICS:
            r = metrics.get(key)
            if r is None:
                cells.append("–")
                continue
            k = 1 if key == "components" else 100
            cells.append(f"{k * r['mean']:+.2f} [{k * r['ci95'][0]:+.2f}, "
                         f"{k * r['ci95'][1]:+.2f}] {_short_verdict(r['verdict'])}")
        seeds = len(next(iter(metrics.values()))["seeds"])
        lines.append(f"| {setting} | {arm} | {seeds} | " + " | ".join(cells) + " |")
    return lines + [""]


def anatomy_table(rows: list[dict]) -> list[str]:
    """Per setting and arm: the terms of person connectivity per test frame."""
    if not rows:
        return []
    lines = ["", "### Where the connectivity change comes from", "",
             "Person components per test frame of one seed's models (`--phase anatomy`): the "
             "label's, the predicted, the *lone* predicted ones (overlapping no label component: "
             "spurious pieces), the *missed* label ones (overlapped by no prediction), and the "
             "mean IoU of a label component with the predictions it overlaps. Pooled "
             "connectivity = Σ IoU / Σ (label + lone) over the frames (the reported metric "
             "averages per frame and over both classes instead).", "",
             "| setting | arm | seed | label | predicted | lone | missed | IoU per label component |"
             " pooled connectivity |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['setting']} | {r['arm']} | {r['seed']} | {r['label']:.2f} | "
                     f"{r['pred']:.2f} | {r['lone']:.2f} | {r['missed']:.2f} | "
                     f"{r['iou_per_label']:.3f} | {100 * r['pooled_connectivity']:.2f} |")
    return lines


def _scaled_verdict(text: str) -> str:
    """A verdict's ±X in points (×100) for the tables."""
    if "±" not in text:
        return text
    head, x = text.split("±")
    return f"{head}±{100 * float(x):.2g} points"


def write(report: dict, json_path: str, md_path: str) -> None:
    """``json_path`` rewritten; the tables between the markers of ``md_path`` replaced."""
    write_json_atomically(json_path, report)
    with open(md_path, encoding="utf-8") as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        raise HumanSegError(f"{md_path} has no {BEGIN} ... {END} markers; add them where the "
                            f"tables go")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    write_text_atomically(md_path, head + markdown(report) + tail)

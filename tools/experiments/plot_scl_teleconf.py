"""Figures of the SCL teleconferencing experiment (CE against CE + SCL, several seeds per arm).

Reads ``--exp_dir`` laid out as ``<arm>/seed<k>/`` (as tools/experiments/scl_teleconf.py makes it),
each a tools/train.py save dir trained with --do_eval (eval_history.json, or the [EVAL] lines of
train.log; config.yml; iter_N/ or best_model/), and writes to ``--out_dir``:

- ``scl_teleconf_curves.png``: val mIoU and connectivity against iteration, one colour per arm,
  the mean over seeds as a line and the min-max over seeds as a band;
- ``scl_teleconf_panel.png``: the ``--num_frames`` val frames whose connectivity differs most
  between the ``--baseline`` and ``--compare`` arms (one seed's models, ``--seed``), as columns
  image, label, baseline prediction, compared prediction, each mask annotated with its number of
  person components; ``scl_teleconf_panel.json`` lists every frame's connectivity per arm and the
  frames chosen.

Needs matplotlib (``pip install 'humanseg[experiments]'``).
"""
import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import _bootstrap  # noqa: E402,F401

import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from humanseg.cli import ensure_dir, load_checked_config, run_tool, set_device  # noqa: E402
from humanseg.cvlibs.builder import SegBuilder  # noqa: E402
from humanseg.cvlibs.checks import EVAL_KEYS  # noqa: E402
from humanseg.engine.infer import predict_sample  # noqa: E402
from humanseg.errors import ConfigError, DataError  # noqa: E402
from humanseg.utils.checkpoint import MODEL_FILE, list_checkpoints  # noqa: E402
from humanseg.utils.plots import load_history, pick_frames, plot_curves, plot_panel  # noqa: E402

SEED_DIR = re.compile(r"^seed(\d+)$")
CURVES_NAME, PANEL_NAME = "scl_teleconf_curves.png", "scl_teleconf_panel.png"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--exp_dir", default="output/experiments/scl_teleconf",
                   help="experiment folder holding <arm>/seed<k>/ training runs")
    p.add_argument("--out_dir", default="docs/experiments/figures", help="where the PNGs go")
    p.add_argument("--baseline", default="ce_lovasz",
                   help="arm shown first in the panel (default: the CE + Lovasz arm of "
                        "tools/experiments/scl_teleconf.py)")
    p.add_argument("--compare", default="scl_paper_0.1",
                   help="arm compared with it (default: + SC loss, paper mode, weight 0.1)")
    p.add_argument("--num_frames", type=int, default=4, help="rows of the panel")
    p.add_argument("--seed", type=int, default=None,
                   help="whose models the panel uses (default: the smallest seed both arms ran)")
    p.add_argument("--weights", choices=("best", "final"), default="final",
                   help="the last iter_N checkpoint (default; the experiment's table uses the "
                        "final weights) or best_model/ (highest val mIoU)")
    p.add_argument("--device", default="cpu", choices=["cpu", "gpu"])
    return p.parse_args(argv)


def find_runs(exp_dir: str) -> dict[str, dict[int, str]]:
    """``{arm: {seed: run_dir}}`` for every ``<arm>/seed<k>/`` folder under ``exp_dir``."""
    if not os.path.isdir(exp_dir):
        raise DataError(f"--exp_dir not found: {exp_dir}.")
    arms = {}
    for arm in sorted(os.listdir(exp_dir)):
        folder = os.path.join(exp_dir, arm)
        seeds = {int(m.group(1)): os.path.join(folder, name)
                 for name in (os.listdir(folder) if os.path.isdir(folder) else [])
                 if (m := SEED_DIR.match(name)) and os.path.isdir(os.path.join(folder, name))}
        if seeds:
            arms[arm] = dict(sorted(seeds.items()))
    if not arms:
        raise DataError(f"no <arm>/seed<k>/ run folders in {exp_dir}.")
    return arms


def weights_path(run_dir: str, which: str) -> str:
    """The run's best_model weights, or those of its last complete checkpoint."""
    if which == "best":
        path = os.path.join(run_dir, "best_model", MODEL_FILE)
        if not os.path.isfile(path):
            raise DataError(f"no best_model/{MODEL_FILE} in {run_dir}: train with --do_eval, or "
                            f"use --weights final.")
        return path
    checkpoints = list_checkpoints(run_dir)
    if not checkpoints:
        raise DataError(f"no complete iter_N checkpoint in {run_dir}.")
    return os.path.join(checkpoints[-1][1], MODEL_FILE)


def load_run(run_dir: str, which: str):
    """``(config, model with the run's weights)`` from the run's saved config."""
    config = os.path.join(run_dir, "config.yml")
    if not os.path.isfile(config):
        raise DataError(f"no config.yml in {run_dir} (tools/train.py saves the resolved config "
                        f"there).")
    cfg = load_checked_config(config, required=EVAL_KEYS)
    builder = SegBuilder(cfg, weights=weights_path(run_dir, which))
    model = builder.model
    model.eval()
    return cfg, builder, model


def frame_connectivity(models, dataset, test_config: dict) -> np.ndarray:
    """``[frames, models]``: the connectivity of each model's prediction on each val frame."""
    from humanseg.metrics import compute_connectivity
    out = np.zeros((len(dataset), len(models)))
    for i in tqdm(range(len(dataset)), desc="panel: val frames", unit="img"):
        for m, model in enumerate(models):
            pred, label = predict_sample(model, dataset, i, test_config)
            out[i, m] = compute_connectivity(pred, label, dataset.num_classes,
                                             dataset.ignore_index)["connectivity"]
    return out


def make_panel(runs: dict, args, out_dir: str) -> tuple[str, dict]:
    from humanseg.cvlibs.checks import check_test_config
    arms = (args.baseline, args.compare)
    common = sorted(set(runs[arms[0]]) & set(runs[arms[1]]))
    seed = common[0] if args.seed is None and common else args.seed
    if seed not in common:
        raise ConfigError(f"--seed {seed}: both arms need a seed{seed}/ run; seeds both ran: "
                          f"{common or 'none'}.")
    loaded = [load_run(runs[arm][seed], args.weights) for arm in arms]
    cfg, builder, _ = loaded[0]
    dataset = builder.val_dataset
    other = loaded[1][1].val_dataset
    if other.file_list != dataset.file_list:
        raise DataError(f"the arms' val_dataset differ ({runs[arms[0]][seed]}/config.yml and "
                        f"{runs[arms[1]][seed]}/config.yml): the panel compares the same frames.")
    test_config = check_test_config(cfg.get("test_config"))
    models = [model for _, _, model in loaded]
    conn = frame_connectivity(models, dataset, test_config)
    chosen = pick_frames(conn[:, 0], conn[:, 1], args.num_frames)
    rows = []
    for i in chosen:
        preds = [predict_sample(model, dataset, i, test_config)[0] for model in models]
        sample = dataset.load(i)
        rows.append({"image": sample["img"].clip(0, 255).astype(np.uint8),
                     "label": sample["label"], "preds": preds, "conn": conn[i].tolist(),
                     "name": os.path.basename(dataset.file_list[i][0])})
    path = plot_panel(rows, arms, os.path.join(out_dir, PANEL_NAME), dataset.ignore_index)
    record = {"seed": seed, "weights": args.weights, "arms": list(arms), "chosen": chosen,
              "frames": [{"image": img, "connectivity": c}
                         for (img, _), c in zip(dataset.file_list, conn.tolist())]}
    with open(os.path.join(out_dir, PANEL_NAME.replace(".png", ".json")), "w") as f:
        json.dump(record, f, indent=2)
    return path, record


@run_tool
def main(argv=None):
    args = parse_args(argv)
    if args.num_frames < 1:
        raise ConfigError(f"--num_frames must be at least 1, got {args.num_frames}.")
    runs = find_runs(args.exp_dir)
    for arm in (args.baseline, args.compare):
        if arm not in runs:
            raise ConfigError(f"arm '{arm}' has no seed<k>/ runs in {args.exp_dir}; arms found: "
                              f"{', '.join(runs)}.")
    set_device(args.device)
    out_dir = ensure_dir(args.out_dir)
    histories = {arm: [load_history(run) for run in seeds.values()] for arm, seeds in runs.items()}
    curves = plot_curves(histories, os.path.join(out_dir, CURVES_NAME))
    print(f"curves: {curves} ({', '.join(f'{a}: {len(h)} seed(s)' for a, h in histories.items())})")
    panel, record = make_panel(runs, args, out_dir)
    print(f"panel: {panel} (seed {record['seed']}, {args.weights} weights)")
    for i in record["chosen"]:
        frame = record["frames"][i]
        print(f"  {frame['image']}: connectivity {args.baseline} {frame['connectivity'][0]:.4f}, "
              f"{args.compare} {frame['connectivity'][1]:.4f}")


if __name__ == "__main__":
    main()

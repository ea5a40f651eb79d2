"""The SCL experiment on the synthetic teleconferencing set (docs/experiments/scl_teleconf.md).

Trains PP-HumanSeg-Lite once per (arm, seed) with configs/experiments/scl_teleconf/<arm>.yml,
evaluating on the val split every --eval_interval iterations (the validation curves); then
evaluates each run's final weights (no model selection) on the test split with tools/val.py; then
writes the mean and standard deviation over seeds of mIoU, boundary F, connectivity and flicker
per arm to <exp_dir>/summary.json and summary.md.

Resumable: a run whose train_summary.json reached --iters is not trained again, an evaluation
whose JSON exists is not run again. Phases: --phase train|eval|summary|all.

    python tools/experiments/scl_teleconf.py --data_root data/synthetic_humanseg_hard
"""
import argparse
import json
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import _bootstrap  # noqa: E402,F401  (tools/: makes humanseg importable from a checkout)
from _bootstrap import ROOT  # noqa: E402

from humanseg.cli import run_tool  # noqa: E402
from humanseg.errors import HumanSegError  # noqa: E402
from humanseg.utils.atomic import write_json_atomically, write_text_atomically  # noqa: E402
from humanseg.utils.commands import run_logged  # noqa: E402

CONFIG_DIR = os.path.join(ROOT, "configs", "experiments", "scl_teleconf")
ARMS = ("ce_lovasz", "scl_paper_0.01", "scl_paper_0.1", "scl_paper_1", "scl_paddleseg_0.1")
METRICS = ("miou", "boundary_f", "connectivity", "flicker")
EVAL_FILE = "final_eval_test.json"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data_root", default=os.path.join(ROOT, "data", "synthetic_humanseg_hard"))
    p.add_argument("--exp_dir", default=os.path.join(ROOT, "output", "experiments", "scl_teleconf"))
    p.add_argument("--arms", default=",".join(ARMS), help=f"comma-separated subset of {ARMS}")
    p.add_argument("--seeds", default="0,1,2", help="comma-separated training seeds")
    p.add_argument("--iters", type=int, default=800)
    p.add_argument("--eval_interval", type=int, default=100)
    p.add_argument("--parallel", type=int, default=2,
                   help="runs at a time; each gets cores / parallel threads")
    p.add_argument("--phase", choices=("train", "eval", "summary", "all"), default="all")
    return p.parse_args(argv)


def run_dir(exp_dir: str, arm: str, seed: int) -> str:
    return os.path.join(exp_dir, arm, f"seed{seed}")


def _finished(path: str, iters: int) -> bool:
    summary = os.path.join(path, "train_summary.json")
    if not os.path.isfile(summary):
        return False
    with open(summary) as f:
        return json.load(f).get("iters") == iters


def _child_env(threads: int) -> dict:
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
               OPENBLAS_NUM_THREADS=str(threads))
    return env


def train_one(args, arm: str, seed: int, threads: int) -> str:
    path = run_dir(args.exp_dir, arm, seed)
    if _finished(path, args.iters):
        return f"{arm} seed {seed}: already trained"
    os.makedirs(path, exist_ok=True)
    start = time.time()
    cmd = [sys.executable, os.path.join(ROOT, "tools", "train.py"),
           "--config", os.path.join(CONFIG_DIR, f"{arm}.yml"), "--save_dir", path,
           "--iters", str(args.iters), "--seed", str(seed), "--do_eval",
           "--save_interval", str(args.eval_interval), "--keep_checkpoint_max", "1",
           "--opts", f"train_dataset.dataset_root={args.data_root}",
           f"val_dataset.dataset_root={args.data_root}"]
    run_logged(f"training {arm} seed {seed}", cmd, os.path.join(path, "run.log"), cwd=ROOT,
               env=_child_env(threads), append=True)
    return f"{arm} seed {seed}: trained in {time.time() - start:.0f} s"


def eval_one(args, arm: str, seed: int, threads: int) -> str:
    path = run_dir(args.exp_dir, arm, seed)
    out = os.path.join(path, EVAL_FILE)
    if os.path.isfile(out):
        return f"{arm} seed {seed}: already evaluated"
    weights = os.path.join(path, f"iter_{args.iters}", "model.pdparams")
    if not os.path.isfile(weights):
        raise HumanSegError(f"{weights} is missing: train first (--phase train)")
    cmd = [sys.executable, os.path.join(ROOT, "tools", "val.py"),
           "--config", os.path.join(path, "config.yml"), "--model_path", weights,
           "--save_json", out, "--opts", "val_dataset.mode=test",
           f"val_dataset.dataset_root={args.data_root}"]
    run_logged(f"evaluating {arm} seed {seed}", cmd, os.path.join(path, "run.log"), cwd=ROOT,
               env=_child_env(threads), append=True)
    return f"{arm} seed {seed}: evaluated"


def _in_parallel(fn, args, arms, seeds) -> None:
    threads = max(1, (os.cpu_count() or 1) // args.parallel)
    jobs = [(arm, seed) for seed in seeds for arm in arms]  # seed-major: early full comparisons
    def attempt(job):
        try:
            return fn(args, *job, threads), None
        except HumanSegError as error:  # the other runs go on; this one is reported at the end
            return f"{job[0]} seed {job[1]}: FAILED", str(error)

    with ThreadPoolExecutor(args.parallel) as pool:
        failures = []
        for message, error in pool.map(attempt, jobs):
            print(message, flush=True)
            failures += [error] if error else []
    if failures:
        raise HumanSegError(f"{len(failures)} run(s) failed: " + "; ".join(failures))


def _train_seconds(path: str) -> float:
    with open(os.path.join(path, "train_summary.json")) as f:
        return float(json.load(f).get("seconds", 0.0))


def summarize(args, arms, seeds) -> dict:
    table = {}
    for arm in arms:
        runs = []
        for seed in seeds:
            path = run_dir(args.exp_dir, arm, seed)
            if not os.path.isfile(os.path.join(path, EVAL_FILE)):
                continue  # not run (the table says how many seeds each arm has)
            with open(os.path.join(path, EVAL_FILE)) as f:
                metrics = json.load(f)
            runs.append({"seed": seed, "train_seconds": _train_seconds(path),
                         **{k: metrics.get(k) for k in METRICS}})
        if not runs:
            raise HumanSegError(f"arm {arm}: no evaluated run in {args.exp_dir}/{arm}/seed*/; "
                                f"run --phase train and --phase eval first")
        row = {"runs": runs, "seeds": [r["seed"] for r in runs]}
        for key in METRICS:
            values = [r[key] for r in runs if r[key] is not None]
            if values:
                row[key] = {"mean": statistics.fmean(values),
                            "std": statistics.stdev(values) if len(values) > 1 else 0.0}
        table[arm] = row
    summary = {"iters": args.iters, "seeds": seeds, "data_root": args.data_root,
               "split": "test", "arms": table,
               "train_seconds_total": sum(r["train_seconds"] for row in table.values()
                                          for r in row["runs"])}
    write_json_atomically(os.path.join(args.exp_dir, "summary.json"), summary)
    write_text_atomically(os.path.join(args.exp_dir, "summary.md"), summary_markdown(summary))
    return summary


def summary_markdown(summary: dict) -> str:
    lines = ["| arm | seeds | mIoU % | boundary F % | connectivity % | flicker % |",
             "|---|---|---|---|---|---|"]
    for arm, row in summary["arms"].items():
        cells = [f"{100 * row[k]['mean']:.2f} ± {100 * row[k]['std']:.2f}" if k in row else "n/a"
                 for k in METRICS]
        seeds = ", ".join(str(seed) for seed in row["seeds"])
        lines.append(f"| {arm} | {seeds} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Mean ± standard deviation over seeds. Per seed:")
    lines.append("")
    lines.append("| arm | seed | mIoU % | boundary F % | connectivity % | flicker % | train s |")
    lines.append("|---|---|---|---|---|---|---|")
    for arm, row in summary["arms"].items():
        for run in row["runs"]:
            cells = [f"{100 * run[k]:.2f}" if run[k] is not None else "n/a" for k in METRICS]
            lines.append(f"| {arm} | {run['seed']} | " + " | ".join(cells)
                         + f" | {run['train_seconds']:.0f} |")
    lines.append("")
    lines.append(f"{summary['iters']} iterations, "
                 f"{summary['split']} split, final weights; total training time "
                 f"{summary['train_seconds_total'] / 3600:.2f} h.")
    return "\n".join(lines) + "\n"


@run_tool
def main(argv=None) -> None:
    args = parse_args(argv)
    arms = [a for a in args.arms.split(",") if a]
    unknown = sorted(set(arms) - set(ARMS))
    if unknown:
        raise HumanSegError(f"--arms: unknown arm(s) {unknown}; choose from {list(ARMS)}")
    seeds = [int(s) for s in args.seeds.split(",") if s]
    if args.phase in ("train", "eval", "all") and not os.path.isfile(
            os.path.join(args.data_root, "val.txt")):
        raise HumanSegError(f"--data_root {args.data_root} holds no synthetic set (val.txt "
                            f"missing); make it with tools/data/make_synthetic_humanseg.py "
                            f"--difficulty hard --num_clips 60 --out_dir {args.data_root}")
    if args.phase in ("train", "all"):
        _in_parallel(train_one, args, arms, seeds)
    if args.phase in ("eval", "all"):
        _in_parallel(eval_one, args, arms, seeds)
    if args.phase in ("summary", "all"):
        print(summary_markdown(summarize(args, arms, seeds)))


if __name__ == "__main__":
    main()

"""The paired SC-loss study (issue 16; docs/experiments/scl_study.md).

Phases (--phase): data (make the synthetic sets), grad (short runs logging the gradient ratio),
train (bases to a plateau, then every arm continued from the same base checkpoint per seed, the
paper's protocol, the street setting), report (scl_study.json and the tables of scl_study.md;
settings without runs here keep the rows the JSON has), figures (the PNGs of
docs/experiments/figures/scl_study_*), anatomy (the terms of person connectivity of one seed's
models per arm, into the report), all (every phase). --plan lists the runs and the planned
compute without running anything.
Resumable: finished runs (result.json) are skipped; run the same command again.

    python tools/experiments/scl_study.py --phase all --jobs 2
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import _bootstrap  # noqa: E402,F401  (tools/: makes humanseg importable from a checkout)
from _bootstrap import ROOT  # noqa: E402

from humanseg.cli import run_tool  # noqa: E402
from humanseg.errors import DataError, HumanSegError  # noqa: E402
from humanseg.utils.atomic import write_json_atomically  # noqa: E402
from humanseg.experiments.scl_study import anatomy, data, figures, jobs, plan, report  # noqa: E402

DOCS = os.path.join(ROOT, "docs", "experiments")


def _size(text: str) -> list[int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 192x108, got {text!r}")
    return [w, h]


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--phase", default="all",
                   choices=("data", "grad", "train", "report", "figures", "anatomy", "all"))
    p.add_argument("--plan", action="store_true", help="list the runs and the planned compute")
    p.add_argument("--jobs", type=int, default=2, help="runs side by side, one thread each")
    p.add_argument("--data_dir", default=os.path.join(ROOT, "data", "scl_study"))
    p.add_argument("--exp_dir", default=os.path.join(ROOT, "output", "experiments", "scl_study"))
    p.add_argument("--json", default=os.path.join(DOCS, "scl_study.json"))
    p.add_argument("--md", default=os.path.join(DOCS, "scl_study.md"))
    p.add_argument("--figures_dir", default=os.path.join(DOCS, "figures"))
    p.add_argument("--anatomy_seed", type=int, default=0,
                   help="whose continuations --phase anatomy takes apart")
    p.add_argument("--panel_frames", type=int, default=4,
                   help="rows of each setting's panel of the frames where the arms differ most")
    p.add_argument("--settings", default=",".join(plan.SETTINGS))
    p.add_argument("--seeds", default="0,1,2,3,4", help="portrait continuation seeds")
    p.add_argument("--street_seeds", default="0,1,2")
    p.add_argument("--lambdas", default="0.1,0.5,1,2", help="portrait arms (0, the control, "
                   "is always added)")
    p.add_argument("--street_lambdas", default="0.01,best",
                   help="'best': the portrait study's best lambda (from --json)")
    p.add_argument("--paper_setting", default="portrait_hard_ce_lovasz",
                   help="the setting of the paper's protocol (SCL from iteration 1)")
    p.add_argument("--paper_lambda", type=float, default=0.1, help="0: leave it out")
    p.add_argument("--base_iters", type=int, default=1500)
    p.add_argument("--cont_iters", type=int, default=250)
    p.add_argument("--cont_lr", type=float, default=0.001,
                   help="learning rate of the continuation (polynomial decay to 0)")
    p.add_argument("--grad_settings", default="portrait_standard_ce_lovasz,portrait_standard_ce")
    p.add_argument("--grad_lambdas", default="0.01,0.1,0.5,1,2")
    p.add_argument("--grad_iters", type=int, default=200)
    p.add_argument("--input_size", type=_size, default=None,
                   help="portrait input WxH instead of the recipe's (e.g. for a smoke run)")
    p.add_argument("--batch_size", type=int, default=None)
    p.add_argument("--config_dir", default=None, help="recipes (default: configs/experiments/"
                   "scl_study)")
    p.add_argument("--num_clips", type=int, default=140)
    p.add_argument("--frames_per_clip", type=int, default=10)
    p.add_argument("--street_images", type=int, default=60, help="train and val images each")
    p.add_argument("--n_boot", type=int, default=2000)
    return p.parse_args(argv)


def _resolve_street(args) -> None:
    if "best" not in args.street_lambdas.split(","):
        return
    best = report.best_portrait_lambda(report.load(args.json))
    if best is None:
        print("street: the portrait study has no result yet; its 'best' arm is left out "
              "(run the street setting again after the portrait study)", flush=True)
    values = [v for v in args.street_lambdas.split(",") if v != "best"]
    args.street_lambdas = ",".join(values + ([f"{best:g}"] if best else []))


def _print_plan(runs, exp_dir: str) -> None:
    todo = [r for r in runs if not jobs.finished(exp_dir, r)]
    print(f"{'run':58s} {'iters':>6s} {'est. s':>8s}  state")
    for r in runs:
        state = "done" if r not in todo else "to run"
        print(f"{r.key:58s} {r.iters:6d} {r.estimate():8.0f}  {state}")
    total = sum(r.estimate() for r in runs)
    left = sum(r.estimate() for r in todo)
    print(f"{len(runs)} runs; planned compute {total / 3600:.2f} CPU-hours, "
          f"{left / 3600:.2f} left ({len(todo)} runs)", flush=True)


def _panel_pairs(runs, exp_dir: str, best: float | None):
    """Per setting with finished continuations here: (control, arm) of its smallest seed, the
    arm being the portrait study's best lambda where it ran, else the setting's largest."""
    for setting in dict.fromkeys(r.setting for r in runs):
        cont = [r for r in runs if r.setting == setting and r.kind == "cont"
                and jobs.finished(exp_dir, r)]
        lams = sorted({r.lam for r in cont if r.lam})
        if not lams:
            continue
        lam = best if best in lams else lams[-1]
        seeds = sorted({r.seed for r in cont if r.lam == lam} & {r.seed for r in cont if not r.lam})
        if seeds:
            pick = {r.lam: r for r in cont if r.seed == seeds[0]}
            yield pick[0.0], pick[lam]


def make_figures(runs, args) -> None:
    result = report.load(args.json)
    if not result:
        raise DataError(f"no report at {args.json}: the figures are drawn from it; run "
                        f"--phase report first (or pass --json)")
    out = args.figures_dir
    for name, draw in (("differences", figures.plot_differences),
                       ("base_curves", figures.plot_base_curves),
                       ("components", figures.plot_components)):
        try:
            print(f"figure: {draw(result, os.path.join(out, f'scl_study_{name}.png'))}",
                  flush=True)
        except DataError as error:  # a figure of what has not run yet
            print(f"figure scl_study_{name}.png skipped: {error}", flush=True)
    panels = []
    for control, arm in _panel_pairs(runs, args.exp_dir, report.best_portrait_lambda(result)):
        path = os.path.join(out, f"scl_study_panel_{control.setting}.png")
        panels.append(figures.plot_arm_panel(args.exp_dir, control, arm,
                                             plan.SETTINGS[control.setting].eval_mode, path,
                                             args.panel_frames))
        print(f"figure: {path} ({control.key} against {arm.arm})", flush=True)
    if panels:
        write_json_atomically(os.path.join(out, "scl_study_panels.json"),
                              [dict(p, path=os.path.relpath(p["path"], ROOT)) for p in panels])


def add_anatomy(runs, args) -> None:
    """The connectivity terms of every finished continuation of --anatomy_seed, into the report
    (replacing the rows of the settings it covers)."""
    rows = [anatomy.run_anatomy(args.exp_dir, r) for r in runs
            if r.kind == "cont" and r.seed == args.anatomy_seed and jobs.finished(args.exp_dir, r)]
    if not rows:
        raise HumanSegError(f"no finished continuation of seed {args.anatomy_seed} in "
                            f"{args.exp_dir} for --settings {args.settings}")
    earlier = report.load(args.json)
    merged = report.merge({"connectivity_anatomy": rows}, earlier)
    merged["status"] = earlier.get("status", merged["status"])
    report.write(merged, args.json, args.md)
    print(f"anatomy of {len(rows)} runs written to {args.json} and {args.md}", flush=True)


@run_tool
def main(argv=None) -> None:
    args = parse_args(argv)
    if args.jobs < 1:
        raise HumanSegError(f"--jobs must be >= 1, got {args.jobs}")
    _resolve_street(args)
    grad_runs = plan.build_grad_plan(args) if args.phase != "train" else []
    train_runs = plan.build_plan(args) if args.phase != "grad" else []
    runs = grad_runs + train_runs
    if args.plan:
        _print_plan(runs, args.exp_dir)
        return
    if args.phase in ("data", "all"):
        data.make_all(args, {plan.SETTINGS[r.setting].data for r in runs})
    if args.phase in ("grad", "train", "all"):
        data.check(args, {plan.SETTINGS[r.setting].data for r in runs})
        _print_plan(runs, args.exp_dir)
        jobs.run_all(runs, args, args.exp_dir, args.jobs)
    if args.phase in ("report", "all"):
        result = report.collect(runs, args.exp_dir, args.n_boot, boot_seed=0,
                                earlier=report.load(args.json))
        report.write(result, args.json, args.md)
        print(f"wrote {args.json} and the tables of {args.md}")
    if args.phase in ("anatomy", "all"):
        add_anatomy(train_runs, args)
    if args.phase in ("figures", "all"):
        make_figures(train_runs, args)


if __name__ == "__main__":
    main()

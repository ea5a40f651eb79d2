"""Run the plan: each run is one child process with one thread (``child.py``: tools/train.py,
then, except for gradient runs, the frame-by-frame evaluation), ``jobs`` at a time.

A run is finished when its ``result.json`` exists (written atomically last), so an interrupted
study resumes by running the same command: finished runs are skipped, an interrupted training
continues from its last checkpoint (``--resume_model auto``).
"""
from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from humanseg.cvlibs.config import dump_config
from humanseg.errors import HumanSegError
from humanseg.experiments.scl_study.plan import SETTINGS, Run, run_config
from humanseg.utils.atomic import write_json_atomically, write_text_atomically
from humanseg.utils.commands import run_logged

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
RESULT = "result.json"


def run_dir(exp_dir: str, run: Run) -> str:
    return os.path.join(exp_dir, run.key)


def finished(exp_dir: str, run: Run) -> bool:
    return os.path.isfile(os.path.join(run_dir(exp_dir, run), RESULT))


def load_result(exp_dir: str, run: Run) -> dict:
    with open(os.path.join(run_dir(exp_dir, run), RESULT)) as f:
        return json.load(f)


def child_env() -> dict:
    """One thread per child (the machine's cores are shared between ``jobs`` children)."""
    env = dict(os.environ)
    path = [ROOT] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join(path))
    return env


def _save_interval(run: Run) -> int:
    return max(run.iters // 5, 1) if run.kind == "base" else run.iters


def execute(run: Run, args, exp_dir: str) -> dict:
    """Train and evaluate ``run`` unless finished; returns its result."""
    if finished(exp_dir, run):
        return load_result(exp_dir, run)
    path = run_dir(exp_dir, run)
    os.makedirs(path, exist_ok=True)
    if run.start is not None and not os.path.isfile(os.path.join(exp_dir, run.start, "final",
                                                                 "model.pdparams")):
        raise HumanSegError(f"{run.key}: its starting weights {run.start}/final/model.pdparams "
                            f"are missing; the base run must finish first")
    config = os.path.join(path, "run_config.yml")
    write_text_atomically(config, dump_config(run_config(run, args, exp_dir)))
    log = os.path.join(path, "run.log")
    train_dir = os.path.join(path, "train")
    train_argv = ["--config", config, "--save_dir", train_dir, "--seed", str(run.seed),
                  "--resume_model", "auto", "--save_interval", str(_save_interval(run)),
                  "--keep_checkpoint_max", "1",
                  "--log_iters", str(max(min(run.iters // 10, 50), 1))]
    if run.kind == "base":
        train_argv.append("--do_eval")
    final = os.path.join(path, "final", "model.pdparams")
    spec = {"train_argv": train_argv, "timing": os.path.join(path, "timing.json"),
            "weights": os.path.join(train_dir, f"iter_{run.iters}", "model.pdparams"),
            "final": None if run.kind == "grad" else final,
            "eval": None if run.kind == "grad" else {
                "config": config, "split": SETTINGS[run.setting].eval_mode,
                "out": os.path.join(path, "frames.json")}}
    write_json_atomically(os.path.join(path, "spec.json"), spec)
    run_logged(f"run {run.key}", [sys.executable, "-m", "humanseg.experiments.scl_study.child",
                                  os.path.join(path, "spec.json")],
               log, cwd=ROOT, env=child_env(), append=True)
    with open(spec["timing"]) as f:
        timing = json.load(f)
    result = {"setting": run.setting, "kind": run.kind, "arm": run.arm, "lambda": run.lam,
              "seed": run.seed, "iters": run.iters, **timing}
    if run.kind == "grad":
        with open(os.path.join(train_dir, "grad_ratio.json")) as f:
            result["grad_ratio"] = json.load(f)
    else:
        result["eval_split"] = spec["eval"]["split"]
    if run.kind == "base":
        with open(os.path.join(train_dir, "eval_history.json")) as f:
            result["val_curve"] = [{k: h.get(k) for k in ("iter", "miou", "connectivity")}
                                   for h in json.load(f)]
    write_json_atomically(os.path.join(path, RESULT), result)
    return result


def _hms(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _startable(exp_dir: str, run: Run) -> bool:
    """Whether ``run`` can start: it starts from scratch, or its base's final weights exist."""
    return run.start is None or os.path.isfile(os.path.join(exp_dir, run.start, "final",
                                                            "model.pdparams"))


def run_all(runs: list[Run], args, exp_dir: str, jobs: int) -> float:
    """Run ``runs``, ``jobs`` at a time, printing progress; returns the compute used (train +
    eval seconds of the runs done now).

    A free slot takes the first queued run that can start (bases and gradient runs are queued
    first; a continuation waits for its base's final weights), so a slot never idles while
    another setting's runs could go; a run whose base failed is reported as failed too."""
    todo = [r for r in runs if not finished(exp_dir, r)]
    print(f"{len(runs) - len(todo)} of {len(runs)} runs already finished; {len(todo)} to run",
          flush=True)
    queue = sorted(todo, key=lambda r: r.kind not in ("base", "grad"))  # stable
    used, done, failures, failed, planned_done = 0.0, 0, [], set(), 0.0
    planned = sum(r.estimate() for r in todo)
    begin = time.time()
    running: dict = {}
    with ThreadPoolExecutor(max(jobs, 1)) as pool:
        while queue or running:
            for run in [r for r in queue if r.start in failed]:
                queue.remove(run)
                failed.add(run.key)
                failures.append(f"{run.key}: not run, its base {run.start} failed")
            while queue and len(running) < max(jobs, 1):
                # nothing startable and nothing running: submit anyway, execute() says why
                run = next((r for r in queue if _startable(exp_dir, r)),
                           None if running else queue[0])
                if run is None:
                    break
                queue.remove(run)
                running[pool.submit(execute, run, args, exp_dir)] = run
            if not running:
                continue
            for future in wait(running, return_when=FIRST_COMPLETED)[0]:
                run, done = running.pop(future), done + 1
                planned_done += run.estimate()
                try:
                    result = future.result()
                except HumanSegError as error:  # the others go on; reported at the end
                    failures.append(str(error))
                    failed.add(run.key)
                    print(f"[{done}/{len(todo)}] {run.key}: FAILED", flush=True)
                    continue
                used += result["train_seconds"] + result.get("eval_seconds", 0.0)
                elapsed = time.time() - begin
                # the runs differ in length: scale what is left by the plan's estimates
                eta = elapsed * (planned - planned_done) / planned_done
                print(f"[{done}/{len(todo)}] {run.key}: {result['train_seconds']:.0f} s train"
                      f" + {result.get('eval_seconds', 0):.0f} s eval; elapsed {_hms(elapsed)},"
                      f" ETA {_hms(eta)} (plan: {planned / 3600:.2f} CPU-h)", flush=True)
    print(f"compute used: {used / 3600:.2f} CPU-hours in {_hms(time.time() - begin)} wall "
          f"({len(todo) - len(failures)} runs)", flush=True)
    if failures:
        raise HumanSegError(f"{len(failures)} run(s) failed: " + "; ".join(failures))
    return used

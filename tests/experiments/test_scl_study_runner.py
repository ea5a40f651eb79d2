"""Smoke test of tools/experiments/scl_study.py: a tiny paired study (one base, 2 arms x 2
seeds continued from it), its report, and a second call that skips every finished run."""
import json
import os
import threading

import pytest

from support import run_tool
from humanseg.errors import HumanSegError
from humanseg.experiments.scl_study import jobs
from humanseg.experiments.scl_study.plan import Run
from humanseg.datasets.synthetic.humanseg import make_synthetic_humanseg
from humanseg.experiments.scl_study.data import SPLITS

TINY = ["--settings", "portrait_standard_ce", "--seeds", "0,1", "--lambdas", "0.5",
        "--paper_lambda", "0", "--base_iters", "2", "--cont_iters", "2", "--input_size", "64x36",
        "--batch_size", "2", "--jobs", "1", "--grad_settings", ""]


def test_tiny_study_trains_pairs_reports_and_resumes(tmp_path):
    data = tmp_path / "data"
    make_synthetic_humanseg(str(data / "portrait_standard"), num_clips=6, frames_per_clip=3,
                            size=(96, 64), splits=SPLITS, seed=1, progress=False)
    md = tmp_path / "study.md"
    md.write_text("# study\n<!-- scl_study:tables -->\nold\n<!-- /scl_study:tables -->\nend\n")
    # an earlier report of another setting (made on another machine): the report keeps it
    earlier_row = {"setting": "portrait_hard_ce", "arm": "cont_lambda2", "lambda": 2.0,
                   "metric": "miou", "mean": 0.01, "ci95": [0.0, 0.02], "sd": 0.01,
                   "per_seed": [0.01], "seeds": [0], "units": 3, "verdict": "helps"}
    earlier_run = {"setting": "portrait_hard_ce", "arm": "base", "lambda": 0.0, "seed": 0,
                   "miou": 0.8, "connectivity": 0.4, "components": 1.0, "pred_components": 2.5,
                   "label_components": 1.5, "boundary_f": 0.5, "flicker": 0.02,
                   "train_seconds": 900.0, "eval_seconds": 20.0}
    (tmp_path / "study.json").write_text(json.dumps({
        "runs": [earlier_run],
        "paired_differences": [earlier_row], "bases": [], "component_histograms": [],
        "gradient_ratio": [{"setting": "portrait_ce", "lambda": 1.0, "iter": 1, "ratio": 1.4,
                            "ratio_rest": 1.4}],
        "compute_hours_by_part": {"portrait_hard_ce": 0.5, "gradient_ratio": 0.25}}))
    figures_dir = tmp_path / "figures"
    common = TINY + ["--data_dir", str(data), "--exp_dir", str(tmp_path / "exp"),
                     "--json", str(tmp_path / "study.json"), "--md", str(md), "--n_boot", "50",
                     "--figures_dir", str(figures_dir), "--panel_frames", "2"]

    planned = run_tool("experiments/scl_study.py", "--phase", "train", "--plan", *common)
    assert planned.returncode == 0, planned.stderr[-2000:]
    assert "5 runs; planned compute" in planned.stdout
    assert "portrait_standard_ce/cont_lambda0.5/seed1" in planned.stdout
    assert not (tmp_path / "exp").exists()  # --plan runs nothing

    first = run_tool("experiments/scl_study.py", "--phase", "all", *common)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    assert "0 of 5 runs already finished; 5 to run" in first.stdout
    assert "compute used:" in first.stdout
    results = sorted((tmp_path / "exp").glob("*/*/seed*/result.json"))
    assert len(results) == 5
    stamps = {p: p.stat().st_mtime_ns for p in results}

    report = json.loads((tmp_path / "study.json").read_text())
    kept = [r for r in report["runs"] if r["setting"] == "portrait_hard_ce"]
    assert kept == [earlier_run]
    assert [d for d in report["paired_differences"]
            if d["setting"] == "portrait_hard_ce"] == [earlier_row]
    assert report["gradient_ratio"][0]["ratio"] == 1.4  # no grad run here: the earlier rows
    parts = report["compute_hours_by_part"]
    assert parts["portrait_hard_ce"] == 0.5 and parts["gradient_ratio"] == 0.25
    assert parts["portrait_standard_ce"] > 0
    assert abs(report["compute_hours"] - sum(parts.values())) < 1e-6
    assert "kept from the earlier report: portrait_hard_ce" in report["status"]
    report["runs"] = [r for r in report["runs"] if r["setting"] == "portrait_standard_ce"]
    report["paired_differences"] = [d for d in report["paired_differences"]
                                    if d["setting"] == "portrait_standard_ce"]
    assert {r["arm"] for r in report["runs"]} == {"base", "cont_control", "cont_lambda0.5"}
    assert sorted((r["arm"], r["seed"]) for r in report["runs"] if r["arm"] != "base") == [
        ("cont_control", 0), ("cont_control", 1), ("cont_lambda0.5", 0), ("cont_lambda0.5", 1)]
    hists = {h["arm"]: h for h in report["component_histograms"]}
    assert set(hists) == {"base", "cont_control", "cont_lambda0.5"}
    test_frames = len((data / "portrait_standard" / "test.txt").read_text().splitlines())
    assert hists["cont_lambda0.5"]["frames"] == sum(hists["cont_lambda0.5"]["pred"]) == \
        2 * test_frames
    assert sum(hists["base"]["label"]) == test_frames
    for name in ("differences", "base_curves", "components", "panel_portrait_standard_ce"):
        assert (figures_dir / f"scl_study_{name}.png").stat().st_size > 1000
    anatomy = {r["arm"]: r for r in report["connectivity_anatomy"]}
    assert set(anatomy) == {"cont_control", "cont_lambda0.5"}  # seed 0's continuations
    for row in anatomy.values():
        assert row["seed"] == 0 and row["frames"] == test_frames
        assert row["lone"] <= row["pred"] and row["missed"] <= row["label"]
        assert 0 <= row["pooled_connectivity"] <= row["iou_per_label"] <= 1
    run = next(r for r in report["runs"] if (r["arm"], r["seed"]) == ("cont_control", 0))
    assert anatomy["cont_control"]["label"] == pytest.approx(run["label_components"])
    assert anatomy["cont_control"]["pred"] == pytest.approx(run["pred_components"])
    assert "### Where the connectivity change comes from" in md.read_text()
    panels = json.loads((figures_dir / "scl_study_panels.json").read_text())
    assert [(p["control"], p["arm"]) for p in panels] == [
        ("portrait_standard_ce/cont_control/seed0", "portrait_standard_ce/cont_lambda0.5/seed0")]
    assert len(panels[0]["frames"]) == 2
    for row in report["runs"]:
        assert set(row) >= {"setting", "arm", "lambda", "seed", "miou", "connectivity",
                            "components", "boundary_f", "flicker"}
        assert 0 <= row["miou"] <= 1
    diffs = report["paired_differences"]
    assert {d["metric"] for d in diffs} == {"miou", "connectivity", "boundary_f", "components",
                                            "flicker"}
    for d in diffs:
        assert d["arm"] == "cont_lambda0.5" and d["seeds"] == [0, 1]
        assert d["ci95"][0] <= d["ci95"][1]
        assert d["verdict"] in ("helps", "hurts") or d["verdict"].startswith("no detectable")
    runs = {(r["arm"], r["seed"]): r for r in report["runs"]}
    miou = next(d for d in diffs if d["metric"] == "miou")
    expected = [runs[("cont_lambda0.5", s)]["miou"] - runs[("cont_control", s)]["miou"]
                for s in (0, 1)]
    assert miou["per_seed"] == expected  # the differences are of the paired runs
    text = md.read_text()
    assert text.startswith("# study\n") and text.endswith("end\n") and "old" not in text
    assert "| portrait_standard_ce | cont_lambda0.5 | miou |" in text
    assert "| portrait_ce | 1 | 1.4 (1.4) @1 |" in text  # the earlier gradient ratios
    assert "### Summary: arm − control" in text

    # both continuations of a seed start from the same base weights
    for seed in (0, 1):
        cfgs = [(tmp_path / "exp" / "portrait_standard_ce" / arm / f"seed{seed}" /
                 "run_config.yml").read_text() for arm in ("cont_control", "cont_lambda0.5")]
        base = os.path.join(str(tmp_path / "exp"), "portrait_standard_ce", "base", "seed0",
                            "final", "model.pdparams")
        assert all(base in c for c in cfgs)
        assert "SemanticConnectivityLoss" in cfgs[1] and "SemanticConnectivityLoss" not in cfgs[0]

    again = run_tool("experiments/scl_study.py", "--phase", "train", *common)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "5 of 5 runs already finished; 0 to run" in again.stdout
    assert {p: p.stat().st_mtime_ns for p in results} == stamps


def test_scheduler_starts_runs_once_their_base_has_weights_and_skips_failed_bases(
        tmp_path, monkeypatch, capsys):

    ok = Run("portrait_standard_ce", "base", 0.0, 0, 10)
    bad = Run("portrait_hard_ce", "base", 0.0, 0, 10)
    runs = [ok, bad,
            Run("portrait_standard_ce", "cont", 0.5, 0, 5, start=ok.key),
            Run("portrait_hard_ce", "cont", 0.5, 0, 5, start=bad.key),
            Run("portrait_hard_ce", "scratch", 0.5, 0, 15)]
    started, lock = [], threading.Lock()

    def fake_execute(run, args, exp_dir):
        with lock:
            if run.start is not None:  # a continuation never starts before its base's weights
                assert os.path.isfile(os.path.join(exp_dir, run.start, "final", "model.pdparams"))
            started.append(run.key)
        if run is bad:
            raise HumanSegError("diverged")
        if run.kind == "base":
            os.makedirs(os.path.join(exp_dir, run.key, "final"))
            open(os.path.join(exp_dir, run.key, "final", "model.pdparams"), "w").close()
        return {"train_seconds": 1.0, "eval_seconds": 0.5}

    monkeypatch.setattr(jobs, "execute", fake_execute)
    with pytest.raises(HumanSegError) as error:
        jobs.run_all(runs, None, str(tmp_path), jobs=2)
    assert sorted(started) == sorted(r.key for r in runs if r.start != bad.key)
    assert started.index(ok.key) < started.index(runs[2].key)
    assert "2 run(s) failed" in str(error.value)
    assert f"not run, its base {bad.key} failed" in str(error.value)
    assert "compute used: 0.00 CPU-hours" in capsys.readouterr().out


def test_component_histogram_puts_many_pieces_in_the_last_bin():
    from humanseg.experiments.scl_study.report import HIST_BINS, histogram
    counts = histogram([0, 1, 1, 3, HIST_BINS - 1, HIST_BINS + 5])
    assert len(counts) == HIST_BINS and sum(counts) == 6
    assert counts[:4] == [1, 2, 0, 1] and counts[-1] == 2


def test_figures_without_a_report_is_a_clear_error(tmp_path):
    done = run_tool("experiments/scl_study.py", "--phase", "figures", "--json",
                    str(tmp_path / "missing.json"), "--figures_dir", str(tmp_path / "figs"),
                    "--exp_dir", str(tmp_path / "exp"))
    assert done.returncode == 2
    assert "no report at" in done.stderr and "--phase report first" in done.stderr
    assert not (tmp_path / "figs").exists()

"""tools/experiments/scl_teleconf.py: trains each (arm, seed) with the arm's real config for a few
iterations, evaluates the final weights on the test split and summarises mean/std per arm."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUNNER = os.path.join(ROOT, "tools", "experiments", "scl_teleconf.py")


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, RUNNER, *args], capture_output=True, text=True,
                          timeout=600, cwd=ROOT)


def test_two_arms_train_evaluate_and_summarise(tmp_path, synthetic_root):
    exp = tmp_path / "exp"
    common = ["--data_root", synthetic_root, "--exp_dir", str(exp), "--iters", "2",
              "--eval_interval", "2", "--seeds", "0"]
    run = _run(*common, "--arms", "ce_lovasz,scl_paper_1")
    assert run.returncode == 0, run.stdout + run.stderr
    summary = json.loads((exp / "summary.json").read_text())
    assert set(summary["arms"]) == {"ce_lovasz", "scl_paper_1"}
    for arm, row in summary["arms"].items():
        assert row["seeds"] == [0]
        for key in ("miou", "boundary_f", "connectivity", "flicker"):
            assert 0.0 <= row[key]["mean"] <= 1.0, (arm, key)
        run_dir = exp / arm / "seed0"
        config = (run_dir / "config.yml").read_text()
        assert ("SemanticConnectivityLoss" in config) == (arm == "scl_paper_1")
        assert json.loads((run_dir / "eval_history.json").read_text())[-1]["iter"] == 2
        assert (run_dir / "iter_2" / "model.pdparams").is_file()
    assert "| ce_lovasz | 0 |" in (exp / "summary.md").read_text()
    # finished runs and evaluations are not redone
    again = _run(*common, "--arms", "ce_lovasz")
    assert again.returncode == 0
    assert "already trained" in again.stdout and "already evaluated" in again.stdout


def test_bad_input_names_the_fix(tmp_path):
    run = _run("--data_root", str(tmp_path / "missing"), "--exp_dir", str(tmp_path / "exp"))
    assert run.returncode == 2
    assert "--difficulty hard" in run.stderr and "Traceback" not in run.stderr
    run = _run("--arms", "ce_lovasz,nope", "--exp_dir", str(tmp_path / "exp"))
    assert run.returncode == 2 and "unknown arm(s) ['nope']" in run.stderr
    assert not (tmp_path / "exp").exists()

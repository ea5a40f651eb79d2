"""support.import_oracle: the PaddleSeg-oracle suites skip with the install command off CI and
fail under CI, so a broken oracle install cannot go green."""
import json
import os
import subprocess
import sys

import pytest

from support import ORACLE_INSTALL, ROOT, import_oracle

MISSING = "paddleseg_not_installed_here.models"


def test_returns_the_module():
    assert import_oracle("json") is json


def test_missing_module_skips_with_the_install_command_off_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="pip install --no-deps paddleseg==2.8.0"):
        import_oracle(MISSING)


def test_missing_module_fails_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=f"{MISSING}.*{ORACLE_INSTALL}.*CI is set"):
        import_oracle(MISSING)


@pytest.mark.parametrize("ci", [None, "1"])
def test_module_level_use_is_a_collection_error_under_ci_and_a_skip_elsewhere(tmp_path, ci):
    """paddleseg made missing (a stand-in shadowing the real one raises ModuleNotFoundError, as
    an absent package does): pytest.importorskip skipped these suites even under CI."""
    (tmp_path / "paddleseg").mkdir()
    (tmp_path / "paddleseg" / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'paddleseg'\", name='paddleseg')\n")
    (tmp_path / "test_oracle.py").write_text(
        "from support import import_oracle\nps = import_oracle('paddleseg.models')\n\n\n"
        "def test_parity():\n    assert ps\n")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), os.path.join(ROOT, "tests")])
    if ci:
        env["CI"] = ci
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                        "test_oracle.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=120)
    if ci:
        assert r.returncode == 2 and "1 error" in r.stdout, r.stdout[-2000:]
        assert "No module named 'paddleseg'" in r.stdout and "CI is set" in r.stdout
    else:
        assert r.returncode == 5 and "1 skipped" in r.stdout, r.stdout[-2000:]  # none ran
        assert ORACLE_INSTALL in r.stdout

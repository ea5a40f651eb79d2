"""run_logged: a child's output goes to the log; a failure names the step and quotes the log."""
import sys

import pytest

from humanseg.errors import HumanSegError
from humanseg.utils.commands import run_logged


def test_output_goes_to_the_log_and_append_keeps_earlier_runs(tmp_path):
    log = tmp_path / "run.log"
    run_logged("first", [sys.executable, "-c", "print('one')"], str(log))
    run_logged("second", [sys.executable, "-c", "import sys; print('two', file=sys.stderr)"],
               str(log), append=True)
    lines = log.read_text().splitlines()
    assert lines[0] == "one" and lines[-1] == "two" and lines[1].startswith("$ ")
    run_logged("third", [sys.executable, "-c", "print('three')"], str(log))
    assert log.read_text() == "three\n"


def test_a_failure_names_the_step_the_exit_code_and_the_last_lines(tmp_path):
    log = tmp_path / "run.log"
    script = "import sys\nfor i in range(30): print('line', i)\nsys.exit(3)"
    with pytest.raises(HumanSegError, match=r"training x failed \(exit 3\)") as err:
        run_logged("training x", [sys.executable, "-c", script], str(log))
    assert "line 29" in str(err.value) and "line 10" not in str(err.value)
    assert str(log) in str(err.value)

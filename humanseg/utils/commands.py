"""Child processes whose output goes to a log file, for the long steps of benchmarks and
experiments (data, training, export)."""
from __future__ import annotations

import subprocess

from humanseg.errors import HumanSegError

TAIL_LINES = 15


def run_logged(step: str, cmd: list[str], log_path: str, cwd: str | None = None,
               env: dict | None = None, append: bool = False) -> None:
    """Run ``cmd`` with stdout and stderr written to ``log_path`` (appended with ``append``,
    after a ``$ command`` line).

    Raises:
        HumanSegError: the command exited non-zero; the message names ``step``, the exit code
            and the log, and quotes the log's last lines.
    """
    with open(log_path, "a" if append else "w") as log:
        if append:
            log.write(f"$ {' '.join(cmd)}\n")
            log.flush()
        result = subprocess.run(cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, env=env)
    if result.returncode != 0:
        with open(log_path, errors="replace") as f:
            tail = "".join(f.readlines()[-TAIL_LINES:])
        raise HumanSegError(f"{step} failed (exit {result.returncode}); last lines of "
                            f"{log_path}:\n{tail}")

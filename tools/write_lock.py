"""Write requirements/lock.txt: the exact versions a fresh venv resolves from setup.py's ranges.

``make lock`` runs this after installing ``.[test,export]`` and the PaddleSeg oracle into a new
virtual environment (``--venv``); the file it writes is what ``make demo``, ``make test`` and
.ci/run install from then on. Review the diff, run ``make test``, commit.
"""
import argparse
import datetime
import os
import platform
import subprocess
import sys

import _bootstrap  # noqa: F401
from _bootstrap import ROOT

HEADER = """\
# The exact environment that `make demo`, `make test` and .ci/run install: pip constraints, every
# package of the test and export extras and the PaddleSeg oracle, transitive ones included.
# setup.py keeps ranges for `pip install humanseg`; tests/test_lock.py checks the two agree.
# Refresh with `make lock` (a fresh venv resolves setup.py's ranges, pip freeze writes this file),
# then `make test` and commit. Written {date} on Python {python} ({machine}).
"""


def frozen(venv: str) -> list[str]:
    """``pip freeze --all`` of ``venv`` without the editable humanseg itself, sorted by name."""
    python = os.path.join(venv, "bin", "python")
    out = subprocess.run([python, "-m", "pip", "freeze", "--all", "--exclude-editable"],
                         check=True, capture_output=True, text=True).stdout
    lines = [line.strip() for line in out.splitlines() if "==" in line]
    return sorted(lines, key=lambda line: line.split("==")[0].lower())


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--venv", required=True, help="the virtual environment to freeze")
    p.add_argument("--out", default=os.path.join(ROOT, "requirements", "lock.txt"))
    args = p.parse_args(argv)
    pins = frozen(args.venv)
    if not pins:
        sys.exit(f"error: {args.venv}: pip freeze listed no packages; is it a virtual environment?")
    header = HEADER.format(date=datetime.date.today().isoformat(),
                           python=platform.python_version(), machine=platform.machine())
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(header + "\n".join(pins) + "\n")
    os.replace(tmp, args.out)
    print(f"wrote {len(pins)} pins to {args.out}")


if __name__ == "__main__":
    main()

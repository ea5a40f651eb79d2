"""requirements/lock.txt pins every package `make` installs, within setup.py's ranges."""
import ast
import os
import re
import site
import sys
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCK = os.path.join(ROOT, "requirements", "lock.txt")
HOLDS = os.path.join(ROOT, "requirements", "holds.txt")
MADE_BY_MAKE = os.path.realpath(sys.prefix) == os.path.realpath(os.path.join(ROOT, ".venv"))


def read_pins(path: str) -> dict[str, str]:
    pins = {}
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        assert match, f"{path}: not an exact pin: {line!r}"
        pins[canonicalize_name(match[1])] = match[2]
    return pins


def setup_requirements() -> list[Requirement]:
    """INSTALL_REQUIRES and every EXTRAS_REQUIRE list, read from setup.py without running it."""
    tree = ast.parse(open(os.path.join(ROOT, "setup.py"), encoding="utf-8").read())
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in ("INSTALL_REQUIRES", "EXTRAS_REQUIRE"):
                values[node.targets[0].id] = ast.literal_eval(node.value)
    specs = list(values["INSTALL_REQUIRES"])
    for extra in values["EXTRAS_REQUIRE"].values():
        specs += extra
    return [Requirement(s) for s in specs]


def test_every_setup_requirement_is_pinned_within_its_range():
    pins = read_pins(LOCK)
    for req in setup_requirements():
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} (setup.py) is missing from requirements/lock.txt"
        assert req.specifier.contains(pins[name], prereleases=True), \
            f"lock pins {req.name}=={pins[name]}, outside setup.py's {req.specifier}"


def test_holds_are_what_the_lock_pins():
    pins, holds = read_pins(LOCK), read_pins(HOLDS)
    for name, version in holds.items():
        assert pins.get(name) == version, f"holds.txt says {name}=={version}, lock {pins.get(name)}"


def test_lock_pins_the_numpy_that_paddle_flops_needs():
    version = tuple(int(x) for x in read_pins(LOCK)["numpy"].split(".")[:2])
    assert (2, 0) <= version < (2, 4)


@pytest.mark.skipif(not (MADE_BY_MAKE or os.environ.get("CI")),
                    reason="checks the environment `make` installed (.venv, or CI)")
def test_installed_environment_is_the_lock_and_closed():
    """Every locked package is installed at its pinned version, and every dependency of an
    installed locked package is itself locked (no package came in unpinned)."""
    pins = read_pins(LOCK)
    # only site-packages: setuptools puts its vendored packaging etc. on sys.path when imported
    installed = {canonicalize_name(d.metadata["Name"]): d
                 for d in metadata.distributions(path=site.getsitepackages())}
    wrong = {n: (v, installed[n].version) for n, v in pins.items()
             if n in installed and installed[n].version != v}
    missing = sorted(n for n in pins if n not in installed)
    assert not wrong, f"installed versions differ from the lock (lock, installed): {wrong}"
    assert not missing, f"locked but not installed: {missing}"
    unpinned = set()
    for name in pins:
        if name == "paddleseg":  # installed with --no-deps; its imports are pinned by the test extra
            continue
        for spec in installed[name].requires or []:
            req = Requirement(spec)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            if canonicalize_name(req.name) not in pins:
                unpinned.add(f"{req.name} (needed by {name})")
    assert not unpinned, f"dependencies missing from the lock: {sorted(unpinned)}"

"""Output folders of the synthetic-set generators: refuse foreign folders, replace earlier sets."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from humanseg.errors import DataError


def is_generated_by(out: Path, generator: str) -> bool:
    """True when ``out/meta.json`` says ``generator`` wrote the folder."""
    try:
        meta = json.loads((out / "meta.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and meta.get("generator") == generator


def prepare_out_dir(out: Path, generator: str, kind: str, entries: tuple[str, ...]) -> None:
    """Create ``out``, or clear the ``entries`` of an earlier set made by ``generator``.

    Raises:
        DataError: ``out`` is a file, or a non-empty folder another tool (or a person) filled.
    """
    if out.exists() and not out.is_dir():
        raise DataError(f"{out} exists and is not a directory; choose another --out_dir")
    if not out.exists() or not any(out.iterdir()):
        out.mkdir(parents=True, exist_ok=True)
        return
    if not is_generated_by(out, generator):
        raise DataError(f"{out} is not empty and does not hold a synthetic {kind} set (no "
                        f"meta.json from {generator}); refusing to write there. Choose an "
                        f"empty or new --out_dir, or remove the directory yourself.")
    for name in entries:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()

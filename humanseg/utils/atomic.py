"""Files written through a temporary sibling and a rename, so a reader (or a crash) never sees a
half-written file."""
from __future__ import annotations

import json
import os


def write_text_atomically(path: str, text: str) -> None:
    """Write ``text`` to ``path`` (its folder is created): temporary file, fsync, rename."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{os.path.basename(path)}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_json_atomically(path: str, obj) -> None:
    """``obj`` as indented JSON, written atomically to ``path``."""
    write_text_atomically(path, json.dumps(obj, indent=2) + "\n")

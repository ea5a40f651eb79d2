"""File lists (``image label`` lines) and the header-only checks every dataset shares; no paddle."""
from __future__ import annotations

import os

from humanseg.datasets.io import image_size
from humanseg.errors import DataError

Entry = tuple[str, "str | None"]


def parse_file_list(list_path: str, dataset_root: str, separator: str = " ",
                    image_only_ok: bool = False) -> tuple[list[Entry], list[str], list[str]]:
    """Read ``image label`` lines into absolute path pairs, without raising on bad lines.

    Args:
        list_path: The file list.
        dataset_root: Folder the paths in the list are relative to.
        separator: Field separator.
        image_only_ok: Accept lines holding only an image (test mode).

    Returns:
        ``(entries, where, bad_lines)``: one ``(image, label or None)`` per good line, its
        ``list:line`` location, and one message per malformed line (``list:line: ...``).
    """
    entries, where, bad = [], [], []
    with open(list_path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            parts = line.split(separator)
            if len(parts) != 2 and not (image_only_ok and len(parts) == 1):
                bad.append(f"{list_path}:{line_no}: expected 'image_path{separator}label_path', "
                           f"got '{line}'")
                continue
            paths = [os.path.join(dataset_root, p) for p in parts]
            entries.append((paths[0], paths[1] if len(paths) == 2 else None))
            where.append(f"{list_path}:{line_no}")
    return entries, where, bad


def missing_files(entries: list[Entry], where: list[str] | None = None) -> list[str]:
    """Paths named by ``entries`` that do not exist, each prefixed by its ``where`` location."""
    return [f"{where[i]}: {p}" if where else p for i, pair in enumerate(entries) for p in pair
            if p is not None and not os.path.isfile(p)]


def pair_problem(image_path: str, label_path: str | None) -> str | None:
    """Header-only check of one pair: None when both are readable images of one size."""
    try:
        size = image_size(image_path)
        if label_path is None:
            return None
        label_size = image_size(label_path)
    except DataError as e:
        return str(e)
    if label_size != size:
        return mismatch_message(image_path, size, label_path, label_size)
    return None


def listing(lines: list[str], limit: int = 10) -> str:
    """Up to ``limit`` lines, indented, for an error message."""
    more = f"\n  ... and {len(lines) - limit} more" if len(lines) > limit else ""
    return "\n  " + "\n  ".join(lines[:limit]) + more


def mismatch_message(image_path: str, image_wh, label_path: str, label_wh) -> str:
    """The message for a label whose (width, height) differs from its image's."""
    return (f"label {label_path} is {label_wh[0]}x{label_wh[1]} but its image {image_path} is "
            f"{image_wh[0]}x{image_wh[1]} (WxH); they must be the same size.")

"""Dataset validation: every fault the datasets would stop on (and the silent ones they cannot
see), reported per split, with a class pixel histogram and remapped copies of fixable labels.

Fatal faults: malformed list lines, missing or unreadable files, image/label size mismatches,
multi-channel labels, label values outside ``[0, num_classes) ∪ {ignore_index}``, and the 0/255
binary-mask trap (checked per label: one 0/255 mask among 0/1 masks is named). Warnings: 0/ignore
labels in a set that uses ignore beside class 1, duplicated entries, images listed in two splits,
paths with spaces or non-ASCII characters.
"""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing import Pool

import cv2
import numpy as np
from PIL import Image
from tqdm import tqdm

from humanseg.datasets.filelist import parse_file_list
from humanseg.errors import ConfigError, DataError

FATAL_KINDS = ("bad_line", "missing", "unreadable", "size_mismatch", "multichannel_label",
               "out_of_range", "binary_0_255")
WARNING_KINDS = ("maybe_0_255", "duplicate", "in_two_splits", "path_chars")
_HINTS = {
    "bad_line": "each line must be 'image label' (test lists may hold only the image); paths with "
                "spaces need another separator",
    "missing": "fix the list or dataset_root",
    "unreadable": "re-export the file or drop it from the list",
    "size_mismatch": "image and label must have the same width and height",
    "multichannel_label": "labels must be single-channel class-index PNGs (grey or palette)",
    "out_of_range": "fix the labels or num_classes / ignore_index",
    "binary_0_255": "255 is the ignore_index: a 0/255 mask trains on background alone; remap "
                    "255 -> 1 (--fix-to DIR writes remapped copies)",
    "maybe_0_255": "background-only with ignore, or a 0/255 mask among 0/1 masks: check these "
                   "(--fix-to leaves them as they are)",
    "duplicate": "the sample is seen more often than the others",
    "in_two_splits": "a sample in two splits leaks between training and evaluation",
    "path_chars": "spaces break space-separated lists; non-ASCII paths fail on some systems",
}


@dataclass
class Split:
    """One split to validate: its samples and the label convention."""

    name: str
    entries: list[tuple[str, str | None]]
    where: list[str]
    num_classes: int
    ignore_index: int = 255
    dataset_root: str = "."
    bad_lines: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    class_names: tuple[str, ...] | None = None


@dataclass
class Report:
    """Findings of one split: ``{kind: [message, ...]}`` and label pixel counts."""

    split: Split
    findings: dict[str, list[str]] = field(default_factory=dict)
    class_pixels: np.ndarray | None = None
    ignore_pixels: int = 0
    other_pixels: int = 0
    fixable: list[str] = field(default_factory=list)
    grey_rgb: list[str] = field(default_factory=list)

    def add(self, kind: str, message: str) -> None:
        self.findings.setdefault(kind, []).append(message)

    @property
    def fatal(self) -> bool:
        return any(self.findings.get(k) for k in FATAL_KINDS)


# ----------------------------------------------------------------------------- splits


def split_from_file_list(file_list: str, dataset_root: str, num_classes: int,
                         ignore_index: int = 255, separator: str = " ",
                         name: str | None = None) -> Split:
    """A split read from one file list (paths relative to ``dataset_root``)."""
    if not os.path.isfile(file_list):
        raise DataError(f"file list not found: {file_list}")
    if not os.path.isdir(dataset_root):
        raise DataError(f"dataset_root not found: {dataset_root}")
    entries, where, bad = parse_file_list(file_list, dataset_root, separator, image_only_ok=True)
    return Split(name or os.path.splitext(os.path.basename(file_list))[0], entries, where,
                 num_classes, ignore_index, dataset_root, bad)


def splits_from_config(cfg: dict) -> list[Split]:
    """The splits of a config's ``train_dataset`` and ``val_dataset`` (MixedDataset: each part)."""
    splits = []
    for key in ("train_dataset", "val_dataset"):
        section = cfg.get(key)
        if isinstance(section, dict):
            splits += _section_splits(section, key)
    if not splits:
        raise ConfigError("the config has no train_dataset or val_dataset section to validate.")
    return splits


def _section_splits(section: dict, where: str) -> list[Split]:
    from humanseg.cvlibs.config import resolve_data_path
    from humanseg.cvlibs.registry import DATASETS
    from humanseg.datasets.cityscapes import Cityscapes

    if "type" not in section:
        raise ConfigError(f"{where}: no type.")
    cls = DATASETS.get(section["type"])
    if hasattr(cls, "locate"):  # MixedDataset
        parts = section.get("datasets") or []
        return [s for i, part in enumerate(parts) for s in _section_splits(part, f"{where}.datasets[{i}]")]
    root = resolve_data_path(str(section.get("dataset_root") or _default(cls, "dataset_root") or "."))
    mode = str(section.get("mode", _default(cls, "mode") or "train")).lower()
    num_classes = section.get("num_classes", getattr(cls, "NUM_CLASSES", None))
    if num_classes is None:
        raise ConfigError(f"{where}.num_classes is required.")
    ignore_index = section.get("ignore_index", getattr(cls, "IGNORE_INDEX", 255))
    name = f"{where} ({mode})"
    if not os.path.isdir(root):
        raise DataError(f"{where}.dataset_root not found: {root}")
    if issubclass(cls, Cityscapes):
        from humanseg.datasets.cityscapes_labels import TRAIN_CLASS_NAMES, cityscapes_pairs
        pairs, missing = cityscapes_pairs(root, mode)
        split = Split(name, pairs, [os.path.relpath(p[0], root) for p in pairs], num_classes,
                      ignore_index, root, class_names=TRAIN_CLASS_NAMES)
        split.missing += [f"no trainIds label (run tools/data/cityscapes_to_trainids.py): {m}"
                          for m in missing]
        return [split]
    list_path = section.get(f"{mode}_path") or getattr(cls, "DEFAULT_LISTS", {}).get(mode)
    if not list_path:
        raise ConfigError(f"{where}.{mode}_path is required.")
    list_path = resolve_data_path(list_path)
    if not os.path.isfile(list_path):
        list_path = os.path.join(root, list_path)
    return [split_from_file_list(list_path, root, num_classes, ignore_index,
                                 section.get("separator", " "), name)]


def _default(cls, arg: str):
    import inspect
    param = inspect.signature(cls).parameters.get(arg)
    return None if param is None or param.default is inspect.Parameter.empty else param.default


# ----------------------------------------------------------------------------- checks


@dataclass
class _EntryResult:
    found: list[tuple[str, str]] = field(default_factory=list)
    hist: np.ndarray | None = None
    values: set = field(default_factory=set)
    grey_rgb: bool = False


def _check_entry(args: tuple) -> _EntryResult:
    """Check one pair: findings, label histogram over 0..255 and values (a pool job)."""
    image, label, where, num_classes, ignore_index = args
    result = _EntryResult()
    found = result.found
    img = cv2.imread(image, cv2.IMREAD_UNCHANGED) if os.path.isfile(image) else None
    if not os.path.isfile(image):
        found.append(("missing", f"{where}: image {image}"))
    elif img is None:
        found.append(("unreadable", f"{where}: image {image} cannot be decoded"))
    if label is None:
        return result
    if not os.path.isfile(label):
        found.append(("missing", f"{where}: label {label}"))
        return result
    try:
        with Image.open(label) as im:
            lab = np.asarray(im)
    except (OSError, ValueError, SyntaxError) as e:
        found.append(("unreadable", f"{where}: label {label} ({e})"))
        return result
    if lab.ndim == 3:
        same = all(np.array_equal(lab[..., 0], lab[..., c]) for c in range(1, min(lab.shape[2], 3)))
        found.append(("multichannel_label",
                      f"{where}: label {label} has {lab.shape[2]} channels"
                      + (" (all equal: a grey label saved as colour; fixable)" if same else
                         " (colours, not class indices)")))
        if not same:
            return result
        result.grey_rgb = True
        lab = lab[..., 0]
    if img is not None and img.shape[:2] != lab.shape[:2]:
        found.append(("size_mismatch", f"{where}: label {label} is {lab.shape[1]}x{lab.shape[0]}, "
                                       f"image {img.shape[1]}x{img.shape[0]} (WxH)"))
    if lab.dtype != np.uint8:
        lab = lab.astype(np.int64)
        hist = np.bincount(np.clip(lab, 0, 255).ravel(), minlength=256)
    else:
        hist = np.bincount(lab.ravel(), minlength=256)
    values = set(np.flatnonzero(hist).tolist())
    bad = sorted(v for v in values if v >= num_classes and v != ignore_index)
    if bad:
        found.append(("out_of_range", f"{where}: label {label} holds {bad[:8]}"
                                      f"{' ...' if len(bad) > 8 else ''}"))
    result.hist, result.values = hist, values
    return result


def validate_split(split: Split, num_workers: int = 0, progress: bool = True) -> Report:
    """Check every entry of ``split`` (decoding every file) and count label pixels."""
    report = Report(split)
    for message in split.bad_lines:
        report.add("bad_line", message)
    for message in split.missing:
        report.add("missing", message)
    jobs = [(img, lab, where, split.num_classes, split.ignore_index)
            for (img, lab), where in zip(split.entries, split.where)]
    hist = np.zeros(256, np.int64)
    values_per_label = []
    bar = tqdm(total=len(jobs), desc=f"checking {split.name}", unit="file", disable=not progress)
    pool = Pool(num_workers) if num_workers > 1 else None
    try:
        results = pool.imap(_check_entry, jobs, chunksize=8) if pool else map(_check_entry, jobs)
        for result, job in zip(results, jobs):
            for kind, message in result.found:
                report.add(kind, message)
            if result.grey_rgb:
                report.grey_rgb.append(job[1])
            if result.hist is not None:
                hist += result.hist
                values_per_label.append((job[1], job[2], result.values))
            bar.update()
    finally:
        bar.close()
        if pool:
            pool.close()
            pool.join()
    k = split.num_classes
    report.class_pixels = hist[:k].copy()
    report.ignore_pixels = int(hist[split.ignore_index]) if split.ignore_index < 256 else 0
    report.other_pixels = int(hist.sum() - report.class_pixels.sum() - report.ignore_pixels)
    _check_binary_trap(report, values_per_label)
    _check_duplicates_and_paths(report)
    return report


def _check_binary_trap(report: Report, values_per_label: list[tuple[str, str, set]]) -> None:
    """2-class labels that hold no class 1 but 255 (or grey levels): 0/255 binary masks, each
    reported by name, so one such mask among 0/1 masks (two merged sources) is caught too.

    A label holding only 0 and the ignore_index is a background image with an ignore region when
    the split uses ignore beside class 1 (some label holds both): those are warned about, not
    fixed. Values other than 0, 1 and ignore_index leave no doubt.
    """
    split = report.split
    if split.num_classes != 2:
        return
    suspects = [(p, w, v) for p, w, v in values_per_label if 1 not in v and v - {0}]
    if not suspects:
        return
    ignore = split.ignore_index
    ignore_in_use = any(1 in v and ignore in v for _, _, v in values_per_label)
    for path, where, values in suspects:
        if ignore_in_use and values - {0} == {ignore}:
            report.add("maybe_0_255", f"{where}: label {path} holds only 0 and {ignore}, while "
                                      f"other labels of {split.name} use {ignore} beside class 1")
            continue
        report.fixable.append(path)
        report.add("binary_0_255", f"{where}: label {path} holds {sorted(values - {0})[:6]} and "
                                   f"no class 1: a 0/255 binary mask")


def _check_duplicates_and_paths(report: Report) -> None:
    split = report.split
    counts = Counter(img for img, _ in split.entries)
    for img, n in counts.items():
        if n > 1:
            report.add("duplicate", f"{os.path.relpath(img, split.dataset_root)} listed {n} times")
    for img, lab in split.entries:
        for path in (img, lab):
            rel = os.path.relpath(path, split.dataset_root) if path else ""
            if " " in rel or not rel.isascii():
                report.add("path_chars", f"{rel!r}")


def cross_split_checks(reports: list[Report]) -> None:
    """Warn about images that appear in more than one split."""
    owner: dict[str, str] = {}
    for report in reports:
        for img in {os.path.realpath(i) for i, _ in report.split.entries}:
            if img in owner and owner[img] != report.split.name:
                report.add("in_two_splits", f"{img} is also in {owner[img]}")
            owner.setdefault(img, report.split.name)


def validate(splits: list[Split], num_workers: int = 0, progress: bool = True) -> list[Report]:
    """Validate every split, then look across splits."""
    reports = [validate_split(s, num_workers, progress) for s in splits]
    cross_split_checks(reports)
    return reports


# ----------------------------------------------------------------------------- fixing


def fix_to(reports: list[Report], out_dir: str) -> list[str]:
    """Write remapped copies of fixable labels under ``out_dir`` and one file list per split that
    points at them (originals untouched); returns the lists written.

    Fixable: 0/255 (or grey-level) binary masks -> 0/1 by ``>= 128``, and grey labels saved as
    RGB -> one channel. Paths in the new lists are absolute (images stay where they are).

    Raises:
        DataError: ``out_dir`` would overwrite a dataset file (it is the dataset root or a label
            would be written over its original).
    """
    out_dir = os.path.abspath(out_dir)
    written = []
    for report in reports:
        split = report.split
        root = os.path.realpath(split.dataset_root)
        if os.path.realpath(out_dir) == root:
            raise DataError(f"--fix-to {out_dir} is the dataset root; choose another folder "
                            f"(originals are never touched).")
        remap, multi = set(report.fixable), set(report.grey_rgb)
        lines = []
        for img, lab in split.entries:
            new_lab = lab
            if lab is not None and (lab in remap or lab in multi):
                new_lab = os.path.join(out_dir, _safe_rel(lab, split.dataset_root))
                if os.path.realpath(new_lab) == os.path.realpath(lab):
                    raise DataError(f"--fix-to would overwrite {lab}; choose another folder.")
                _write_fixed(lab, new_lab, binarize=lab in remap)
            lines.append(os.path.abspath(img) + (f" {os.path.abspath(new_lab)}" if new_lab else ""))
        os.makedirs(out_dir, exist_ok=True)
        list_path = os.path.join(out_dir, _list_name(split.name))
        with open(list_path, "w", encoding="utf-8") as f:
            f.write("".join(line + "\n" for line in lines))
        written.append(list_path)
    return written


def _safe_rel(path: str, root: str) -> str:
    rel = os.path.relpath(path, root)
    return rel if not rel.startswith("..") else os.path.basename(path)


def _list_name(split_name: str) -> str:
    mode = split_name.split("(")[-1].rstrip(")") if "(" in split_name else split_name
    prefix = split_name.split(" ")[0].replace(".", "_") if "(" in split_name else ""
    return f"{prefix + '_' if prefix else ''}{mode}.txt"


def _write_fixed(src: str, dst: str, binarize: bool) -> None:
    with Image.open(src) as im:
        lab = np.asarray(im)
    lab = lab[..., 0] if lab.ndim == 3 else lab
    if binarize:
        lab = (lab >= 128).astype(np.uint8)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    Image.fromarray(np.ascontiguousarray(lab.astype(np.uint8))).save(dst)


# ----------------------------------------------------------------------------- report


def format_report(reports: list[Report], limit: int = 10) -> str:
    """Human-readable findings and class histograms for every split."""
    out = []
    for report in reports:
        split = report.split
        out.append(f"== {split.name}: {len(split.entries)} entries, {split.num_classes} classes, "
                   f"ignore_index {split.ignore_index}")
        if not report.findings:
            out.append("  no problems found")
        for kind in FATAL_KINDS + WARNING_KINDS:
            messages = report.findings.get(kind)
            if not messages:
                continue
            level = "FATAL" if kind in FATAL_KINDS else "warning"
            out.append(f"  {level} {kind} ({len(messages)}): {_HINTS[kind]}")
            out += [f"    {m}" for m in messages[:limit]]
            if len(messages) > limit:
                out.append(f"    ... and {len(messages) - limit} more")
        out += _histogram_lines(report)
    return "\n".join(out)


def _histogram_lines(report: Report) -> list[str]:
    if report.class_pixels is None:
        return []
    total = int(report.class_pixels.sum()) + report.ignore_pixels + report.other_pixels
    if total == 0:
        return ["  class pixels: no labels read"]
    names = report.split.class_names
    lines = ["  class pixels:"]
    rows = [(f"{c:3d} {names[c] if names else ''}".rstrip(), int(n))
            for c, n in enumerate(report.class_pixels)]
    rows.append((f"ignore ({report.split.ignore_index})", report.ignore_pixels))
    if report.other_pixels:
        rows.append(("out of range", report.other_pixels))
    for label, n in rows:
        share = n / total
        lines.append(f"    {label:22s} {n:12d} {100 * share:6.2f}% {'#' * int(round(share * 40))}")
    absent = [c for c, n in enumerate(report.class_pixels) if n == 0]
    if absent:
        lines.append(f"    classes with no pixel: {absent}")
    return lines

"""Tests of the synthetic PP-HumanSeg14K-format generator and its command-line tool."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from humanseg.datasets.synthetic.humanseg import make_synthetic_humanseg
from humanseg.errors import DataError

REPO_ROOT = Path(__file__).resolve().parents[2]
CLI = REPO_ROOT / "tools" / "data" / "make_synthetic_humanseg.py"
SPLITS = ("train", "val", "test")
NUM_CLIPS, FRAMES = 10, 4
# sha256 over (relative path, bytes) of every file but meta.json, and of meta.json without the
# "difficulty" key, of make_synthetic_humanseg(num_clips=4, frames_per_clip=3, seed=0) at 398x224,
# computed with the generator as it was BEFORE hard mode existed: the standard set must keep them.
STANDARD_DATA_SHA256 = "5e897ec25538300aea42ecf05bc0a9a2b8fdfdd2c02dbfc602c6920388420e84"
STANDARD_META_SHA256 = "3be66044a22614697237c072bc99a03c1b72f657695577fdfc41618ab02ac529"


def _make(tmp_path_factory: pytest.TempPathFactory, difficulty: str) -> Path:
    out = tmp_path_factory.mktemp(f"synthetic_{difficulty}") / "set"
    make_synthetic_humanseg(out, num_clips=NUM_CLIPS, frames_per_clip=FRAMES, seed=0, progress=False,
                            difficulty=difficulty)
    return out


@pytest.fixture(scope="module")
def standard_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _make(tmp_path_factory, "standard")


@pytest.fixture(scope="module")
def hard_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _make(tmp_path_factory, "hard")


@pytest.fixture(params=["standard", "hard"])
def dataset(request: pytest.FixtureRequest) -> Path:
    """Each property below holds for both difficulties."""
    return request.getfixturevalue(f"{request.param}_set")


def _pairs(root: Path, split: str) -> list[tuple[str, str]]:
    lines = (root / f"{split}.txt").read_text().splitlines()
    return [tuple(line.split(" ")) for line in lines]


def _label(root: Path, rel: str) -> np.ndarray:
    return np.asarray(Image.open(root / rel))


def _all_pairs(root: Path) -> list[tuple[str, str]]:
    return sorted(pair for split in SPLITS for pair in _pairs(root, split))


def _clip(rel: str) -> str:
    return Path(rel).stem.split("_")[0]


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.logical_and(a, b).sum() / max(np.logical_or(a, b).sum(), 1))


def test_files_and_lists_match(dataset: Path) -> None:
    pairs = _all_pairs(dataset)
    assert len(pairs) == NUM_CLIPS * FRAMES
    for split in SPLITS:
        lines = (dataset / f"{split}.txt").read_text().splitlines()
        assert lines == sorted(lines)
        assert all(len(line.split(" ")) == 2 for line in lines)
    for image, label in pairs:
        assert image.startswith("images/") and image.endswith(".jpg")
        assert label == f"annotations/{Path(image).stem}.png"
    assert {p for p, _ in pairs} == {f"images/{f.name}" for f in (dataset / "images").iterdir()}
    assert {q for _, q in pairs} == {f"annotations/{f.name}" for f in (dataset / "annotations").iterdir()}
    assert (dataset / "meta.json").is_file() and (dataset / "README.txt").is_file()


def test_labels_are_palette_pngs_with_0_and_1_matching_image_size(dataset: Path) -> None:
    for image_rel, label_rel in _all_pairs(dataset):
        label = Image.open(dataset / label_rel)
        assert label.mode == "P"
        assert label.getpalette()[:6] == [0, 0, 0, 128, 0, 0]
        assert set(np.unique(np.asarray(label)).tolist()) <= {0, 1}
        image = Image.open(dataset / image_rel)
        assert image.mode == "RGB" and image.size == label.size == (398, 224)


def test_every_split_has_both_classes(dataset: Path) -> None:
    for split in SPLITS:
        pairs = _pairs(dataset, split)
        assert pairs, split
        values = set()
        for _, label in pairs:
            values |= set(np.unique(_label(dataset, label)).tolist())
        assert values == {0, 1}, split


def test_splits_are_disjoint_by_clip(dataset: Path) -> None:
    clips = {split: {_clip(image) for image, _ in _pairs(dataset, split)} for split in SPLITS}
    assert not clips["train"] & clips["val"]
    assert not clips["train"] & clips["test"]
    assert not clips["val"] & clips["test"]
    assert sum(len(c) for c in clips.values()) == NUM_CLIPS


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path) -> None:
    runs = {}
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        make_synthetic_humanseg(tmp_path / name, num_clips=3, frames_per_clip=2, size=(160, 96), seed=seed,
                                progress=False)
        root = tmp_path / name
        runs[name] = {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    assert runs["a"] == runs["b"]
    images = [k for k in runs["a"] if k.startswith(("images/", "annotations/"))]
    assert images and all(runs["a"][k] != runs["c"][k] for k in images if k.startswith("images/"))
    assert any(runs["a"][k] != runs["c"][k] for k in images if k.startswith("annotations/"))


def test_foreground_fraction_is_non_trivial(dataset: Path) -> None:
    fractions = [float((_label(dataset, label) == 1).mean()) for _, label in _all_pairs(dataset)]
    assert 0.1 < np.mean(fractions) < 0.6
    assert min(fractions) > 0.02 and max(fractions) < 0.8


def test_consecutive_frames_move_smoothly(dataset: Path) -> None:
    pairs = _all_pairs(dataset)
    ious = [_iou(_label(dataset, a[1]) == 1, _label(dataset, b[1]) == 1)
            for a, b in zip(pairs, pairs[1:]) if _clip(a[0]) == _clip(b[0])]
    assert len(ious) == NUM_CLIPS * (FRAMES - 1)
    assert np.mean(ious) > 0.8 and min(ious) > 0.5
    assert sum(iou < 0.999 for iou in ious) > len(ious) // 2


def test_some_person_masks_have_separate_parts(dataset: Path) -> None:
    components = [cv2.connectedComponents(_label(dataset, label).astype(np.uint8), connectivity=8)[0] - 1
                  for _, label in _all_pairs(dataset)]
    assert min(components) >= 1
    assert max(components) >= 2


def test_single_channel_colour_threshold_cannot_separate_person(dataset: Path) -> None:
    fg = np.zeros((3, 256), np.int64)
    bg = np.zeros((3, 256), np.int64)
    for image_rel, label_rel in _all_pairs(dataset):
        image = np.asarray(Image.open(dataset / image_rel))
        person = _label(dataset, label_rel) == 1
        for c in range(3):
            fg[c] += np.bincount(image[..., c][person], minlength=256)
            bg[c] += np.bincount(image[..., c][~person], minlength=256)
    best = 0.0
    for c in range(3):
        for f, b in ((fg[c], bg[c]), (fg[c][::-1], bg[c][::-1])):  # predict person above / below a threshold
            tp = np.cumsum(f[::-1])[::-1]
            fp = np.cumsum(b[::-1])[::-1]
            best = max(best, float((tp / (fg[c].sum() + fp)).max()))
    assert best < 0.6, f"a colour threshold reaches IoU {best:.3f}; the set is too easy"


def test_refuses_foreign_directory_and_replaces_previous_set(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(DataError, match="refusing"):
        make_synthetic_humanseg(foreign, num_clips=1, frames_per_clip=1, progress=False)
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]
    out = tmp_path / "set"
    make_synthetic_humanseg(out, num_clips=3, frames_per_clip=2, size=(64, 48), progress=False)
    make_synthetic_humanseg(out, num_clips=1, frames_per_clip=1, size=(64, 48), progress=False)
    assert len(list((out / "images").iterdir())) == len(list((out / "annotations").iterdir())) == 1


def _run_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CLI), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_cli_from_another_directory(tmp_path: Path) -> None:
    out = tmp_path / "cli_set"
    run = _run_cli(tmp_path, "--out_dir", str(out), "--num_clips", "3", "--frames_per_clip", "2",
                   "--width", "96", "--height", "64", "--seed", "1")
    assert run.returncode == 0, run.stderr
    assert "foreground" in run.stdout and str(out) in run.stdout
    assert len(_all_pairs(out)) == 6
    assert Image.open(out / _all_pairs(out)[0][0]).size == (96, 64)

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "keep.jpg").write_bytes(b"x")
    run = _run_cli(tmp_path, "--out_dir", str(foreign))
    assert run.returncode == 2
    assert "refusing" in run.stderr and "Traceback" not in run.stderr
    assert sorted(p.name for p in foreign.iterdir()) == ["keep.jpg"]


# ----------------------------------------------------------------------------- difficulty


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _hardness(root: Path) -> tuple[np.ndarray, float]:
    """Person components (8-connected) per label frame, and the fraction of person pixels that a 3x3
    opening removes (parts 1-2 px thin)."""
    components, thin, person = [], 0, 0
    kernel = np.ones((3, 3), np.uint8)
    for _, label_rel in _all_pairs(root):
        mask = (_label(root, label_rel) == 1).astype(np.uint8)
        components.append(cv2.connectedComponents(mask, connectivity=8)[0] - 1)
        thin += int(np.count_nonzero(mask & (1 - cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel))))
        person += int(np.count_nonzero(mask))
    return np.asarray(components), thin / person


def test_standard_set_bytes_are_unchanged(tmp_path: Path) -> None:
    out = tmp_path / "set"
    summary = make_synthetic_humanseg(out, num_clips=4, frames_per_clip=3, seed=0, progress=False)
    assert summary["difficulty"] == "standard"
    digest = hashlib.sha256()
    for rel, data in _files(out).items():
        if rel != "meta.json":
            digest.update(rel.encode())
            digest.update(data)
    assert digest.hexdigest() == STANDARD_DATA_SHA256
    meta = json.loads((out / "meta.json").read_text())
    assert meta.pop("difficulty") == "standard"
    assert hashlib.sha256((json.dumps(meta, indent=2) + "\n").encode()).hexdigest() == STANDARD_META_SHA256


def test_hard_set_is_deterministic_and_differs_from_standard(tmp_path: Path) -> None:
    runs = {}
    for name, difficulty in (("a", "hard"), ("b", "hard"), ("s", "standard")):
        make_synthetic_humanseg(tmp_path / name, num_clips=3, frames_per_clip=2, size=(160, 96), seed=5,
                                progress=False, difficulty=difficulty)
        runs[name] = _files(tmp_path / name)
    assert runs["a"] == runs["b"]
    assert runs["a"].keys() == runs["s"].keys()
    for split in SPLITS:  # same clips in the same splits: only the pictures get harder
        assert runs["a"][f"{split}.txt"] == runs["s"][f"{split}.txt"]
    data = [k for k in runs["a"] if k.startswith(("images/", "annotations/"))]
    assert all(runs["a"][k] != runs["s"][k] for k in data if k.startswith("images/"))
    assert any(runs["a"][k] != runs["s"][k] for k in data if k.startswith("annotations/"))
    assert json.loads(runs["a"]["meta.json"])["difficulty"] == "hard"
    assert b"--difficulty hard" in runs["a"]["README.txt"]


def test_hard_set_has_more_person_pieces_and_thin_parts(standard_set: Path, hard_set: Path) -> None:
    std_components, std_thin = _hardness(standard_set)
    hard_components, hard_thin = _hardness(hard_set)
    # measured at seeds 0-2 (10 clips x 4 frames): standard 1.40-1.60 components per frame and
    # 0.07-0.08 % thin pixels; hard 4.1-6.1 components and 0.43-0.61 % thin pixels
    assert hard_components.mean() >= std_components.mean() + 2.0, (std_components.mean(), hard_components.mean())
    assert (hard_components > 1).mean() >= 0.8 > (std_components > 1).mean()
    assert hard_thin >= 4 * std_thin, (std_thin, hard_thin)


def test_unknown_difficulty_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="difficulty must be one of standard, hard, got 'extreme'"):
        make_synthetic_humanseg(tmp_path / "set", num_clips=1, frames_per_clip=1, progress=False,
                                difficulty="extreme")
    assert not (tmp_path / "set").exists()


def test_cli_difficulty_flag(tmp_path: Path) -> None:
    out = tmp_path / "hard"
    run = _run_cli(tmp_path, "--out_dir", str(out), "--num_clips", "2", "--frames_per_clip", "2",
                   "--width", "96", "--height", "64", "--difficulty", "hard")
    assert run.returncode == 0, run.stderr
    assert "hard frames" in run.stdout
    assert json.loads((out / "meta.json").read_text())["difficulty"] == "hard"
    run = _run_cli(tmp_path, "--out_dir", str(tmp_path / "x"), "--difficulty", "extreme")
    assert run.returncode == 2 and "invalid choice" in run.stderr and "Traceback" not in run.stderr

"""Synthetic teleconferencing portrait clips written in the PP-HumanSeg14K on-disk format."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from tqdm import tqdm

from humanseg.datasets.synthetic.clip import render_clip
from humanseg.datasets.synthetic.output import prepare_out_dir
from humanseg.errors import DataError
from humanseg.utils.visualize import get_palette

# The name written into meta.json and README.txt: the generator's module path before the move to
# synthetic/, kept so that sets made earlier are still recognised and the bytes do not change.
GENERATOR_NAME = "humanseg.datasets.synthetic_humanseg"
FORMAT_VERSION = 1
SPLIT_NAMES = ("train", "val", "test")
_OUTPUT_ENTRIES = ("images", "annotations", "train.txt", "val.txt", "test.txt", "meta.json", "README.txt")
DIFFICULTIES = ("standard", "hard")


def make_synthetic_humanseg(out_dir: str | Path, num_clips: int = 30, frames_per_clip: int = 10,
                            size: tuple[int, int] = (398, 224), seed: int = 0,
                            splits: tuple[float, float, float] = (0.7, 0.15, 0.15),
                            progress: bool = True, difficulty: str = "standard") -> dict:
    """Generates portrait video clips with person masks in the PP-HumanSeg14K layout.

    Writes ``images/<clip>_<frame>.jpg``, palette PNG labels ``annotations/<clip>_<frame>.png``
    (0 = background, 1 = person), ``train.txt``/``val.txt``/``test.txt`` split by clip,
    ``meta.json`` and ``README.txt``. A previous synthetic set in ``out_dir`` is replaced.

    Args:
        out_dir: Output directory; created if missing.
        num_clips: Number of clips (one person, one room and one camera each).
        frames_per_clip: Frames per clip, with smooth motion between them.
        size: Frame size as (width, height).
        seed: Seed of every random choice; the same seed gives the same bytes.
        splits: Fractions of clips for train, val and test.
        progress: Whether to show a tqdm progress bar.
        difficulty: ``"standard"`` or ``"hard"``. Hard adds, from a random stream of its own
            (so a standard set's bytes do not change), thin limbs and spread 1-3 px fingers,
            person regions cut into separate components (foreground poles and bars in the wall's
            colour, a second person cut by the frame edge, more passers-by) and small skin- and
            hair-coloured background clutter (docs/data.md, "Hard mode").

    Returns:
        A summary: output dir, size, seed, difficulty, per-split clip and frame counts,
        foreground fraction.

    Raises:
        ValueError: If a count, the size, the split fractions or the difficulty are invalid.
        DataError: If ``out_dir`` is non-empty and does not hold a previous synthetic set.
    """
    width, height = _check_args(num_clips, frames_per_clip, size, splits)
    if difficulty not in DIFFICULTIES:
        raise ValueError(f"difficulty must be one of {', '.join(DIFFICULTIES)}, got {difficulty!r}")
    out = Path(out_dir)
    prepare_out_dir(out, GENERATOR_NAME, "humanseg", _OUTPUT_ENTRIES)
    (out / "images").mkdir(parents=True)
    (out / "annotations").mkdir()

    children = np.random.SeedSequence(seed).spawn(num_clips + 1)
    clip_split = _assign_splits(num_clips, splits, np.random.default_rng(children[0]))
    lines: dict[str, list[str]] = {name: [] for name in SPLIT_NAMES}
    fg_pixels = 0
    bar = tqdm(total=num_clips * frames_per_clip, desc="synthetic humanseg", unit="frame",
               disable=not progress)
    for clip in range(num_clips):
        rng = np.random.default_rng(children[clip + 1])
        # Hard mode draws from a grandchild stream only: the clip's own stream is consumed exactly
        # as in standard mode, so a standard set keeps its bytes and a hard clip is its standard
        # clip made harder.
        hard_rng = np.random.default_rng(children[clip + 1].spawn(1)[0]) if difficulty == "hard" else None
        clip_name = f"clip{clip:04d}"
        frames = render_clip(rng, width, height, frames_per_clip, hard_rng)
        for frame, (image, mask, quality) in enumerate(frames):
            stem = f"{clip_name}_{frame:04d}"
            _write_jpeg(out / "images" / f"{stem}.jpg", image, quality)
            _write_label(out / "annotations" / f"{stem}.png", mask)
            lines[clip_split[clip]].append(f"images/{stem}.jpg annotations/{stem}.png")
            fg_pixels += int(np.count_nonzero(mask))
            bar.update()
    bar.close()

    total_frames = num_clips * frames_per_clip
    summary = {
        "out_dir": str(out.resolve()),
        "size": [width, height],
        "seed": int(seed),
        "difficulty": difficulty,
        "num_images": total_frames,
        "splits": {name: {"clips": sum(s == name for s in clip_split), "frames": len(lines[name])}
                   for name in SPLIT_NAMES},
        "foreground_fraction": round(fg_pixels / (total_frames * width * height), 4),
    }
    for name in SPLIT_NAMES:
        (out / f"{name}.txt").write_text("".join(f"{line}\n" for line in sorted(lines[name])))
    _write_meta(out, summary, num_clips, frames_per_clip, splits, clip_split)
    return summary


# ----------------------------------------------------------------------------- output


def _check_args(num_clips: int, frames_per_clip: int, size: tuple[int, int],
                splits: tuple[float, float, float]) -> tuple[int, int]:
    if num_clips < 1 or frames_per_clip < 1:
        raise ValueError(f"num_clips and frames_per_clip must be >= 1, got {num_clips} and {frames_per_clip}")
    width, height = (int(v) for v in size)
    if width < 32 or height < 32:
        raise ValueError(f"size must be at least 32x32 (width, height), got {size}")
    if len(splits) != 3 or min(splits) < 0 or sum(splits) <= 0:
        raise ValueError(f"splits must be three non-negative fractions (train, val, test), got {splits}")
    return width, height


def _assign_splits(num_clips: int, fractions: tuple[float, float, float],
                   rng: np.random.Generator) -> list[str]:
    weights = np.asarray(fractions, np.float64) / sum(fractions)
    counts = np.floor(weights * num_clips).astype(int)
    wanted = [i for i in range(3) if weights[i] > 0]
    for i in wanted:  # every requested split gets a clip when there are enough clips
        if counts[i] == 0 and num_clips >= len(wanted):
            counts[i] = 1
    while counts.sum() > num_clips:
        counts[int(np.argmax(counts))] -= 1
    while counts.sum() < num_clips:
        counts[int(np.argmax(weights * num_clips - counts))] += 1
    order = rng.permutation(num_clips)
    names = [""] * num_clips
    start = 0
    for name, count in zip(SPLIT_NAMES, counts):
        for clip in order[start:start + count]:
            names[int(clip)] = name
        start += count
    return names


def _write_jpeg(path: Path, rgb: np.ndarray, quality: int) -> None:
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(rgb[:, :, ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise DataError(f"could not encode {path}")
    path.write_bytes(buf.tobytes())


_PALETTE = get_palette(256).reshape(-1).tolist()


def _write_label(path: Path, mask: np.ndarray) -> None:
    label = Image.fromarray(mask.astype(np.uint8))
    label.putpalette(_PALETTE)
    label.save(path, format="PNG")


def _write_meta(out: Path, summary: dict, num_clips: int, frames_per_clip: int,
                splits: tuple[float, float, float], clip_split: list[str]) -> None:
    meta = {
        "generator": GENERATOR_NAME,
        "format": "PP-HumanSeg14K (images/*.jpg, palette PNG annotations/*.png, train/val/test.txt)",
        "version": FORMAT_VERSION,
        "seed": summary["seed"],
        "num_clips": num_clips,
        "frames_per_clip": frames_per_clip,
        "size": summary["size"],
        "split_fractions": list(splits),
        "splits": summary["splits"],
        "clips": {name: [f"clip{i:04d}" for i, s in enumerate(clip_split) if s == name] for name in SPLIT_NAMES},
        "labels": {"0": "background", "1": "person"},
        "foreground_fraction": summary["foreground_fraction"],
        "difficulty": summary["difficulty"],
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    w, h = summary["size"]
    hard = summary["difficulty"] == "hard"
    (out / "README.txt").write_text(
        f"Synthetic teleconferencing portrait set made by {GENERATOR_NAME} (seed {summary['seed']}).\n"
        f"{num_clips} clips x {frames_per_clip} frames, {w}x{h} (width x height), split by clip: "
        + ", ".join(f"{n} {summary['splits'][n]['clips']} clips" for n in SPLIT_NAMES) + ".\n"
        "Layout as PP-HumanSeg14K: images/<clip>_<frame>.jpg, annotations/<clip>_<frame>.png "
        "(palette PNG, 0 background, 1 person), train.txt/val.txt/test.txt.\n"
        "Regenerate: python tools/data/make_synthetic_humanseg.py --seed "
        f"{summary['seed']} --num_clips {num_clips} --frames_per_clip {frames_per_clip} "
        f"--width {w} --height {h}" + (" --difficulty hard" if hard else "") + "\n"
        + ("Hard mode: thin limbs and fingers, person regions cut into pieces, skin- and "
           "hair-coloured clutter (docs/data.md, \"Hard mode\").\n" if hard else ""))

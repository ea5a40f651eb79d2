"""Synthetic teleconferencing portrait clips written in the PP-HumanSeg14K on-disk format."""
from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from tqdm import tqdm

from humanseg.datasets.synthetic_output import prepare_out_dir
from humanseg.errors import DataError

GENERATOR_NAME = "humanseg.datasets.synthetic_humanseg"
FORMAT_VERSION = 1
SPLIT_NAMES = ("train", "val", "test")
_OUTPUT_ENTRIES = ("images", "annotations", "train.txt", "val.txt", "test.txt", "meta.json", "README.txt")

_NOISE_PAD = 32
_SHIFT = 4
_ONE = 1 << _SHIFT
_AA = cv2.LINE_AA
_HARD = cv2.LINE_8

_SKIN_TONES = np.array([[255, 224, 196], [241, 194, 165], [224, 172, 130], [198, 134, 98],
                        [161, 102, 70], [120, 76, 50], [88, 56, 40]], np.float32)
_HAIR_COLOURS = np.array([[20, 16, 14], [45, 30, 22], [85, 55, 35], [130, 90, 50], [200, 165, 110],
                          [150, 150, 150], [120, 45, 25], [60, 40, 90]], np.float32)
_HAIR_STYLES = ("short", "long", "bun", "curly", "spiky", "bald", "ponytail", "beanie")
_ARM_ACTIONS = ("rest", "rest", "raise", "wave", "point", "chin", "desk")
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
        frames = _render_clip(rng, width, height, frames_per_clip, hard_rng)
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


def _palette() -> list[int]:
    """PaddleSeg's colour map: index 0 black, 1 (128, 0, 0), 2 (0, 128, 0), ..."""
    palette = []
    for index in range(256):
        rgb = [0, 0, 0]
        lab, bit = index, 0
        while lab:
            for channel in range(3):
                rgb[channel] |= ((lab >> channel) & 1) << (7 - bit)
            bit += 1
            lab >>= 3
        palette.extend(rgb)
    return palette


_PALETTE = _palette()


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


# ----------------------------------------------------------------------------- drawing


class _Canvas:
    """An RGB image and a label mask drawn with the same geometry (antialiasing only in the image)."""

    def __init__(self, image: np.ndarray, mask: np.ndarray) -> None:
        self.image = image
        self.mask = mask

    def poly(self, pts: np.ndarray, colour, label: int | None) -> None:
        fixed = [np.round(pts * _ONE).astype(np.int32)]
        cv2.fillPoly(self.image, fixed, _colour(colour), _AA, _SHIFT)
        if label is not None:
            cv2.fillPoly(self.mask, fixed, label, _HARD, _SHIFT)

    def line(self, pts: np.ndarray, thickness: float, colour, label: int | None) -> None:
        fixed = [np.round(pts * _ONE).astype(np.int32)]
        width = max(1, int(round(thickness)))
        cv2.polylines(self.image, fixed, False, _colour(colour), width, _AA, _SHIFT)
        if label is not None:
            cv2.polylines(self.mask, fixed, False, label, width, _HARD, _SHIFT)


def _colour(colour) -> tuple[float, float, float]:
    return tuple(min(max(float(c), 0.0), 255.0) for c in colour)


def _ellipse(center, axes, angle: float = 0.0, start: float = 0.0, end: float = 360.0,
             n: int = 28) -> np.ndarray:
    """Points of an ellipse arc (degrees, image coordinates: 270 is the top)."""
    t = np.deg2rad(np.linspace(start, end, n))
    a = math.radians(angle)
    x, y = axes[0] * np.cos(t), axes[1] * np.sin(t)
    return np.stack([center[0] + x * math.cos(a) - y * math.sin(a),
                     center[1] + x * math.sin(a) + y * math.cos(a)], 1)


def _rotate(pts: np.ndarray, center, degrees: float) -> np.ndarray:
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    d = np.asarray(pts, np.float64) - center
    return np.stack([center[0] + d[..., 0] * c - d[..., 1] * s, center[1] + d[..., 0] * s + d[..., 1] * c], -1)


def _jitter(rng: np.random.Generator, colour, amount: float) -> np.ndarray:
    return np.clip(np.asarray(colour, np.float32) + rng.uniform(-amount, amount, 3), 0, 255)


def _random_colour(rng: np.random.Generator, sat: tuple[float, float] = (0.0, 1.0),
                   val: tuple[float, float] = (0.1, 1.0)) -> np.ndarray:
    hsv = np.array([[[rng.uniform(0, 180), rng.uniform(*sat) * 255, rng.uniform(*val) * 255]]], np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32)


def _smoothstep(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3 - 2 * x)


# ----------------------------------------------------------------------------- background


def _make_background(rng: np.random.Generator, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """A room (walls, window, door, shelves, pictures, plants) or an outdoor/virtual scene."""
    wall = _random_colour(rng, sat=(0.0, 0.45), val=(0.25, 0.95))
    if rng.random() < 0.15:
        image = _outdoor_scene(rng, w, h)
    else:
        image = _room(rng, w, h, wall)
    image = _add_texture(rng, image)
    if rng.random() < 0.3:
        sigma = rng.uniform(1.5, 6.0)
        image = cv2.GaussianBlur(image, (0, 0), sigma)
    return image, wall


def _room(rng: np.random.Generator, w: int, h: int, wall: np.ndarray) -> np.ndarray:
    ramp = np.linspace(1.0 + rng.uniform(-0.25, 0.25), 1.0, h, dtype=np.float32)[:, None, None]
    image = np.clip(np.broadcast_to(wall * ramp, (h, w, 3)), 0, 255).astype(np.uint8)
    canvas = _Canvas(image, np.zeros((h, w), np.uint8))
    if rng.random() < 0.5:  # room corner: a second wall in another shade
        x = rng.uniform(0.1, 0.9) * w
        side = rng.choice([-1, 1])
        pts = np.array([[x, -1], [x, h + 1], [w + 1 if side > 0 else -1, h + 1], [w + 1 if side > 0 else -1, -1]])
        canvas.poly(pts, wall * rng.uniform(0.7, 0.9), None)
    if rng.random() < 0.5:  # floor
        y = rng.uniform(0.65, 0.9) * h
        canvas.poly(np.array([[-1, y], [w + 1, y + rng.uniform(-10, 10)], [w + 1, h + 1], [-1, h + 1]]),
                    _random_colour(rng, sat=(0.1, 0.5), val=(0.2, 0.7)), None)
    items = (_window, _door, _shelf, _picture, _plant, _lamp, _curtain, _whiteboard)
    for index in rng.choice(len(items), size=int(rng.integers(2, 6)), replace=True):
        items[index](rng, canvas, w, h, wall)
    return canvas.image


def _box(rng: np.random.Generator, w: int, h: int, bw: tuple[float, float], bh: tuple[float, float]):
    bw_, bh_ = rng.uniform(*bw) * w, rng.uniform(*bh) * h
    x0, y0 = rng.uniform(-0.1 * w, w - 0.5 * bw_), rng.uniform(-0.1 * h, h - 0.6 * bh_)
    return x0, y0, bw_, bh_


def _rect(x0: float, y0: float, bw: float, bh: float) -> np.ndarray:
    return np.array([[x0, y0], [x0 + bw, y0], [x0 + bw, y0 + bh], [x0, y0 + bh]], np.float64)


def _window(rng, canvas: _Canvas, w: int, h: int, wall) -> None:
    x0, y0, bw, bh = _box(rng, w, h, (0.15, 0.4), (0.3, 0.6))
    frame = _random_colour(rng, sat=(0, 0.2), val=(0.6, 1.0))
    canvas.poly(_rect(x0 - 4, y0 - 4, bw + 8, bh + 8), frame, None)
    sky_top, sky_bottom = _random_colour(rng, (0.1, 0.6), (0.7, 1.0)), _random_colour(rng, (0, 0.3), (0.8, 1.0))
    for i in range(6):
        t = i / 6
        canvas.poly(_rect(x0, y0 + t * bh, bw, bh / 6 + 1), sky_top * (1 - t) + sky_bottom * t, None)
    if rng.random() < 0.6:  # trees or buildings outside
        for _ in range(int(rng.integers(1, 4))):
            cx, r = x0 + rng.uniform(0, bw), rng.uniform(0.1, 0.3) * bh
            canvas.poly(_ellipse((cx, y0 + bh - r * 0.5), (r, r)), _random_colour(rng, (0.3, 0.8), (0.2, 0.6)),
                        None)
    bars = int(rng.integers(1, 3))
    for i in range(1, bars + 1):
        canvas.line(np.array([[x0 + bw * i / (bars + 1), y0], [x0 + bw * i / (bars + 1), y0 + bh]]), 3, frame, None)
    canvas.line(np.array([[x0, y0 + bh / 2], [x0 + bw, y0 + bh / 2]]), 3, frame, None)


def _door(rng, canvas: _Canvas, w: int, h: int, wall) -> None:
    bw = rng.uniform(0.15, 0.25) * w
    x0 = rng.uniform(-0.05 * w, w - bw)
    y0 = rng.uniform(0.0, 0.25) * h
    wood = _random_colour(rng, (0.3, 0.7), (0.25, 0.8)) if rng.random() < 0.7 else _jitter(rng, wall, 30)
    canvas.poly(_rect(x0, y0, bw, h - y0 + 2), wood, None)
    for k in range(2):
        canvas.poly(_rect(x0 + bw * 0.15, y0 + (0.08 + 0.45 * k) * (h - y0), bw * 0.7, 0.35 * (h - y0)),
                    wood * 0.85, None)
    canvas.poly(_ellipse((x0 + bw * 0.85, y0 + 0.55 * (h - y0)), (3, 3)), (200, 190, 120), None)


def _shelf(rng, canvas: _Canvas, w: int, h: int, wall) -> None:
    x0, y0, bw, bh = _box(rng, w, h, (0.2, 0.45), (0.3, 0.7))
    wood = _random_colour(rng, (0.2, 0.6), (0.2, 0.8))
    rows = int(rng.integers(2, 5))
    for r in range(rows):
        y = y0 + bh * (r + 1) / rows
        x = x0 + 3
        while x < x0 + bw - 6:
            bk_w, bk_h = rng.uniform(3, 10), rng.uniform(0.5, 0.9) * bh / rows
            if rng.random() < 0.85:
                canvas.poly(_rect(x, y - bk_h, bk_w, bk_h), _random_colour(rng, (0.2, 0.9), (0.15, 0.9)), None)
            x += bk_w + rng.uniform(0, 2)
        canvas.poly(_rect(x0, y, bw, 4), wood, None)
    canvas.line(np.array([[x0, y0], [x0, y0 + bh + 4]]), 4, wood, None)
    canvas.line(np.array([[x0 + bw, y0], [x0 + bw, y0 + bh + 4]]), 4, wood, None)


def _picture(rng, canvas: _Canvas, w: int, h: int, wall) -> None:
    x0, y0, bw, bh = _box(rng, w, h, (0.08, 0.2), (0.12, 0.3))
    canvas.poly(_rect(x0 - 3, y0 - 3, bw + 6, bh + 6), _random_colour(rng, (0, 0.5), (0.05, 0.9)), None)
    canvas.poly(_rect(x0, y0, bw, bh), _random_colour(rng), None)
    for _ in range(3):
        pts = np.stack([rng.uniform(x0, x0 + bw, 3), rng.uniform(y0, y0 + bh, 3)], 1)
        canvas.poly(pts, _random_colour(rng), None)


def _plant(rng, canvas: _Canvas, w: int, h: int, wall) -> None:
    cx, base = rng.uniform(0, w), rng.uniform(0.6, 1.0) * h
    size = rng.uniform(0.1, 0.25) * h
    canvas.poly(_rect(cx - size * 0.3, base - size * 0.4, size * 0.6, size * 0.5), _random_colour(rng), None)
    green = _random_colour(rng, (0.4, 0.9), (0.2, 0.7))
    green[1] = max(green[1], green[0] + 30)
    for _ in range(int(rng.integers(5, 10))):
        angle = rng.uniform(-160, -20)
        length = size * rng.uniform(0.5, 1.1)
        tip = (cx + length * math.cos(math.radians(angle)), base - size * 0.4 + length * math.sin(math.radians(angle)))
        mid = ((cx + tip[0]) / 2, (base - size * 0.4 + tip[1]) / 2)
        canvas.poly(_ellipse(mid, (length / 2, size * 0.08), angle), _jitter(rng, green, 25), None)


def _lamp(rng, canvas: _Canvas, w: int, h: int, wall) -> None:
    cx, top = rng.uniform(0, w), rng.uniform(0.05, 0.4) * h
    colour = _random_colour(rng, (0, 0.4), (0.1, 0.9))
    canvas.line(np.array([[cx, top], [cx, h + 2]]), 3, colour, None)
    shade = np.array([[cx - 18, top + 22], [cx - 10, top], [cx + 10, top], [cx + 18, top + 22]])
    canvas.poly(shade, _random_colour(rng, (0, 0.5), (0.7, 1.0)), None)


def _curtain(rng, canvas: _Canvas, w: int, h: int, wall) -> None:
    x0, _, bw, _ = _box(rng, w, h, (0.1, 0.3), (0.5, 0.6))
    colour = _random_colour(rng, (0.1, 0.7), (0.2, 0.9))
    folds = int(rng.integers(4, 9))
    for i in range(folds):
        canvas.poly(_rect(x0 + bw * i / folds, -1, bw / folds + 1, h + 2), colour * (0.8 + 0.2 * (i % 2)), None)


def _whiteboard(rng, canvas: _Canvas, w: int, h: int, wall) -> None:
    x0, y0, bw, bh = _box(rng, w, h, (0.25, 0.5), (0.25, 0.45))
    canvas.poly(_rect(x0 - 3, y0 - 3, bw + 6, bh + 6), (150, 150, 155), None)
    canvas.poly(_rect(x0, y0, bw, bh), _jitter(rng, (235, 235, 235), 15), None)
    for _ in range(int(rng.integers(2, 6))):
        pts = np.stack([x0 + np.sort(rng.uniform(0, bw, 4)), y0 + rng.uniform(0.1, 0.9, 4) * bh], 1)
        canvas.line(pts, 1.5, _random_colour(rng, (0.5, 1), (0.2, 0.7)), None)


def _outdoor_scene(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    top, bottom = _random_colour(rng, (0.2, 0.7), (0.5, 1.0)), _random_colour(rng, (0.0, 0.4), (0.6, 1.0))
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    image = np.clip(top * (1 - t) + bottom * t, 0, 255).astype(np.uint8).repeat(w, axis=1)
    canvas = _Canvas(image, np.zeros((h, w), np.uint8))
    for layer in range(int(rng.integers(1, 4))):
        xs = np.linspace(-2, w + 2, 9)
        ys = h * (0.4 + 0.15 * layer + rng.uniform(-0.1, 0.1, 9))
        pts = np.concatenate([np.stack([xs, ys], 1), [[w + 2, h + 2], [-2, h + 2]]])
        canvas.poly(pts, _random_colour(rng, (0.2, 0.8), (0.15, 0.7)), None)
    return canvas.image


def _add_texture(rng: np.random.Generator, image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    coarse = rng.standard_normal((max(2, h // 24), max(2, w // 24), 1)).astype(np.float32)
    low = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)[:, :, None]
    image = image.astype(np.float32) * (1 + rng.uniform(0.02, 0.12) * low)
    if rng.random() < 0.4:
        image = image + rng.uniform(3, 12) * rng.standard_normal((h, w, 1)).astype(np.float32)
    if rng.random() < 0.2:  # wallpaper stripes
        period = rng.uniform(6, 20)
        stripes = (np.sin(np.arange(w, dtype=np.float32) * 2 * np.pi / period) > 0).astype(np.float32)
        image = image * (1 - rng.uniform(0.05, 0.15) * stripes[None, :, None])
    return np.clip(image, 0, 255).astype(np.float32)


# ----------------------------------------------------------------------------- people


def _sample_person(rng: np.random.Generator, w: int, h: int, wall: np.ndarray) -> dict:
    r = rng.uniform(0.11, 0.17) * h
    shirt = _jitter(rng, wall, 18) if rng.random() < 0.35 else _random_colour(rng, (0, 0.9), (0.08, 0.95))
    return {
        "r": r,
        "cx": rng.uniform(0.3, 0.7) * w,
        "head_y": rng.uniform(0.24, 0.42) * h,
        "shoulder_w": r * rng.uniform(2.0, 2.7),
        "shoulder_h": r * rng.uniform(0.7, 1.1),
        "skin": _jitter(rng, _SKIN_TONES[rng.integers(len(_SKIN_TONES))], 12),
        "hair": _jitter(rng, _HAIR_COLOURS[rng.integers(len(_HAIR_COLOURS))], 10),
        "hair_style": str(rng.choice(_HAIR_STYLES)),
        "shirt": shirt,
        "pattern": str(rng.choice(["plain", "plain", "stripes", "collar"])),
        "pattern_colour": _random_colour(rng),
        "short_sleeves": bool(rng.random() < 0.3),
        "glasses": str(rng.choice(["none", "none", "clear", "dark"])),
        "headset": bool(rng.random() < 0.25),
        "actions": [str(rng.choice(_ARM_ACTIONS)) for _ in range(2)],
        "sway": (rng.uniform(0, 0.04) * w, rng.uniform(0.15, 0.6), rng.uniform(0, 2 * np.pi)),
        "lean": (rng.uniform(-7, 7), rng.uniform(0, 4), rng.uniform(0.2, 0.6), rng.uniform(0, 2 * np.pi)),
        "tilt": (rng.uniform(-6, 6), rng.uniform(0, 5), rng.uniform(0.3, 0.9), rng.uniform(0, 2 * np.pi)),
        "zoom": (rng.uniform(0, 0.03), rng.uniform(0.2, 0.6), rng.uniform(0, 2 * np.pi)),
        "raise_window": _raise_window(rng),
    }


def _raise_window(rng: np.random.Generator) -> tuple[float, float]:
    """Start and end (fractions of the clip) of a gesture; spread over half the clip or more."""
    start = rng.uniform(-0.5, 0.6)
    return start, start + rng.uniform(0.5, 1.0)


def _arm_angles(action: str, t: float, u: float, p: dict) -> tuple[float, float]:
    """Upper-arm and forearm angles in degrees from straight down; positive points away from the body."""
    lo, hi = p["raise_window"]
    f = _smoothstep((u - lo) / (hi - lo))
    if action == "raise":
        return 12 + f * 88, 6 + f * 160
    if action == "wave":
        return 12 + f * 83, 6 + f * (150 + 25 * math.sin(1.5 * t))
    if action == "point":
        return 12 + f * 38, 6 + f * 84
    if action == "chin":
        return 8 - f * 14, 6 - f * 160
    return 10 + 3 * math.sin(0.5 * t), 6 + 3 * math.sin(0.5 * t)


def _draw_arm(canvas: _Canvas, p: dict, shoulder: np.ndarray, side: int, angles, pivot, lean: float,
              scale: float) -> None:
    r = p["r"] * scale
    upper, fore = angles

    def step(origin, angle, length):
        a = math.radians(angle)
        return origin + np.array([side * math.sin(a), math.cos(a)]) * length

    elbow = step(shoulder, upper, 2.5 * r)
    hand = step(elbow, fore, 2.2 * r)
    pts = _rotate(np.stack([shoulder, elbow, hand]), pivot, lean)
    # Hard mode sets thinner arms and hands open in any pose; standard persons have no such keys.
    canvas.line(pts[:2], p.get("upper_arm_w", 0.62) * r, p["shirt"] * 0.9, 1)
    canvas.line(pts[1:], p.get("forearm_w", 0.5) * r, p["skin"] if p["short_sleeves"] else p["shirt"] * 0.9, 1)
    direction = math.degrees(math.atan2(pts[2, 1] - pts[1, 1], pts[2, 0] - pts[1, 0]))
    _draw_hand(canvas, p, pts[2], direction, r, open_hand=fore > p.get("open_hand_above", 90))


def _draw_hand(canvas: _Canvas, p: dict, at: np.ndarray, direction: float, r: float, open_hand: bool) -> None:
    a = math.radians(direction)
    ahead = np.array([math.cos(a), math.sin(a)])
    palm = at + ahead * 0.2 * r
    canvas.poly(_ellipse(palm, (0.4 * r, 0.3 * r), direction, n=16), p["skin"], 1)
    if open_hand:
        fingers = p.get("fingers")  # hard mode: (spreads, finger and thumb lengths / r, width in px)
        spreads, (finger, thumb), width = fingers if fingers else ((-32, -12, 8, 28, 70), (0.45, 0.3), None)
        for k, spread in enumerate(spreads):
            d = math.radians(direction + spread)
            base = palm + np.array([math.cos(d), math.sin(d)]) * 0.3 * r
            tip = base + np.array([math.cos(d), math.sin(d)]) * (finger if k < 4 else thumb) * r
            canvas.line(np.stack([base, tip]), width or max(1.5, 0.12 * r), p["skin"] * 0.97, 1)


def _draw_person(canvas: _Canvas, p: dict, t: float, u: float, h: int) -> None:
    """Draws the main person at time t (frame index) / u (fraction of the clip)."""
    amp, freq, phase = p["sway"]
    cx = p["cx"] + amp * math.sin(freq * t + phase)
    za, zf, zp = p["zoom"]
    scale = 1 + za * math.sin(zf * t + zp)
    r, sw, sh = p["r"] * scale, p["shoulder_w"] * scale, p["shoulder_h"] * scale
    lean = p["lean"][0] + p["lean"][1] * math.sin(p["lean"][2] * t + p["lean"][3])
    tilt = p["tilt"][0] + p["tilt"][1] * math.sin(p["tilt"][2] * t + p["tilt"][3])
    head = np.array([cx, p["head_y"] + (1 - scale) * h * 0.3])
    neck_y = head[1] + 1.45 * r
    pivot = np.array([cx, h + 2 * r])

    if p["hair_style"] == "long":
        _draw_long_hair(canvas, p, head, r, pivot, lean, tilt)
    torso = _torso_outline(cx, neck_y, sw, sh, h)
    canvas.poly(_rotate(torso, pivot, lean), p["shirt"], 1)
    _draw_shirt_pattern(canvas, p, torso, cx, neck_y, r, pivot, lean)
    neck = _rect(cx - 0.42 * r, head[1] + 0.5 * r, 0.84 * r, neck_y - head[1] - 0.2 * r)
    canvas.poly(_rotate(neck, pivot, lean), p["skin"] * 0.88, 1)
    for side, action in zip((-1, 1), p["actions"]):
        if action != "desk":
            shoulder = np.array([cx + side * 0.8 * sw, neck_y + 0.45 * sh])
            _draw_arm(canvas, p, shoulder, side, _arm_angles(action, t, u, p), pivot, lean, scale)
    head_rot = _rotate(head, pivot, lean)
    _draw_head(canvas, p, head_rot, r, lean + tilt)
    if p.get("strands"):
        _draw_strands(canvas, p, head_rot, r, lean + tilt, t)


def _torso_outline(cx: float, neck_y: float, sw: float, sh: float, h: int) -> np.ndarray:
    a = np.linspace(np.pi, 2 * np.pi, 25)
    x = cx + sw * np.cos(a)
    y = neck_y + sh - sh * np.abs(np.sin(a)) ** 0.45
    bottom = h + 4 * sh
    return np.concatenate([np.stack([x, y], 1), [[cx + sw * 1.05, bottom], [cx - sw * 1.05, bottom]]])


def _draw_shirt_pattern(canvas: _Canvas, p: dict, torso: np.ndarray, cx: float, neck_y: float, r: float,
                        pivot, lean: float) -> None:
    if p["pattern"] == "collar":
        v = np.array([[cx - 0.6 * r, neck_y - 0.05 * r], [cx + 0.6 * r, neck_y - 0.05 * r], [cx, neck_y + 0.9 * r]])
        canvas.poly(_rotate(v, pivot, lean), p["skin"] * 0.9, None)
    elif p["pattern"] == "stripes":
        top, bottom = torso[:, 1].min(), torso[:, 1].max()
        colour = p["shirt"] * 0.4 + p["pattern_colour"] * 0.6
        x0, x1 = torso[:, 0].min(), torso[:, 0].max()
        y = top + 0.6 * r
        while y < bottom:
            canvas.line(_rotate(np.array([[x0 + 0.25 * r, y], [x1 - 0.25 * r, y]]), pivot, lean),
                        max(1.0, 0.12 * r), colour, None)
            y += 0.45 * r


def _draw_long_hair(canvas: _Canvas, p: dict, head: np.ndarray, r: float, pivot, lean: float,
                    tilt: float) -> None:
    hx, hy = head
    back = np.concatenate([_ellipse((hx, hy - 0.1 * r), (1.2 * r, 1.25 * r), 0, 180, 360),
                           [[hx + 1.3 * r, hy + 2.3 * r], [hx + 0.7 * r, hy + 2.6 * r],
                            [hx - 0.7 * r, hy + 2.6 * r], [hx - 1.3 * r, hy + 2.3 * r]]])
    canvas.poly(_rotate(_rotate(back, head, tilt), pivot, lean), p["hair"], 1)


def _draw_head(canvas: _Canvas, p: dict, head: np.ndarray, r: float, angle: float) -> None:
    hx, hy = head

    def place(pts):
        return _rotate(np.asarray(pts, np.float64), head, angle)

    style, hair, skin = p["hair_style"], p["hair"], p["skin"]
    if style == "ponytail":
        tail = np.array([[hx + 0.7 * r, hy - 0.6 * r], [hx + 1.5 * r, hy - 0.1 * r], [hx + 1.55 * r, hy + 1.0 * r],
                         [hx + 1.3 * r, hy + 1.1 * r], [hx + 1.05 * r, hy - 0.1 * r]])
        canvas.poly(place(tail), hair, 1)
    if style == "bun":
        canvas.poly(place(_ellipse((hx, hy - 1.35 * r), (0.5 * r, 0.42 * r))), hair, 1)
    if style == "curly":
        for a in np.linspace(190, 350, 9):
            c = (hx + 1.0 * r * math.cos(math.radians(a)), hy - 0.15 * r + 1.1 * r * math.sin(math.radians(a)))
            canvas.poly(place(_ellipse(c, (0.38 * r, 0.38 * r), n=14)), hair, 1)
    for side in (-1, 1):
        canvas.poly(place(_ellipse((hx + side * 0.97 * r, hy + 0.1 * r), (0.2 * r, 0.32 * r), n=12)), skin * 0.92, 1)
    canvas.poly(place(_ellipse((hx, hy), (r, 1.22 * r))), skin, 1)
    _draw_hair_top(canvas, p, place, hx, hy, r)
    _draw_face(canvas, p, place, hx, hy, r)
    if p["headset"]:
        band = _ellipse((hx, hy - 0.05 * r), (1.12 * r, 1.35 * r), 0, 185, 355, n=24)
        canvas.line(place(band), max(2.0, 0.16 * r), (30, 30, 35), 1)
        canvas.poly(place(_ellipse((hx - 1.08 * r, hy + 0.1 * r), (0.22 * r, 0.38 * r), n=14)), (40, 40, 45), 1)
        boom = np.array([[hx - 1.05 * r, hy + 0.3 * r], [hx - 0.9 * r, hy + 0.95 * r], [hx - 0.35 * r, hy + 0.95 * r]])
        canvas.line(place(boom), max(1.5, 0.08 * r), (35, 35, 40), 1)


def _draw_hair_top(canvas: _Canvas, p: dict, place, hx: float, hy: float, r: float) -> None:
    style, hair = p["hair_style"], p["hair"]
    if style == "bald":
        return
    if style == "beanie":
        cap = np.concatenate([_ellipse((hx, hy - 0.25 * r), (1.08 * r, 1.15 * r), 0, 180, 360),
                              [[hx + 1.1 * r, hy - 0.1 * r], [hx - 1.1 * r, hy - 0.1 * r]]])
        canvas.poly(place(cap), p["pattern_colour"], 1)
        return
    cap = _ellipse((hx, hy - 0.3 * r), (1.06 * r, 1.02 * r), 0, 175, 365)
    fringe = np.array([[hx + 1.04 * r, hy - 0.1 * r], [hx + 0.3 * r, hy - 0.55 * r], [hx - 0.5 * r, hy - 0.45 * r],
                       [hx - 1.04 * r, hy - 0.1 * r]])
    canvas.poly(place(np.concatenate([cap, fringe])), hair, 1)
    if style == "spiky":
        for a in np.linspace(200, 340, 6):
            base = np.array([hx + r * math.cos(math.radians(a)), hy - 0.3 * r + r * math.sin(math.radians(a))])
            out = np.array([math.cos(math.radians(a)), math.sin(math.radians(a))])
            side = np.array([-out[1], out[0]]) * 0.22 * r
            canvas.poly(place(np.stack([base - side, base + out * 0.5 * r, base + side])), hair, 1)


def _draw_face(canvas: _Canvas, p: dict, place, hx: float, hy: float, r: float) -> None:
    dark = p["skin"] * 0.35
    for side in (-1, 1):
        eye = (hx + side * 0.38 * r, hy + 0.02 * r)
        canvas.poly(place(_ellipse(eye, (0.13 * r, 0.07 * r), n=10)), dark, None)
        canvas.line(place(np.array([[eye[0] - 0.18 * r, eye[1] - 0.22 * r], [eye[0] + 0.18 * r, eye[1] - 0.25 * r]])),
                    max(1.0, 0.06 * r), p["hair"], None)
    canvas.line(place(np.array([[hx, hy + 0.05 * r], [hx - 0.08 * r, hy + 0.4 * r], [hx + 0.05 * r, hy + 0.45 * r]])),
                1, p["skin"] * 0.75, None)
    canvas.line(place(_ellipse((hx, hy + 0.55 * r), (0.3 * r, 0.12 * r), 0, 20, 160, n=8)),
                max(1.0, 0.06 * r), (150, 60, 60), None)
    if p["glasses"] != "none":
        frame = (20, 20, 20)
        for side in (-1, 1):
            lens = place(_ellipse((hx + side * 0.38 * r, hy + 0.02 * r), (0.24 * r, 0.18 * r), n=14))
            if p["glasses"] == "dark":
                canvas.poly(lens, (25, 25, 30), None)
            canvas.line(np.concatenate([lens, lens[:1]]), max(1.0, 0.05 * r), frame, None)
        canvas.line(place(np.array([[hx - 0.14 * r, hy], [hx + 0.14 * r, hy]])), 1, frame, None)


def _sample_passerby(rng: np.random.Generator, w: int, h: int) -> dict:
    height = rng.uniform(0.3, 0.6) * h
    start = rng.uniform(-0.1, 1.1) * w
    speed = rng.uniform(1.5, 5.0) * rng.choice([-1, 1])
    return {"height": height, "x": start, "speed": speed, "feet": rng.uniform(0.6, 0.85) * h,
            "skin": _jitter(rng, _SKIN_TONES[rng.integers(len(_SKIN_TONES))], 12),
            "top": _random_colour(rng), "legs": _random_colour(rng, (0, 0.6), (0.05, 0.6)),
            "hair": _HAIR_COLOURS[rng.integers(len(_HAIR_COLOURS))]}


def _draw_passerby(canvas: _Canvas, q: dict, t: float) -> None:
    s, x, feet = q["height"], q["x"] + q["speed"] * t, q["feet"]
    step = math.sin(0.9 * t) * 0.12 * s
    hip = np.array([x, feet - 0.48 * s])
    for d in (-1, 1):
        canvas.line(np.array([hip, [x + d * step, feet]]), 0.09 * s, q["legs"], 1)
    body = np.array([[x - 0.12 * s, feet - 0.82 * s], [x + 0.12 * s, feet - 0.82 * s],
                     [x + 0.1 * s, feet - 0.45 * s], [x - 0.1 * s, feet - 0.45 * s]])
    canvas.poly(body, q["top"], 1)
    for d in (-1, 1):
        canvas.line(np.array([[x + d * 0.11 * s, feet - 0.78 * s], [x + d * 0.14 * s - d * step * 0.5, feet - 0.5 * s]]),
                    0.06 * s, q["top"] * 0.9, 1)
    head = (x, feet - 0.9 * s)
    canvas.poly(_ellipse(head, (0.065 * s, 0.08 * s), n=14), q["skin"], 1)
    canvas.poly(_ellipse((head[0], head[1] - 0.025 * s), (0.068 * s, 0.06 * s), 0, 180, 360, n=10), q["hair"], 1)


# ----------------------------------------------------------------------------- occluders


def _sample_occluders(rng: np.random.Generator, w: int, h: int, person: dict) -> dict:
    desk = rng.random() < 0.4
    return {
        "desk": (rng.uniform(0.8, 0.93) * h, _random_colour(rng, (0, 0.6), (0.2, 0.95))) if desk else None,
        "laptop": (person["cx"] + rng.uniform(-0.15, 0.15) * w, rng.uniform(0.3, 0.5) * w,
                   rng.uniform(0.18, 0.3) * h, _random_colour(rng, (0, 0.15), (0.15, 0.85)))
        if rng.random() < 0.3 else None,
        "mug": (rng.uniform(0.05, 0.95) * w, rng.uniform(0.06, 0.1) * h, _random_colour(rng))
        if rng.random() < 0.25 else None,
        "pole": (rng.uniform(0.15, 0.85) * w, rng.uniform(2.5, 6.0), rng.uniform(0.2, 0.5) * h,
                 _random_colour(rng, (0, 0.3), (0.05, 0.5))) if rng.random() < 0.15 else None,
        "leaves": (rng.choice([0.0, float(w)]), rng.integers(4, 9), rng.integers(1 << 30))
        if rng.random() < 0.15 else None,
    }


def _draw_occluders(canvas: _Canvas, occ: dict, person: dict, t: float, w: int, h: int) -> None:
    """Draws objects in front of the person (label 0) and hands resting on the desk (label 1)."""
    if occ["desk"] is not None:
        top, colour = occ["desk"]
        canvas.poly(np.array([[-2, top], [w + 2, top], [w + 2, h + 2], [-2, h + 2]]), colour, 0)
        canvas.line(np.array([[-2, top], [w + 2, top]]), 2, np.minimum(colour * 1.25 + 20, 255), None)
        _draw_desk_hands(canvas, person, top, t)
    if occ["laptop"] is not None:
        cx, lw, lh, colour = occ["laptop"]
        bottom = occ["desk"][0] + 4 if occ["desk"] is not None else h + 2
        pts = np.array([[cx - lw / 2, bottom], [cx - lw * 0.46, bottom - lh], [cx + lw * 0.46, bottom - lh],
                        [cx + lw / 2, bottom]])
        canvas.poly(pts, colour, 0)
        canvas.poly(_ellipse((cx, bottom - lh / 2), (lh * 0.1, lh * 0.1), n=12), colour * 0.8 + 40, 0)
    if occ["mug"] is not None:
        _draw_mug(canvas, occ["mug"], occ["desk"][0] if occ["desk"] is not None else h)
    if occ["pole"] is not None:
        x, thick, top, colour = occ["pole"]
        canvas.line(np.array([[x, h + 2], [x, top]]), thick, colour, 0)
        canvas.poly(_ellipse((x, top - 2 * thick), (1.6 * thick, 2.6 * thick), n=14), colour * 0.8, 0)
    if occ["leaves"] is not None:
        _draw_leaves(canvas, occ["leaves"], h)


def _draw_desk_hands(canvas: _Canvas, p: dict, top: float, t: float) -> None:
    """Forearms resting on the desk, from the elbows at the body's sides to the hands in front."""
    r = p["r"]
    for side, action in zip((-1, 1), p["actions"]):
        if action == "desk":
            elbow = np.array([p["cx"] + side * 0.9 * p["shoulder_w"], top - 0.3 * r])
            hand = np.array([p["cx"] + side * (0.3 * p["shoulder_w"] + 0.2 * r * math.sin(0.7 * t)), top + 0.8 * r])
            canvas.line(np.stack([elbow, hand]), 0.55 * r, p["skin"] if p["short_sleeves"] else p["shirt"] * 0.9, 1)
            direction = math.degrees(math.atan2(hand[1] - elbow[1], hand[0] - elbow[0]))
            _draw_hand(canvas, p, hand, direction, r, open_hand=False)


def _draw_mug(canvas: _Canvas, mug, base: float) -> None:
    x, size, colour = mug
    body = _rect(x - size * 0.5, base - size * 1.2, size, size * 1.2 + 2)
    canvas.line(_ellipse((x + size * 0.55, base - size * 0.6), (size * 0.3, size * 0.3), 0, -90, 90, n=12),
                max(2.0, size * 0.12), colour * 0.9, 0)
    canvas.poly(body, colour, 0)
    canvas.poly(_ellipse((x, base - size * 1.2), (size * 0.5, size * 0.14), n=16), colour * 0.6, 0)


def _draw_leaves(canvas: _Canvas, leaves, h: int) -> None:
    x0, count, seed = leaves
    rng = np.random.default_rng(int(seed))
    green = np.array([40, 110, 45], np.float32)
    for _ in range(int(count)):
        length = rng.uniform(0.15, 0.35) * h
        angle = rng.uniform(-150, -30)
        base = np.array([x0 + rng.uniform(-10, 10), h - rng.uniform(0, 0.3) * h])
        mid = base + 0.5 * length * np.array([math.cos(math.radians(angle)), math.sin(math.radians(angle))])
        canvas.poly(_ellipse(mid, (length / 2, length * 0.1), angle, n=16), _jitter(rng, green, 25), 0)


# ----------------------------------------------------------------------------- hard mode
# Each addition below changes the LABEL in a way the semantic connectivity loss is meant to help
# with (docs/data.md, "Hard mode"): thin person parts, a person split into several components,
# and person-coloured background clutter that invites false-positive speckles.

_HARD_GESTURES = ("raise", "wave", "wave", "point")


def _sample_hard(rng: np.random.Generator, w: int, h: int, wall: np.ndarray, person: dict,
                 occluders: dict) -> dict:
    """Makes ``person`` harder in place (thin arms, spread fingers, hair strands, more gestures) and
    samples the hard clip's extra people and foreground cutters; every draw comes from ``rng``."""
    px = w / 398.0  # the sizes below are tuned at 398x224
    person["actions"] = [a if a == "desk" or rng.random() < 0.3 else str(rng.choice(_HARD_GESTURES))
                         for a in person["actions"]]
    if rng.random() < 0.6:
        person["forearm_w"], person["upper_arm_w"] = rng.uniform(0.18, 0.32), rng.uniform(0.32, 0.48)
    person["open_hand_above"] = -360.0  # every hand open, whatever the pose
    spreads = tuple(float(a + rng.uniform(-6, 6)) for a in (-52, -26, 0, 26, 80))
    person["fingers"] = (spreads, (rng.uniform(0.55, 0.8), rng.uniform(0.35, 0.5)),
                         max(1, int(round(rng.uniform(1.0, 2.6) * px))))
    if person["hair_style"] != "bald":
        person["strands"] = [(rng.uniform(195, 345), rng.uniform(0.4, 1.0), rng.uniform(-0.6, 0.6),
                              rng.uniform(0, 2 * np.pi)) for _ in range(int(rng.integers(3, 9)))]
    return {"edge_person": _sample_edge_person(rng, w, h, person) if rng.random() < 0.55 else None,
            "cutters": _sample_cutters(rng, w, h, wall, person, px)}


def _draw_strands(canvas: _Canvas, p: dict, head: np.ndarray, r: float, angle: float, t: float) -> None:
    """1 px hair strands sticking out of the head, swaying a little."""
    for at, length, curl, phase in p["strands"]:
        a = math.radians(at)
        out = np.array([math.cos(a), math.sin(a)])
        side = np.array([-out[1], out[0]])
        bend = curl + 0.15 * math.sin(0.6 * t + phase)
        s = np.linspace(0, 1, 6)[:, None]
        root = head + out * np.array([0.95, 1.15]) * r  # on the head or its hair
        pts = root + out * s * length * r + side * (s ** 2) * bend * r
        canvas.line(_rotate(pts, head, angle), 1, p["hair"], 1)


def _sample_edge_person(rng: np.random.Generator, w: int, h: int, person: dict) -> dict:
    """A second person cut by the frame edge on the side away from the main person."""
    side = -1 if person["cx"] > w / 2 else 1
    r = rng.uniform(0.12, 0.2) * h
    return {"x": (0.0 if side < 0 else float(w)) + side * rng.uniform(0.1, 0.9) * r,
            "head_y": rng.uniform(0.25, 0.5) * h, "r": r,
            "shoulder_w": r * rng.uniform(2.0, 2.6), "shoulder_h": r * rng.uniform(0.7, 1.0),
            "skin": _jitter(rng, _SKIN_TONES[rng.integers(len(_SKIN_TONES))], 12),
            "hair": _jitter(rng, _HAIR_COLOURS[rng.integers(len(_HAIR_COLOURS))], 10),
            "shirt": _random_colour(rng, (0, 0.9), (0.08, 0.95)),
            "drift": (rng.uniform(1.0, 6.0), rng.uniform(0.2, 0.5), rng.uniform(0, 2 * np.pi))}


def _draw_edge_person(canvas: _Canvas, q: dict, t: float, h: int) -> None:
    amp, freq, phase = q["drift"]
    x, r = q["x"] + amp * math.sin(freq * t + phase), q["r"]
    hy = q["head_y"]
    neck_y = hy + 1.45 * r
    canvas.poly(_torso_outline(x, neck_y, q["shoulder_w"], q["shoulder_h"], h), q["shirt"], 1)
    canvas.poly(_rect(x - 0.42 * r, hy + 0.5 * r, 0.84 * r, neck_y - hy - 0.2 * r), q["skin"] * 0.88, 1)
    canvas.poly(_ellipse((x, hy), (r, 1.22 * r)), q["skin"], 1)
    _draw_hair_top(canvas, {"hair_style": "short", "hair": q["hair"]}, lambda pts: np.asarray(pts, np.float64),
                   x, hy, r)


def _sample_cutters(rng: np.random.Generator, w: int, h: int, wall: np.ndarray, person: dict,
                    px: float) -> list[tuple[np.ndarray, float, np.ndarray]]:
    """Foreground poles (mic stand, monitor edge, plant stem) and bars (chair back, railing) in
    front of the person, mostly in the wall's colour, placed to cut the person into pieces."""
    cx, r, sw = person["cx"], person["r"], person["shoulder_w"]

    def colour():
        return _jitter(rng, wall, 25) if rng.random() < 0.6 else _random_colour(rng, (0, 0.4), (0.05, 0.7))

    cutters = []
    for chance in (0.75, 0.3):
        if rng.random() < chance:
            target = rng.choice(["head", "torso", "arm"])
            reach = {"head": (0.8 * r, 1.4 * r), "torso": (0.0, 0.8 * sw), "arm": (0.9 * sw, 1.6 * sw)}[target]
            x = cx + rng.choice([-1, 1]) * rng.uniform(*reach)
            pts = np.array([[x + rng.uniform(-12, 12) * px, -2.0], [x, h + 2.0]])
            cutters.append((pts, rng.uniform(3, 9) * px, colour()))
    if rng.random() < 0.4:
        y = person["head_y"] + r * rng.uniform(1.7, 3.2)
        pts = np.array([[-2.0, y + rng.uniform(-8, 8) * px], [w + 2.0, y + rng.uniform(-8, 8) * px]])
        cutters.append((pts, rng.uniform(4, 10) * px, colour()))
    return cutters


def _draw_cutters(canvas: _Canvas, cutters) -> None:
    for pts, thickness, colour in cutters:
        canvas.line(pts, thickness, colour, 0)


def _draw_clutter(rng: np.random.Generator, background: np.ndarray, w: int, h: int) -> np.ndarray:
    """Small, many background (class 0) things that look like bits of a person: busy skin/hair
    wallpaper, posters with faces, skin-coloured balls and mugs, dark hair-coloured blobs and
    bright specular spots."""
    image = background.copy()

    def skin() -> np.ndarray:
        return _jitter(rng, _SKIN_TONES[rng.integers(len(_SKIN_TONES))], 15)

    def hair() -> np.ndarray:
        return _jitter(rng, _HAIR_COLOURS[rng.integers(len(_HAIR_COLOURS))], 12)

    if rng.random() < 0.45:  # busy wallpaper over a band of the frame
        period = rng.uniform(3, 8)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        pattern = (np.sin(xx * 2 * np.pi / period) * np.sin(yy * 2 * np.pi / period) > 0)[..., None]
        x0 = rng.uniform(0, 0.6) * w
        band = ((xx >= x0) & (xx < x0 + rng.uniform(0.3, 0.6) * w))[..., None]
        alpha = rng.uniform(0.2, 0.4)
        tile = np.where(pattern, skin(), hair()).astype(np.float32)
        mixed = np.where(band, image * (1 - alpha) + tile * alpha, image)
        image = np.clip(mixed, 0, 255).astype(np.uint8)
    canvas = _Canvas(image, np.zeros((h, w), np.uint8))
    for _ in range(int(rng.integers(0, 3))):  # posters with a face and shoulders
        ph = rng.uniform(0.15, 0.3) * h
        pw = ph * rng.uniform(0.7, 1.0)
        x0, y0 = rng.uniform(0, w - pw), rng.uniform(0, 0.7 * h)
        canvas.poly(_rect(x0 - 2, y0 - 2, pw + 4, ph + 4), _random_colour(rng, (0, 0.4), (0.05, 0.9)), None)
        canvas.poly(_rect(x0, y0, pw, ph), _random_colour(rng), None)
        fr = 0.2 * ph
        fx, fy = x0 + pw / 2, y0 + 0.4 * ph
        canvas.poly(_ellipse((fx, y0 + ph), (0.45 * pw, 0.3 * ph), 0, 180, 360), _random_colour(rng), None)
        canvas.poly(_ellipse((fx, fy), (fr, 1.22 * fr)), skin(), None)
        canvas.poly(_ellipse((fx, fy - 0.3 * fr), (1.06 * fr, 1.02 * fr), 0, 175, 365), hair(), None)
        for side in (-1, 1):
            canvas.poly(_ellipse((fx + side * 0.38 * fr, fy + 0.05 * fr), (0.13 * fr, 0.08 * fr), n=8),
                        (40, 30, 30), None)
    for _ in range(int(rng.integers(6, 17))):  # skin-coloured balls and mugs
        c = (rng.uniform(0, w), rng.uniform(0, h))
        if rng.random() < 0.7:
            canvas.poly(_ellipse(c, (rng.uniform(1.5, 6), rng.uniform(1.5, 6)), rng.uniform(0, 180), n=12),
                        skin(), None)
        else:
            canvas.poly(_rect(c[0], c[1], rng.uniform(4, 9), rng.uniform(5, 11)), skin(), None)
    for _ in range(int(rng.integers(4, 13))):  # dark hair-coloured blobs
        c = np.array([rng.uniform(0, w), rng.uniform(0, h)])
        a = np.linspace(0, 2 * np.pi, 9)[:-1]
        radius = rng.uniform(2, 7) * rng.uniform(0.6, 1.4, 8)
        canvas.poly(c + np.stack([np.cos(a), np.sin(a)], 1) * radius[:, None], hair(), None)
    for _ in range(int(rng.integers(4, 13))):  # bright specular spots
        c = (rng.uniform(0, w), rng.uniform(0, h))
        canvas.poly(_ellipse(c, (rng.uniform(0.8, 2.5), rng.uniform(0.8, 2.5)), n=8),
                    np.full(3, rng.uniform(235, 255)), None)
    return canvas.image


# ----------------------------------------------------------------------------- clips


def _sample_lighting(rng: np.random.Generator, w: int, h: int, frames: int) -> dict:
    ramp = np.linspace(-1, 1, w, dtype=np.float32)[None, :, None] * rng.uniform(-0.3, 0.3)
    tint = 1 + np.array([1, 0, -1], np.float32) * rng.uniform(-0.1, 0.1)
    switch = int(rng.integers(1, frames)) if frames > 1 and rng.random() < 0.2 else None
    light_map = np.ascontiguousarray(np.broadcast_to((1 + ramp) * tint, (h, w, 3)))
    return {"gain": rng.uniform(0.7, 1.2), "map": light_map, "flicker": rng.uniform(0, 0.06),
            "phase": rng.uniform(0, 2 * np.pi), "switch": switch, "switch_gain": rng.choice([0.75, 1.3]),
            "noise": rng.uniform(1.0, 6.0) * rng.standard_normal((h + _NOISE_PAD, w + _NOISE_PAD, 3), dtype=np.float32),
            "quality": int(rng.integers(55, 96)),
            "blur": rng.uniform(0.6, 1.2) if rng.random() < 0.3 else 0.0}


def _light(image: np.ndarray, light: dict, t: int, rng: np.random.Generator) -> np.ndarray:
    gain = light["gain"] * (1 + light["flicker"] * math.sin(0.8 * t + light["phase"]))
    if light["switch"] is not None and t >= light["switch"]:
        gain *= light["switch_gain"]
    if light["blur"]:
        image = cv2.GaussianBlur(image, (0, 0), light["blur"])
    lit = cv2.multiply(image, light["map"], scale=gain, dtype=cv2.CV_32F)
    h, w = image.shape[:2]
    dy, dx = rng.integers(0, _NOISE_PAD + 1, 2)
    out = lit + light["noise"][dy:dy + h, dx:dx + w]  # a fresh crop of the clip's noise field
    return np.clip(out, 0, 255, out=out).astype(np.uint8)


def _render_clip(rng: np.random.Generator, w: int, h: int, frames: int,
                 hard_rng: np.random.Generator | None = None):
    """Yields (RGB uint8 image, uint8 mask, JPEG quality) for each frame of one clip.

    ``rng`` is consumed the same way with or without ``hard_rng``; hard mode's extra choices come
    from ``hard_rng`` alone.
    """
    background, wall = _make_background(rng, w, h)
    background = background.astype(np.uint8)
    person = _sample_person(rng, w, h, wall)
    occluders = _sample_occluders(rng, w, h, person)
    if occluders["desk"] is None:
        person["actions"] = ["rest" if a == "desk" else a for a in person["actions"]]
    passerby = _sample_passerby(rng, w, h) if rng.random() < 0.3 else None
    light = _sample_lighting(rng, w, h, frames)
    hard = None
    if hard_rng is not None:
        hard = _sample_hard(hard_rng, w, h, wall, person, occluders)
        background = _draw_clutter(hard_rng, background, w, h)
        if passerby is None and hard_rng.random() < 0.5:
            passerby = _sample_passerby(hard_rng, w, h)
    for t in range(frames):
        u = t / max(frames - 1, 1)
        canvas = _Canvas(background.copy(), np.zeros((h, w), np.uint8))
        if passerby is not None:
            _draw_passerby(canvas, passerby, t)
        if hard is not None and hard["edge_person"] is not None:
            _draw_edge_person(canvas, hard["edge_person"], t, h)
        _draw_person(canvas, person, t, u, h)
        _draw_occluders(canvas, occluders, person, t, w, h)
        if hard is not None:
            _draw_cutters(canvas, hard["cutters"])
        yield _light(canvas.image, light, t, rng), canvas.mask, light["quality"]

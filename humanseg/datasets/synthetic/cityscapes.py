"""Synthetic street scenes written in the exact Cityscapes on-disk layout and labelIds encoding.

``leftImg8bit/{split}/{city}/{city}_{seq:06d}_{frame:06d}_leftImg8bit.png`` (RGB) and
``gtFine/{split}/{city}/..._gtFine_labelIds.png`` (8-bit Cityscapes labelIds, so the trainIds
still have to be made with ``tools/data/cityscapes_to_trainids.py``, as with the real set). Each
image holds all 19 train classes: large regions (road, sidewalk, building, sky, vegetation,
terrain, wall, fence), thin structures (poles, traffic signs and lights, people, riders, bicycles,
motorcycles) and vehicles, drawn far to near in perspective, plus ignored ids (ego vehicle,
parking, rail track) that must map to 255.
"""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from humanseg.datasets.cityscapes_labels import (ID, IMAGE_SUFFIX, LABEL_IDS_SUFFIX,
                                                 NUM_TRAIN_CLASSES, train_id_lut)
from humanseg.datasets.synthetic.output import prepare_out_dir
from humanseg.errors import DataError

# The name written into meta.json: the generator's module path before the move to synthetic/,
# kept so that sets made earlier are still recognised and the bytes do not change.
GENERATOR_NAME = "humanseg.datasets.synthetic_cityscapes"
FORMAT_VERSION = 1
TRAIN_CITIES = ("aachen", "bochum", "bremen", "cologne", "darmstadt", "dusseldorf")
VAL_CITIES = ("frankfurt", "lindau", "munster")
_OUTPUT_ENTRIES = ("leftImg8bit", "gtFine", "meta.json", "train.txt", "val.txt", "test.txt")
_AA = cv2.LINE_AA

# Base RGB colours of what is drawn (jittered per object).
_COLOURS = {
    "sky": (150, 185, 225), "building": (135, 120, 110), "road": (85, 85, 90),
    "sidewalk": (170, 160, 150), "terrain": (110, 150, 70), "vegetation": (55, 105, 40),
    "wall": (160, 150, 130), "fence": (120, 110, 90), "pole": (95, 95, 100),
    "traffic sign": (30, 80, 190), "traffic light": (40, 40, 40), "person": (150, 60, 70),
    "rider": (200, 120, 40), "car": (40, 60, 150), "truck": (210, 210, 210), "bus": (220, 180, 30),
    "train": (180, 50, 50), "motorcycle": (30, 30, 30), "bicycle": (20, 110, 120),
    "ego vehicle": (25, 25, 30), "parking": (115, 105, 105), "rail track": (105, 90, 80),
}


def make_synthetic_cityscapes(out_dir: str | Path, num_train: int = 8, num_val: int = 4,
                              size: tuple[int, int] = (1024, 512), seed: int = 0,
                              progress: bool = True) -> dict:
    """Write a small synthetic street-scene set in the Cityscapes layout.

    Train images are spread over two cities, val images over one, as
    ``{city}_{seq:06d}_000019`` frames. A previous synthetic set in ``out_dir`` is replaced.

    Args:
        out_dir: Output folder (it becomes the Cityscapes ``dataset_root``).
        num_train: Train images.
        num_val: Val images.
        size: Image size (width, height); Cityscapes itself is 2048x1024.
        seed: Seed of every random choice; the same seed gives the same files.
        progress: Show a tqdm bar.

    Returns:
        A summary: output folder, size, seed, per-split image counts and per-class pixel share.

    Raises:
        ValueError: a count or the size is invalid.
        DataError: ``out_dir`` is non-empty and does not hold a previous synthetic set.
    """
    width, height = (int(v) for v in size)
    if num_train < 1 or num_val < 0:
        raise ValueError(f"num_train must be >= 1 and num_val >= 0, got {num_train}, {num_val}")
    if width < 128 or height < 64:
        raise ValueError(f"size must be at least 128x64 (width, height), got {size}")
    out = Path(out_dir)
    prepare_out_dir(out, GENERATOR_NAME, "Cityscapes", _OUTPUT_ENTRIES)
    plan = [("train", TRAIN_CITIES[i % 2], i // 2) for i in range(num_train)] + \
           [("val", VAL_CITIES[0], i) for i in range(num_val)]
    seeds = np.random.SeedSequence(seed).spawn(len(plan))
    pixels = np.zeros(256, np.int64)
    bar = tqdm(total=len(plan), desc="synthetic cityscapes", unit="img", disable=not progress)
    for (split, city, seq), ss in zip(plan, seeds):
        image, label_ids = render_scene(np.random.default_rng(ss), width, height)
        stem = f"{city}_{seq:06d}_000019"
        for sub, suffix, array in (("leftImg8bit", IMAGE_SUFFIX, image[:, :, ::-1]),
                                   ("gtFine", LABEL_IDS_SUFFIX, label_ids)):
            folder = out / sub / split / city
            folder.mkdir(parents=True, exist_ok=True)
            if not cv2.imwrite(str(folder / (stem + suffix)), np.ascontiguousarray(array)):
                raise DataError(f"could not write {folder / (stem + suffix)}")
        pixels += np.bincount(label_ids.ravel(), minlength=256)
        bar.update()
    bar.close()
    train_pixels = np.bincount(train_id_lut(), weights=pixels, minlength=256)
    summary = {
        "out_dir": str(out.resolve()), "size": [width, height], "seed": int(seed),
        "splits": {"train": num_train, "val": num_val},
        "train_id_share": {int(t): round(float(train_pixels[t] / pixels.sum()), 5)
                           for t in list(range(NUM_TRAIN_CLASSES)) + [255]},
    }
    meta = {"generator": GENERATOR_NAME, "format_version": FORMAT_VERSION, **summary}
    (out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    return summary


def render_scene(rng: np.random.Generator, width: int, height: int,
                 attempts: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Render one street scene with every train class visible.

    Returns:
        ``(image, label_ids)``: HxWx3 uint8 RGB and HxW uint8 Cityscapes labelIds.

    Raises:
        RuntimeError: no attempt showed all 19 classes (a generator bug, not a user error).
    """
    lut = train_id_lut()
    for _ in range(attempts):
        scene = _Scene(rng, width, height)
        scene.draw()
        image, label = scene.finish()
        present = np.unique(lut[label])
        if np.count_nonzero(present < NUM_TRAIN_CLASSES) == NUM_TRAIN_CLASSES:
            return image, label
    raise RuntimeError(f"could not fit all {NUM_TRAIN_CLASSES} classes in a {width}x{height} scene")


class _Scene:
    """One picture: a float RGB canvas and a labelIds canvas drawn with the same primitives."""

    def __init__(self, rng: np.random.Generator, width: int, height: int):
        self.rng, self.w, self.h = rng, width, height
        self.img = np.zeros((height, width, 3), np.float32)
        self.lab = np.zeros((height, width), np.uint8)
        self.horizon = int(height * rng.uniform(0.40, 0.50))
        self.vx = int(width * rng.uniform(0.42, 0.58))

    # ----------------------------------------------------------------- primitives
    def colour(self, name: str, spread: float = 18) -> tuple[float, float, float]:
        base = np.asarray(_COLOURS[name], np.float32)
        return tuple(float(v) for v in np.clip(base + self.rng.normal(0, spread, 3), 0, 255))

    def poly(self, name: str, pts, colour=None) -> None:
        pts = [np.round(np.asarray(pts, np.float64)).astype(np.int32)]
        cv2.fillPoly(self.img, pts, colour or self.colour(name), _AA)
        cv2.fillPoly(self.lab, pts, ID[name])

    def rect(self, name: str, x0: float, y0: float, x1: float, y1: float, colour=None) -> None:
        self.poly(name, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)], colour)

    def ellipse(self, name: str, cx: float, cy: float, rx: float, ry: float, colour=None) -> None:
        c, axes = (int(round(cx)), int(round(cy))), (max(int(round(rx)), 1), max(int(round(ry)), 1))
        cv2.ellipse(self.img, c, axes, 0, 0, 360, colour or self.colour(name), -1, _AA)
        cv2.ellipse(self.lab, c, axes, 0, 0, 360, ID[name], -1)

    def ring(self, name: str, cx: float, cy: float, r: float, thick: int, colour) -> None:
        c = (int(round(cx)), int(round(cy)))
        cv2.circle(self.img, c, max(int(round(r)), 1), colour, thick, _AA)
        cv2.circle(self.lab, c, max(int(round(r)), 1), ID[name], thick)

    def line(self, name: str, p, q, thick: int, colour) -> None:
        p, q = tuple(int(round(v)) for v in p), tuple(int(round(v)) for v in q)
        cv2.line(self.img, p, q, colour, thick, _AA)
        cv2.line(self.lab, p, q, ID[name], thick)

    def scale_at(self, y: float) -> float:
        """Apparent size (1 at the bottom row, 0 at the horizon) of something standing at row y."""
        return max((y - self.horizon) / (self.h - self.horizon), 0.02)

    # ----------------------------------------------------------------- the scene
    def draw(self) -> None:
        self.background()
        self.ground()
        objects = self.plan_objects()
        for y, kind, x in sorted(objects, key=lambda o: o[0]):
            getattr(self, "draw_" + kind)(x, y, self.scale_at(y))
        self.ego_vehicle()

    def background(self) -> None:
        w, h, hz, rng = self.w, self.h, self.horizon, self.rng
        sky = np.linspace(0.75, 1.1, hz)[:, None, None] * np.asarray(self.colour("sky", 12))
        self.img[:hz] = sky
        self.lab[:hz] = ID["sky"]
        x = -rng.uniform(0, 0.05) * w
        while x < w:  # a street front of buildings with gaps of sky and trees
            bw = rng.uniform(0.08, 0.22) * w
            if rng.random() < 0.15:
                x += bw * 0.5
                continue
            top = rng.uniform(0.03, 0.8) * hz
            col = self.colour("building", 30)
            self.rect("building", x, top, x + bw, hz + 2, col)
            wx, wy = max(bw / 7, 3), max((hz - top) / 9, 3)
            window = tuple(c * 0.55 for c in col)
            for yy in np.arange(top + wy * 0.6, hz - wy, wy * 1.6):
                for xx in np.arange(x + wx * 0.6, x + bw - wx, wx * 1.7):
                    cv2.rectangle(self.img, (int(xx), int(yy)), (int(xx + wx), int(yy + wy * 0.8)),
                                  window, -1)
            x += bw
        for _ in range(rng.integers(2, 5)):  # trees behind the pavement
            cx, cy = rng.uniform(0, w), hz - rng.uniform(0.1, 0.45) * hz
            r = rng.uniform(0.04, 0.09) * w
            self.rect("vegetation", cx - r * 0.08, cy, cx + r * 0.08, hz + 3, self.colour("vegetation"))
            self.ellipse("vegetation", cx, cy, r, r * rng.uniform(0.7, 1.0))

    def ground(self) -> None:
        w, h, hz, vx, rng = self.w, self.h, self.horizon, self.vx, self.rng
        self.rect("sidewalk", 0, hz, w, h)
        left = rng.uniform(-0.35, 0.05) * w
        right = rng.uniform(0.95, 1.35) * w
        half = rng.uniform(0.03, 0.06) * w
        road = [(vx - half, hz), (vx + half, hz), (right, h), (left, h)]
        road_colour = self.colour("road", 8)
        self.poly("road", road, road_colour)
        for t0 in np.arange(0.05, 1.0, 0.16):  # dashed centre line (road)
            t1 = t0 + 0.07
            ya, yb = hz + t0 * (h - hz), hz + t1 * (h - hz)
            xa, xb = vx + (0.5 * (left + right) - vx) * t0, vx + (0.5 * (left + right) - vx) * t1
            cv2.line(self.img, (int(xa), int(ya)), (int(xb), int(yb)), (230, 230, 220),
                     max(int(0.006 * w * (t0 + 0.2)), 1), _AA)
        if rng.random() < 0.5:  # a parking bay (ignored) at the right road edge
            t = rng.uniform(0.3, 0.6)
            ya, yb = hz + t * (h - hz), hz + (t + 0.15) * (h - hz)
            xa = vx + half + (right - vx - half) * t
            xb = vx + half + (right - vx - half) * (t + 0.15)
            self.poly("parking", [(xa - 0.08 * w * t, ya), (xa, ya), (xb, yb), (xb - 0.08 * w * (t + 0.15), yb)])
        # terrain: a grass strip on one side between pavement and the street front
        side = rng.integers(2)
        g0, g1 = (0, 0.35 * w) if side == 0 else (0.65 * w, w)
        depth = rng.uniform(0.04, 0.1) * (h - hz)
        self.rect("terrain", g0, hz, g1, hz + depth)
        # wall on one side, fence on the other, standing on the pavement's back edge
        wall_x = rng.uniform(0.0, 0.25) * w if side == 1 else rng.uniform(0.6, 0.8) * w
        ww = rng.uniform(0.12, 0.2) * w
        self.rect("wall", wall_x, hz - 0.12 * hz, wall_x + ww, hz + 0.03 * (h - hz))
        fx = rng.uniform(0.6, 0.8) * w if side == 1 else rng.uniform(0.0, 0.2) * w
        fw, ftop, fbot = rng.uniform(0.12, 0.2) * w, hz - 0.1 * hz, hz + 0.04 * (h - hz)
        fcol = self.colour("fence")
        bars = max(int(0.004 * w), 1)
        for xx in np.arange(fx, fx + fw, max(0.012 * w, 3)):
            self.line("fence", (xx, ftop), (xx, fbot), bars, fcol)
        for yy in (ftop, fbot - 2):
            self.line("fence", (fx, yy), (fx + fw, yy), bars, fcol)
        self.road_edges = (left, right, half)

    def road_x(self, y: float, u: float) -> float:
        """x at row ``y`` of the point at fraction ``u`` across the road (0 left, 1 right)."""
        left, right, half = self.road_edges
        t = (y - self.horizon) / (self.h - self.horizon)
        xl = self.vx - half + (left - self.vx + half) * t
        xr = self.vx + half + (right - self.vx - half) * t
        return xl + (xr - xl) * u

    def plan_objects(self) -> list[tuple[float, str, float]]:
        """(base row, kind, x) for every object: each thing class at least once."""
        rng, h, hz = self.rng, self.h, self.horizon
        kinds = ["car", "car", "truck", "bus", "train", "motorcycle", "bicycle", "person",
                 "person", "pole_sign", "pole_light", "pole"]
        kinds += list(rng.choice(["car", "person", "pole", "bicycle", "pole_sign"],
                                 size=rng.integers(1, 5)))
        objects = []
        for kind in kinds:
            y = hz + rng.uniform(0.15, 0.8) * (h - hz)
            if kind in ("car", "truck", "bus", "train", "motorcycle"):
                x = self.road_x(y, rng.uniform(0.15, 0.85))
            elif kind == "bicycle":
                x = self.road_x(y, rng.choice([0.05, 0.95]))
            else:  # people and poles stand on the pavement, outside the road
                u = rng.choice([-0.15, 1.15]) + rng.uniform(-0.05, 0.05)
                x = self.road_x(y, u)
                if not 0.02 * self.w < x < 0.98 * self.w:
                    x = rng.uniform(0.05, 0.2) * self.w if u < 0.5 else rng.uniform(0.8, 0.95) * self.w
            objects.append((y, kind, x))
        return objects

    # ----------------------------------------------------------------- objects (x centre, base y)
    def draw_car(self, x: float, y: float, s: float, name: str = "car", length: float = 0.22,
                 tall: float = 0.11) -> None:
        bw, bh = length * self.w * s, tall * self.w * s
        col = self.colour(name, 35)
        self.rect(name, x - bw / 2, y - bh * 0.6, x + bw / 2, y)
        self.poly(name, [(x - bw * 0.3, y - bh * 0.6), (x - bw * 0.2, y - bh),
                         (x + bw * 0.25, y - bh), (x + bw * 0.35, y - bh * 0.6)], col)
        glass = (60, 70, 85)
        cv2.rectangle(self.img, (int(x - bw * 0.18), int(y - bh * 0.93)),
                      (int(x + bw * 0.22), int(y - bh * 0.65)), glass, -1)
        for wx in (x - bw * 0.3, x + bw * 0.3):
            self.ellipse(name, wx, y, bh * 0.2, bh * 0.2, (15, 15, 15))

    def draw_truck(self, x: float, y: float, s: float) -> None:
        self.draw_car(x, y, s, "truck", 0.3, 0.2)

    def draw_bus(self, x: float, y: float, s: float) -> None:
        bw, bh = 0.4 * self.w * s, 0.2 * self.w * s
        self.rect("bus", x - bw / 2, y - bh, x + bw / 2, y)
        for xx in np.arange(x - bw * 0.45, x + bw * 0.4, bw / 8):
            cv2.rectangle(self.img, (int(xx), int(y - bh * 0.85)), (int(xx + bw / 12), int(y - bh * 0.5)),
                          (55, 65, 80), -1)
        for wx in (x - bw * 0.35, x + bw * 0.35):
            self.ellipse("bus", wx, y, bh * 0.1, bh * 0.1, (15, 15, 15))

    def draw_train(self, x: float, y: float, s: float) -> None:
        bw, bh = 0.5 * self.w * s, 0.17 * self.w * s
        self.rect("rail track", x - bw * 0.6, y - bh * 0.05, x + bw * 0.6, y + bh * 0.08)
        self.rect("train", x - bw / 2, y - bh, x + bw / 2, y)
        self.rect("train", x - bw / 2, y - bh * 0.6, x + bw / 2, y - bh * 0.5, (240, 240, 240))
        self.line("train", (x, y - bh), (x, y - bh * 1.4), max(int(0.003 * self.w), 1), (50, 50, 50))

    def _two_wheeler(self, name: str, x: float, y: float, s: float, thick: int, colour) -> float:
        r = 0.035 * self.w * s
        for wx in (x - 1.6 * r, x + 1.6 * r):
            self.ring(name, wx, y - r, r, thick, colour)
        frame = [(x - 1.6 * r, y - r), (x - 0.2 * r, y - 2.2 * r), (x + 1.6 * r, y - r),
                 (x + 1.1 * r, y - 2.6 * r)]
        for p, q in zip(frame, frame[1:]):
            self.line(name, p, q, thick, colour)
        self.line(name, (x - 1.6 * r, y - r), (x - 0.6 * r, y - r), thick, colour)
        return r

    def draw_bicycle(self, x: float, y: float, s: float) -> None:
        thick = max(int(0.004 * self.w * s), 1)
        r = self._two_wheeler("bicycle", x, y, s, thick, self.colour("bicycle", 30))
        if self.rng.random() < 0.6:
            self._figure("rider", x - 0.2 * r, y - 1.8 * r, s * 0.75)

    def draw_motorcycle(self, x: float, y: float, s: float) -> None:
        thick = max(int(0.009 * self.w * s), 2)
        r = self._two_wheeler("motorcycle", x, y, s, thick, self.colour("motorcycle", 10))
        self.ellipse("motorcycle", x + 0.2 * r, y - 1.9 * r, 1.0 * r, 0.5 * r)
        self._figure("rider", x - 0.2 * r, y - 2.1 * r, s * 0.75)

    def draw_person(self, x: float, y: float, s: float) -> None:
        self._figure("person", x, y, s)

    def _figure(self, name: str, x: float, y: float, s: float) -> None:
        """A standing (or, for riders, seated) person: legs, torso, arms, head; base at (x, y)."""
        hgt = 0.16 * self.w * s
        col, skin = self.colour(name, 40), (200, 160, 130)
        limb = max(int(hgt * 0.07), 1)
        hip = (x, y - hgt * 0.45)
        self.line(name, hip, (x - hgt * 0.08, y), limb, (40, 40, 60))
        self.line(name, hip, (x + hgt * 0.08, y), limb, (40, 40, 60))
        self.poly(name, [(x - hgt * 0.1, y - hgt * 0.8), (x + hgt * 0.1, y - hgt * 0.8),
                         (x + hgt * 0.08, y - hgt * 0.42), (x - hgt * 0.08, y - hgt * 0.42)], col)
        for side in (-1, 1):
            self.line(name, (x + side * hgt * 0.1, y - hgt * 0.78),
                      (x + side * hgt * self.rng.uniform(0.12, 0.25), y - hgt * 0.5), limb, col)
        self.ellipse(name, x, y - hgt * 0.89, hgt * 0.07, hgt * 0.09, skin)

    def _pole(self, x: float, y: float, s: float) -> tuple[float, float]:
        hgt = 0.5 * self.w * s + 0.08 * self.w
        thick = max(int(0.006 * self.w * s), 2)
        self.line("pole", (x, y), (x, y - hgt), thick, self.colour("pole", 10))
        return hgt, thick

    def draw_pole(self, x: float, y: float, s: float) -> None:
        self._pole(x, y, s)

    def draw_pole_sign(self, x: float, y: float, s: float) -> None:
        hgt, _ = self._pole(x, y, s)
        r = max(0.02 * self.w * s + 2, 3)
        top = y - hgt * 0.8
        if self.rng.random() < 0.5:
            self.ellipse("traffic sign", x, top, r, r, (200, 30, 30))
            cv2.circle(self.img, (int(x), int(top)), max(int(r * 0.65), 1), (240, 240, 240), -1)
        else:
            self.rect("traffic sign", x - r, top - r, x + r, top + r, self.colour("traffic sign"))

    def draw_pole_light(self, x: float, y: float, s: float) -> None:
        hgt, _ = self._pole(x, y, s)
        bw, bh = max(0.012 * self.w * s + 2, 3), max(0.035 * self.w * s + 5, 8)
        top = y - hgt
        self.rect("traffic light", x - bw, top, x + bw, top + bh, self.colour("traffic light", 5))
        lit = int(self.rng.integers(3))
        for i, c in enumerate([(230, 40, 30), (240, 190, 30), (40, 210, 80)]):
            c = c if i == lit else tuple(v * 0.3 for v in c)
            cv2.circle(self.img, (int(x), int(top + bh * (i + 0.5) / 3)), max(int(bw * 0.6), 1), c, -1)

    def ego_vehicle(self) -> None:
        """The camera car's bonnet along the bottom edge (labelId 1, ignored), as in Cityscapes."""
        w, h = self.w, self.h
        top = h - self.rng.uniform(0.04, 0.08) * h
        xs = np.linspace(0, w, 24)
        curve = top + (h - top) * 0.6 * ((xs - w / 2) / (w / 2)) ** 2
        self.poly("ego vehicle", list(zip(xs, curve)) + [(w, h), (0, h)])

    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        """Lighting gradient and sensor noise on the image; returns (uint8 RGB, labelIds)."""
        rng = self.rng
        light = np.linspace(rng.uniform(0.85, 1.1), rng.uniform(0.8, 1.05), self.w)[None, :, None]
        small = rng.normal(0, 6, (self.h // 4 + 1, self.w // 4 + 1, 3)).astype(np.float32)
        noise = cv2.resize(small, (self.w, self.h), interpolation=cv2.INTER_LINEAR)
        noise += rng.normal(0, 3, noise.shape).astype(np.float32)
        image = np.clip(self.img * light + noise, 0, 255).astype(np.uint8)
        return image, self.lab

"""Backgrounds of the synthetic portrait clips: a room (walls, floor, window, door, shelves,
pictures, plants, lamps, curtains, whiteboards) or an outdoor/virtual scene, with texture."""
from __future__ import annotations

import math

import cv2
import numpy as np

from humanseg.datasets.synthetic.canvas import Canvas, ellipse, jitter, random_colour, rect


def make_background(rng: np.random.Generator, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """A room (walls, window, door, shelves, pictures, plants) or an outdoor/virtual scene."""
    wall = random_colour(rng, sat=(0.0, 0.45), val=(0.25, 0.95))
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
    canvas = Canvas(image, np.zeros((h, w), np.uint8))
    if rng.random() < 0.5:  # room corner: a second wall in another shade
        x = rng.uniform(0.1, 0.9) * w
        side = rng.choice([-1, 1])
        pts = np.array([[x, -1], [x, h + 1], [w + 1 if side > 0 else -1, h + 1], [w + 1 if side > 0 else -1, -1]])
        canvas.poly(pts, wall * rng.uniform(0.7, 0.9), None)
    if rng.random() < 0.5:  # floor
        y = rng.uniform(0.65, 0.9) * h
        canvas.poly(np.array([[-1, y], [w + 1, y + rng.uniform(-10, 10)], [w + 1, h + 1], [-1, h + 1]]),
                    random_colour(rng, sat=(0.1, 0.5), val=(0.2, 0.7)), None)
    items = (_window, _door, _shelf, _picture, _plant, _lamp, _curtain, _whiteboard)
    for index in rng.choice(len(items), size=int(rng.integers(2, 6)), replace=True):
        items[index](rng, canvas, w, h, wall)
    return canvas.image


def _box(rng: np.random.Generator, w: int, h: int, bw: tuple[float, float], bh: tuple[float, float]):
    bw_, bh_ = rng.uniform(*bw) * w, rng.uniform(*bh) * h
    x0, y0 = rng.uniform(-0.1 * w, w - 0.5 * bw_), rng.uniform(-0.1 * h, h - 0.6 * bh_)
    return x0, y0, bw_, bh_


def _window(rng, canvas: Canvas, w: int, h: int, wall) -> None:
    x0, y0, bw, bh = _box(rng, w, h, (0.15, 0.4), (0.3, 0.6))
    frame = random_colour(rng, sat=(0, 0.2), val=(0.6, 1.0))
    canvas.poly(rect(x0 - 4, y0 - 4, bw + 8, bh + 8), frame, None)
    sky_top, sky_bottom = random_colour(rng, (0.1, 0.6), (0.7, 1.0)), random_colour(rng, (0, 0.3), (0.8, 1.0))
    for i in range(6):
        t = i / 6
        canvas.poly(rect(x0, y0 + t * bh, bw, bh / 6 + 1), sky_top * (1 - t) + sky_bottom * t, None)
    if rng.random() < 0.6:  # trees or buildings outside
        for _ in range(int(rng.integers(1, 4))):
            cx, r = x0 + rng.uniform(0, bw), rng.uniform(0.1, 0.3) * bh
            canvas.poly(ellipse((cx, y0 + bh - r * 0.5), (r, r)), random_colour(rng, (0.3, 0.8), (0.2, 0.6)),
                        None)
    bars = int(rng.integers(1, 3))
    for i in range(1, bars + 1):
        canvas.line(np.array([[x0 + bw * i / (bars + 1), y0], [x0 + bw * i / (bars + 1), y0 + bh]]), 3, frame, None)
    canvas.line(np.array([[x0, y0 + bh / 2], [x0 + bw, y0 + bh / 2]]), 3, frame, None)


def _door(rng, canvas: Canvas, w: int, h: int, wall) -> None:
    bw = rng.uniform(0.15, 0.25) * w
    x0 = rng.uniform(-0.05 * w, w - bw)
    y0 = rng.uniform(0.0, 0.25) * h
    wood = random_colour(rng, (0.3, 0.7), (0.25, 0.8)) if rng.random() < 0.7 else jitter(rng, wall, 30)
    canvas.poly(rect(x0, y0, bw, h - y0 + 2), wood, None)
    for k in range(2):
        canvas.poly(rect(x0 + bw * 0.15, y0 + (0.08 + 0.45 * k) * (h - y0), bw * 0.7, 0.35 * (h - y0)),
                    wood * 0.85, None)
    canvas.poly(ellipse((x0 + bw * 0.85, y0 + 0.55 * (h - y0)), (3, 3)), (200, 190, 120), None)


def _shelf(rng, canvas: Canvas, w: int, h: int, wall) -> None:
    x0, y0, bw, bh = _box(rng, w, h, (0.2, 0.45), (0.3, 0.7))
    wood = random_colour(rng, (0.2, 0.6), (0.2, 0.8))
    rows = int(rng.integers(2, 5))
    for r in range(rows):
        y = y0 + bh * (r + 1) / rows
        x = x0 + 3
        while x < x0 + bw - 6:
            bk_w, bk_h = rng.uniform(3, 10), rng.uniform(0.5, 0.9) * bh / rows
            if rng.random() < 0.85:
                canvas.poly(rect(x, y - bk_h, bk_w, bk_h), random_colour(rng, (0.2, 0.9), (0.15, 0.9)), None)
            x += bk_w + rng.uniform(0, 2)
        canvas.poly(rect(x0, y, bw, 4), wood, None)
    canvas.line(np.array([[x0, y0], [x0, y0 + bh + 4]]), 4, wood, None)
    canvas.line(np.array([[x0 + bw, y0], [x0 + bw, y0 + bh + 4]]), 4, wood, None)


def _picture(rng, canvas: Canvas, w: int, h: int, wall) -> None:
    x0, y0, bw, bh = _box(rng, w, h, (0.08, 0.2), (0.12, 0.3))
    canvas.poly(rect(x0 - 3, y0 - 3, bw + 6, bh + 6), random_colour(rng, (0, 0.5), (0.05, 0.9)), None)
    canvas.poly(rect(x0, y0, bw, bh), random_colour(rng), None)
    for _ in range(3):
        pts = np.stack([rng.uniform(x0, x0 + bw, 3), rng.uniform(y0, y0 + bh, 3)], 1)
        canvas.poly(pts, random_colour(rng), None)


def _plant(rng, canvas: Canvas, w: int, h: int, wall) -> None:
    cx, base = rng.uniform(0, w), rng.uniform(0.6, 1.0) * h
    size = rng.uniform(0.1, 0.25) * h
    canvas.poly(rect(cx - size * 0.3, base - size * 0.4, size * 0.6, size * 0.5), random_colour(rng), None)
    green = random_colour(rng, (0.4, 0.9), (0.2, 0.7))
    green[1] = max(green[1], green[0] + 30)
    for _ in range(int(rng.integers(5, 10))):
        angle = rng.uniform(-160, -20)
        length = size * rng.uniform(0.5, 1.1)
        tip = (cx + length * math.cos(math.radians(angle)), base - size * 0.4 + length * math.sin(math.radians(angle)))
        mid = ((cx + tip[0]) / 2, (base - size * 0.4 + tip[1]) / 2)
        canvas.poly(ellipse(mid, (length / 2, size * 0.08), angle), jitter(rng, green, 25), None)


def _lamp(rng, canvas: Canvas, w: int, h: int, wall) -> None:
    cx, top = rng.uniform(0, w), rng.uniform(0.05, 0.4) * h
    colour = random_colour(rng, (0, 0.4), (0.1, 0.9))
    canvas.line(np.array([[cx, top], [cx, h + 2]]), 3, colour, None)
    shade = np.array([[cx - 18, top + 22], [cx - 10, top], [cx + 10, top], [cx + 18, top + 22]])
    canvas.poly(shade, random_colour(rng, (0, 0.5), (0.7, 1.0)), None)


def _curtain(rng, canvas: Canvas, w: int, h: int, wall) -> None:
    x0, _, bw, _ = _box(rng, w, h, (0.1, 0.3), (0.5, 0.6))
    colour = random_colour(rng, (0.1, 0.7), (0.2, 0.9))
    folds = int(rng.integers(4, 9))
    for i in range(folds):
        canvas.poly(rect(x0 + bw * i / folds, -1, bw / folds + 1, h + 2), colour * (0.8 + 0.2 * (i % 2)), None)


def _whiteboard(rng, canvas: Canvas, w: int, h: int, wall) -> None:
    x0, y0, bw, bh = _box(rng, w, h, (0.25, 0.5), (0.25, 0.45))
    canvas.poly(rect(x0 - 3, y0 - 3, bw + 6, bh + 6), (150, 150, 155), None)
    canvas.poly(rect(x0, y0, bw, bh), jitter(rng, (235, 235, 235), 15), None)
    for _ in range(int(rng.integers(2, 6))):
        pts = np.stack([x0 + np.sort(rng.uniform(0, bw, 4)), y0 + rng.uniform(0.1, 0.9, 4) * bh], 1)
        canvas.line(pts, 1.5, random_colour(rng, (0.5, 1), (0.2, 0.7)), None)


def _outdoor_scene(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    top, bottom = random_colour(rng, (0.2, 0.7), (0.5, 1.0)), random_colour(rng, (0.0, 0.4), (0.6, 1.0))
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    image = np.clip(top * (1 - t) + bottom * t, 0, 255).astype(np.uint8).repeat(w, axis=1)
    canvas = Canvas(image, np.zeros((h, w), np.uint8))
    for layer in range(int(rng.integers(1, 4))):
        xs = np.linspace(-2, w + 2, 9)
        ys = h * (0.4 + 0.15 * layer + rng.uniform(-0.1, 0.1, 9))
        pts = np.concatenate([np.stack([xs, ys], 1), [[w + 2, h + 2], [-2, h + 2]]])
        canvas.poly(pts, random_colour(rng, (0.2, 0.8), (0.15, 0.7)), None)
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

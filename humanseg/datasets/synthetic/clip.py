"""One synthetic portrait clip in memory: background, person, passer-by, occluders and (in hard
mode) the hard additions drawn per frame, then lit, with the clip's camera noise."""
from __future__ import annotations

import math

import cv2
import numpy as np

from humanseg.datasets.synthetic.canvas import Canvas
from humanseg.datasets.synthetic.hard import draw_clutter, draw_cutters, draw_edge_person, sample_hard
from humanseg.datasets.synthetic.occluders import draw_occluders, sample_occluders
from humanseg.datasets.synthetic.person import draw_passerby, draw_person, sample_passerby, sample_person
from humanseg.datasets.synthetic.scene import make_background

_NOISE_PAD = 32


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


def render_clip(rng: np.random.Generator, w: int, h: int, frames: int,
                hard_rng: np.random.Generator | None = None):
    """Yields (RGB uint8 image, uint8 mask, JPEG quality) for each frame of one clip.

    ``rng`` is consumed the same way with or without ``hard_rng``; hard mode's extra choices come
    from ``hard_rng`` alone.
    """
    background, wall = make_background(rng, w, h)
    background = background.astype(np.uint8)
    person = sample_person(rng, w, h, wall)
    occluders = sample_occluders(rng, w, h, person)
    if occluders["desk"] is None:
        person["actions"] = ["rest" if a == "desk" else a for a in person["actions"]]
    passerby = sample_passerby(rng, w, h) if rng.random() < 0.3 else None
    light = _sample_lighting(rng, w, h, frames)
    hard = None
    if hard_rng is not None:
        hard = sample_hard(hard_rng, w, h, wall, person, occluders)
        background = draw_clutter(hard_rng, background, w, h)
        if passerby is None and hard_rng.random() < 0.5:
            passerby = sample_passerby(hard_rng, w, h)
    for t in range(frames):
        u = t / max(frames - 1, 1)
        canvas = Canvas(background.copy(), np.zeros((h, w), np.uint8))
        if passerby is not None:
            draw_passerby(canvas, passerby, t)
        if hard is not None and hard["edge_person"] is not None:
            draw_edge_person(canvas, hard["edge_person"], t, h)
        draw_person(canvas, person, t, u, h)
        draw_occluders(canvas, occluders, person, t, w, h)
        if hard is not None:
            draw_cutters(canvas, hard["cutters"])
        yield _light(canvas.image, light, t, rng), canvas.mask, light["quality"]

"""Hard mode of the synthetic portrait clips (docs/data.md, "Hard mode").

Each addition changes the LABEL in a way the semantic connectivity loss is meant to help with:
thin person parts, a person split into several components, and person-coloured background
clutter that invites false-positive speckles.
"""
from __future__ import annotations

import math

import numpy as np

from humanseg.datasets.synthetic.canvas import Canvas, ellipse, jitter, random_colour, rect
from humanseg.datasets.synthetic.person import HAIR_COLOURS, SKIN_TONES, draw_hair_top, torso_outline

_HARD_GESTURES = ("raise", "wave", "wave", "point")


def sample_hard(rng: np.random.Generator, w: int, h: int, wall: np.ndarray, person: dict,
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


def _sample_edge_person(rng: np.random.Generator, w: int, h: int, person: dict) -> dict:
    """A second person cut by the frame edge on the side away from the main person."""
    side = -1 if person["cx"] > w / 2 else 1
    r = rng.uniform(0.12, 0.2) * h
    return {"x": (0.0 if side < 0 else float(w)) + side * rng.uniform(0.1, 0.9) * r,
            "head_y": rng.uniform(0.25, 0.5) * h, "r": r,
            "shoulder_w": r * rng.uniform(2.0, 2.6), "shoulder_h": r * rng.uniform(0.7, 1.0),
            "skin": jitter(rng, SKIN_TONES[rng.integers(len(SKIN_TONES))], 12),
            "hair": jitter(rng, HAIR_COLOURS[rng.integers(len(HAIR_COLOURS))], 10),
            "shirt": random_colour(rng, (0, 0.9), (0.08, 0.95)),
            "drift": (rng.uniform(1.0, 6.0), rng.uniform(0.2, 0.5), rng.uniform(0, 2 * np.pi))}


def draw_edge_person(canvas: Canvas, q: dict, t: float, h: int) -> None:
    """Draws the person cut by the frame edge at frame ``t`` (label 1)."""
    amp, freq, phase = q["drift"]
    x, r = q["x"] + amp * math.sin(freq * t + phase), q["r"]
    hy = q["head_y"]
    neck_y = hy + 1.45 * r
    canvas.poly(torso_outline(x, neck_y, q["shoulder_w"], q["shoulder_h"], h), q["shirt"], 1)
    canvas.poly(rect(x - 0.42 * r, hy + 0.5 * r, 0.84 * r, neck_y - hy - 0.2 * r), q["skin"] * 0.88, 1)
    canvas.poly(ellipse((x, hy), (r, 1.22 * r)), q["skin"], 1)
    draw_hair_top(canvas, {"hair_style": "short", "hair": q["hair"]}, lambda pts: np.asarray(pts, np.float64),
                  x, hy, r)


def _sample_cutters(rng: np.random.Generator, w: int, h: int, wall: np.ndarray, person: dict,
                    px: float) -> list[tuple[np.ndarray, float, np.ndarray]]:
    """Foreground poles (mic stand, monitor edge, plant stem) and bars (chair back, railing) in
    front of the person, mostly in the wall's colour, placed to cut the person into pieces."""
    cx, r, sw = person["cx"], person["r"], person["shoulder_w"]

    def colour():
        return jitter(rng, wall, 25) if rng.random() < 0.6 else random_colour(rng, (0, 0.4), (0.05, 0.7))

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


def draw_cutters(canvas: Canvas, cutters) -> None:
    """Draws the foreground cutters over the person (label 0)."""
    for pts, thickness, colour in cutters:
        canvas.line(pts, thickness, colour, 0)


def draw_clutter(rng: np.random.Generator, background: np.ndarray, w: int, h: int) -> np.ndarray:
    """Small, many background (class 0) things that look like bits of a person: busy skin/hair
    wallpaper, posters with faces, skin-coloured balls and mugs, dark hair-coloured blobs and
    bright specular spots."""
    image = background.copy()

    def skin() -> np.ndarray:
        return jitter(rng, SKIN_TONES[rng.integers(len(SKIN_TONES))], 15)

    def hair() -> np.ndarray:
        return jitter(rng, HAIR_COLOURS[rng.integers(len(HAIR_COLOURS))], 12)

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
    canvas = Canvas(image, np.zeros((h, w), np.uint8))
    for _ in range(int(rng.integers(0, 3))):  # posters with a face and shoulders
        ph = rng.uniform(0.15, 0.3) * h
        pw = ph * rng.uniform(0.7, 1.0)
        x0, y0 = rng.uniform(0, w - pw), rng.uniform(0, 0.7 * h)
        canvas.poly(rect(x0 - 2, y0 - 2, pw + 4, ph + 4), random_colour(rng, (0, 0.4), (0.05, 0.9)), None)
        canvas.poly(rect(x0, y0, pw, ph), random_colour(rng), None)
        fr = 0.2 * ph
        fx, fy = x0 + pw / 2, y0 + 0.4 * ph
        canvas.poly(ellipse((fx, y0 + ph), (0.45 * pw, 0.3 * ph), 0, 180, 360), random_colour(rng), None)
        canvas.poly(ellipse((fx, fy), (fr, 1.22 * fr)), skin(), None)
        canvas.poly(ellipse((fx, fy - 0.3 * fr), (1.06 * fr, 1.02 * fr), 0, 175, 365), hair(), None)
        for side in (-1, 1):
            canvas.poly(ellipse((fx + side * 0.38 * fr, fy + 0.05 * fr), (0.13 * fr, 0.08 * fr), n=8),
                        (40, 30, 30), None)
    for _ in range(int(rng.integers(6, 17))):  # skin-coloured balls and mugs
        c = (rng.uniform(0, w), rng.uniform(0, h))
        if rng.random() < 0.7:
            canvas.poly(ellipse(c, (rng.uniform(1.5, 6), rng.uniform(1.5, 6)), rng.uniform(0, 180), n=12),
                        skin(), None)
        else:
            canvas.poly(rect(c[0], c[1], rng.uniform(4, 9), rng.uniform(5, 11)), skin(), None)
    for _ in range(int(rng.integers(4, 13))):  # dark hair-coloured blobs
        c = np.array([rng.uniform(0, w), rng.uniform(0, h)])
        a = np.linspace(0, 2 * np.pi, 9)[:-1]
        radius = rng.uniform(2, 7) * rng.uniform(0.6, 1.4, 8)
        canvas.poly(c + np.stack([np.cos(a), np.sin(a)], 1) * radius[:, None], hair(), None)
    for _ in range(int(rng.integers(4, 13))):  # bright specular spots
        c = (rng.uniform(0, w), rng.uniform(0, h))
        canvas.poly(ellipse(c, (rng.uniform(0.8, 2.5), rng.uniform(0.8, 2.5)), n=8),
                    np.full(3, rng.uniform(235, 255)), None)
    return canvas.image

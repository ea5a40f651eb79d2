"""Things in front of the synthetic person (desk, laptop, mug, pole, leaves: label 0) and the
hands resting on the desk (label 1)."""
from __future__ import annotations

import math

import numpy as np

from humanseg.datasets.synthetic.canvas import Canvas, ellipse, jitter, random_colour, rect
from humanseg.datasets.synthetic.person import draw_hand


def sample_occluders(rng: np.random.Generator, w: int, h: int, person: dict) -> dict:
    """Samples which objects stand in front of ``person`` (each may be None) and where."""
    desk = rng.random() < 0.4
    return {
        "desk": (rng.uniform(0.8, 0.93) * h, random_colour(rng, (0, 0.6), (0.2, 0.95))) if desk else None,
        "laptop": (person["cx"] + rng.uniform(-0.15, 0.15) * w, rng.uniform(0.3, 0.5) * w,
                   rng.uniform(0.18, 0.3) * h, random_colour(rng, (0, 0.15), (0.15, 0.85)))
        if rng.random() < 0.3 else None,
        "mug": (rng.uniform(0.05, 0.95) * w, rng.uniform(0.06, 0.1) * h, random_colour(rng))
        if rng.random() < 0.25 else None,
        "pole": (rng.uniform(0.15, 0.85) * w, rng.uniform(2.5, 6.0), rng.uniform(0.2, 0.5) * h,
                 random_colour(rng, (0, 0.3), (0.05, 0.5))) if rng.random() < 0.15 else None,
        "leaves": (rng.choice([0.0, float(w)]), rng.integers(4, 9), rng.integers(1 << 30))
        if rng.random() < 0.15 else None,
    }


def draw_occluders(canvas: Canvas, occ: dict, person: dict, t: float, w: int, h: int) -> None:
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
        canvas.poly(ellipse((cx, bottom - lh / 2), (lh * 0.1, lh * 0.1), n=12), colour * 0.8 + 40, 0)
    if occ["mug"] is not None:
        _draw_mug(canvas, occ["mug"], occ["desk"][0] if occ["desk"] is not None else h)
    if occ["pole"] is not None:
        x, thick, top, colour = occ["pole"]
        canvas.line(np.array([[x, h + 2], [x, top]]), thick, colour, 0)
        canvas.poly(ellipse((x, top - 2 * thick), (1.6 * thick, 2.6 * thick), n=14), colour * 0.8, 0)
    if occ["leaves"] is not None:
        _draw_leaves(canvas, occ["leaves"], h)


def _draw_desk_hands(canvas: Canvas, p: dict, top: float, t: float) -> None:
    """Forearms resting on the desk, from the elbows at the body's sides to the hands in front."""
    r = p["r"]
    for side, action in zip((-1, 1), p["actions"]):
        if action == "desk":
            elbow = np.array([p["cx"] + side * 0.9 * p["shoulder_w"], top - 0.3 * r])
            hand = np.array([p["cx"] + side * (0.3 * p["shoulder_w"] + 0.2 * r * math.sin(0.7 * t)), top + 0.8 * r])
            canvas.line(np.stack([elbow, hand]), 0.55 * r, p["skin"] if p["short_sleeves"] else p["shirt"] * 0.9, 1)
            direction = math.degrees(math.atan2(hand[1] - elbow[1], hand[0] - elbow[0]))
            draw_hand(canvas, p, hand, direction, r, open_hand=False)


def _draw_mug(canvas: Canvas, mug, base: float) -> None:
    x, size, colour = mug
    body = rect(x - size * 0.5, base - size * 1.2, size, size * 1.2 + 2)
    canvas.line(ellipse((x + size * 0.55, base - size * 0.6), (size * 0.3, size * 0.3), 0, -90, 90, n=12),
                max(2.0, size * 0.12), colour * 0.9, 0)
    canvas.poly(body, colour, 0)
    canvas.poly(ellipse((x, base - size * 1.2), (size * 0.5, size * 0.14), n=16), colour * 0.6, 0)


def _draw_leaves(canvas: Canvas, leaves, h: int) -> None:
    x0, count, seed = leaves
    rng = np.random.default_rng(int(seed))
    green = np.array([40, 110, 45], np.float32)
    for _ in range(int(count)):
        length = rng.uniform(0.15, 0.35) * h
        angle = rng.uniform(-150, -30)
        base = np.array([x0 + rng.uniform(-10, 10), h - rng.uniform(0, 0.3) * h])
        mid = base + 0.5 * length * np.array([math.cos(math.radians(angle)), math.sin(math.radians(angle))])
        canvas.poly(ellipse(mid, (length / 2, length * 0.1), angle, n=16), jitter(rng, green, 25), 0)

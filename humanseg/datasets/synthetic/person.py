"""People of the synthetic portrait clips: the main person (head, hair, face, torso, arms, hands,
gestures) and passers-by behind them. Hard mode's keys (thin arms, spread fingers, hair strands)
are drawn here too; ``hard.py`` sets them."""
from __future__ import annotations

import math

import numpy as np

from humanseg.datasets.synthetic.canvas import Canvas, ellipse, jitter, random_colour, rect, rotate, smoothstep

SKIN_TONES = np.array([[255, 224, 196], [241, 194, 165], [224, 172, 130], [198, 134, 98],
                        [161, 102, 70], [120, 76, 50], [88, 56, 40]], np.float32)
HAIR_COLOURS = np.array([[20, 16, 14], [45, 30, 22], [85, 55, 35], [130, 90, 50], [200, 165, 110],
                          [150, 150, 150], [120, 45, 25], [60, 40, 90]], np.float32)
_HAIR_STYLES = ("short", "long", "bun", "curly", "spiky", "bald", "ponytail", "beanie")
_ARM_ACTIONS = ("rest", "rest", "raise", "wave", "point", "chin", "desk")


def sample_person(rng: np.random.Generator, w: int, h: int, wall: np.ndarray) -> dict:
    """Samples the main person's look, clothes, gestures and motion for one clip."""
    r = rng.uniform(0.11, 0.17) * h
    shirt = jitter(rng, wall, 18) if rng.random() < 0.35 else random_colour(rng, (0, 0.9), (0.08, 0.95))
    return {
        "r": r,
        "cx": rng.uniform(0.3, 0.7) * w,
        "head_y": rng.uniform(0.24, 0.42) * h,
        "shoulder_w": r * rng.uniform(2.0, 2.7),
        "shoulder_h": r * rng.uniform(0.7, 1.1),
        "skin": jitter(rng, SKIN_TONES[rng.integers(len(SKIN_TONES))], 12),
        "hair": jitter(rng, HAIR_COLOURS[rng.integers(len(HAIR_COLOURS))], 10),
        "hair_style": str(rng.choice(_HAIR_STYLES)),
        "shirt": shirt,
        "pattern": str(rng.choice(["plain", "plain", "stripes", "collar"])),
        "pattern_colour": random_colour(rng),
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
    f = smoothstep((u - lo) / (hi - lo))
    if action == "raise":
        return 12 + f * 88, 6 + f * 160
    if action == "wave":
        return 12 + f * 83, 6 + f * (150 + 25 * math.sin(1.5 * t))
    if action == "point":
        return 12 + f * 38, 6 + f * 84
    if action == "chin":
        return 8 - f * 14, 6 - f * 160
    return 10 + 3 * math.sin(0.5 * t), 6 + 3 * math.sin(0.5 * t)


def _draw_arm(canvas: Canvas, p: dict, shoulder: np.ndarray, side: int, angles, pivot, lean: float,
              scale: float) -> None:
    r = p["r"] * scale
    upper, fore = angles

    def step(origin, angle, length):
        a = math.radians(angle)
        return origin + np.array([side * math.sin(a), math.cos(a)]) * length

    elbow = step(shoulder, upper, 2.5 * r)
    hand = step(elbow, fore, 2.2 * r)
    pts = rotate(np.stack([shoulder, elbow, hand]), pivot, lean)
    # Hard mode sets thinner arms and hands open in any pose; standard persons have no such keys.
    canvas.line(pts[:2], p.get("upper_arm_w", 0.62) * r, p["shirt"] * 0.9, 1)
    canvas.line(pts[1:], p.get("forearm_w", 0.5) * r, p["skin"] if p["short_sleeves"] else p["shirt"] * 0.9, 1)
    direction = math.degrees(math.atan2(pts[2, 1] - pts[1, 1], pts[2, 0] - pts[1, 0]))
    draw_hand(canvas, p, pts[2], direction, r, open_hand=fore > p.get("open_hand_above", 90))


def draw_hand(canvas: Canvas, p: dict, at: np.ndarray, direction: float, r: float, open_hand: bool) -> None:
    a = math.radians(direction)
    ahead = np.array([math.cos(a), math.sin(a)])
    palm = at + ahead * 0.2 * r
    canvas.poly(ellipse(palm, (0.4 * r, 0.3 * r), direction, n=16), p["skin"], 1)
    if open_hand:
        fingers = p.get("fingers")  # hard mode: (spreads, finger and thumb lengths / r, width in px)
        spreads, (finger, thumb), width = fingers if fingers else ((-32, -12, 8, 28, 70), (0.45, 0.3), None)
        for k, spread in enumerate(spreads):
            d = math.radians(direction + spread)
            base = palm + np.array([math.cos(d), math.sin(d)]) * 0.3 * r
            tip = base + np.array([math.cos(d), math.sin(d)]) * (finger if k < 4 else thumb) * r
            canvas.line(np.stack([base, tip]), width or max(1.5, 0.12 * r), p["skin"] * 0.97, 1)


def draw_person(canvas: Canvas, p: dict, t: float, u: float, h: int) -> None:
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
    torso = torso_outline(cx, neck_y, sw, sh, h)
    canvas.poly(rotate(torso, pivot, lean), p["shirt"], 1)
    _draw_shirt_pattern(canvas, p, torso, cx, neck_y, r, pivot, lean)
    neck = rect(cx - 0.42 * r, head[1] + 0.5 * r, 0.84 * r, neck_y - head[1] - 0.2 * r)
    canvas.poly(rotate(neck, pivot, lean), p["skin"] * 0.88, 1)
    for side, action in zip((-1, 1), p["actions"]):
        if action != "desk":
            shoulder = np.array([cx + side * 0.8 * sw, neck_y + 0.45 * sh])
            _draw_arm(canvas, p, shoulder, side, _arm_angles(action, t, u, p), pivot, lean, scale)
    head_rot = rotate(head, pivot, lean)
    _draw_head(canvas, p, head_rot, r, lean + tilt)
    if p.get("strands"):
        _draw_strands(canvas, p, head_rot, r, lean + tilt, t)




def _draw_strands(canvas: Canvas, p: dict, head: np.ndarray, r: float, angle: float, t: float) -> None:
    """1 px hair strands sticking out of the head, swaying a little."""
    for at, length, curl, phase in p["strands"]:
        a = math.radians(at)
        out = np.array([math.cos(a), math.sin(a)])
        side = np.array([-out[1], out[0]])
        bend = curl + 0.15 * math.sin(0.6 * t + phase)
        s = np.linspace(0, 1, 6)[:, None]
        root = head + out * np.array([0.95, 1.15]) * r  # on the head or its hair
        pts = root + out * s * length * r + side * (s ** 2) * bend * r
        canvas.line(rotate(pts, head, angle), 1, p["hair"], 1)


def torso_outline(cx: float, neck_y: float, sw: float, sh: float, h: int) -> np.ndarray:
    """Outline of shoulders and torso below the neck, reaching past the frame's bottom."""
    a = np.linspace(np.pi, 2 * np.pi, 25)
    x = cx + sw * np.cos(a)
    y = neck_y + sh - sh * np.abs(np.sin(a)) ** 0.45
    bottom = h + 4 * sh
    return np.concatenate([np.stack([x, y], 1), [[cx + sw * 1.05, bottom], [cx - sw * 1.05, bottom]]])


def _draw_shirt_pattern(canvas: Canvas, p: dict, torso: np.ndarray, cx: float, neck_y: float, r: float,
                        pivot, lean: float) -> None:
    if p["pattern"] == "collar":
        v = np.array([[cx - 0.6 * r, neck_y - 0.05 * r], [cx + 0.6 * r, neck_y - 0.05 * r], [cx, neck_y + 0.9 * r]])
        canvas.poly(rotate(v, pivot, lean), p["skin"] * 0.9, None)
    elif p["pattern"] == "stripes":
        top, bottom = torso[:, 1].min(), torso[:, 1].max()
        colour = p["shirt"] * 0.4 + p["pattern_colour"] * 0.6
        x0, x1 = torso[:, 0].min(), torso[:, 0].max()
        y = top + 0.6 * r
        while y < bottom:
            canvas.line(rotate(np.array([[x0 + 0.25 * r, y], [x1 - 0.25 * r, y]]), pivot, lean),
                        max(1.0, 0.12 * r), colour, None)
            y += 0.45 * r


def _draw_long_hair(canvas: Canvas, p: dict, head: np.ndarray, r: float, pivot, lean: float,
                    tilt: float) -> None:
    hx, hy = head
    back = np.concatenate([ellipse((hx, hy - 0.1 * r), (1.2 * r, 1.25 * r), 0, 180, 360),
                           [[hx + 1.3 * r, hy + 2.3 * r], [hx + 0.7 * r, hy + 2.6 * r],
                            [hx - 0.7 * r, hy + 2.6 * r], [hx - 1.3 * r, hy + 2.3 * r]]])
    canvas.poly(rotate(rotate(back, head, tilt), pivot, lean), p["hair"], 1)


def _draw_head(canvas: Canvas, p: dict, head: np.ndarray, r: float, angle: float) -> None:
    hx, hy = head

    def place(pts):
        return rotate(np.asarray(pts, np.float64), head, angle)

    style, hair, skin = p["hair_style"], p["hair"], p["skin"]
    if style == "ponytail":
        tail = np.array([[hx + 0.7 * r, hy - 0.6 * r], [hx + 1.5 * r, hy - 0.1 * r], [hx + 1.55 * r, hy + 1.0 * r],
                         [hx + 1.3 * r, hy + 1.1 * r], [hx + 1.05 * r, hy - 0.1 * r]])
        canvas.poly(place(tail), hair, 1)
    if style == "bun":
        canvas.poly(place(ellipse((hx, hy - 1.35 * r), (0.5 * r, 0.42 * r))), hair, 1)
    if style == "curly":
        for a in np.linspace(190, 350, 9):
            c = (hx + 1.0 * r * math.cos(math.radians(a)), hy - 0.15 * r + 1.1 * r * math.sin(math.radians(a)))
            canvas.poly(place(ellipse(c, (0.38 * r, 0.38 * r), n=14)), hair, 1)
    for side in (-1, 1):
        canvas.poly(place(ellipse((hx + side * 0.97 * r, hy + 0.1 * r), (0.2 * r, 0.32 * r), n=12)), skin * 0.92, 1)
    canvas.poly(place(ellipse((hx, hy), (r, 1.22 * r))), skin, 1)
    draw_hair_top(canvas, p, place, hx, hy, r)
    _draw_face(canvas, p, place, hx, hy, r)
    if p["headset"]:
        band = ellipse((hx, hy - 0.05 * r), (1.12 * r, 1.35 * r), 0, 185, 355, n=24)
        canvas.line(place(band), max(2.0, 0.16 * r), (30, 30, 35), 1)
        canvas.poly(place(ellipse((hx - 1.08 * r, hy + 0.1 * r), (0.22 * r, 0.38 * r), n=14)), (40, 40, 45), 1)
        boom = np.array([[hx - 1.05 * r, hy + 0.3 * r], [hx - 0.9 * r, hy + 0.95 * r], [hx - 0.35 * r, hy + 0.95 * r]])
        canvas.line(place(boom), max(1.5, 0.08 * r), (35, 35, 40), 1)


def draw_hair_top(canvas: Canvas, p: dict, place, hx: float, hy: float, r: float) -> None:
    """Draws the hair (or beanie) on top of the head; ``place`` maps head points to the image."""
    style, hair = p["hair_style"], p["hair"]
    if style == "bald":
        return
    if style == "beanie":
        cap = np.concatenate([ellipse((hx, hy - 0.25 * r), (1.08 * r, 1.15 * r), 0, 180, 360),
                              [[hx + 1.1 * r, hy - 0.1 * r], [hx - 1.1 * r, hy - 0.1 * r]]])
        canvas.poly(place(cap), p["pattern_colour"], 1)
        return
    cap = ellipse((hx, hy - 0.3 * r), (1.06 * r, 1.02 * r), 0, 175, 365)
    fringe = np.array([[hx + 1.04 * r, hy - 0.1 * r], [hx + 0.3 * r, hy - 0.55 * r], [hx - 0.5 * r, hy - 0.45 * r],
                       [hx - 1.04 * r, hy - 0.1 * r]])
    canvas.poly(place(np.concatenate([cap, fringe])), hair, 1)
    if style == "spiky":
        for a in np.linspace(200, 340, 6):
            base = np.array([hx + r * math.cos(math.radians(a)), hy - 0.3 * r + r * math.sin(math.radians(a))])
            out = np.array([math.cos(math.radians(a)), math.sin(math.radians(a))])
            side = np.array([-out[1], out[0]]) * 0.22 * r
            canvas.poly(place(np.stack([base - side, base + out * 0.5 * r, base + side])), hair, 1)


def _draw_face(canvas: Canvas, p: dict, place, hx: float, hy: float, r: float) -> None:
    dark = p["skin"] * 0.35
    for side in (-1, 1):
        eye = (hx + side * 0.38 * r, hy + 0.02 * r)
        canvas.poly(place(ellipse(eye, (0.13 * r, 0.07 * r), n=10)), dark, None)
        canvas.line(place(np.array([[eye[0] - 0.18 * r, eye[1] - 0.22 * r], [eye[0] + 0.18 * r, eye[1] - 0.25 * r]])),
                    max(1.0, 0.06 * r), p["hair"], None)
    canvas.line(place(np.array([[hx, hy + 0.05 * r], [hx - 0.08 * r, hy + 0.4 * r], [hx + 0.05 * r, hy + 0.45 * r]])),
                1, p["skin"] * 0.75, None)
    canvas.line(place(ellipse((hx, hy + 0.55 * r), (0.3 * r, 0.12 * r), 0, 20, 160, n=8)),
                max(1.0, 0.06 * r), (150, 60, 60), None)
    if p["glasses"] != "none":
        frame = (20, 20, 20)
        for side in (-1, 1):
            lens = place(ellipse((hx + side * 0.38 * r, hy + 0.02 * r), (0.24 * r, 0.18 * r), n=14))
            if p["glasses"] == "dark":
                canvas.poly(lens, (25, 25, 30), None)
            canvas.line(np.concatenate([lens, lens[:1]]), max(1.0, 0.05 * r), frame, None)
        canvas.line(place(np.array([[hx - 0.14 * r, hy], [hx + 0.14 * r, hy]])), 1, frame, None)


def sample_passerby(rng: np.random.Generator, w: int, h: int) -> dict:
    """Samples a small person walking across the background."""
    height = rng.uniform(0.3, 0.6) * h
    start = rng.uniform(-0.1, 1.1) * w
    speed = rng.uniform(1.5, 5.0) * rng.choice([-1, 1])
    return {"height": height, "x": start, "speed": speed, "feet": rng.uniform(0.6, 0.85) * h,
            "skin": jitter(rng, SKIN_TONES[rng.integers(len(SKIN_TONES))], 12),
            "top": random_colour(rng), "legs": random_colour(rng, (0, 0.6), (0.05, 0.6)),
            "hair": HAIR_COLOURS[rng.integers(len(HAIR_COLOURS))]}


def draw_passerby(canvas: Canvas, q: dict, t: float) -> None:
    """Draws the passer-by at frame ``t`` (label 1)."""
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
    canvas.poly(ellipse(head, (0.065 * s, 0.08 * s), n=14), q["skin"], 1)
    canvas.poly(ellipse((head[0], head[1] - 0.025 * s), (0.068 * s, 0.06 * s), 0, 180, 360, n=10), q["hair"], 1)

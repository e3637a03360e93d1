"""Ink of digits in many hands, for the reader's evaluation set (benchmarks/reader_set.py).

Three sources of ink, each an alpha mask (float 0..1, 1 = full ink):

* :func:`pen_digit` - a stroke renderer: each digit has several ways of being
  written (a 1 with or without a flag, an open or closed 4, a 7 with a bar...),
  as pen paths through control points that are jittered per writing, then
  slanted, turned and stretched by the writer's hand and drawn with a pen whose
  width varies with pressure (round ballpoint, marker, flat nib);
* :func:`mnist_digit` - an MNIST test digit enlarged and turned into a pen
  stroke of a chosen weight (thin to bold);
* :func:`font_digit` - a typed digit in one of the system's fonts (bold,
  italic...), for the typed numbers people also photograph.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

Segment = list[tuple[float, float]]
#: A stroke is one or more smooth segments joined at sharp corners.
Stroke = list[Segment]


def _ellipse(cx, cy, rx, ry, a0, a1, n=16) -> Segment:
    t = np.radians(np.linspace(a0, a1, n))
    return [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in t]


#: digit -> ways of writing it, each a list of strokes in a unit box (x right, y down)
GLYPHS: dict[int, list[list[Stroke]]] = {
    0: [
        [[_ellipse(0.5, 0.5, 0.45, 0.5, -100, 275, 20)]],
        [[_ellipse(0.5, 0.5, 0.38, 0.5, -80, 290, 20)]],
    ],
    1: [
        [[[(0.5, 0.0), (0.5, 1.0)]]],
        [[[(0.15, 0.28), (0.55, 0.0)], [(0.55, 0.0), (0.55, 1.0)]]],
        [[[(0.2, 0.25), (0.55, 0.0)], [(0.55, 0.0), (0.55, 1.0)]], [[(0.2, 1.0), (0.9, 1.0)]]],
    ],
    2: [
        [[[(0.1, 0.25), (0.3, 0.04), (0.6, 0.0), (0.85, 0.15), (0.85, 0.38), (0.6, 0.62),
           (0.05, 1.0)], [(0.05, 1.0), (0.95, 0.98)]]],
        [[[(0.12, 0.2), (0.45, 0.0), (0.82, 0.12), (0.8, 0.4), (0.4, 0.75), (0.15, 0.95),
           (0.08, 0.85), (0.25, 0.82), (0.45, 0.95), (0.95, 0.96)]]],
        [[[(0.1, 0.2), (0.5, 0.0), (0.9, 0.2), (0.1, 1.0)], [(0.1, 1.0), (0.95, 1.0)]]],
    ],
    3: [
        [[[(0.1, 0.15), (0.4, 0.0), (0.8, 0.1), (0.8, 0.35), (0.45, 0.5)],
          [(0.45, 0.5), (0.85, 0.62), (0.9, 0.85), (0.55, 1.0), (0.1, 0.88)]]],
        [[[(0.1, 0.0), (0.85, 0.0)], [(0.85, 0.0), (0.4, 0.42)],
          [(0.4, 0.42), (0.8, 0.55), (0.9, 0.8), (0.55, 1.0), (0.1, 0.88)]]],
    ],
    4: [
        [[[(0.55, 0.0), (0.05, 0.65)], [(0.05, 0.65), (0.95, 0.65)]], [[(0.72, 0.3), (0.72, 1.0)]]],
        [[[(0.7, 1.0), (0.7, 0.0)], [(0.7, 0.0), (0.05, 0.65)], [(0.05, 0.65), (0.95, 0.65)]]],
        [[[(0.3, 0.0), (0.1, 0.6)], [(0.1, 0.6), (0.9, 0.6)]], [[(0.7, 0.05), (0.68, 1.0)]]],
    ],
    5: [
        [[[(0.25, 0.02), (0.2, 0.45)], [(0.2, 0.45), (0.55, 0.38), (0.85, 0.55), (0.85, 0.8),
          (0.55, 1.0), (0.1, 0.9)]], [[(0.25, 0.02), (0.85, 0.0)]]],
        [[[(0.85, 0.0), (0.25, 0.02)], [(0.25, 0.02), (0.2, 0.45)], [(0.2, 0.45), (0.55, 0.38),
          (0.85, 0.55), (0.85, 0.8), (0.55, 1.0), (0.1, 0.9)]]],
    ],
    6: [
        [[[(0.75, 0.02), (0.4, 0.2), (0.15, 0.6), (0.25, 0.92), (0.55, 1.0), (0.85, 0.8),
           (0.75, 0.55), (0.45, 0.5), (0.18, 0.68)]]],
        [[[(0.65, 0.0), (0.2, 0.65)], [(0.2, 0.65), (0.3, 0.95), (0.6, 1.0), (0.8, 0.8),
          (0.6, 0.55), (0.3, 0.6)]]],
    ],
    7: [
        [[[(0.05, 0.02), (0.95, 0.02)], [(0.95, 0.02), (0.4, 1.0)]]],
        [[[(0.05, 0.02), (0.95, 0.02)], [(0.95, 0.02), (0.4, 1.0)]], [[(0.4, 0.52), (0.85, 0.52)]]],
        [[[(0.05, 0.05), (0.95, 0.02)], [(0.95, 0.02), (0.6, 0.45), (0.45, 1.0)]]],
        [[[(0.05, 0.2), (0.05, 0.02)], [(0.05, 0.02), (0.95, 0.02)], [(0.95, 0.02), (0.4, 1.0)]]],
    ],
    8: [
        [[[(0.8, 0.12), (0.5, 0.0), (0.2, 0.15), (0.3, 0.38), (0.7, 0.6), (0.8, 0.85), (0.5, 1.0),
           (0.2, 0.85), (0.3, 0.6), (0.7, 0.38), (0.8, 0.15), (0.55, 0.0)]]],
        [[_ellipse(0.5, 0.24, 0.27, 0.24, 90, 450, 16)],
         [_ellipse(0.5, 0.72, 0.33, 0.28, -90, 270, 16)]],
    ],
    9: [
        [[_ellipse(0.5, 0.28, 0.35, 0.27, 0, -360, 16) + [(0.85, 0.3)], [(0.85, 0.3), (0.8, 1.0)]]],
        [[_ellipse(0.5, 0.28, 0.35, 0.27, 0, -360, 16),
          [(0.85, 0.28), (0.78, 0.75), (0.5, 1.0), (0.2, 0.9)]]],
        [[_ellipse(0.48, 0.27, 0.36, 0.27, 10, -350, 16), [(0.84, 0.22), (0.5, 1.0)]]],
    ],
}  # fmt: skip


def catmull_rom(points: np.ndarray, per: int = 12) -> np.ndarray:
    """A smooth curve ``(m, 2)`` through ``points (k, 2)`` (centripetal-free, uniform)."""
    if len(points) < 3:
        t = np.linspace(0, 1, per * max(len(points) - 1, 1) + 1)[:, None]
        return points[0] + t * (points[-1] - points[0]) if len(points) > 1 else points
    p = np.vstack([2 * points[0] - points[1], points, 2 * points[-1] - points[-2]])
    out = []
    t = np.linspace(0, 1, per, endpoint=False)[:, None]
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        out.append(
            0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                   + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3)
        )  # fmt: skip
    out.append(points[-1:])
    return np.vstack(out)


@dataclass(frozen=True)
class Hand:
    """How one writer writes: kept for all the digits of one number."""

    slant: float  # shear: positive leans right
    angle: float  # degrees
    aspect: float  # width / height
    width: float  # pen width / digit height
    jitter: float  # control-point noise (unit box)
    pen: str  # "round", "marker", "nib"
    pressure: float  # how much the width varies along a stroke
    variants: tuple[int, ...]  # which way of writing each digit 0..9

    @classmethod
    def random(cls, rng: np.random.Generator, *, weight: str | None = None) -> Hand:
        weight = weight or rng.choice(["thin", "normal", "normal", "bold"])
        width = {"thin": (0.025, 0.06), "normal": (0.06, 0.12), "bold": (0.13, 0.22)}[weight]
        return cls(
            slant=float(rng.choice([rng.uniform(-0.15, 0.15), rng.uniform(0.15, 0.5),
                                    rng.uniform(-0.35, -0.15)], p=[0.5, 0.35, 0.15])),
            angle=float(rng.uniform(-8, 8)),
            aspect=float(rng.uniform(0.45, 0.85)),
            width=float(rng.uniform(*width)),
            jitter=float(rng.uniform(0.01, 0.05)),
            pen=str(rng.choice(["round", "round", "marker", "nib"])),
            pressure=float(rng.uniform(0.0, 0.4)),
            variants=tuple(int(rng.integers(len(GLYPHS[d]))) for d in range(10)),
        )  # fmt: skip


def pen_paths(digit: int, hand: Hand, rng: np.random.Generator, height: float) -> list[np.ndarray]:
    """Pen paths ``(m, 2)`` (x, y pixels, origin at the digit's centre) of one writing."""
    glyph = GLYPHS[digit][hand.variants[digit] % len(GLYPHS[digit])]
    w = height * hand.aspect * rng.uniform(0.9, 1.1)
    a = math.radians(hand.angle + rng.normal(0, 2))
    slant = hand.slant + rng.normal(0, 0.04)
    paths = []
    for stroke in glyph:
        pieces = []
        for seg in stroke:
            pts = np.array(seg, dtype=np.float64)
            pts = pts + rng.normal(0, hand.jitter, pts.shape) * (len(pts) < 30)
            pieces.append(catmull_rom(pts))
        pts = np.vstack(pieces)
        x = (pts[:, 0] - 0.5) * w + slant * (0.5 - pts[:, 1]) * height
        y = (pts[:, 1] - 0.5) * height
        paths.append(np.column_stack([x * math.cos(a) + y * math.sin(a),
                                      -x * math.sin(a) + y * math.cos(a)]))  # fmt: skip
    return paths


def draw_paths(
    paths: list[np.ndarray], radius: float, hand: Hand, rng: np.random.Generator,
    size: tuple[int, int], origin: tuple[float, float], ss: int = 3,
) -> np.ndarray:  # fmt: skip
    """Draw pen paths (pixels, relative to ``origin``) with a pen of ``radius``: alpha
    ``(h, w)``; supersampled ``ss`` times."""
    w, h = size
    im = Image.new("L", (w * ss, h * ss), 0)
    draw = ImageDraw.Draw(im)
    nib_angle = rng.uniform(0, math.pi)
    for path in paths:
        pts = (path + np.array(origin)) * ss
        seg = np.hypot(*np.diff(pts, axis=0).T)
        length = np.concatenate([[0], np.cumsum(seg)])
        r0 = max(radius * ss, 0.6)
        n = max(2, int(length[-1] / max(r0 / 3, 0.5)) + 1)
        s = np.linspace(0, length[-1], n)
        xs, ys = np.interp(s, length, pts[:, 0]), np.interp(s, length, pts[:, 1])
        phase = rng.uniform(0, 2 * math.pi)
        press = 1 + hand.pressure * np.sin(phase + s / max(length[-1], 1) * rng.uniform(2, 6))
        if hand.pen == "round":  # ballpoint: ends a little thinner
            ends = np.minimum(s, length[-1] - s) / max(3 * r0, 1)
            press = press * (0.75 + 0.25 * np.clip(ends, 0, 1))
        for x, y, p in zip(xs, ys, press, strict=True):
            r = r0 * p
            if hand.pen == "nib":
                t = np.linspace(0, 2 * math.pi, 12, endpoint=False)
                ex, ey = r * 1.3 * np.cos(t), r * 0.35 * np.sin(t)
                c, sn = math.cos(nib_angle), math.sin(nib_angle)
                poly = list(zip(x + ex * c - ey * sn, y + ex * sn + ey * c, strict=True))
                draw.polygon(poly, fill=255)
            else:
                draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return np.asarray(im.resize((w, h), Image.Resampling.BOX), dtype=np.float32) / 255.0


def pen_digit(digit: int, hand: Hand, rng: np.random.Generator, height: float) -> np.ndarray:
    """One written digit as alpha ``(h, w)``, cropped with a small margin."""
    paths = pen_paths(digit, hand, rng, height)
    radius = max(0.5, hand.width * height / 2) * (1.2 if hand.pen == "marker" else 1.0)
    allp = np.vstack(paths)
    lo, hi = allp.min(axis=0) - radius - 2, allp.max(axis=0) + radius + 2
    size = (int(math.ceil(hi[0] - lo[0])), int(math.ceil(hi[1] - lo[1])))
    ss = 3 if max(size) < 400 else 2
    return draw_paths(paths, radius, hand, rng, size, (-lo[0], -lo[1]), ss)


def mnist_digit(image: np.ndarray, height: float, rng: np.random.Generator) -> np.ndarray:
    """An MNIST digit ``(28, 28)`` enlarged so its ink is about ``height`` px tall, as a pen
    stroke of random weight: alpha ``(h, w)``."""
    rows = np.flatnonzero(image.max(axis=1) > 30)
    ink_h = max(rows[-1] - rows[0] + 1, 4) if len(rows) else 20
    f = height / ink_h
    side = max(8, round(28 * f))
    big = Image.fromarray(image).resize((side, side), Image.Resampling.BICUBIC)
    v = np.asarray(big, dtype=np.float32) / 255.0
    level = rng.uniform(0.2, 0.6)
    soft = max(0.08, 1.5 / max(f, 1.0))
    return np.clip((v - level) / soft + 0.5, 0.0, 1.0)


#: fonts tried for typed digits (found by name in the system's font folders)
FONTS = (
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSerif.ttf",
    "DejaVuSerif-BoldItalic.ttf", "DejaVuSansMono.ttf", "LiberationSans-Regular.ttf",
    "LiberationSans-Bold.ttf", "LiberationSerif-Italic.ttf", "LiberationSansNarrow-Bold.ttf",
    "LiberationMono-Regular.ttf", "DejaVuSansCondensed-BoldOblique.ttf",
)  # fmt: skip


def available_fonts() -> list[str]:
    """The names in :data:`FONTS` that Pillow can open here."""
    found = []
    for name in FONTS:
        try:
            ImageFont.truetype(name, 20)
        except OSError:
            continue
        found.append(name)
    return found


def font_digit(digit: int, font: str, height: float) -> np.ndarray:
    """A typed digit about ``height`` px tall in ``font``: alpha ``(h, w)``."""
    size = max(8, round(height * 1.35))
    face = ImageFont.truetype(font, size)
    left, top, right, bottom = face.getbbox(str(digit))
    im = Image.new("L", (right - left + 8, bottom - top + 8), 0)
    ImageDraw.Draw(im).text((4 - left, 4 - top), str(digit), fill=255, font=face)
    return np.asarray(im, dtype=np.float32) / 255.0

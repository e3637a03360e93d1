"""Photo-like handwritten digits, rendered, for trying ``ownnet predict`` and testing it.

Each digit is a few pen strokes (polylines and arcs in a unit box, shaped like
common handwriting), drawn with a random slant, rotation, aspect ratio, size,
position, stroke thickness and polarity (dark ink on light paper or light ink
on a dark background), then blurred, given a lighting gradient and noise, and
saved as PNG or JPEG. None of them looks like an MNIST image: they are what
:func:`ownnet.data.images.prepare` has to cope with.
"""

from __future__ import annotations

import math
import os
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from ownnet.atomic import atomic_write_bytes

Stroke = list[tuple[float, float]]

SUPERSAMPLE = 4


def _arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 24) -> Stroke:
    """Points on an ellipse from angle ``a0`` to ``a1`` (degrees; 0 = right, 90 = down)."""
    t = np.radians(np.linspace(a0, a1, n))
    return [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in t]


def _strokes(digit: int) -> list[Stroke]:
    """The pen strokes of ``digit`` in a unit box (x right, y down, both 0..1)."""
    if digit == 0:
        return [_arc(0.5, 0.5, 0.42, 0.5, -95, 270, 40)]
    if digit == 1:
        return [[(0.58, 0.0), (0.42, 1.0)]]
    if digit == 2:
        return [_arc(0.5, 0.27, 0.4, 0.27, 190, 400) + [(0.08, 1.0), (0.95, 0.98)]]
    if digit == 3:
        return [_arc(0.47, 0.26, 0.36, 0.25, 200, 450) + _arc(0.47, 0.75, 0.42, 0.25, 270, 520)[1:]]
    if digit == 4:
        return [[(0.3, 0.0), (0.05, 0.62), (0.95, 0.62)], [(0.75, 0.05), (0.72, 1.0)]]
    if digit == 5:
        return [
            [(0.88, 0.02), (0.22, 0.02), (0.17, 0.46)] + _arc(0.47, 0.7, 0.42, 0.29, 235, 500)[1:]
        ]
    if digit == 6:
        stem = [(0.78, 0.0), (0.5, 0.12), (0.27, 0.38), (0.16, 0.7)]
        return [stem + _arc(0.47, 0.72, 0.31, 0.27, 180, 540, 36)]
    if digit == 7:
        return [[(0.02, 0.02), (0.96, 0.02), (0.36, 1.0)]]
    if digit == 8:
        t = np.linspace(0, 2 * math.pi, 60)
        x = 0.5 + np.where(np.cos(t) > 0, 0.32, 0.42) * np.sin(2 * t) * 0.95
        y = 0.5 - 0.5 * np.cos(t)
        return [list(zip(x.tolist(), y.tolist(), strict=True))]
    if digit == 9:
        loop = _arc(0.48, 0.29, 0.34, 0.28, 0, -360, 36)
        return [loop + [(0.82, 0.29), (0.72, 1.0)]]
    raise ValueError(f"digit must be 0..9, found {digit}")


def render_digit(digit: int, rng: np.random.Generator) -> Image.Image:
    """A photo-like picture of ``digit`` (greyscale ``"L"`` image, random size and style)."""
    width = int(rng.integers(32, 420))
    height = int(np.clip(width * rng.uniform(0.6, 1.6), 32, 480))
    side = min(width, height)
    digit_h = side * rng.uniform(0.3, 0.8)
    digit_w = digit_h * rng.uniform(0.5, 0.85)
    slant = rng.uniform(-0.3, 0.3)
    angle = math.radians(rng.uniform(-12, 12))
    thickness = max(1.0, digit_h * rng.uniform(0.05, 0.18))
    jitter = 0.025

    strokes = []
    for stroke in _strokes(digit):
        pts = np.array(stroke) + rng.normal(0, jitter, (len(stroke), 2)) * (len(stroke) < 8)
        x = (pts[:, 0] - 0.5) * digit_w - slant * (pts[:, 1] - 0.5) * digit_h
        y = (pts[:, 1] - 0.5) * digit_h
        xr = x * math.cos(angle) - y * math.sin(angle)
        yr = x * math.sin(angle) + y * math.cos(angle)
        strokes.append((xr, yr))
    all_x = np.concatenate([s[0] for s in strokes])
    all_y = np.concatenate([s[1] for s in strokes])
    margin = thickness
    lo_x, hi_x = -all_x.min() + margin, width - all_x.max() - margin
    lo_y, hi_y = -all_y.min() + margin, height - all_y.max() - margin
    ox = rng.uniform(lo_x, hi_x) if hi_x > lo_x else width / 2
    oy = rng.uniform(lo_y, hi_y) if hi_y > lo_y else height / 2

    k = SUPERSAMPLE
    canvas = Image.new("L", (width * k, height * k), 0)
    draw = ImageDraw.Draw(canvas)
    w = max(1, round(thickness * k))
    for xs, ys in strokes:
        pts = [((ox + a) * k, (oy + b) * k) for a, b in zip(xs, ys, strict=True)]
        draw.line(pts, fill=255, width=w, joint="curve")
        r = w / 2
        for px, py in (pts[0], pts[-1]):
            draw.ellipse((px - r, py - r, px + r, py + r), fill=255)
    ink = canvas.resize((width, height), Image.Resampling.BOX)
    blur = rng.uniform(0, 0.05) * digit_h
    if blur > 0.3:
        ink = ink.filter(ImageFilter.GaussianBlur(blur))
    a = np.asarray(ink, np.float64) / 255.0

    dark_on_light = rng.random() < 0.6
    contrast = rng.uniform(0.35, 1.0)
    paper = rng.uniform(0.75, 1.0) if dark_on_light else rng.uniform(0.0, 0.25)
    pen = paper - contrast * paper if dark_on_light else paper + contrast * (1 - paper)
    yy, xx = np.mgrid[0:height, 0:width]
    gx, gy = rng.uniform(-0.1, 0.1, size=2)
    light = gx * (xx / width - 0.5) + gy * (yy / height - 0.5)
    img = paper + light + a * (pen - paper)
    for _ in range(int(rng.integers(0, 4))):  # specks of dust, much smaller than the strokes
        sy, sx = rng.uniform(0, height), rng.uniform(0, width)
        img[int(sy), int(sx)] = pen
    img = img + rng.normal(0, rng.uniform(0.0, 0.08), img.shape)
    return Image.fromarray(np.round(np.clip(img, 0, 1) * 255).astype(np.uint8))


def write_samples(
    directory: str | os.PathLike[str], count: int = 20, seed: int = 0
) -> list[tuple[Path, int]]:
    """Write ``count`` rendered digits (labels 0..9 in turn) into ``directory``.

    Files are named ``NN-digit-D.png`` (or ``.jpg`` for every third one), so the
    label is in the name. Returns ``[(path, label), ...]``.
    """

    rng = np.random.default_rng(seed)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for i in range(int(count)):
        label = i % 10
        im = render_digit(label, rng)
        jpeg = i % 3 == 2
        buf = BytesIO()
        im.save(buf, format="JPEG" if jpeg else "PNG", quality=int(rng.integers(60, 95)))
        path = directory / f"{i:02d}-digit-{label}.{'jpg' if jpeg else 'png'}"
        atomic_write_bytes(path, buf.getvalue())
        written.append((path, label))
    return written


def label_from_name(path: str | os.PathLike[str]) -> int | None:
    """The label in a name written by :func:`write_samples` (``...-digit-D.ext``), else None."""
    stem = Path(path).stem
    head, sep, tail = stem.rpartition("-digit-")
    return int(tail) if sep and tail.isdigit() and len(tail) == 1 else None

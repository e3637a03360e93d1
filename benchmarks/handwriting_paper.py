"""Paper, boards and cameras for the reader's evaluation set (benchmarks/reader_set.py).

:func:`surface` makes what the ink lies on (RGB float 0..1): plain, ruled or grid
paper with fibres, a chalk board with smudges, and :func:`compose` puts ink on it
(dark pen, pencil, blue ballpoint, or chalk with grain). :func:`photograph` then
does what a phone or scanner does: uneven light and soft shadows, the page lying
on a table, blur, noise and JPEG.
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image
from scipy import ndimage


def _smooth_noise(rng: np.random.Generator, h: int, w: int, scale: float) -> np.ndarray:
    """Noise ``(h, w)`` with features about ``scale`` px, unit standard deviation."""
    gh, gw = max(2, int(h / scale) + 2), max(2, int(w / scale) + 2)
    coarse = rng.standard_normal((gh, gw)).astype(np.float32)
    im = Image.fromarray(coarse).resize((w, h), Image.Resampling.BICUBIC)
    a = np.asarray(im, dtype=np.float32)
    return (a - a.mean()) / max(float(a.std()), 1e-6)


def paper(rng: np.random.Generator, h: int, w: int, kind: str, unit: float) -> np.ndarray:
    """Paper ``(h, w, 3)``: ``kind`` plain, ruled or grid; ``unit`` ~ the digits' height."""
    tint = np.array([1.0, 1.0, 1.0]) - rng.uniform(0, 0.08) * np.array(
        [rng.uniform(0, 0.3), rng.uniform(0.2, 0.6), 1.0]
    )
    level = rng.uniform(0.82, 1.0)
    fibres = 0.015 * _smooth_noise(rng, h, w, 3) + 0.02 * _smooth_noise(rng, h, w, 40)
    page = (level + fibres)[:, :, None] * tint[None, None, :]
    if kind in ("ruled", "grid"):
        colour = np.array(rng.choice([[0.55, 0.7, 0.95], [0.6, 0.6, 0.65], [0.45, 0.6, 0.9]]))
        strength = rng.uniform(0.25, 0.7)
        spacing = unit * rng.uniform(0.55, 1.1) if kind == "grid" else unit * rng.uniform(0.9, 1.6)
        width = max(1.0, unit * rng.uniform(0.01, 0.03))
        tilt = math.tan(math.radians(rng.uniform(-2, 2)))
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        offset = rng.uniform(0, spacing)
        d = np.abs(((yy + tilt * xx - offset) % spacing) - spacing / 2) - (spacing / 2 - width / 2)
        line = np.clip(d + 0.5, 0, 1)
        if kind == "grid":
            d2 = np.abs(((xx - tilt * yy - offset) % spacing) - spacing / 2) - (
                spacing / 2 - width / 2
            )
            line = np.maximum(line, np.clip(d2 + 0.5, 0, 1))
        a = (strength * line)[:, :, None]
        page = page * (1 - a) + page * colour[None, None, :] * a
        if kind == "ruled" and rng.random() < 0.4:  # a red margin line
            x0 = int(rng.uniform(0.03, 0.12) * w)
            page[:, x0 : x0 + max(1, int(width)), :] *= np.array([1.0, 0.6, 0.6])
    return np.clip(page, 0, 1).astype(np.float32)


def board(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A chalk board ``(h, w, 3)``: dark green, black or grey, with smudges of chalk dust."""
    base = np.array(rng.choice([[0.12, 0.22, 0.16], [0.08, 0.08, 0.09], [0.2, 0.22, 0.22]]))
    dust = np.clip(0.05 * _smooth_noise(rng, h, w, max(h, w) / 6), 0, None)
    wipe = 0.015 * _smooth_noise(rng, h, w, 8)
    return np.clip(base[None, None, :] + (dust + wipe)[:, :, None], 0, 1).astype(np.float32)


def compose(
    rng: np.random.Generator, ground: np.ndarray, alpha: np.ndarray, ink: str
) -> np.ndarray:
    """Ink ``alpha (h, w)`` laid on ``ground (h, w, 3)``; ``ink`` black, blue, pencil,
    red or chalk."""
    if ink == "chalk":
        grain = np.clip(0.75 + 0.45 * _smooth_noise(rng, *alpha.shape, 1.5), 0, 1)
        a = alpha * grain * rng.uniform(0.6, 0.95)
        colour = np.array([0.95, 0.95, 0.92])
    else:
        colours = {
            "black": [0.08, 0.08, 0.1], "blue": [0.1, 0.15, 0.55], "red": [0.7, 0.1, 0.1],
            "pencil": [0.35, 0.35, 0.38],
        }  # fmt: skip
        colour = np.array(colours[ink]) + rng.uniform(-0.05, 0.05)
        a = alpha * (rng.uniform(0.35, 0.7) if ink == "pencil" else rng.uniform(0.8, 1.0))
        if ink == "pencil":
            a = a * np.clip(0.8 + 0.3 * _smooth_noise(rng, *alpha.shape, 1.2), 0, 1)
    a = a[:, :, None]
    return (ground * (1 - a) + np.clip(colour, 0, 1)[None, None, :] * a).astype(np.float32)


def light(rng: np.random.Generator, image: np.ndarray, strength: float) -> np.ndarray:
    """Uneven light: a gradient, a vignette and maybe a soft shadow, up to ``strength``."""
    h, w = image.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy, xx = yy / h - 0.5, xx / w - 0.5
    gy, gx = rng.uniform(-1, 1, 2) * strength
    field = 1 + gy * yy + gx * xx - rng.uniform(0, strength) * (xx**2 + yy**2) * 2
    if rng.random() < 0.5 * strength / 0.4:  # the shadow of a hand or a phone
        cx, cy = rng.uniform(-0.5, 0.5, 2)
        ang = rng.uniform(0, math.pi)
        d = (xx - cx) * math.cos(ang) + (yy - cy) * math.sin(ang)
        soft = rng.uniform(0.05, 0.2)
        field = field * (1 - rng.uniform(0.15, 0.45) / (1 + np.exp(-d / soft)))
    return np.clip(image * field[:, :, None], 0, 1).astype(np.float32)


def on_table(rng: np.random.Generator, page: np.ndarray) -> np.ndarray:
    """The page lying on a table (darker wood or a lighter desk), turned a little."""
    h, w = page.shape[:2]
    fill = rng.uniform(0.45, 0.8)
    H, W = int(h / math.sqrt(fill)), int(w / math.sqrt(fill))
    dark = rng.random() < 0.75
    base = np.array([0.35, 0.22, 0.12]) if dark else np.array([0.93, 0.93, 0.9])
    base = base * rng.uniform(0.6, 1.1) if dark else base
    grain = 0.06 * _smooth_noise(rng, H, W, 6) if dark else 0.01 * _smooth_noise(rng, H, W, 6)
    table = np.clip(base[None, None, :] + grain[:, :, None], 0, 1)
    angle = rng.uniform(-6, 6)
    rgba = np.dstack([page, np.ones((h, w), np.float32)])
    im = Image.fromarray((rgba * 255).astype(np.uint8), "RGBA").rotate(
        angle, Image.Resampling.BILINEAR, expand=True
    )
    pw, ph = im.size
    x0 = int(rng.uniform(0, max(W - pw, 0) + 1)) if W > pw else -(pw - W) // 2
    y0 = int(rng.uniform(0, max(H - ph, 0) + 1)) if H > ph else -(ph - H) // 2
    canvas = Image.fromarray((table * 255).astype(np.uint8), "RGB").convert("RGBA")
    shadow = Image.new("RGBA", im.size, (0, 0, 0, 0))
    shadow.putalpha(im.getchannel("A").point(lambda v: v * 0.35))
    canvas.alpha_composite(shadow, (max(x0 + 4, 0), max(y0 + 4, 0)))
    canvas.paste(im, (x0, y0), im)
    return np.asarray(canvas.convert("RGB"), dtype=np.float32) / 255.0


def photograph(
    rng: np.random.Generator, image: np.ndarray, *, blur: float, noise: float
) -> np.ndarray:
    """Camera blur (Gaussian, ``blur`` px) and sensor noise (``noise`` std) on ``(h, w, 3)``."""
    if blur > 0.2:
        image = ndimage.gaussian_filter(image, (blur, blur, 0))
    if noise > 0:
        image = image + rng.normal(0, noise, image.shape).astype(np.float32)
    return np.clip(image, 0, 1)


def encode(
    rng: np.random.Generator, image: np.ndarray, fmt: str, alpha: np.ndarray | None = None
) -> bytes:
    """``image (h, w, 3)`` as PNG or JPEG bytes (RGBA PNG when ``alpha`` is given)."""
    rgb = (np.clip(image, 0, 1) * 255).round().astype(np.uint8)
    buf = io.BytesIO()
    if alpha is not None:
        a = (np.clip(alpha, 0, 1) * 255).round().astype(np.uint8)
        Image.fromarray(np.dstack([rgb, a]), "RGBA").save(buf, format="PNG")
    elif fmt == "jpg":
        Image.fromarray(rgb, "RGB").save(buf, format="JPEG", quality=int(rng.integers(45, 95)))
    else:
        Image.fromarray(rgb, "RGB").save(buf, format="PNG")
    return buf.getvalue()

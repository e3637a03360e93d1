"""Distortions of handwriting, for training a network that reads many hands.

MNIST's 250 writers are few next to everyone else. A network that has seen the
same digits bent, slanted, stretched and written with thicker and thinner pens
reads new hands better. Each function here works on a whole batch of images
``(n, height, width)`` at once, with one random draw per image:

* :func:`elastic_fields` - smooth random displacement fields: the "elastic
  distortion" of Simard, Steinkraus and Platt (2003), the wobble of a hand that
  never draws the same stroke twice;
* :func:`warp` - rotation, slant (a shear), stretch, shift and a displacement
  field in one bilinear resampling;
* :func:`stroke_widths` and :func:`change_thickness` - measure the pen and make
  it thicker (a grey dilation) or thinner (a grey erosion), by a fraction of a
  pixel per side;
* :func:`change_gamma` - softer or harder stroke edges;
* :func:`add_strokes` - stray short strokes near the edge (a neighbour's tail, the
  edge of the page) and :func:`erase_spots` - gaps in the pen's line (a dry pen,
  chalk, a pencil skipping on the paper).

uint8 images come back as uint8. The recipe that draws the random amounts and
chains these for training is :class:`ownnet.reader.Handwriting`.
"""

from __future__ import annotations

import numpy as np

from ownnet.data.augment import sample


def _batch(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 3 or min(images.shape[1:]) < 3:
        raise ValueError(f"expected images (n, height, width), at least 3x3, found {images.shape}")
    return images


def stroke_widths(images: np.ndarray) -> np.ndarray:
    """Mean stroke width of each image ``(n, height, width)`` in pixels: ``(n,)``.

    ``2 * area / perimeter``, the area being the sum of the ink (scaled to 0..1)
    and the perimeter the sum of its gradient's length, as
    :func:`ownnet.data.images.stroke_width` measures one image. Blank images give 0.
    """
    ink = np.pad(_batch(images).astype(np.float32), ((0, 0), (1, 1), (1, 1)))
    top = ink.reshape(len(ink), -1).max(axis=1)
    ink /= np.maximum(top, 1e-12)[:, None, None]
    gy, gx = np.gradient(ink, axis=(1, 2))
    perimeter = np.hypot(gy, gx).sum(axis=(1, 2))
    area = ink.sum(axis=(1, 2))
    return np.where(perimeter > 0, 2.0 * area / np.maximum(perimeter, 1e-12), 0.0)


def _cross_filter(images: np.ndarray, how: str) -> np.ndarray:
    """Maximum (``"max"``) or minimum of each pixel and its four neighbours, batch-wise."""
    pad = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    views = (pad[:, 1:-1, 1:-1], pad[:, :-2, 1:-1], pad[:, 2:, 1:-1], pad[:, 1:-1, :-2],
             pad[:, 1:-1, 2:])  # fmt: skip
    pick = np.maximum if how == "max" else np.minimum
    out = views[0].copy()
    for v in views[1:]:
        pick(out, v, out=out)
    return out


def change_thickness(images: np.ndarray, amounts: np.ndarray) -> np.ndarray:
    """Thicker or thinner pens: image ``i`` mixed with its grey dilation (``amounts[i] > 0``)
    or erosion (``< 0``) by a plus-shaped 3x3 neighbourhood.

    An amount of 1 grows every stroke by about one pixel on each side (2 px wider),
    -1 shrinks it as much; fractions in between blend.

    Args:
        images: ``(n, height, width)``, uint8 or float, ink bright.
        amounts: ``(n,)`` in ``[-1, 1]``.

    Returns:
        Same shape and dtype as ``images``.
    """
    batch = _batch(images)
    a = np.clip(np.asarray(amounts, dtype=np.float32), -1.0, 1.0)[:, None, None]
    values = batch.astype(np.float32)
    grown = _cross_filter(values, "max")
    shrunk = _cross_filter(values, "min")
    out = values + np.where(a > 0, a * (grown - values), -a * (shrunk - values))
    return _like(out, batch)


def change_gamma(images: np.ndarray, gammas: np.ndarray) -> np.ndarray:
    """Pixel ``p`` (0..1 of full ink) becomes ``p ** gamma`` per image: below 1 the stroke
    edges grow darker (a harder, bolder look), above 1 fainter (a softer pen).

    Args:
        images: ``(n, height, width)``, uint8 (0..255) or float (0..1).
        gammas: ``(n,)``, positive.
    """
    batch = _batch(images)
    g = np.asarray(gammas, dtype=np.float32)[:, None, None]
    top = 255.0 if batch.dtype == np.uint8 else 1.0
    values = np.clip(batch.astype(np.float32) / top, 0.0, 1.0) ** g
    return _like(values * top, batch)


def _like(values: np.ndarray, batch: np.ndarray) -> np.ndarray:
    if batch.dtype == np.uint8:
        return np.clip(np.rint(values), 0, 255).astype(np.uint8)
    return values.astype(np.float64)


def _smoothing_matrix(side: int, points: int) -> np.ndarray:
    """``(side, points)``: Gaussian weights from ``points`` evenly spread control values to
    each of ``side`` pixels (rows sum to 1), for a smooth field from a coarse grid."""
    where = np.linspace(0.0, side - 1.0, points)
    spacing = (side - 1.0) / max(points - 1, 1)
    w = np.exp(-0.5 * ((np.arange(side)[:, None] - where[None, :]) / spacing) ** 2)
    return w / w.sum(axis=1, keepdims=True)


def elastic_fields(
    n: int, rng: np.random.Generator, *, size: float = 1.0, grid: int = 5, side: int = 28
) -> tuple[np.ndarray, np.ndarray]:
    """Smooth random displacement fields ``(dy, dx)``, each ``(n, side * side)`` pixels.

    Normal random displacements on a ``grid x grid`` lattice of control points are
    spread smoothly over the image (Gaussian weights, one control spacing wide);
    the result is scaled so that its root-mean-square length (over the batch and
    both directions) is ``size`` pixels. ``size`` about 1-1.5 px on 28x28 is the
    strength Simard et al. found useful (their sigma 4, alpha 34).
    """
    u = _smoothing_matrix(side, grid)
    coarse = rng.standard_normal((2, n, grid, grid))
    fields = np.einsum("ij,cnjk,lk->cnil", u, coarse, u, optimize=True).astype(np.float32)
    rms = float(np.sqrt(np.mean(fields**2))) if n else 1.0
    fields *= size / max(rms, 1e-12)
    return fields[0].reshape(n, -1), fields[1].reshape(n, -1)


def warp(
    images: np.ndarray,
    *,
    angles: np.ndarray | None = None,
    shears: np.ndarray | None = None,
    scales: np.ndarray | None = None,
    shifts: np.ndarray | None = None,
    fields: tuple[np.ndarray, np.ndarray] | None = None,
    fill: float = 0.0,
) -> np.ndarray:
    """Rotate, slant, stretch, shift and bend each image, in one bilinear resampling.

    The ink at point ``p`` (relative to the image centre, ``(down, right)``) moves to
    ``R @ H @ S @ p + shift``, then by the displacement field: ``S`` stretches by
    ``scales (n, 2)`` (down, right), ``H`` slants (each row moves right by
    ``-shear * down``: a positive shear leans the digit to the right, as italics
    do), ``R`` turns anticlockwise by ``angles`` degrees (as
    :func:`ownnet.data.augment.rotate`).

    Args:
        images: ``(n, height, width)``, uint8 or float.
        angles: ``(n,)`` degrees; shears: ``(n,)``; scales: ``(n, 2)``; shifts:
            ``(n, 2)`` pixels (fractions allowed); each ``None`` for none.
        fields: ``(dy, dx)`` from :func:`elastic_fields` (the pixel each output pixel
            reads from moves by them), or ``None``.

    Returns:
        Same shape and dtype as ``images``.
    """
    batch = _batch(images)
    n, h, w = batch.shape
    zeros = np.zeros(n)
    t = np.radians(zeros if angles is None else np.asarray(angles, dtype=np.float64))
    k = zeros if shears is None else np.asarray(shears, dtype=np.float64)
    s = np.ones((n, 2)) if scales is None else np.asarray(scales, dtype=np.float64)
    d = np.zeros((n, 2)) if shifts is None else np.asarray(shifts, dtype=np.float64)
    cos, sin = np.cos(t), np.sin(t)
    # forward matrix on (down, right): rotation (anticlockwise on screen) @ shear @ stretch
    rot = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)
    shear = np.zeros((n, 2, 2))
    shear[:, 0, 0] = shear[:, 1, 1] = 1.0
    shear[:, 1, 0] = -k
    forward = rot @ shear @ (s[:, :, None] * np.eye(2))
    inverse = np.linalg.inv(forward)
    inverse = inverse.astype(np.float32)
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    oy, ox = np.divmod(np.arange(h * w, dtype=np.float32), w)
    qy = oy[None, :] - (cy + d[:, 0, None]).astype(np.float32)
    qx = ox[None, :] - (cx + d[:, 1, None]).astype(np.float32)
    y = inverse[:, 0, 0, None] * qy + inverse[:, 0, 1, None] * qx + np.float32(cy)
    x = inverse[:, 1, 0, None] * qy + inverse[:, 1, 1, None] * qx + np.float32(cx)
    if fields is not None:
        y = y + fields[0]
        x = x + fields[1]
    return sample(batch, y, x, fill=fill)


def _segment_ink(
    n: int, a: np.ndarray, b: np.ndarray, width: np.ndarray, h: int, w: int
) -> np.ndarray:
    """Anti-aliased segments from ``a (n, 2)`` to ``b (n, 2)`` (row, column), ``width (n,)``
    pixels wide: ink ``(n, h * w)`` in 0..1."""
    oy, ox = np.divmod(np.arange(h * w, dtype=np.float32), w)
    p = np.stack([oy, ox], axis=-1)[None]  # (1, hw, 2)
    d = (b - a)[:, None, :]
    t = np.clip(((p - a[:, None, :]) * d).sum(-1) / np.maximum((d * d).sum(-1), 1e-6), 0, 1)
    dist = np.linalg.norm(p - (a[:, None, :] + t[..., None] * d), axis=-1)
    return np.clip(width[:, None] / 2 + 0.5 - dist, 0.0, 1.0)


def add_strokes(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One stray stroke per image, 3 to 9 px long, near the image's edge (outside MNIST's
    20x20 box for the most part), 1 to 2.5 px wide, half to full strength.

    Args:
        images: ``(n, height, width)`` uint8, ink bright.
    """
    batch = _batch(images)
    n, h, w = batch.shape
    side = rng.integers(0, 4, n)  # which edge: top, bottom, left, right
    along = rng.uniform(2, min(h, w) - 2, n)
    across = rng.uniform(1, 4, n)
    y = np.select([side == 0, side == 1], [across, h - 1 - across], along)
    x = np.select([side == 2, side == 3], [across, w - 1 - across], along)
    angle = rng.uniform(0, np.pi, n)
    length = rng.uniform(3, 9, n)
    a = np.stack([y, x], axis=-1)
    b = a + length[:, None] * np.stack([np.sin(angle), np.cos(angle)], axis=-1)
    ink = _segment_ink(n, a, b, rng.uniform(1.0, 2.5, n), h, w) * rng.uniform(0.5, 1.0, (n, 1))
    out = np.maximum(batch.reshape(n, -1).astype(np.float32), 255.0 * ink)
    return _like(out.reshape(batch.shape), batch)


def erase_spots(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One gap per image: a disc of 1 to 2 px radius wiped out on the ink (the brightest
    pixels are likelier centres).

    Args:
        images: ``(n, height, width)`` uint8, ink bright.
    """
    batch = _batch(images)
    n, h, w = batch.shape
    flat = batch.reshape(n, -1).astype(np.float64) + 1e-3
    weights = flat**2 / (flat**2).sum(axis=1, keepdims=True)
    u = rng.random((n, 1))
    centre = np.minimum((np.cumsum(weights, axis=1) < u).sum(axis=1), h * w - 1)
    cy, cx = np.divmod(centre, w)
    oy, ox = np.divmod(np.arange(h * w), w)
    r = rng.uniform(1.0, 2.0, n)
    dist = np.hypot(oy[None] - cy[:, None], ox[None] - cx[:, None])
    keep = np.clip(dist - r[:, None] + 0.5, 0.0, 1.0)
    return _like((batch.reshape(n, -1) * keep).reshape(batch.shape), batch)

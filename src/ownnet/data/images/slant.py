"""Slant: how far a digit leans, measured by its moments, and standing it up.

The slant of ink ``I(y, x)`` (``y`` down) is the ratio of its second-order
central moments ``mu11 / mu02``: how many pixels the ink moves sideways per
pixel down. A digit leaning right (italics) has a negative slant. Shearing each
row sideways by ``-(slant - target) * (y - centre)`` changes the slant to
``target`` and keeps the rows in place: the "deskewing" long used on MNIST
(e.g. LeCun et al. 1998; it lowers error rates of simple classifiers several-fold).

MNIST's own digits lean a little to the right: median slant -0.10 (5% below -0.57,
5% above 0.34, measured on the 60,000 training digits). :func:`deslant` brings a
digit's slant into :data:`TYPICAL`, the middle fifth of MNIST's slants, rather than
upright, so a network trained on MNIST as it is sees what it knows; a digit whose
slant already lies there is left as it is. Bringing every digit to the median instead
read fewer digits with book networks of three seeds on the evaluation sets of
``benchmarks/reader.py`` (0.5 points on average).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

#: The slants :func:`deslant` leaves alone: MNIST's 40th to 60th percentiles.
TYPICAL = (-0.173, -0.035)
#: Slants are limited to this size (a shear of 1 is 45 degrees).
LIMIT = 1.0


def slant(ink: np.ndarray) -> float:
    """``mu11 / mu02`` of ``ink (H, W)``: sideways pixels per pixel down (0 for upright ink
    or ink with no height)."""
    ink = np.asarray(ink, dtype=np.float64)
    total = float(ink.sum())
    if total <= 0:
        return 0.0
    ys = np.arange(ink.shape[0], dtype=np.float64)
    xs = np.arange(ink.shape[1], dtype=np.float64)
    py, px = ink.sum(axis=1), ink.sum(axis=0)
    cy, cx = float(py @ ys) / total, float(px @ xs) / total
    mu02 = float(py @ (ys - cy) ** 2) / total
    mu11 = float((ys - cy) @ ink @ (xs - cx)) / total
    return mu11 / mu02 if mu02 > 1e-9 else 0.0


def shear(ink: np.ndarray, k: float) -> np.ndarray:
    """Move each row of ``ink (H, W)`` right by ``-k * (y - cy)`` (``cy`` the centre of mass),
    into a canvas wide enough to hold all of it; order-1 interpolation."""
    h, w = ink.shape
    total = float(ink.sum())
    cy = float(ink.sum(axis=1) @ np.arange(h)) / total if total > 0 else (h - 1) / 2.0
    moves = [-k * (y - cy) for y in (0.0, h - 1.0)]
    low, high = min(moves), max(moves)
    left = math.ceil(-low) + 1
    width = w + math.ceil(high) + left + 1
    # output (y, x') reads input (y, x' - left + k * (y - cy))
    matrix = np.array([[1.0, 0.0], [k, 1.0]])
    offset = np.array([0.0, -left - k * cy])
    return ndimage.affine_transform(
        ink, matrix, offset=offset, output_shape=(h, width), order=1, mode="grid-constant"
    ).astype(np.float32)


def deslant(ink: np.ndarray, typical: tuple[float, float] = TYPICAL) -> tuple[np.ndarray, float]:
    """Shear ``ink (H, W)`` so that its slant comes into the range ``typical``, to its
    nearer end: ``(sheared, slant before)``; ink already in the range is returned as it is.

    Slants beyond :data:`LIMIT` (45 degrees) are corrected only as far as that.
    """
    before = slant(ink)
    lean = float(np.clip(before, -LIMIT, LIMIT))
    k = lean - float(np.clip(lean, *typical))
    if abs(k) < 0.02:
        return ink, before
    return shear(ink, k), before

"""The pen: how wide the strokes are, and making them as wide as MNIST's.

MNIST's strokes, measured by :func:`stroke_width` on the 28x28 images, are 2.6 px
wide (median; 5% are under 2.0 px and 5% over 3.9 px). A ballpoint pen on a large
photo comes out far thinner, a marker or a bold font far thicker, and a network
trained on MNIST misreads both: thin strokes are faint, thick ones fill the loops
of a 6, 8 or 9. :func:`set_stroke_width` widens strokes thinner than
:data:`MIN_STROKE` (a grey dilation) and thins those thicker than
:data:`MAX_STROKE` (a grey erosion), working on a picture at 4x the output scale.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

#: Strokes thinner than this (output pixels at 28x28) are widened to it.
MIN_STROKE = 1.9
#: Strokes thicker than this are thinned to it.
MAX_STROKE = 3.4
#: The side of the box the ink is scaled into at 28x28 (MNIST: 20 px).
BOX = 20


def stroke_width(ink: np.ndarray) -> float:
    """Mean stroke width of ``ink (H, W)`` in pixels, as ``2 * area / perimeter``.

    The area is the sum of the ink and the perimeter the sum of its gradient
    magnitude (exact for anti-aliased shapes by the coarea formula); for long
    strokes of width ``w`` the ratio is ``w``.
    """
    ink = np.pad(np.asarray(ink, dtype=np.float64), 1)  # ink ends at the edge of the crop
    top = float(ink.max(initial=0.0))
    if top <= 0:
        return 0.0
    gy, gx = np.gradient(ink / top)
    perimeter = float(np.hypot(gy, gx).sum())
    return 2.0 * float(ink.sum() / top) / perimeter if perimeter > 0 else 0.0


def disk(radius: float) -> np.ndarray:
    """A boolean disk footprint of ``radius`` pixels (the centre pixel at least)."""
    r = int(math.ceil(radius))
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    return yy * yy + xx * xx <= radius * radius + 0.25


def output_width(fine: np.ndarray) -> float:
    """The stroke width ``fine (H, W)`` will have at 28x28, where its longer side is 20 px."""
    return stroke_width(fine) * BOX / max(fine.shape)


def width_change(width: float, side: float, target: float) -> float:
    """How much wider (fine pixels; negative: narrower) to make strokes ``width`` px wide on
    ink ``side`` px long so that, with the longer side scaled to 20 px, they are ``target``.

    Growing every stroke by ``d`` grows the box by ``d`` too, so
    ``(width + d) * 20 / (side + d) = target``.
    """
    return (target * side - BOX * width) / (BOX - target)


def set_stroke_width(
    fine: np.ndarray, *, widen: bool = True, thin: bool = True
) -> tuple[np.ndarray, float, float]:
    """Bring the strokes of ``fine (H, W)`` (the ink cropped, longer side ~80 px) into
    MNIST's range, :data:`MIN_STROKE` to :data:`MAX_STROKE` at 28x28.

    Returns:
        ``(fine, before, after)``: the new picture (padded where strokes grew) and the
        stroke width at 28x28 before and after (equal when nothing changed).
    """
    side = float(max(fine.shape))
    width = stroke_width(fine)
    before = width * BOX / side
    if widen and before < MIN_STROKE:
        change = width_change(width, side, MIN_STROKE)
    elif thin and before > MAX_STROKE:
        change = width_change(width, side, MAX_STROKE)
    else:
        return fine, before, before
    radius = abs(change) / 2.0
    if radius < 0.5:
        return fine, before, before
    footprint = disk(radius)
    if change > 0:
        pad = footprint.shape[0] // 2 + 1
        out = ndimage.grey_dilation(np.pad(fine, pad), footprint=footprint)
    else:
        out = ndimage.grey_erosion(fine, footprint=footprint)
        if float(out.max(initial=0.0)) < 0.25 * float(fine.max()):
            return fine, before, before  # it would vanish: leave it
    return out, before, output_width(_cropped(out))


def _cropped(ink: np.ndarray, level: float = 0.04) -> np.ndarray:
    strong = ink >= level * float(ink.max(initial=0.0))
    rows, cols = np.flatnonzero(strong.any(axis=1)), np.flatnonzero(strong.any(axis=0))
    if not len(rows):
        return ink
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]

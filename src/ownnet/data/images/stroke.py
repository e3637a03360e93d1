"""The pen: how wide the strokes are, and making them as wide as MNIST's.

MNIST's strokes, measured by :func:`stroke_width` on the 28x28 images, are 2.6 px
wide (median; 5% are under 2.0 px and 5% over 3.9 px). A ballpoint pen on a large
photo comes out far thinner, a marker or a bold font far thicker, and a network
trained on MNIST misreads both: thin strokes are faint, thick ones fill the loops
of a 6, 8 or 9. :func:`set_stroke_width` widens strokes thinner than
:data:`MIN_STROKE` (a grey dilation) and thins those thicker than
:data:`MAX_STROKE` (a grey erosion), working on a picture at 4x the output scale
and measuring, as for MNIST, on the 28x28 result.

That brings the mean width into range, but a font's strokes also vary along their
length: the base of a 2 or the flag of a 1 can be a hairline beside bold curves, and
MNIST, written with round pens, has no hairlines (a network trained on it reads such a
2 as a 7). :func:`widen_hairlines` draws a round pen of :data:`MIN_STROKE` along the
strokes' middle (:func:`~ownnet.data.images.skeleton.skeleton`) and keeps it where it
is stronger than the ink, so that no part of a stroke is thinner than that; strokes
already as wide are left as they are.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ownnet.data.images.frame import BOX, centre
from ownnet.data.images.skeleton import skeleton

#: Strokes thinner than this (output pixels at 28x28) are widened to it.
MIN_STROKE = 1.9
#: Strokes thicker than this are thinned to it.
MAX_STROKE = 3.4


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


CROSS = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], bool)
SQUARE = np.ones((3, 3), bool)


def grow(ink: np.ndarray, amount: float) -> np.ndarray:
    """Make every stroke of ``ink (H, W)`` ``amount`` pixels wider (negative: narrower).

    Each grey dilation (erosion) by a 3x3 neighbourhood adds (takes) a pixel on each side,
    2 px of width; plus-shaped and square steps alternate, so a round pen stays nearly
    round; the last fraction of a step is a blend. The picture is padded to leave room.
    """
    steps, rest = divmod(abs(amount) / 2.0, 1.0)
    op = ndimage.grey_dilation if amount > 0 else ndimage.grey_erosion
    out = np.pad(ink, int(steps) + 2) if amount > 0 else np.array(ink, copy=True)
    for i in range(int(steps)):
        out = op(out, footprint=CROSS if i % 2 == 0 else SQUARE)
    if rest > 0:
        out = out + rest * (op(out, footprint=CROSS if int(steps) % 2 == 0 else SQUARE) - out)
    return out


def output_width(fine: np.ndarray) -> float:
    """The stroke width ``fine (H, W)`` (cropped to its ink) has once placed at 28x28
    (measured there, like MNIST's: the resampling softens the edges)."""
    return stroke_width(centre(fine) / 255.0)


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
    MNIST's range, :data:`MIN_STROKE` to :data:`MAX_STROKE` as measured at 28x28.

    The width at 28x28 is measured on the placed digit; the change it needs is made
    on the fine picture (where a fraction of an output pixel is several pixels) with
    :func:`grow`.

    Returns:
        ``(fine, before, after)``: the new picture (padded where strokes grew) and the
        stroke width at 28x28 before and after (equal when nothing changed).
    """
    before = output_width(fine)
    if widen and before < MIN_STROKE:
        goal = MIN_STROKE
    elif thin and before > MAX_STROKE:
        goal = MAX_STROKE
    else:
        return fine, before, before
    out, now = fine, before
    for _ in range(2):  # a second, smaller step corrects what the first one missed
        side = float(max(out.shape))
        width = stroke_width(out)
        grown = grow(out, width_change(width, side, width * BOX / side + goal - now))
        if float(grown.max(initial=0.0)) < 0.25 * float(fine.max()):
            break  # it would vanish: keep what there is
        out = _cropped(grown)
        now = output_width(out)
        if abs(now - goal) < 0.15:
            break
    return out, before, now


#: The pen's middle is found in the ink at least this fraction of its strongest pixel.
HAIRLINE_INK = 0.4


def widen_hairlines(fine: np.ndarray, width: float = MIN_STROKE) -> np.ndarray:
    """``fine (H, W)`` (the ink cropped, longer side ~80 px) with no part of a stroke
    thinner than ``width`` px at 28x28: a round pen of that width drawn along the
    skeleton of the ink, kept where it is stronger than the ink (so strokes as wide as
    the pen are left as they are). Marks whose skeleton is shorter than the pen is wide
    (specks of noise) are left as they are too.

    Returns:
        float ``(H + 2p, W + 2p)``: the picture padded by ``p``, a little more than the
        pen's radius, with the pen's strength the ink's strongest pixel.
    """
    radius = width * max(fine.shape) / BOX / 2.0  # 28x28 px -> fine px (ink's side -> 20)
    pad = int(radius) + 3
    top = float(fine.max(initial=0.0))
    if top <= 0:
        return np.pad(fine, pad)
    middle = skeleton(fine >= HAIRLINE_INK * top)
    labels, n = ndimage.label(middle, structure=np.ones((3, 3), bool))
    length = np.bincount(labels.ravel(), minlength=n + 1)  # skeleton pixels per mark
    middle &= (length >= 2.0 * radius)[labels]  # a speck would become a dot
    if not middle.any():
        return np.pad(fine, pad)
    distance = ndimage.distance_transform_edt(~np.pad(middle, pad))
    pen = np.clip(radius + 0.5 - distance, 0.0, 1.0) * top  # anti-aliased round pen
    return np.maximum(np.pad(fine, pad), pen.astype(fine.dtype))


def _cropped(ink: np.ndarray, level: float = 0.04) -> np.ndarray:
    strong = ink >= level * float(ink.max(initial=0.0))
    rows, cols = np.flatnonzero(strong.any(axis=1)), np.flatnonzero(strong.any(axis=0))
    if not len(rows):
        return ink
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]

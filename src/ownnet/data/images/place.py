"""Placing one digit: its ink corrected for slant and pen, then put in MNIST's frame.

:func:`place` takes the ink of one digit to a picture at 4x the output scale
(:func:`to_fine`), corrects its slant (:mod:`~ownnet.data.images.slant`) and its
stroke width (:mod:`~ownnet.data.images.stroke`: the mean width into MNIST's range,
then no hairline thinner than MNIST's thinnest pens) there, and puts it in MNIST's
frame (:func:`~ownnet.data.images.frame.centre`: 20 px box, centre of mass at
(14, 14) of 28x28), with strokes as solid as MNIST's
(:func:`~ownnet.data.images.level.solid_cores`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from ownnet.data.images.errors import NoInkError
from ownnet.data.images.frame import BOX, RESAMPLE, centre
from ownnet.data.images.level import solid_cores
from ownnet.data.images.slant import deslant as deslant_ink
from ownnet.data.images.stroke import output_width, set_stroke_width, widen_hairlines

#: The corrections work at this many times the output resolution.
FINE = 4


@dataclass(frozen=True)
class Placement:
    """What :func:`place` did to one digit.

    Attributes:
        image: uint8 ``(28, 28)``: 0 background, 255 for the strongest ink (with ``level``,
            for the strongest 30% of its ink pixels).
        fine: the digit at 4x the output scale after the corrections, float ``(h, w)``.
        slant: the ink's slant before deslanting (:func:`~ownnet.data.images.slant.slant`).
        stroke: stroke width at 28x28 before and after the stroke corrections (widening,
            thinning and hairlines).
    """

    image: np.ndarray
    fine: np.ndarray
    slant: float
    stroke: tuple[float, float]


def crop_to_ink(ink: np.ndarray, level: float = 0.04) -> np.ndarray:
    """``ink (H, W)`` cropped to the pixels at least ``level`` of its strongest one."""
    top = float(ink.max(initial=0.0))
    if top <= 0:
        raise NoInkError("no ink found")
    strong = ink >= level * top
    rows, cols = np.flatnonzero(strong.any(axis=1)), np.flatnonzero(strong.any(axis=0))
    return np.ascontiguousarray(ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])


def to_fine(crop: np.ndarray) -> np.ndarray:
    """``crop (h, w)`` resampled so its longer side is ``4 * 20`` px (anti-aliased), float32."""
    h, w = crop.shape
    f = FINE * BOX / max(h, w)
    size = (max(1, round(w * f)), max(1, round(h * f)))
    out = Image.fromarray(np.ascontiguousarray(crop, dtype=np.float32)).resize(size, RESAMPLE)
    return np.clip(np.asarray(out, dtype=np.float32), 0.0, None)


def place(
    crop: np.ndarray,
    *,
    deslant: bool = True,
    widen: bool = True,
    thin: bool = True,
    hairlines: bool = True,
    level: bool = True,
) -> Placement:
    """One digit's ink ``crop (h, w)`` (0..1, cropped to the ink) → MNIST-style 28x28.

    Args:
        crop: the ink of one digit.
        deslant: shear it into MNIST's typical slants.
        widen: widen strokes thinner than MNIST's.
        thin: thin strokes bolder than MNIST's.
        hairlines: widen the thin parts of strokes (a font's hairlines) to MNIST's
            thinnest pens.
        level: make the strokes' cores full ink, as MNIST's are.
    """
    fine = crop_to_ink(to_fine(crop))
    before = 0.0
    if deslant:
        fine, before = deslant_ink(fine)
        fine = crop_to_ink(fine)
    fine, width_before, width_after = set_stroke_width(fine, widen=widen, thin=thin)
    fine = crop_to_ink(fine)
    if hairlines:
        fine = crop_to_ink(widen_hairlines(fine))
        width_after = output_width(fine)
    image = centre(fine)
    return Placement(
        solid_cores(image) if level else image, fine, before, (width_before, width_after)
    )

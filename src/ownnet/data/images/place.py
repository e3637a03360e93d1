"""Placing one digit the way MNIST placed its digits: 20 px box, centre of mass at the centre.

MNIST digits were scaled so that the longer side of the ink's bounding box is 20
pixels (keeping the aspect ratio, anti-aliased) and placed in a 28x28 field with
the ink's centre of mass on pixel (14, 14). :func:`place` does that for the ink of
one digit, after two corrections made on a picture at 4x the output scale
(:func:`to_fine`): the slant (:mod:`~ownnet.data.images.slant`) and the stroke
width (:mod:`~ownnet.data.images.stroke`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from ownnet.data.images.errors import NoInkError
from ownnet.data.images.slant import deslant as deslant_ink
from ownnet.data.images.stroke import BOX, set_stroke_width

#: Side of the prepared image (MNIST's).
SIZE = 28
#: Index of the pixel the centre of mass is placed on (MNIST: mean 14.0, 14.0).
CENTRE = 14.0
#: The corrections work at this many times the output resolution.
FINE = 4
#: The resampling filter (Pillow's bilinear is anti-aliased when reducing).
RESAMPLE = Image.Resampling.BILINEAR


@dataclass(frozen=True)
class Placement:
    """What :func:`place` did to one digit.

    Attributes:
        image: uint8 ``(28, 28)``: 0 background, 255 for the strongest ink.
        fine: the digit at 4x the output scale after the corrections, float ``(h, w)``.
        slant: the ink's slant before deslanting (:func:`~ownnet.data.images.slant.slant`).
        stroke: stroke width at 28x28 before and after the stroke correction.
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
    crop: np.ndarray, *, deslant: bool = True, widen: bool = True, thin: bool = True
) -> Placement:
    """One digit's ink ``crop (h, w)`` (0..1, cropped to the ink) → MNIST-style 28x28.

    Args:
        crop: the ink of one digit.
        deslant: shear it to MNIST's typical slant.
        widen: widen strokes thinner than MNIST's.
        thin: thin strokes bolder than MNIST's.
    """
    fine = crop_to_ink(to_fine(crop))
    before = 0.0
    if deslant:
        fine, before = deslant_ink(fine)
        fine = crop_to_ink(fine)
    fine, width_before, width_after = set_stroke_width(fine, widen=widen, thin=thin)
    fine = crop_to_ink(fine)
    return Placement(centre(fine), fine, before, (width_before, width_after))


def centre(ink: np.ndarray) -> np.ndarray:
    """``ink (h, w)`` (cropped) scaled so its longer side is 20 px, its centre of mass on
    pixel (14, 14) of a 28x28 field, in one anti-aliased resampling; uint8, max 255."""
    h, w = ink.shape
    scale = BOX / max(h, w)
    cy, cx = (float(c) + 0.5 for c in ndimage.center_of_mass(ink))  # pixel i covers [i, i+1]
    target = CENTRE + 0.5  # the centre of output pixel 14
    x0, x1 = cx - target / scale, cx + (SIZE - target) / scale
    y0, y1 = cy - target / scale, cy + (SIZE - target) / scale
    pad = int(math.ceil(max(-x0, -y0, x1 - w, y1 - h, 0.0))) + 2
    padded = Image.fromarray(np.pad(np.asarray(ink, dtype=np.float32), pad))
    out = padded.resize((SIZE, SIZE), RESAMPLE, box=(x0 + pad, y0 + pad, x1 + pad, y1 + pad))
    arr = np.clip(np.asarray(out, dtype=np.float64), 0.0, None)
    top_value = float(arr.max())
    if top_value <= 0:
        raise NoInkError("no ink found after scaling")
    return np.round(np.clip(arr / top_value, 0.0, 1.0) * 255.0).astype(np.uint8)

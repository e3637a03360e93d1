"""MNIST's frame: the ink's longer side 20 px, its centre of mass on pixel (14, 14) of 28x28.

MNIST digits were scaled so that the longer side of the ink's bounding box is 20
pixels (keeping the aspect ratio, anti-aliased) and placed in a 28x28 field with
the ink's centre of mass on pixel (14, 14). :func:`centre` puts ink in that frame.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image
from scipy import ndimage

from ownnet.data.images.errors import NoInkError

#: Side of the prepared image (MNIST's).
SIZE = 28
#: The side of the box the ink's longer side is scaled to (MNIST: 20 px).
BOX = 20
#: Index of the pixel the centre of mass is placed on (MNIST: mean 14.0, 14.0).
CENTRE = 14.0
#: The resampling filter (Pillow's bilinear is anti-aliased when reducing).
RESAMPLE = Image.Resampling.BILINEAR


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

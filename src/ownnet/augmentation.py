"""Fresh random rotations and shifts of the training images for every epoch.

:class:`RandomTransform` is what ``fit(..., augment=...)`` calls at the
start of each epoch: it draws an angle and a shift per image from the fit's
random generator and resamples all images at once with
:func:`ownnet.data.augment.random_transform_images` (vectorised bilinear interpolation).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ownnet.data.augment import random_transform_images

#: the largest rotation, in degrees
MAX_ANGLE = 180.0


class RandomTransform:
    """Rotate each image by a uniform angle in ``[-max_angle, max_angle]`` degrees and shift
    it by whole pixels, uniform in ``-max_shift..max_shift`` down and right independently.

    Called as ``augment(images, rng)`` with uint8 square images ``(n, side * side)`` (or
    ``(n, side, side)``, or ``(n, 1, side, side)``); returns new uint8 images of the same shape.
    """

    def __init__(self, max_angle: float = 10.0, max_shift: int = 2) -> None:
        if not (isinstance(max_angle, (int, float)) and 0 <= max_angle <= MAX_ANGLE):
            raise ValueError(f"max_angle must be 0..{MAX_ANGLE:g} degrees, found {max_angle!r}")
        if (
            isinstance(max_shift, bool)
            or not isinstance(max_shift, (int, np.integer))
            or (max_shift < 0)
        ):
            raise ValueError(f"max_shift must be a whole number >= 0, found {max_shift!r}")
        self.max_angle = float(max_angle)
        self.max_shift = int(max_shift)

    def __call__(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        images = np.asarray(images)
        n = len(images)
        size = images[0].size if n else 0
        side = math.isqrt(size)
        if side * side != size:
            raise ValueError(f"RandomTransform needs square images, found {size} pixels each")
        if 2 * self.max_shift >= side:
            raise ValueError(
                f"max_shift {self.max_shift} would move a {side}x{side} digit out of its "
                f"picture; expected at most {(side - 1) // 2}"
            )
        if n == 0 or (self.max_angle == 0 and self.max_shift == 0):
            return images
        out = random_transform_images(
            images.reshape(n, side, side), rng, max_angle=self.max_angle, max_shift=self.max_shift
        )
        return out.reshape(images.shape)

    def spec(self) -> dict[str, Any]:
        """JSON-ready description (for model files and checkpoints)."""
        return {
            "name": "random_transform",
            "max_angle": self.max_angle,
            "max_shift": self.max_shift,
        }

    def __repr__(self) -> str:
        return f"RandomTransform(max_angle={self.max_angle:g}, max_shift={self.max_shift})"

"""New training images every epoch: what ``fit(..., augment=...)`` calls before each one.

* :class:`RandomTransform`: random rotations and shifts; it draws an angle and a shift
  per image from the fit's random generator and resamples all images at once with
  :func:`ownnet.data.augment.random_transform_images` (vectorised bilinear interpolation);
* :class:`Handwriting`: each digit written again by a new hand (elastic distortion,
  slant, rotation, stretch, shift, pen width and softness, stray strokes and gaps, each
  from :mod:`ownnet.data.distort`): what the reader (:mod:`ownnet.reader`) learns from.
  A network trained on MNIST as it is learns MNIST's 250 writers and misreads a bolder
  pen, a stronger slant or a shakier hand.

Both describe themselves as JSON (``spec()``), and :func:`from_spec` makes them again,
so a resumed run (:mod:`ownnet.checkpoint`) draws the same images.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ownnet.data.augment import random_transform_images
from ownnet.data.distort import (
    add_strokes,
    change_gamma,
    change_thickness,
    elastic_fields,
    erase_spots,
    stroke_widths,
    warp,
)

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


class Handwriting:
    """``augment(images, rng)`` for ``fit``: each training image
    written again by a new hand, before every epoch.

    Per image, independently: with probability ``keep`` it stays as it is; else it
    is turned by up to ``max_angle`` degrees, slanted by a shear up to
    ``max_shear``, stretched by ``scale`` (each direction on its own), moved by up
    to ``max_shift`` pixels, bent by an elastic field of up to ``elastic`` px
    (root mean square), given a pen ``width`` px wide (uniform in that range, by
    grey dilation or erosion of at most ``max_erode`` of a pixel per side) and a
    gamma in ``gamma``; a share ``strays`` of them gets a stray stroke near the edge and
    a share ``gaps`` a gap in the ink.

    Called with uint8 images ``(n, 784)`` (or ``(n, 28, 28)``); returns new uint8
    images of the same shape.
    """

    def __init__(
        self,
        *,
        keep: float = 0.2,
        max_angle: float = 12.0,
        max_shear: float = 0.4,
        scale: tuple[float, float] = (0.85, 1.1),
        max_shift: float = 2.0,
        elastic: float = 1.5,
        width: tuple[float, float] = (1.6, 4.5),
        max_erode: float = 0.6,
        gamma: tuple[float, float] = (0.6, 1.6),
        strays: float = 0.1,
        gaps: float = 0.1,
    ) -> None:
        self.keep = float(keep)
        self.max_angle = float(max_angle)
        self.max_shear = float(max_shear)
        self.scale = (float(scale[0]), float(scale[1]))
        self.max_shift = float(max_shift)
        self.elastic = float(elastic)
        self.width = (float(width[0]), float(width[1]))
        self.max_erode = float(max_erode)
        self.gamma = (float(gamma[0]), float(gamma[1]))
        self.strays = float(strays)
        self.gaps = float(gaps)

    def __call__(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        images = np.asarray(images)
        shape = images.shape
        n = len(images)
        if n == 0:
            return images
        batch = images.reshape(n, 28, 28)
        out = batch.copy()
        moved = np.flatnonzero(rng.random(n) >= self.keep)
        if len(moved):
            out[moved] = self.rewrite(batch[moved], rng)
        return out.reshape(shape)

    def rewrite(self, batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Every image of ``batch (m, 28, 28)`` written by a new random hand."""
        m = len(batch)
        target = rng.uniform(*self.width, m)
        amount = np.clip((target - stroke_widths(batch)) / 2.0, -self.max_erode, 1.0)
        pen = change_thickness(batch, amount)
        dy, dx = elastic_fields(m, rng, size=1.0)
        strength = rng.uniform(0.0, self.elastic, m)[:, None]
        moved = warp(
            pen,
            angles=rng.uniform(-self.max_angle, self.max_angle, m),
            shears=rng.uniform(-self.max_shear, self.max_shear, m),
            scales=rng.uniform(*self.scale, (m, 2)),
            shifts=rng.uniform(-self.max_shift, self.max_shift, (m, 2)),
            fields=(dy * strength, dx * strength),
        )
        gammas = np.exp(rng.uniform(np.log(self.gamma[0]), np.log(self.gamma[1]), m))
        out = change_gamma(moved, gammas)
        for share, change in ((self.strays, add_strokes), (self.gaps, erase_spots)):
            if share > 0:
                some = np.flatnonzero(rng.random(m) < share)
                if len(some):
                    out[some] = change(out[some], rng)
        return out

    def spec(self) -> dict[str, Any]:
        """JSON-ready description (for model files and checkpoints)."""
        return {"name": "handwriting", **{k: v for k, v in vars(self).items()}}

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Handwriting:
        """The augmentation :meth:`spec` describes (a resumed run draws the same hands)."""
        return cls(**{k: v for k, v in spec.items() if k != "name"})

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"Handwriting({inner})"


def from_spec(spec: Any) -> RandomTransform | Handwriting | None:
    """The augmentation a ``spec()`` describes, or None for anything else (a callable of
    the user's own is not kept in files: pass it again)."""
    if not isinstance(spec, dict):
        return None
    if spec.get("name") == "random_transform":
        return RandomTransform(spec["max_angle"], spec["max_shift"])
    if spec.get("name") == "handwriting":
        return Handwriting.from_spec(spec)
    return None

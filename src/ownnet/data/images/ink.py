"""From ink strength to ink: what is a mark and what is noise.

:func:`find_ink` keeps the marks that stand out from the paper's noise, scaled
so the solid ink is 1; :func:`faint_marks` tells the marks much fainter than the
writing (shading, smudges). Which marks make digits is decided in
:mod:`~ownnet.data.images.digits`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from ownnet.data.images.errors import NoInkError

#: The weakest contrast (fraction of the paper's brightness) that counts as ink.
MIN_CONTRAST = 0.08
#: Marks fainter than this fraction of the strongest ink are not ink.
RELATIVE_THRESHOLD = 0.2
#: A mark's level is this percentile of its ink (its typical pixel, not its darkest).
LEVEL_PERCENTILE = 50
#: Marks fainter than this share of the darkest heavy mark are not ink of the digits.
FAINT_MARK = 0.45
#: Pixels at least this strong (0..1 of full ink) make up the ink's bounding box.
BOX_LEVEL = 0.04


def find_ink(strength: np.ndarray, noise: float, label: str) -> np.ndarray:
    """Ink ``(H, W)`` in 0..1 (1 = the solid ink level) from ink strength ``(H, W)``.

    A pixel is ink when its neighbourhood (a Gaussian of 1 px) is stronger than
    :data:`RELATIVE_THRESHOLD` of the strongest ink and than 4 times the paper's noise;
    the ink keeps its grey edges, less a noise floor.

    Raises:
        NoInkError: nothing stands out from the paper (``label`` names the image).
    """
    raw = np.clip(strength, 0.0, None)
    smooth = ndimage.gaussian_filter(raw, 1.0)
    peak = float(smooth.max())
    # noise of the smoothed image: a Gaussian of sigma 1 divides white noise by ~2 sqrt(pi)
    noise_smooth = noise / (2.0 * math.sqrt(math.pi))
    needed = max(MIN_CONTRAST, 6.0 * noise_smooth)
    if peak < needed:
        raise NoInkError(
            f"{label}: no ink found (the strongest mark differs from the background by "
            f"{peak:.3f} of full contrast; at least {needed:.3f} is needed) - is the image blank?"
        )
    mask = smooth > max(RELATIVE_THRESHOLD * peak, 4.0 * noise_smooth)
    core = mask & (smooth > 0.5 * peak)
    level = max(float(np.median(raw[core])) if core.any() else peak, peak)
    floor = min(2.0 * noise, 0.25 * level)
    ink = np.clip((raw - floor) / max(level - floor, 1e-6), 0.0, 1.0) * mask
    if not (ink >= BOX_LEVEL).any():
        raise NoInkError(f"{label}: no ink found (only faint marks after removing noise)")
    return ink.astype(np.float32)


def ink_box(ink: np.ndarray) -> tuple[int, int, int, int]:
    """Bounding box ``(top, left, bottom, right)`` (bottom/right exclusive) of the pixels of
    ``ink (H, W)`` at least :data:`BOX_LEVEL` strong."""
    strong = ink >= BOX_LEVEL
    rows, cols = np.flatnonzero(strong.any(axis=1)), np.flatnonzero(strong.any(axis=0))
    if not len(rows):
        raise NoInkError("no ink found")
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def mark_levels(ink: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """How dark each mark is: the :data:`LEVEL_PERCENTILE` of ``ink`` over each labelled mark,
    ``(n,)``: a pen's stroke is solid, a cluster of noise mostly faint."""
    levels = np.zeros(n)
    for i, sl in enumerate(ndimage.find_objects(labels)):
        if sl is not None:
            levels[i] = np.percentile(ink[sl][labels[sl] == i + 1], LEVEL_PERCENTILE)
    return levels


def faint_marks(ink: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """Which marks ``(n,)`` are much fainter than the heavy ones (less than
    :data:`FAINT_MARK` of the darkest heavy mark's level): shading and smudges, not the
    pen that wrote the digits."""
    levels = mark_levels(ink, labels, n)
    mass = np.asarray(ndimage.sum(ink, labels, index=np.arange(1, n + 1)))
    heavy = mass >= 0.3 * mass.max()
    return levels < FAINT_MARK * levels[heavy].max()

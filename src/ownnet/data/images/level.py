"""MNIST's ink level: strokes with solid cores.

MNIST's digits were anti-aliased from solid pen strokes, so the middle of a stroke is
at or near full ink: in MNIST's test set over half of a digit's ink pixels (those
above 30 of 255) are above 200, and a digit holds about 93 pixels' worth of ink
(median). A digit prepared from a thin, grey or blurred stroke and scaled so that
only its single strongest pixel is full ink is fainter than that (about 81 pixels'
worth on the evaluation set of ``benchmarks/reader.py``), and a network trained on
MNIST as it is reads such a faint digit less surely. :func:`solid_cores` scales each
digit so that the strongest :data:`FULL` of its ink pixels reach :data:`CORE`, near full
ink, which brings the median evaluation digit close to MNIST's (about 92 pixels' worth).
"""

from __future__ import annotations

import numpy as np

#: The strongest share of a digit's ink pixels that end at or near full ink, and the level
#: the weakest of them take: in MNIST's test set the median digit's 70th percentile of ink
#: is 252.
FULL, CORE = 0.3, 252.0
#: Pixels at least this share of the strongest one count as ink.
INK = 0.12


def solid_cores(image: np.ndarray) -> np.ndarray:
    """``image`` uint8 ``(28, 28)`` (0 background, 255 its strongest ink) scaled so that the
    strongest :data:`FULL` of its ink pixels are at least :data:`CORE` (clipped at 255); ink
    that solid already is left as it is (never made fainter); uint8 ``(28, 28)``."""
    x = np.asarray(image, dtype=np.float64)
    ink = x[x >= INK * x.max(initial=0.0)]
    if not ink.size or ink.max() <= 0:
        return np.asarray(image, dtype=np.uint8)
    core = float(np.percentile(ink, 100.0 * (1.0 - FULL)))
    if core >= CORE:
        return np.asarray(image, dtype=np.uint8)
    return np.round(np.clip(x * (CORE / max(core, 1.0)), 0.0, 255.0)).astype(np.uint8)

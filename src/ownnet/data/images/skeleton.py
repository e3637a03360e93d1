"""The skeleton of a shape: its strokes thinned to lines one pixel wide.

:func:`skeleton` is Zhang and Suen's parallel thinning ("A fast parallel algorithm for
thinning digital patterns", Communications of the ACM 27(3), 1984). Each pass looks at
the eight neighbours of every pixel of the shape and removes, all at once, the border
pixels whose removal keeps the shape in one piece and does not shorten a line: first
those on the south-east side, then those on the north-west side, until a pass removes
nothing. What is left runs along the middle of every stroke, with the shape's pieces and
holes (but for the algorithm's known exception: a piece that is a 2x2 square vanishes).
"""

from __future__ import annotations

import numpy as np


def _neighbours(img: np.ndarray) -> list[np.ndarray]:
    """The eight neighbours of every inner pixel of ``img (H + 2, W + 2)``, each ``(H, W)``,
    clockwise from the one above: P2 (north), P3 (north-east), ..., P9 (north-west)."""
    return [
        img[:-2, 1:-1], img[:-2, 2:], img[1:-1, 2:], img[2:, 2:],
        img[2:, 1:-1], img[2:, :-2], img[1:-1, :-2], img[:-2, :-2],
    ]  # fmt: skip


def skeleton(mask: np.ndarray) -> np.ndarray:
    """The skeleton of ``mask`` (bool ``(H, W)``): bool ``(H, W)``, a subset of ``mask``.

    A pixel is removed when it has 2 to 6 neighbours in the shape (not a line's end, not
    inside), exactly one change from background to shape going round them (removing it
    cannot split the shape), and it lies on the side of the shape the pass works on.
    """
    img = np.pad(np.asarray(mask, dtype=bool), 1).astype(np.uint8)
    inner = img[1:-1, 1:-1]  # a view: removing from it removes from img
    while True:
        removed = False
        for south_east in (True, False):
            n = _neighbours(img)
            p2, _, p4, _, p6, _, p8, _ = n
            count = sum(x.astype(np.int8) for x in n)
            changes = sum(((a == 0) & (b == 1)).astype(np.int8) for a, b in zip(n, n[1:] + n[:1]))
            if south_east:  # east or south is background, or north and west both are
                side = ((p2 & p4 & p6) == 0) & ((p4 & p6 & p8) == 0)
            else:  # west or north is background, or south and east both are
                side = ((p2 & p4 & p8) == 0) & ((p2 & p6 & p8) == 0)
            remove = (inner == 1) & (count >= 2) & (count <= 6) & (changes == 1) & side
            if remove.any():
                inner[remove] = 0
                removed = True
        if not removed:
            return inner.astype(bool)

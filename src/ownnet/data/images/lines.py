"""Ruled and grid paper: find the printed lines that cross the picture and take them out.

The lines of an exercise book are ink to a camera. A straight line across the
whole picture is found by cutting the picture into narrow vertical strips (for
horizontal lines; horizontal strips for vertical ones) and, in each strip, the
rows that are mostly ink; a row run in one strip continues into the next within
a small drift (a line may be tilted by a few degrees or bowed by the lens), also
past a few strips where writing hides it. A chain across nearly every strip is a line.

A line is removed when the picture has several parallel lines (ruled or grid
paper) or when the one line is thinner or fainter than the writing (a 7's top
bar cut off by a tight crop runs across the whole picture too, but is as bold as
the rest of the digit). :func:`remove_lines` clears a band along each line,
keeping what crosses it: where ink lies just above and just below the band, the
band is filled with the weaker of the two, and ink clearly stronger than the
line stays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ownnet.data.images.stroke import stroke_width

#: Strips are about this many pixels wide.
STRIP = 40
#: A row of a strip belongs to a line when at least this share of it is ink.
COVER = 0.6
#: A chain is a line when it runs across at least ``SPAN`` of the strips and is seen in at
#: least ``SEEN`` of them (writing over the line hides it in the others).
SPAN, SEEN = 0.85, 0.6
#: A line may drift by this slope between strips (tan 5 degrees), plus 2 px.
DRIFT = math.tan(math.radians(5))
#: A single line is removed when it is at most this wide, or this strong, next to the rest.
THINNER, FAINTER = 0.75, 0.6


@dataclass(frozen=True)
class Line:
    """A straight line across the picture.

    Attributes:
        horizontal: True for a row-wise line, False for a column-wise one.
        at: the strip centres along the line (columns for a horizontal line), ``(k,)``.
        centre: the line's centre across it at each of ``at`` (rows for a horizontal line).
        width: its width in pixels.
        strength: its typical ink strength.
    """

    horizontal: bool
    at: np.ndarray
    centre: np.ndarray
    width: float
    strength: float


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` of the runs of True in the 1-D ``flags``."""
    d = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def _chains(strength: np.ndarray, threshold: float) -> list[Line]:
    """Horizontal lines of ``strength (H, W)`` (rows mostly ink across nearly every strip)."""
    h, w = strength.shape
    n = max(4, w // STRIP)
    if h < 4 or w < 4 * 8:
        return []
    mask = strength > threshold
    grown = mask.copy()
    grown[1:] |= mask[:-1]
    grown[:-1] |= mask[1:]  # a row and its neighbours: a slightly tilted line stays together
    edges = np.linspace(0, w, n + 1).round().astype(int)
    chains: list[list[tuple[int, float, int]]] = []  # (strip, centre, run length)
    open_chains: list[list[tuple[int, float, int]]] = []
    for j in range(n):
        cover = grown[:, edges[j] : edges[j + 1]].mean(axis=1)
        runs = _runs(cover >= COVER)
        taken = set()
        still_open = []
        for chain in open_chains:
            strip, centre, _ = chain[-1]
            gap = j - strip
            if gap > 3:
                chains.append(chain)
                continue
            reach = 2.0 + DRIFT * gap * (w / n)
            best = None
            for k, (a, b) in enumerate(runs):
                c = (a + b - 1) / 2.0
                if k not in taken and abs(c - centre) <= reach and b - a <= h // 4:
                    if best is None or abs(c - centre) < abs(best[1] - centre):
                        best = (k, c, b - a)
            if best is not None:
                taken.add(best[0])
                chain.append((j, best[1], best[2]))
            still_open.append(chain)
        for k, (a, b) in enumerate(runs):
            if k not in taken and b - a <= h // 4:
                still_open.append([(j, (a + b - 1) / 2.0, b - a)])
        open_chains = still_open
    chains.extend(open_chains)
    lines = []
    centres_of_strips = (edges[:-1] + edges[1:] - 1) / 2.0
    for chain in chains:
        reach = chain[-1][0] - chain[0][0] + 1  # writing may hide the line in some strips
        if reach < SPAN * n or len(chain) < SEEN * n:
            continue
        strips = np.array([s for s, _, _ in chain])
        centre = np.array([c for _, c, _ in chain])
        width = max(1.0, float(np.median([r for _, _, r in chain])) - 2.0)
        lines.append(Line(True, centres_of_strips[strips], centre, width, 0.0))
    return lines


def _line_strength(strength: np.ndarray, line: Line) -> float:
    cols = np.arange(strength.shape[1])
    rows = np.clip(
        np.round(np.interp(cols, line.at, line.centre)).astype(int), 0, len(strength) - 1
    )
    return float(np.median(strength[rows, cols]))


def _band(line: Line, length: int, across: int) -> tuple[np.ndarray, np.ndarray]:
    """First and last row (inclusive) of the band to clear, at every column ``(length,)``."""
    centre = np.interp(np.arange(length), line.at, line.centre)
    half = line.width / 2.0 + 1.0
    top = np.clip(np.floor(centre - half).astype(int), 0, across - 1)
    bottom = np.clip(np.ceil(centre + half).astype(int), 0, across - 1)
    return top, bottom


def _is_writing(strength: np.ndarray, lines: list[Line], threshold: float) -> list[bool]:
    """For a single line: True when it is as wide and strong as the rest of the ink."""
    if len(lines) != 1:
        return [False] * len(lines)
    line = lines[0]
    rest = _clear(strength.copy(), lines, threshold, keep_crossings=False)
    ink = np.clip(rest / max(float(rest.max(initial=0.0)), 1e-6), 0.0, 1.0) * (rest > threshold)
    if not ink.any():
        return [True]
    width = stroke_width(ink)
    level = float(np.median(rest[rest > threshold]))
    thin = line.width <= THINNER * width
    faint = line.strength <= FAINTER * level
    return [not (thin or faint)]


def _clear(
    strength: np.ndarray, lines: list[Line], threshold: float, *, keep_crossings: bool = True
) -> np.ndarray:
    """Clear the band of each (horizontal) line in ``strength``, in place; returns it."""
    h, w = strength.shape
    cols = np.arange(w)
    for line in lines:
        top, bottom = _band(line, w, h)
        above = strength[np.clip(top - 1, 0, h - 1), cols]
        below = strength[np.clip(bottom + 1, 0, h - 1), cols]
        fill = np.where((above > threshold) & (below > threshold), np.minimum(above, below), 0.0)
        if not keep_crossings:
            fill = np.zeros_like(fill)
        for offset in range(int((bottom - top).max(initial=0)) + 1):
            rows = top + offset
            inside = rows <= bottom
            r, c = rows[inside], cols[inside]
            stronger = strength[r, c] - line.strength if keep_crossings else 0.0
            strength[r, c] = np.maximum(fill[inside], stronger)
    return strength


def find_lines(strength: np.ndarray, noise: float) -> list[Line]:
    """The ruled or grid lines of ``strength (H, W)`` (ink strength, 0 on the paper)."""
    threshold = max(0.06, 4.0 * noise)
    found = []
    for horizontal in (True, False):
        s = strength if horizontal else strength.T
        lines = _chains(s, threshold)
        lines = [
            Line(horizontal, ln.at, ln.centre, ln.width, _line_strength(s, ln)) for ln in lines
        ]
        writing = _is_writing(s, lines, threshold)
        found += [ln for ln, w in zip(lines, writing, strict=True) if not w]
    return found


def remove_lines(strength: np.ndarray, lines: list[Line], noise: float) -> np.ndarray:
    """``strength (H, W)`` with ``lines`` cleared (what crosses them kept); a new array."""
    threshold = max(0.06, 4.0 * noise)
    out = np.array(strength, dtype=np.float32, copy=True)
    rows = [ln for ln in lines if ln.horizontal]
    cols = [ln for ln in lines if not ln.horizontal]
    if rows:
        _clear(out, rows, threshold)
    if cols:
        out = np.ascontiguousarray(_clear(np.ascontiguousarray(out.T), cols, threshold).T)
    return out

"""Finding the digits of a number in one picture: marks → digits, left to right.

The ink of a picture falls apart into connected marks. :func:`find_blobs` makes
digits of them:

* marks are grouped into rows (their heights overlap), top to bottom;
* in a row, marks that lie above one another are one digit (the two strokes of
  an open 4, the detached bar of a 5), judged along the writing's slant so that
  the slanted digits of an italic hand are not merged with their neighbours;
* marks much fainter than the digits (shading, smudges) are dropped, unless they are
  as tall and as large as the digits and lie in their rows (a digit on a shaded field,
  in a lighter pen); so are straight lines much longer than the digits are tall (a
  page's edge, an underline);
* marks much shorter than the digits (bars, dots, specks) join the digit they
  touch or nearly touch; those far from every digit, or on the picture's edge, are
  dropped, and so are marks along the edge that enclose the digits (a table's frame).

Two digits written so close that they touch are one mark. :func:`split_blob`
cuts a mark into ``k`` pieces along the paths that cross the least ink (a
shortest path from top to bottom through the ink, near where a cut is
expected); which ``k`` is right is decided by the reader
(:mod:`ownnet.reading`), which knows what each piece looks like.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ownnet.data.images.ink import BOX_LEVEL, faint_marks
from ownnet.data.images.slant import slant as slant_of

#: Marks above one another by at least this share of the narrower one are one digit.
STACKED = 0.3
#: Marks shorter than this share of the tallest heavy mark are small (bars, dots, specks).
SMALL = 0.45
#: Small marks within this share of the digits' height of a digit belong to it.
NEAR = 0.35
#: A mark thinner than this share of its length is a straight line; a straight line longer
#: than ``RULE`` times the digits' height is a rule or an edge, not a digit.
LINE_THICKNESS, RULE = 0.15, 1.6
#: A faint mark this tall, as a share of the digits' height, is a digit written fainter.
FAINT_HEIGHT = (0.75, 1.35)
#: A cut is looked for within this share of a piece's expected width of where it is expected.
CUT_BAND = 0.35


@dataclass(frozen=True)
class Blob:
    """The ink of one digit, or of several touching ones.

    Attributes:
        box: ``(top, left, bottom, right)`` in the picture's ink (bottom/right exclusive).
        ink: float32 ``(bottom - top, right - left)``: this blob's ink only.
        row: which row of writing it is in (0 = top).
        cut: how much ink the cut that made it crossed (0 for whole marks).
    """

    box: tuple[int, int, int, int]
    ink: np.ndarray
    row: int
    cut: float = 0.0

    @property
    def height(self) -> int:
        return self.box[2] - self.box[0]

    @property
    def width(self) -> int:
        return self.box[3] - self.box[1]


@dataclass
class _Mark:
    labels: list[int]
    top: int
    left: int
    bottom: int
    right: int
    mass: float
    x0: float  # extent along the writing's slant
    x1: float
    length: float = 0.0  # along its main axis
    thickness: float = 0.0  # across it

    def absorb(self, other: _Mark) -> None:
        self.labels += other.labels
        self.top, self.left = min(self.top, other.top), min(self.left, other.left)
        self.bottom, self.right = max(self.bottom, other.bottom), max(self.right, other.right)
        self.mass += other.mass
        self.x0, self.x1 = min(self.x0, other.x0), max(self.x1, other.x1)


def _marks(ink: np.ndarray, labels: np.ndarray, n: int, slant: float, cy: float) -> list[_Mark]:
    marks = []
    for i, (sy, sx) in enumerate(ndimage.find_objects(labels), start=1):
        if sy is None:
            continue
        own = labels[sy, sx] == i
        ys, xs = np.nonzero(own)
        sheared = xs + sx.start - slant * (ys + sy.start - cy)
        mass = float(ink[sy, sx][own].sum())
        spread = np.linalg.eigvalsh(np.cov(np.vstack([ys, xs]))) if len(ys) > 2 else (0.0, 0.0)
        length, thickness = (math.sqrt(12.0 * max(float(v), 0.0)) for v in spread[::-1])
        marks.append(
            _Mark([i], sy.start, sx.start, sy.stop, sx.stop, mass, float(sheared.min()),
                  float(sheared.max()) + 1.0, length, thickness)
        )  # fmt: skip
    return marks


def _rows(marks: list[_Mark]) -> list[list[_Mark]]:
    """Group marks whose heights overlap into rows, top to bottom (largest marks first; rows
    that overlap once they are complete are merged)."""
    rows: list[list[_Mark]] = []
    spans: list[list[int]] = []
    for m in sorted(marks, key=lambda m: -m.mass):
        h = m.bottom - m.top
        for row, span in zip(rows, spans, strict=True):
            overlap = min(m.bottom, span[1]) - max(m.top, span[0])
            if overlap >= 0.4 * min(h, span[1] - span[0]):
                row.append(m)
                span[0], span[1] = min(span[0], m.top), max(span[1], m.bottom)
                break
        else:
            rows.append([m])
            spans.append([m.top, m.bottom])
    # a row grows as marks join it: rows that now overlap are one (a line written at a slope)
    i = 0
    while i < len(rows):
        for j in range(i + 1, len(rows)):
            (a, b), (c, d) = spans[i], spans[j]
            if min(b, d) - max(a, c) >= 0.4 * min(b - a, d - c):
                rows[i] += rows.pop(j)
                spans.pop(j)
                spans[i] = [min(a, c), max(b, d)]
                break
        else:
            i += 1
    order = np.argsort([s[0] for s in spans])
    return [rows[i] for i in order]


def _overlap(a: _Mark, b: _Mark) -> float:
    inter = min(a.x1, b.x1) - max(a.x0, b.x0)
    return inter / max(min(a.x1 - a.x0, b.x1 - b.x0), 1.0)


def _gap(a: _Mark, b: _Mark) -> float:
    """Distance between two marks' boxes (0 when they overlap)."""
    dy = max(a.top - b.bottom, b.top - a.bottom, 0)
    dx = max(a.x0 - b.x1, b.x0 - a.x1, 0.0)
    return math.hypot(dx, dy)


def _merge_row(row: list[_Mark], height: float) -> list[_Mark]:
    """Digits of one row of big marks: stacked marks merged, left to right."""
    row = sorted(row, key=lambda m: (m.x0 + m.x1) / 2)
    digits: list[_Mark] = []
    for m in row:
        if digits and _overlap(digits[-1], m) >= STACKED:
            digits[-1].absorb(m)
        else:
            digits.append(m)
    return digits


def _attach(digits: list[_Mark], small: list[_Mark], height: float) -> None:
    """Join each small mark to the digit it touches or nearly touches; drop the others."""
    for m in sorted(small, key=lambda m: -m.mass):
        if not digits:
            return
        near = min(digits, key=lambda d: _gap(d, m))
        if _gap(near, m) <= NEAR * height or _overlap(near, m) >= 0.3 and _gap(near, m) <= height:
            near.absorb(m)


def _is_line(m: _Mark) -> bool:
    return m.thickness < LINE_THICKNESS * m.length


def _without_rules(marks: list[_Mark]) -> list[_Mark]:
    """Drop straight lines much longer than the digits are tall (a page's edge, an
    underline); a 1 is a straight line too, but as long as the digits are tall."""
    heavy = max(m.mass for m in marks)
    shaped = [m.bottom - m.top for m in marks if m.mass >= 0.3 * heavy and not _is_line(m)]
    if not shaped:
        return marks
    height = float(np.median(shaped))
    kept = [m for m in marks if not (_is_line(m) and m.length > RULE * height)]
    return kept or marks


def _faint_digits(faint: list[_Mark], solid: list[_Mark], area: np.ndarray) -> list[_Mark]:
    """The ``faint`` marks that are as tall as the heavy ``solid`` marks are, cover half as
    many pixels (``area`` by label) and hold a quarter of their ink or more (their
    medians), and lie mostly within their rows: digits on a shaded field or in a lighter
    pen, not smudges or shadows."""
    if not solid:
        return []
    biggest = max(s.mass for s in solid)
    heavy = [s for s in solid if s.mass >= 0.3 * biggest]
    height = float(np.median([s.bottom - s.top for s in heavy]))
    pixels = float(np.median([area[s.labels[0]] for s in heavy]))
    mass = float(np.median([s.mass for s in heavy]))
    top, bottom = min(s.top for s in heavy), max(s.bottom for s in heavy)

    def like_digits(m: _Mark) -> bool:
        h = m.bottom - m.top
        within = min(m.bottom, bottom) - max(m.top, top)
        return (
            FAINT_HEIGHT[0] <= h / height <= FAINT_HEIGHT[1]
            and area[m.labels[0]] >= 0.5 * pixels
            and m.mass >= 0.25 * mass
            and within >= 0.6 * h
        )

    return [m for m in faint if like_digits(m)]


def _on_edge(m: _Mark, labels: np.ndarray) -> bool:
    return m.top == 0 or m.left == 0 or m.bottom == labels.shape[0] or m.right == labels.shape[1]


def _without_frames(marks: list[_Mark], labels: np.ndarray) -> list[_Mark]:
    """Drop marks that run along the picture's edge and enclose other heavy marks: the
    table or its shadow around a page that was not cut out, not a digit."""
    heavy = max(m.mass for m in marks)
    kept = []
    for m in marks:
        if _on_edge(m, labels):
            own = ndimage.binary_fill_holes(np.isin(labels[m.top : m.bottom, m.left : m.right],
                                                    m.labels))  # fmt: skip
            inside = [
                o for o in marks if o is not m and o.mass >= 0.1 * heavy
                and m.top <= (o.top + o.bottom) // 2 < m.bottom
                and m.left <= (o.left + o.right) // 2 < m.right
                and own[(o.top + o.bottom) // 2 - m.top, (o.left + o.right) // 2 - m.left]
            ]  # fmt: skip
            if inside:
                continue
        kept.append(m)
    return kept or marks


def writing_slant(ink: np.ndarray) -> float:
    """The slant of the writing in ``ink (H, W)``: the median of the slants of its tall marks
    (each mark's own ``mu11 / mu02``, weighted by its ink), clipped to +-1. The slant of
    the whole ink would mix in how the digits sit next to one another."""
    labels, n = ndimage.label(ink >= BOX_LEVEL, structure=np.ones((3, 3), bool))
    if n == 0:
        return 0.0
    objects = ndimage.find_objects(labels)
    heights = np.array([sl[0].stop - sl[0].start for sl in objects])
    slants, weights = [], []
    for i, (sl, h) in enumerate(zip(objects, heights, strict=True), start=1):
        if h >= SMALL * heights.max():
            mark = np.where(labels[sl] == i, ink[sl], 0.0)
            slants.append(slant_of(mark))
            weights.append(float(mark.sum()))
    order = np.argsort(slants)
    cumulative = np.cumsum(np.asarray(weights)[order])
    middle = int(np.searchsorted(cumulative, cumulative[-1] / 2))
    return float(np.clip(np.asarray(slants)[order][middle], -1.0, 1.0))


def _digit_marks(ink: np.ndarray) -> tuple[np.ndarray, list[list[_Mark]]]:
    """Label the marks of ``ink (H, W)`` and group the ones that make digits: ``(labels,
    rows)``, each row a list of digits (merged marks), top to bottom."""
    labels, n = ndimage.label(ink >= BOX_LEVEL, structure=np.ones((3, 3), bool))
    if n == 0:
        return labels, []
    rows_total = ink.sum(axis=1)
    cy = float(rows_total @ np.arange(len(ink))) / max(float(rows_total.sum()), 1e-9)
    slant = writing_slant(ink)
    faint = faint_marks(ink, labels, n)
    every = _marks(ink, labels, n, slant, cy)
    marks = [m for m in every if not faint[m.labels[0] - 1]]
    pale = [m for m in every if faint[m.labels[0] - 1]]
    marks += _faint_digits(pale, marks, np.bincount(labels.ravel()))
    marks = _without_frames(_without_rules(marks), labels)
    biggest = max(marks, key=lambda m: m.mass)
    height = float(max(m.bottom - m.top for m in marks if m.mass >= 0.3 * biggest.mass))
    big = [m for m in marks if m.bottom - m.top >= SMALL * height]
    small = [m for m in marks if m.bottom - m.top < SMALL * height and not _on_edge(m, labels)]
    rows = [_merge_row(row, height) for row in _rows(big)]
    _attach([d for row in rows for d in row], small, height)
    return labels, [sorted(row, key=lambda m: (m.x0 + m.x1) / 2) for row in rows]


def find_blobs(ink: np.ndarray) -> list[Blob]:
    """The digits (or groups of touching digits) in ``ink (H, W)``: rows top to bottom,
    each left to right."""
    labels, rows = _digit_marks(ink)
    blobs = []
    for r, row in enumerate(rows):
        for m in row:
            own = np.isin(labels[m.top : m.bottom, m.left : m.right], m.labels)
            crop = np.where(own, ink[m.top : m.bottom, m.left : m.right], 0.0)
            blobs.append(Blob((m.top, m.left, m.bottom, m.right), crop.astype(np.float32), r))
    return blobs


def keep_digits(ink: np.ndarray) -> np.ndarray:
    """``ink (H, W)`` with only the marks that make digits (:func:`find_blobs`' marks):
    faint marks, rules, page edges and specks far from the digits taken out."""
    labels, rows = _digit_marks(ink)
    kept = [label for row in rows for m in row for label in m.labels]
    return np.where(np.isin(labels, kept), ink, 0.0).astype(np.float32)


def _cut_path(cost: np.ndarray, centre: float, band: float) -> tuple[np.ndarray, float]:
    """The least-cost path from the top row to the bottom row of ``cost (h, w)`` that stays
    within ``band`` columns of ``centre``, moving at most one column per row: ``(columns
    (h,), the ink it crosses)``."""
    h, w = cost.shape
    lo, hi = max(0, int(centre - band)), min(w, int(math.ceil(centre + band)) + 1)
    c = cost[:, lo:hi].astype(np.float64)
    c = c + 1e-3 * np.abs(np.arange(lo, hi) - centre)[None, :] / max(band, 1.0)
    total = c[0].copy()
    back = np.zeros((h, hi - lo), np.int8)
    for y in range(1, h):
        left = np.concatenate([[np.inf], total[:-1]])
        right = np.concatenate([total[1:], [np.inf]])
        stack = np.stack([left + 0.05, total, right + 0.05])
        back[y] = np.argmin(stack, axis=0) - 1
        total = stack[back[y] + 1, np.arange(hi - lo)] + c[y]
    x = int(np.argmin(total))
    path = np.empty(h, int)
    for y in range(h - 1, -1, -1):
        path[y] = x
        x += int(back[y, x])
    crossed = float(cost[np.arange(h), path + lo].sum())
    return path + lo, crossed


def split_blob(blob: Blob, k: int, slant: float = 0.0) -> list[Blob]:
    """Cut ``blob`` into ``k`` pieces, left to right, along least-ink paths that follow the
    writing's ``slant``. Each piece keeps the ink on its side of the cuts; its ``cut``
    is the ink the cuts on its sides crossed (in stroke-pixels)."""
    if k <= 1:
        return [blob]
    h, w = blob.ink.shape
    rows = np.arange(h) - (h - 1) / 2.0
    offset = -slant * rows  # the slant line through the middle, per row
    shift = np.round(offset - offset.min()).astype(int)
    width = w + int(shift.max()) + 1
    upright = np.zeros((h, width), np.float32)
    for y in range(h):
        upright[y, shift[y] : shift[y] + w] = blob.ink[y]
    cols = np.flatnonzero(upright.max(axis=0) >= BOX_LEVEL)
    x0, x1 = (int(cols[0]), int(cols[-1]) + 1) if len(cols) else (0, width)
    step = (x1 - x0) / k
    cuts, crossed = [], []
    for j in range(1, k):
        path, ink_crossed = _cut_path(upright, x0 + j * step, CUT_BAND * step)
        cuts.append(path - shift)  # back to the blob's columns
        crossed.append(ink_crossed)
    pieces = []
    xs = np.arange(w)[None, :]
    for j in range(k):
        keep = np.ones((h, w), bool)
        if j > 0:
            keep &= xs >= cuts[j - 1][:, None]
        if j < k - 1:
            keep &= xs < cuts[j][:, None]
        part = np.where(keep, blob.ink, 0.0).astype(np.float32)
        strong = part >= BOX_LEVEL
        if not strong.any():
            return []
        r, c = np.flatnonzero(strong.any(axis=1)), np.flatnonzero(strong.any(axis=0))
        top, left = blob.box[0] + int(r[0]), blob.box[1] + int(c[0])
        box = (top, left, blob.box[0] + int(r[-1]) + 1, blob.box[1] + int(c[-1]) + 1)
        sides = (crossed[j - 1] if j > 0 else 0.0) + (crossed[j] if j < k - 1 else 0.0)
        pieces.append(Blob(box, part[r[0] : r[-1] + 1, c[0] : c[-1] + 1], blob.row, sides))
    return pieces

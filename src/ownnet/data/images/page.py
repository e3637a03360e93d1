"""The page, not the table: find the sheet in a photo that also shows what it lies on.

Photographed on a desk, a page is a large, even region, brighter (or darker) than
the surface around it, with the writing inside it. Left alone, the surface
would be taken for the background and the whole page for ink. :func:`find_page`
looks at a small copy of the picture (a long strip of paper keeps enough of its
height), splits it into light and dark (Otsu's threshold, then again within each
side, for a page only a little darker than a white desk) and accepts a region as
the page when

* it fills at least a fifth of the picture and leaves at least 4% outside it,
* it is solid: its widest empty spot (the largest disk inside it) is at least
  10% of the picture's shorter side, it nearly fills the smallest rectangle around
  it, and its outline is straight and sharp
  (the edge of a sheet, not the edge of a patch of light),
* it holds the writing (most of the picture's strongest thin marks lie on it), or
  what lies around it is another material: much grainier, or of another colour (a
  table, not a shadow on the same paper), and any holes in it are small next to it,
* its outline does not run along or through the writing (a shadow's edge can),
* mostly blank, but written on,
* and what lies outside it is the other shade, clearly different, and runs along
  a good part of the picture's edge.

Big, bold digits can cut a page apart or fill too much of it; when no region passes,
the picture is split again with its writing wiped out (a grey closing, then an
opening, wider than strokes are), and the page must then stand out more clearly.

:func:`crop_to_page` then cuts the picture to the page and paints what is left
of the surface with the page's own nearest colour.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError

#: The page is looked for on a copy with this longer side.
SIDE = 160
#: Pictures smaller than this (shorter side, pixels) are not searched for a page.
MIN_SIDE = 32
#: Smallest share of the picture the page covers, and the surface around it.
MIN_PAGE, MIN_SURFACE = 0.2, 0.04
#: The page's largest inscribed disk, as a fraction of the picture's shorter side.
MIN_RADIUS = 0.1
#: Smallest difference in grey between page and surface; and when the page is found
#: only with the writing wiped out (a shadow's edge is then easier to take for a page's).
MIN_CONTRAST, MIN_CONTRAST_WIPED = 0.1, 0.25
#: Smallest share of the picture's edge the surface runs along (a digit that runs off
#: the edge touches it along one stroke only).
MIN_BORDER = 0.15
#: The grey step at the page's outline, as a share of the page-surface difference.
MIN_STEP = 0.5
#: Smallest share of the strongest marks (the writing) that lie on the page.
MIN_WRITING = 0.6
#: How many times grainier than the page the surface around it is, when the writing
#: cannot tell the page (the table's grain is darker than the writing is thin).
GRAIN = 2.5
#: Or how much more (or less) coloured it is (:func:`~ownnet.data.images.decode.colourfulness`):
#: a brown table around white paper; a shadow keeps the paper's colour.
COLOUR = 0.08
#: Marks at least this share of the strongest one's strength count as writing where the
#: outline must not run (faint digits too).
CUT_MARK = 0.25
#: At most this share of a page is writing.
MAX_INK = 0.25
#: The page's area over that of the smallest rectangle around it.
MIN_RECTANGULARITY = 0.85
#: At most this many pixels change when the page is smoothed, per pixel of its outline.
MAX_RAGGED = 0.6


@dataclass(frozen=True)
class Page:
    """A page found in a picture.

    Attributes:
        box: ``(top, left, bottom, right)`` in the picture's pixels (bottom/right exclusive).
        mask: bool ``(H, W)``, the page's pixels in the whole picture.
        level: the page's median grey.
        surface: the surface's median grey.
    """

    box: tuple[int, int, int, int]
    mask: np.ndarray
    level: float
    surface: float


def otsu(values: np.ndarray) -> float:
    """Otsu's threshold of ``values`` in 0..1 (256 bins): the split with the largest
    between-class variance."""
    hist, edges = np.histogram(values, bins=256, range=(0.0, 1.0))
    p = hist.astype(np.float64) / max(hist.sum(), 1)
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(p)
    m0 = np.cumsum(p * centres)
    total = m0[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (total * w0 - m0) ** 2 / (w0 * (1.0 - w0))
    between = np.nan_to_num(between, nan=0.0, posinf=0.0)
    return float(centres[int(np.argmax(between))])


def _small(grey: np.ndarray) -> tuple[np.ndarray, int]:
    """A copy of ``grey`` with a longer side of about :data:`SIDE`, but a shorter side of
    no less than :data:`MIN_SIDE` (a long strip of paper keeps its height), and its factor."""
    factor = max(1, min(math.ceil(max(grey.shape) / SIDE), min(grey.shape) // MIN_SIDE))
    h, w = grey.shape
    g = np.pad(grey, ((0, -h % factor), (0, -w % factor)), mode="edge")
    small = g.reshape(g.shape[0] // factor, factor, g.shape[1] // factor, factor).mean(axis=(1, 3))
    return ndimage.median_filter(small, size=3, mode="nearest"), factor


def rectangularity(region: np.ndarray) -> float:
    """Area of ``region`` over the area of the smallest (turned) rectangle around it: 1 for
    a rectangle, about 0.9 for a page seen at a slant, pi/4 for an ellipse."""

    edge = region & ~ndimage.binary_erosion(region)
    ys, xs = np.nonzero(edge)
    if len(ys) < 3:
        return 0.0
    points = np.column_stack([xs, ys]).astype(np.float64)
    try:
        hull = points[ConvexHull(points).vertices]
    except (QhullError, ValueError):
        return 0.0
    sides = np.diff(np.vstack([hull, hull[:1]]), axis=0)
    angles = np.arctan2(sides[:, 1], sides[:, 0])
    best = math.inf
    for a in angles:  # the smallest rectangle has a side along a side of the hull
        c, s = math.cos(a), math.sin(a)
        u, v = hull @ np.array([c, s]), hull @ np.array([-s, c])
        best = min(best, (u.max() - u.min() + 1) * (v.max() - v.min() + 1))
    return float(region.sum()) / max(best, 1.0)


def raggedness(region: np.ndarray) -> float:
    """How ragged the outline of ``region`` is: the pixels that change when it is smoothed
    (opened, then closed, with a disk of radius 3), per pixel of its outline. A sheet's
    straight edges barely move (under 0.35 on pages on tables); the edge of a patch of
    light wanders (above 1)."""
    disk = ndimage.iterate_structure(ndimage.generate_binary_structure(2, 1), 3)
    padded = np.pad(region, 4, mode="edge")
    smooth = ndimage.binary_closing(ndimage.binary_opening(padded, disk), disk)[4:-4, 4:-4]
    outline = region & ~ndimage.binary_erosion(region, border_value=1)
    return float((region ^ smooth).sum()) / max(float(outline.sum()), 1.0)


def _edge_step(small: np.ndarray, filled: np.ndarray) -> float:
    """How sharp the region's outline is: the grey step between the 3 px just inside and
    just outside it, over the whole difference between region and surface (a page's edge
    is a step; the edge of a patch of light is a slope)."""
    inner = filled & ~ndimage.binary_erosion(filled, iterations=3, border_value=1)
    outer = ndimage.binary_dilation(filled, iterations=3) & ~filled
    if not inner.any() or not outer.any():
        return 0.0
    whole = abs(float(np.median(small[filled])) - float(np.median(small[~filled])))
    step = abs(float(small[inner].mean()) - float(small[outer].mean()))
    return step / max(whole, 1e-6)


def top_hats(small: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How much darker, and how much lighter, than what is around it each pixel of
    ``small`` is, as a ratio: a black and a white top-hat of the logarithm (so a line in a
    shadow counts as much as one in the light), each ``small.shape``."""
    size = max(3, round(min(small.shape) / 8))
    logs = np.log(np.clip(small, 0.02, None))
    dark = ndimage.grey_closing(logs, size=size) - logs
    light = logs - ndimage.grey_opening(logs, size=size)
    return dark, light


def _marks(hats: tuple[np.ndarray, np.ndarray], ring: np.ndarray) -> np.ndarray | None:
    """The picture's marks: the top-hat (:func:`top_hats`) of the kind, dark or light, with
    the strongest response away from ``ring``; None when nothing stands out."""
    marks = max(hats, key=lambda m: float(m[~ring].max(initial=0.0)))
    return marks if float(marks[~ring].max(initial=0.0)) > 0.1 else None


def _writing_inside(hats: tuple[np.ndarray, np.ndarray], filled: np.ndarray) -> float:
    """Share of the picture's strongest marks (:func:`_marks`: the writing) that lie well
    inside ``filled``; marks near its outline (the page's own edge) do not count."""
    size = max(3, round(min(filled.shape) / 8))
    inner = ndimage.binary_erosion(filled, iterations=size // 2, border_value=1)
    ring = ndimage.binary_dilation(filled, iterations=size // 2) & ~inner
    marks = _marks(hats, ring)
    if marks is None:
        return 0.0
    strong = (marks >= 0.5 * float(marks[~ring].max())) & ~ring
    return float(strong[inner].sum()) / max(float(strong.sum()), 1.0)


def _cuts_writing(
    hats: tuple[np.ndarray, np.ndarray], filled: np.ndarray, same_paper: bool
) -> bool:
    """Whether the outline of ``filled`` runs along or through writing: a strong mark
    (:func:`_marks`) that reaches the outline and lies partly well inside it, or, when
    what lies around it may be the same paper (``same_paper``), lies outside it and
    is shaped like a digit (compact, away from the picture's edge): the edge of a
    shadow or a patch of light across or around a digit, not the edge of a sheet with
    a margin (a table's grain makes marks of every shape)."""
    inner = ndimage.binary_erosion(filled, iterations=4, border_value=1)
    outline = ndimage.binary_dilation(filled, iterations=2) & ~ndimage.binary_erosion(
        filled, iterations=2, border_value=1
    )
    marks = _marks(hats, np.zeros_like(filled))
    if marks is None:
        return False
    strong = marks >= CUT_MARK * float(marks.max())
    labels, _ = ndimage.label(strong, structure=np.ones((3, 3), bool))
    touching = np.setdiff1d(np.unique(labels[outline]), [0])
    if np.intersect1d(touching, np.unique(labels[inner])).size:
        return True
    if not same_paper:
        return False
    h, w = filled.shape
    boxes = ndimage.find_objects(labels)
    for k in touching:
        sl = boxes[k - 1]
        tall, wide = sl[0].stop - sl[0].start, sl[1].stop - sl[1].start
        at_edge = sl[0].start == 0 or sl[1].start == 0 or sl[0].stop == h or sl[1].stop == w
        compact = min(tall, wide) >= 3 and max(tall, wide) <= 3 * min(tall, wide)
        if compact and not at_edge and float(filled[labels == k].mean()) < 0.5:
            if float(marks[labels == k].max()) >= 0.5 * float(marks.max()):  # as strong as writing
                return True
    return False


def _other_surface(small: np.ndarray, filled: np.ndarray, colour: np.ndarray | None) -> bool:
    """Whether what lies outside ``filled`` is another material: grainier than the page by
    :data:`GRAIN` times (wood, cloth), or, when the picture's ``colour`` is known (the
    small copy of its colourfulness), more or less coloured by :data:`COLOUR`. A shadow
    on the same paper is neither."""
    inner = ndimage.binary_erosion(filled, iterations=3, border_value=1)
    outer = ~ndimage.binary_dilation(filled, iterations=3)
    if not inner.any() or not outer.any():
        return False
    grain = np.abs(small - ndimage.median_filter(small, size=5, mode="nearest"))
    if float(np.median(grain[outer])) >= GRAIN * max(float(np.median(grain[inner])), 0.001):
        return True
    if colour is None:
        return False
    return abs(float(np.median(colour[outer])) - float(np.median(colour[inner]))) >= COLOUR


def _marked(small: np.ndarray, filled: np.ndarray, region: np.ndarray) -> bool:
    """Whether ``filled`` is written on like a page: some of the pixels well inside it,
    but at most :data:`MAX_INK` of them, differ from the page's grey around them by 0.1
    or more (the paper
    between the strokes of a bold digit is not written on; a digit and its paper
    together are not a blank page)."""
    inner = ndimage.binary_erosion(filled, iterations=2, border_value=1)
    if not inner.any():
        return False
    level = float(np.median(small[region]))  # the page's grey, where it is page
    local = np.where(region, small, level)
    paper = ndimage.median_filter(local, size=max(5, round(min(small.shape) / 8)))
    far = float((np.abs(small[inner] - paper[inner]) >= 0.1).mean())  # light may vary
    return 0.001 <= far <= MAX_INK


def _candidate(
    small: np.ndarray,
    hats: tuple[np.ndarray, np.ndarray],
    region: np.ndarray,
    other: np.ndarray,
    contrast: float = MIN_CONTRAST,
    colour: np.ndarray | None = None,
) -> float | None:
    """The page's area if ``region`` (a component of one shade) passes every test, else
    None; page and surface differ in grey by at least ``contrast``; ``hats`` are the
    picture's :func:`top_hats`, ``colour`` its colourfulness on the small copy."""
    h, w = small.shape
    filled = ndimage.binary_fill_holes(region)
    area, n = float(filled.sum()), h * w
    outside = ~filled
    if area < MIN_PAGE * n or outside.sum() < MIN_SURFACE * n:
        return None
    radius = float(ndimage.distance_transform_edt(region).max())
    if radius < MIN_RADIUS * min(h, w):
        return None
    holes = filled & ~region
    if holes.any() and float(ndimage.distance_transform_edt(holes).max()) > radius / 1.5:
        return None
    if float(other[outside].mean()) < 0.75:
        return None
    edge = np.concatenate([outside[0], outside[-1], outside[:, 0], outside[:, -1]])
    if edge.mean() < MIN_BORDER:
        return None
    if abs(float(np.median(small[region])) - float(np.median(small[outside]))) < contrast:
        return None
    if rectangularity(filled) < MIN_RECTANGULARITY or raggedness(filled) > MAX_RAGGED:
        return None
    if _edge_step(small, filled) < MIN_STEP:
        return None
    other_surface = _other_surface(small, filled, colour)
    if _writing_inside(hats, filled) < MIN_WRITING and not other_surface:
        return None
    if not _marked(small, filled, region) or _cuts_writing(hats, filled, not other_surface):
        return None
    return area


def _regions(picture: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Regions of ``picture`` that might be the page, each with the mask of the other
    shade: the largest part of each side of each threshold split (:func:`otsu`, then
    again within each side, for a page only a little darker than a white desk)."""
    t = otsu(picture)
    thresholds = [t]
    for side in (picture[picture > t], picture[picture <= t]):
        if side.size > 0.2 * picture.size:
            thresholds.append(otsu(side))
    for u in thresholds:
        for light in (picture > u, picture <= u):
            labels, n = ndimage.label(light, structure=np.ones((3, 3), bool))
            if n:
                biggest = int(np.argmax(np.bincount(labels.ravel())[1:])) + 1
                yield labels == biggest, ~light


def find_page(grey: np.ndarray, colour: np.ndarray | None = None) -> Page | None:
    """The page in ``grey (H, W)`` when the picture also shows a surface around it, else None;
    ``colour (H, W)``, the picture's colourfulness if it has colour
    (:attr:`~ownnet.data.images.decode.Picture.colour`), tells a table from a shadow.

    The picture is split as it is; when that finds no page, again with its writing
    wiped out (a grey closing, then an opening, wider than strokes are), so that big,
    bold digits do not cut the page apart or fill too much of it."""
    if colour is not None and colour.shape != grey.shape:
        raise ValueError(f"colour must have the picture's shape {grey.shape}, found {colour.shape}")
    small, factor = _small(grey)
    if min(small.shape) < MIN_SIDE:
        return None
    size = max(3, round(min(small.shape) / 6))
    hats = top_hats(small)  # the writing is judged on the picture as it is
    tint = None if colour is None else _small(colour)[0]
    best: tuple[float, np.ndarray] | None = None
    for clean in (None, ndimage.grey_closing, ndimage.grey_opening):
        picture = small if clean is None else clean(small, size)
        contrast = MIN_CONTRAST if clean is None else MIN_CONTRAST_WIPED
        for region, other in _regions(picture):
            area = _candidate(small, hats, region, other, contrast, tint)
            if area is not None and (best is None or area > best[0]):
                best = (area, ndimage.binary_fill_holes(region))
        if best is not None:
            break
    if best is None:
        return None
    filled = best[1]
    h, w = grey.shape
    mask = np.repeat(np.repeat(filled, factor, axis=0), factor, axis=1)[:h, :w]
    margin = 2 * factor + max(1, round(0.015 * min(h, w)))
    mask = ndimage.binary_erosion(mask, iterations=margin, border_value=1)
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not len(rows):
        return None
    box = (int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)
    level = float(np.median(small[filled]))
    surface = float(np.median(small[~filled]))
    return Page(box, mask, level, surface)


def crop_to_page(grey: np.ndarray, page: Page) -> np.ndarray:
    """``grey`` cut to ``page.box``; pixels of the surface left inside the box take the grey
    of the nearest page pixel."""
    top, left, bottom, right = page.box
    crop = grey[top:bottom, left:right]
    inside = page.mask[top:bottom, left:right]
    if inside.all():
        return np.ascontiguousarray(crop)
    _, (iy, ix) = ndimage.distance_transform_edt(~inside, return_indices=True)
    return np.ascontiguousarray(crop[iy, ix])
